package gpu

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gpu/cuda"
)

var (
	_ workloads.Checker   = (*workload)(nil)
	_ workloads.Validator = (*workload)(nil)
	_ workloads.Describer = (*workload)(nil)
	_ workloads.Closer    = (*workload)(nil)
)

func TestNames(t *testing.T) {
	for _, p := range Precisions {
		for _, n := range []string{"4096", "8192", "16384"} {
			name := "gpu-gemm-" + p + "-" + n
			s, err := workloads.SpecOf(name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if s.Name != name || s.Version != Version || s.WorkUnit != WorkUnit || s.Params["device"] != "gpu" || s.Params["precision"] != p {
				t.Errorf("%s: spec %+v", name, s)
			}
			if s.Hash != workloads.SpecHash(s.Name, s.Version, s.Params) {
				t.Errorf("%s: hash is not SpecHash", name)
			}
		}
	}
	s, _ := workloads.SpecOf("gpu-gemm-int8-4096")
	if s.Params["ops"] == "" || s.Params["compute_type"] != "CUBLAS_COMPUTE_32I" || s.Params["output_type"] != "CUDA_R_32I" {
		t.Errorf("int8 params %v", s.Params)
	}
	s, _ = workloads.SpecOf("gpu-gemm-tf32-8192")
	if s.Params["compute_type"] != "CUBLAS_COMPUTE_32F_FAST_TF32" || s.FLOPsPerItem != 2*8192.0*8192*8192 {
		t.Errorf("tf32 spec %+v", s)
	}
	s, _ = workloads.SpecOf("gpu-gemm-fp32-4096")
	// CUBLAS_COMPUTE_32F in the default math mode: no TF32 (that needs
	// CUBLAS_TF32_TENSOR_OP_MATH or a _FAST_TF32 compute type), and not the
	// pedantic mode NVIDIA meant for debugging.
	if s.Params["compute_type"] != "CUBLAS_COMPUTE_32F" || s.Params["math_mode"] != "CUBLAS_DEFAULT_MATH" {
		t.Errorf("fp32 must be CUBLAS_COMPUTE_32F in CUBLAS_DEFAULT_MATH: %v", s.Params)
	}
}

func TestBadNames(t *testing.T) {
	for _, name := range []string{"gpu-gemm-fp8-4096", "gpu-gemm-fp32", "gpu-gemm-fp32-32", "gpu-gemm-fp32-32768",
		"gpu-gemm-fp32-04096", "gpu-gemm-fp32-+4096", "gpu-gemm-fp32-100", "gpu-gemm-fp32-x"} {
		if _, err := New(name, workloads.Options{}); err == nil {
			t.Errorf("New(%q) succeeded", name)
		} else if !strings.Contains(err.Error(), "gpu-gemm-P-N") {
			t.Errorf("New(%q): %v does not say what a name looks like", name, err)
		}
	}
	if _, err := New("gpu-gemm-fp16-64", workloads.Options{}); err != nil {
		t.Errorf("N = 64 must be accepted: %v", err)
	}
}

// TestEndToEnd runs every precision through Prepare, Run and Check on the
// honest fake, twice, as the harness does.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	for _, p := range Precisions {
		t.Run(p, func(t *testing.T) {
			w := newFake(t, "gpu-gemm-"+p+"-64", 42)
			if err := w.Validate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := w.Prepare(ctx); err != nil {
				t.Fatal(err)
			}
			c, err := w.Check(ctx) // after the warm call
			if err != nil || !c.OK {
				t.Fatalf("check after warm-up: %+v, %v", c, err)
			}
			for rep := range 2 {
				work, err := w.Run(ctx, 3)
				if err != nil {
					t.Fatal(err)
				}
				if work.Items != 3 || work.FLOPs != 3*2*64*64*64 {
					t.Errorf("Run(3) = %+v", work)
				}
				if _, err := w.Run(ctx, 2); err != nil {
					t.Fatal(err)
				}
				c, err := w.Check(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !c.OK || c.Verdict != "" {
					t.Fatalf("rep %d: check failed on the honest fake: %+v", rep, c)
				}
				if !strings.Contains(c.Detail, "5 calls") {
					t.Errorf("check detail %q does not count 5 calls", c.Detail)
				}
			}
			info := w.Info()
			for _, k := range []string{"cuda_runtime", "cublas", "cudart_path", "compute_capability", "math_mode"} {
				if info[k] == "" {
					t.Errorf("Info has no %q: %v", k, info)
				}
			}
		})
	}
}

// TestFolds makes enough calls to fold C several times within one check.
func TestFolds(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"fp32", "int8"} {
		w := newFake(t, "gpu-gemm-"+p+"-64", 7)
		if err := w.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		w.foldEvery = 3
		if _, err := w.Run(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if w.folds < 3 {
			t.Errorf("%s: %d folds after 11 calls at 3 a fold", p, w.folds)
		}
		c, err := w.Check(ctx)
		if err != nil || !c.OK {
			t.Errorf("%s: %+v, %v", p, c, err)
		}
	}
}

// TestInt8FoldKeepsInt32 checks the int8 fold interval keeps every entry
// of C within int32 by the Cauchy–Schwarz bound.
func TestInt8FoldKeepsInt32(t *testing.T) {
	w := newFake(t, "gpu-gemm-int8-256", 3)
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	worst := 16.0 * 16 * 256 * float64(w.foldEvery)
	if w.foldEvery < 1000 || worst > 4*(1<<31) {
		t.Errorf("int8 N=256 folds every %d calls", w.foldEvery)
	}
}

