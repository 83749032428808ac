//go:build cgo

package cuda

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The cudaError_t values that mean "no usable CUDA here" wrap ErrNoCUDA
// from cudaGetDeviceCount; an ordinary failure does not.
func TestDeviceCountNoCUDACodes(t *testing.T) {
	l := loadFake(t)
	for _, code := range []int{3, 34, 35, 36, 46, 100, 803, 804} {
		t.Setenv("FAKE_CUDA_ERR", fmt.Sprint(code))
		if _, err := l.DeviceCount(); !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), fmt.Sprintf("cudaError %d", code)) {
			t.Errorf("cudaGetDeviceCount = %d: %v, want ErrNoCUDA naming the code", code, err)
		}
	}
	t.Setenv("FAKE_CUDA_ERR", "1")
	if _, err := l.DeviceCount(); err == nil || errors.Is(err, ErrNoCUDA) {
		t.Errorf("cudaGetDeviceCount = 1 (invalid argument): %v, want a plain failure", err)
	}
}

// loadHelperEnv makes TestLoadHelperProcess do its work: it runs only in
// the child process TestLoadBySoname starts.
const loadHelperEnv = "JB_CUDA_LOAD_HELPER"

// TestLoadHelperProcess is Load and NewLt in a process whose
// LD_LIBRARY_PATH (read by the dynamic loader at start only) holds the
// fakes under their sonames. It prints what was opened.
func TestLoadHelperProcess(t *testing.T) {
	if os.Getenv(loadHelperEnv) != "1" {
		t.Skip("run by TestLoadBySoname")
	}
	l, err := Load()
	if err != nil {
		fmt.Printf("load-error=%v\nload-nocuda=%v\n", err, errors.Is(err, ErrNoCUDA))
		return
	}
	info := l.Info()
	fmt.Printf("cudart=%s\ncublas=%s\ndevice=%s\nruntime=%s\n", filepath.Base(info["cudart_path"]), filepath.Base(info["cublas_path"]), info["device"], info["cuda_runtime"])
	lt, err := l.NewLt()
	if err != nil {
		fmt.Printf("lt-error=%v\nlt-nocuda=%v\n", err, errors.Is(err, ErrNoCUDA))
		return
	}
	defer lt.Close()
	fmt.Printf("lt=%s\nlt-version=%d\n", lt.Info()["cublaslt_path"], lt.Version())
}

// Load by sonames on a host with CUDA 13 and CUDA 12 libraries: the
// newest runtime the driver can run, cuBLAS and cuBLASLt of its major and
// never the other's, the device named by the driver library through
// cuDeviceGet. The fakes are built as both majors; FAKE_CUDA_DRIVER_MAJOR
// plays a driver that supports CUDA 12 at most (cudaGetDeviceCount of a
// 13 runtime answers cudaErrorInsufficientDriver).
func TestLoadBySoname(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc) to build the fake CUDA libraries: install gcc or clang to run this test")
	}
	src, err := filepath.Abs("testdata/fake")
	if err != nil {
		t.Fatal(err)
	}
	build := func(dir, out, file, major string) {
		cmd := exec.Command(cc, "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-DFAKE_CUDA_MAJOR="+major, "-o", filepath.Join(dir, out), filepath.Join(src, file), "-lm")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cc %s: %v\n%s", out, err, b)
		}
	}
	both := t.TempDir()
	for _, major := range []string{"12", "13"} {
		build(both, "libcudart.so."+major, "fakecuda.c", major)
		build(both, "libcublas.so."+major, "fakecuda.c", major)
		build(both, "libcublasLt.so."+major, "fakecublaslt.c", major)
	}
	build(both, "libcuda.so.1", "fakecuda.c", "13")
	// The same host without cuBLASLt 12: NewLt must not take 13's.
	noLt12 := t.TempDir()
	for _, f := range []string{"libcudart.so.12", "libcublas.so.12", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcuda.so.1"} {
		if err := os.Link(filepath.Join(both, f), filepath.Join(noLt12, f)); err != nil {
			t.Fatal(err)
		}
	}
	run := func(dir string, env ...string) map[string]string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadHelperProcess$", "-test.v")
		cmd.Env = append(os.Environ(), loadHelperEnv+"=1", "LD_LIBRARY_PATH="+dir)
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		m := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && !strings.Contains(k, " ") {
				m[k] = v
			}
		}
		return m
	}
	check := func(name string, got map[string]string, want map[string]string) {
		t.Helper()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q (all: %v)", name, k, got[k], v, got)
			}
		}
	}
	check("CUDA 13 driver", run(both), map[string]string{
		"cudart": "libcudart.so.13", "cublas": "libcublas.so.13", "lt": "libcublasLt.so.13", "lt-version": "130900",
		"runtime": "13.4", "device": "0 Fake H200",
	})
	check("CUDA 12 driver", run(both, "FAKE_CUDA_DRIVER_MAJOR=12"), map[string]string{
		"cudart": "libcudart.so.12", "cublas": "libcublas.so.12", "lt": "libcublasLt.so.12", "lt-version": "120900", "runtime": "12.4",
	})
	got := run(noLt12, "FAKE_CUDA_DRIVER_MAJOR=12")
	check("CUDA 12 driver, no cuBLASLt 12", got, map[string]string{"cudart": "libcudart.so.12", "lt-nocuda": "true"})
	if !strings.Contains(got["lt-error"], "libcublasLt.so.12") {
		t.Errorf("the error does not name libcublasLt.so.12: %s", got["lt-error"])
	}
	got = run(both, "FAKE_CUDA_DRIVER_MAJOR=11")
	check("CUDA 11 driver", got, map[string]string{"load-nocuda": "true"})
	if e := got["load-error"]; !strings.Contains(e, "cudaErrorInsufficientDriver") || !strings.Contains(e, "libcudart.so.13, libcudart.so.12") {
		t.Errorf("the error does not say which runtimes the driver is too old for: %s", e)
	}
}

