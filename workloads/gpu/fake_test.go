package gpu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gpu/cuda"
)

// fake is the fake libcudart.so and libcublas.so (cuda/testdata/fake),
// built once for the package's tests.
var fake struct {
	once sync.Once
	dir  string
	err  error
}

func fakeDir(t testing.TB) string {
	t.Helper()
	fake.once.Do(func() {
		cc, err := exec.LookPath("cc")
		if err != nil {
			return
		}
		d, err := os.MkdirTemp("", "fakecuda")
		if err != nil {
			fake.err = err
			return
		}
		for _, name := range []string{"libcudart.so", "libcublas.so"} {
			out, err := exec.Command(cc, "-shared", "-fPIC", "-O2", "-o", filepath.Join(d, name), "cuda/testdata/fake/fakecuda.c", "-lm").CombinedOutput()
			if err != nil {
				fake.err = fmt.Errorf("build fake %s: %v\n%s", name, err, out)
				return
			}
		}
		fake.dir = d
	})
	if fake.err != nil {
		t.Fatal(fake.err)
	}
	if fake.dir == "" {
		t.Skip("no C compiler (cc) to build the fake CUDA libraries: install gcc or clang to run this test")
	}
	if _, err := cuda.LoadFrom(fake.dir); err != nil {
		t.Skipf("cannot load the fake CUDA libraries (a build without cgo?): %v", err)
	}
	return fake.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fake.dir != "" {
		os.RemoveAll(fake.dir)
	}
	os.Exit(code)
}

// newFake makes the workload name running on the fake libraries.
func newFake(t testing.TB, name string, seed uint64) *workload {
	t.Helper()
	dir := fakeDir(t)
	w, err := New(name, workloads.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	gw := w.(*workload)
	gw.load = func() (*cuda.Lib, error) { return cuda.LoadFrom(dir) }
	t.Cleanup(func() {
		if err := gw.Close(); err != nil {
			t.Error(err)
		}
	})
	return gw
}