func TestValidateNoDevice(t *testing.T) {
	t.Setenv("FAKE_CUDA_NODEVICE", "1")
	w := newFake(t, "gpu-gemm-fp32-64", 1)
	err := w.Validate(context.Background())
	if !errors.Is(err, workloads.ErrNotHere) || !strings.Contains(err.Error(), "no GPU") {
		t.Fatalf("Validate: %v; want ErrNotHere saying no GPU", err)
	}
	if err := w.Prepare(context.Background()); !errors.Is(err, workloads.ErrNotHere) {
		t.Errorf("Prepare: %v; want ErrNotHere", err)
	}
}

func TestValidateNoLibrary(t *testing.T) {
	w := newFake(t, "gpu-gemm-fp32-64", 1)
	empty := t.TempDir()
	w.load = func() (*cuda.Lib, error) { return cuda.LoadFrom(empty) }
	err := w.Validate(context.Background())
	if !errors.Is(err, workloads.ErrNotHere) || !strings.Contains(err.Error(), "libcudart.so") {
		t.Fatalf("Validate: %v; want ErrNotHere naming libcudart.so", err)
	}
}

// TestValidateSystem: on this machine (no CUDA) the default workload is
// not here, and says why; on a machine with a GPU it validates.
func TestValidateSystem(t *testing.T) {
	w, err := New("gpu-gemm-bf16-4096", workloads.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = w.(workloads.Validator).Validate(context.Background())
	if err != nil && !errors.Is(err, workloads.ErrNotHere) {
		t.Fatalf("Validate: %v; want nil or ErrNotHere", err)
	}
	if err != nil && !strings.Contains(err.Error(), "CUDA") && !strings.Contains(err.Error(), "GPU") && !strings.Contains(err.Error(), "compute capability") {
		t.Errorf("Validate: %q does not say why", err)
	}
}

func TestValidateComputeCapability(t *testing.T) {
	for _, c := range []struct {
		prec, cc string
		ok       bool
	}{
		{"bf16", "7.5", false}, {"bf16", "8.0", true}, {"tf32", "7.0", false}, {"tf32", "8.6", true},
		{"fp16", "5.2", false}, {"fp16", "5.3", true}, {"int8", "6.0", false}, {"int8", "6.1", true},
		{"fp64", "3.5", true}, {"fp32", "5.0", true},
	} {
		t.Run(c.prec+"-"+c.cc, func(t *testing.T) {
			t.Setenv("FAKE_CUDA_CC", c.cc)
			w := newFake(t, "gpu-gemm-"+c.prec+"-64", 1)
			err := w.Validate(context.Background())
			if c.ok && err != nil {
				t.Errorf("Validate: %v", err)
			}
			if !c.ok && (!errors.Is(err, workloads.ErrNotHere) || !strings.Contains(err.Error(), "compute capability "+c.cc)) {
				t.Errorf("Validate: %v; want ErrNotHere naming compute capability %s", err, c.cc)
			}
		})
	}
}

func TestPrepareOutOfMemory(t *testing.T) {
	t.Setenv("FAKE_CUDA_OOM", "1")
	w := newFake(t, "gpu-gemm-fp64-256", 1)
	err := w.Prepare(context.Background())
	if err == nil || !strings.Contains(err.Error(), "out of memory") || !strings.Contains(err.Error(), "524288 bytes") {
		t.Fatalf("Prepare: %v; want out of memory with the size", err)
	}
	if errors.Is(err, workloads.ErrNotHere) {
		t.Error("out of memory is a real failure, not 'not here'")
	}
}

func TestRunCanceled(t *testing.T) {
	w := newFake(t, "gpu-gemm-fp32-64", 1)
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Run(ctx, 5); !errors.Is(err, context.Canceled) {
		t.Errorf("Run on a canceled context: %v", err)
	}
}

func TestDirect(t *testing.T) {
	lib, err := cuda.LoadFrom(fakeDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"fp32", "int8"} {
		tf, err := Direct(context.Background(), p, 64, 20*time.Millisecond, lib)
		if err != nil || !(tf > 0) {
			t.Errorf("Direct(%s) = %g, %v", p, tf, err)
		}
	}
	if _, err := Direct(context.Background(), "fp8", 64, time.Millisecond, lib); err == nil {
		t.Error("Direct(fp8) succeeded")
	}
}

func TestParallelRows(t *testing.T) {
	for _, n := range []int{1, 255, 256, 1000, 4097} {
		seen := make([]int32, n)
		parallelRows(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, s := range seen {
			if s != 1 {
				t.Fatalf("n=%d: row %d visited %d times", n, i, s)
			}
		}
	}
}

// TestFoldParallel folds at a size where the fold's sums run on several
// goroutines (run it with -race).
func TestFoldParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("N = 512 on the naive fake takes a second")
	}
	ctx := context.Background()
	for _, p := range []string{"fp64", "int8"} {
		w := newFake(t, "gpu-gemm-"+p+"-512", 8)
		if err := w.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Run(ctx, 1); err != nil {
			t.Fatal(err)
		}
		c, err := w.Check(ctx)
		if err != nil || !c.OK {
			t.Errorf("%s: %+v, %v", p, c, err)
		}
	}
}