func TestLtCandidates(t *testing.T) {
	if got := strings.Join(ltCandidates("12"), " "); got != "libcublasLt.so.12 libcublasLt.so" {
		t.Errorf("ltCandidates(12) = %s", got)
	}
	if got := ltCandidates(""); len(got) != len(ltNames) || got[0] != "libcublasLt.so.13" {
		t.Errorf("ltCandidates() = %v", got)
	}
}

// buildVersioned compiles the fakes into dir under the given file names
// (fakecublaslt.c for libcublasLt names, fakecuda.c for the others) as
// CUDA major, skipping the test without a C compiler.
func buildVersioned(t *testing.T, dir, major string, names ...string) {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc) to build the fake CUDA libraries: install gcc or clang to run this test")
	}
	src, err := filepath.Abs("testdata/fake")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		file := "fakecuda.c"
		if strings.HasPrefix(n, "libcublasLt") {
			file = "fakecublaslt.c"
		}
		cmd := exec.Command(cc, "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-DFAKE_CUDA_MAJOR="+major, "-o", filepath.Join(dir, n), filepath.Join(src, file), "-lm")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cc %s: %v\n%s", n, err, b)
		}
	}
}

// --cuda-lib-dir pointed at a pip wheel's lib directory: only the
// versioned names (libcudart.so.12, libcublas.so.12, libcublasLt.so.12),
// which LoadFrom and NewLt find there; with CUDA 13 beside them and a CUDA
// 12 driver, the 12 libraries, as Load would choose.
func TestLoadFromVersionedNames(t *testing.T) {
	dir := t.TempDir()
	buildVersioned(t, dir, "12", "libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12")
	check := func(what, dir, want string) {
		t.Helper()
		l, err := LoadFrom(dir)
		if err != nil {
			t.Fatalf("%s: LoadFrom: %v", what, err)
		}
		defer l.Close()
		info := l.Info()
		if filepath.Base(info["cudart_path"]) != "libcudart.so."+want || filepath.Base(info["cublas_path"]) != "libcublas.so."+want {
			t.Errorf("%s: opened %s and %s, want CUDA %s's", what, info["cudart_path"], info["cublas_path"], want)
		}
		if n, err := l.DeviceCount(); err != nil || n != 1 {
			t.Errorf("%s: DeviceCount = %d, %v", what, n, err)
		}
		lt, err := l.NewLt()
		if err != nil {
			t.Fatalf("%s: NewLt: %v", what, err)
		}
		defer lt.Close()
		if got := lt.Info()["cublaslt_path"]; got != "libcublasLt.so."+want {
			t.Errorf("%s: NewLt opened %s, want libcublasLt.so.%s", what, got, want)
		}
	}
	check("CUDA 12 only", dir, "12")

	both := t.TempDir()
	buildVersioned(t, both, "12", "libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12")
	buildVersioned(t, both, "13", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13")
	check("CUDA 13 and 12, CUDA 13 driver", both, "13")
	t.Setenv("FAKE_CUDA_DRIVER_MAJOR", "12")
	check("CUDA 13 and 12, CUDA 12 driver", both, "12")
}

// An empty directory's error names the directory and every file tried in
// it; a runtime without cuBLAS names the cuBLAS files tried, its own
// major's first; cuBLASLt missing names the Lt files tried.
func TestLoadFromNamesTried(t *testing.T) {
	empty := t.TempDir()
	_, err := LoadFrom(empty)
	if !errors.Is(err, ErrNoCUDA) {
		t.Fatalf("LoadFrom(empty): %v; want ErrNoCUDA", err)
	}
	for _, want := range []string{empty, "libcudart.so.13, libcudart.so.12, libcudart.so.11.0, libcudart.so "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("LoadFrom(empty): %q does not say %q", err, want)
		}
	}
	dir := t.TempDir()
	buildVersioned(t, dir, "12", "libcudart.so.12")
	_, err = LoadFrom(dir)
	if !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), "no cuBLAS in "+dir) ||
		!strings.Contains(err.Error(), "libcublas.so.12, libcublas.so.13, libcublas.so.11, libcublas.so ") {
		t.Errorf("LoadFrom without cuBLAS: %v; want ErrNoCUDA naming the directory and the cuBLAS files tried", err)
	}
	buildVersioned(t, dir, "12", "libcublas.so.12")
	l, err := LoadFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = l.NewLt()
	if !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), "[libcublasLt.so.12 libcublasLt.so] could be opened in "+dir) {
		t.Errorf("NewLt without cuBLASLt: %v; want ErrNoCUDA naming the files tried in %s", err, dir)
	}
}
