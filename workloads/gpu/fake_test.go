package gpu

import (
	"os"
	"testing"

	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gpu/cuda"
	"github.com/joulebench/joulebench/workloads/gpu/cuda/cudatest"
)

// fakeDir is the fake libcudart.so, libcublas.so and libcublasLt.so
// (cuda/testdata/fake), built once for the package's tests.
func fakeDir(t testing.TB) string { return cudatest.Dir(t) }

func TestMain(m *testing.M) {
	code := m.Run()
	cudatest.Cleanup()
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
