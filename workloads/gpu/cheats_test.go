package gpu

import (
	"context"
	"testing"

	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gpu/cuda"
)

// Each cheat of the fake cuBLAS, next to the honest run it mirrors
// (TestEndToEnd), must fail the check with the right verdict.

// runAndCheck prepares name, checks the warm-up, makes calls, and returns
// the check of those calls.
func runAndCheck(t *testing.T, name string, calls int) workloads.Check {
	t.Helper()
	ctx := context.Background()
	w := newFake(t, name, 99)
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Run(ctx, calls); err != nil {
		t.Fatal(err)
	}
	c, err := w.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLazyCublasCaught: a cuBLAS that skips every second call leaves C
// holding half the products.
func TestLazyCublasCaught(t *testing.T) {
	t.Setenv("FAKE_CUBLAS_LAZY", "1")
	for _, p := range Precisions {
		t.Run(p, func(t *testing.T) {
			c := runAndCheck(t, "gpu-gemm-"+p+"-64", 6)
			if c.OK || c.Verdict != workloads.VerdictWrong {
				t.Errorf("lazy cuBLAS passed or misjudged: %+v", c)
			}
		})
	}
}

// TestLazyCublasCaughtAcrossFolds: skipped calls are caught when C has
// been folded to the host in between.
func TestLazyCublasCaughtAcrossFolds(t *testing.T) {
	t.Setenv("FAKE_CUBLAS_LAZY", "1")
	ctx := context.Background()
	w := newFake(t, "gpu-gemm-fp32-64", 5)
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	w.foldEvery = 2
	if _, err := w.Run(ctx, 9); err != nil {
		t.Fatal(err)
	}
	c, err := w.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.OK || c.Verdict != workloads.VerdictWrong {
		t.Errorf("lazy cuBLAS across folds: %+v", c)
	}
}

// TestTF32ForFP32Caught: fp32 answered at TF32 precision is reduced
// precision, while the tf32 workload, whose inputs are on TF32's grid,
// passes on the same library.
func TestTF32ForFP32Caught(t *testing.T) {
	t.Setenv("FAKE_CUBLAS_TF32", "1")
	for _, n := range []string{"64", "256"} {
		c := runAndCheck(t, "gpu-gemm-fp32-"+n, 3)
		if c.OK || c.Verdict != workloads.VerdictReducedPrecision {
			t.Errorf("fp32-%s with TF32 arithmetic: %+v; want reduced-precision", n, c)
		}
	}
	if c := runAndCheck(t, "gpu-gemm-tf32-256", 3); !c.OK {
		t.Errorf("tf32 with TF32 arithmetic failed: %+v", c)
	}
	if c := runAndCheck(t, "gpu-gemm-fp64-64", 3); !c.OK {
		t.Errorf("fp64 is not touched by the TF32 knob but failed: %+v", c)
	}
}

// NVIDIA_TF32_OVERRIDE=0 quietly makes the tf32 workload plain fp32 (its
// check still passes): Info records the variable, and warns for tf32.
func TestTF32OverrideRecorded(t *testing.T) {
	t.Setenv(cuda.TF32OverrideEnv, "0")
	for _, c := range []struct {
		name string
		warn bool
	}{{"gpu-gemm-tf32-64", true}, {"gpu-gemm-fp32-64", false}} {
		w := newFake(t, c.name, 1)
		if err := w.Prepare(context.Background()); err != nil {
			t.Fatal(err)
		}
		info := w.Info()
		if info["nvidia_tf32_override"] != "0" {
			t.Errorf("%s: Info does not record NVIDIA_TF32_OVERRIDE=0: %v", c.name, info)
		}
		if got := info["warning"] == TF32OverrideWarning; got != c.warn {
			t.Errorf("%s: warning %q, want one: %v", c.name, info["warning"], c.warn)
		}
	}
	t.Setenv(cuda.TF32OverrideEnv, "1")
	w := newFake(t, "gpu-gemm-tf32-64", 1)
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if info := w.Info(); info["nvidia_tf32_override"] != "1" || info["warning"] != "" {
		t.Errorf("NVIDIA_TF32_OVERRIDE=1: %v", info)
	}
}

// TestStaleCCaught: a C that the calls did not produce (here, a value
// left in C before the calls) fails as wrong.
func TestStaleCCaught(t *testing.T) {
	for _, p := range []string{"fp64", "int8"} {
		ctx := context.Background()
		w := newFake(t, "gpu-gemm-"+p+"-64", 11)
		if err := w.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Run(ctx, 2); err != nil {
			t.Fatal(err)
		}
		// Corrupt one column of C, as a wrong tile would.
		buf := make([]byte, 64*w.outSize())
		for i := range buf {
			buf[i] = 0x3f
		}
		if err := w.lib.HtoD(w.c+cuda.DevPtr(64*w.outSize()*5), hostPtr(buf), len(buf)); err != nil {
			t.Fatal(err)
		}
		c, err := w.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.OK || c.Verdict != workloads.VerdictWrong {
			t.Errorf("%s with a corrupted column: %+v", p, c)
		}
	}
}

// TestCheckFailsWithoutCalls: a check that expects calls but finds an
// untouched (zero) C fails; this is what a library that does nothing
// produces.
func TestCheckFailsWithoutCalls(t *testing.T) {
	ctx := context.Background()
	w := newFake(t, "gpu-gemm-bf16-64", 2)
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	w.calls += 4 // pretend four calls were made that did nothing
	c, err := w.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.OK || c.Verdict != workloads.VerdictWrong {
		t.Errorf("a do-nothing library passed: %+v", c)
	}
}
