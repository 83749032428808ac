// Package cudatest builds the fake CUDA libraries of
// workloads/gpu/cuda/testdata/fake for tests: a libcudart.so, libcublas.so
// and libcublasLt.so that keep "device memory" in host memory and compute
// on the CPU, with knobs (environment variables such as FAKE_CUBLAS_LAZY)
// that make them cheat, so that tests can show each check catching its
// cheat. It is for tests only; nothing in joulebench's binary imports it.
package cudatest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/joulebench/joulebench/workloads/gpu/cuda"
)

// libs are the fakes: the library file each is built as, and its source.
var libs = []struct{ out, src string }{
	{"libcudart.so", "fakecuda.c"},
	{"libcublas.so", "fakecuda.c"},
	{"libcublasLt.so", "fakecublaslt.c"},
}

var built struct {
	once sync.Once
	dir  string
	err  error
	skip string
}

// Dir returns a directory holding the fake libraries, built once per
// test binary (the directory is removed when the process ends only if the
// caller's TestMain calls Cleanup). It skips the test when there is no C
// compiler or the build has no cgo, naming why.
func Dir(t testing.TB) string {
	t.Helper()
	built.once.Do(build)
	switch {
	case built.err != nil:
		t.Fatal(built.err)
	case built.skip != "":
		t.Skip(built.skip)
	}
	return built.dir
}

// Cleanup removes the libraries Dir built, if any.
func Cleanup() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

func build() {
	cc, err := exec.LookPath("cc")
	if err != nil {
		built.skip = "no C compiler (cc) to build the fake CUDA libraries: install gcc to run this test"
		return
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		built.err = fmt.Errorf("cudatest: cannot find its own source to locate testdata/fake")
		return
	}
	src := filepath.Join(filepath.Dir(self), "..", "testdata", "fake")
	dir, err := os.MkdirTemp("", "fakecuda")
	if err != nil {
		built.err = err
		return
	}
	for _, l := range libs {
		// -ffp-contract=off: no fused multiply-adds, so that the fakes'
		// sums are the ones the tests' pure-Go references compute.
		out, err := exec.Command(cc, "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-o", filepath.Join(dir, l.out), filepath.Join(src, l.src), "-lm").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("cudatest: build fake %s: %v\n%s", l.out, err, out)
			return
		}
	}
	if _, err := cuda.LoadFrom(dir); err != nil {
		built.skip = fmt.Sprintf("cannot load the fake CUDA libraries (a build without cgo?): %v", err)
		return
	}
	built.dir = dir
}
