package gpu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// memoStats reads the fake's FAKE_CUBLAS_MEMO_STATS file: the memo's hits
// and misses so far in this process.
func memoStats(t *testing.T, path string) (hits, misses int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(string(b), &hits, &misses); err != nil {
		t.Fatalf("%s: %q: %v", path, b, err)
	}
	return hits, misses
}

// TestMemoCublasDefeated: the reviewer's cheat, a cuBLAS that caches
// products keyed on the A and B pointers and sampled contents and adds the
// cached product on later calls. With one A for every call (offsets 1, the
// workload before version 2) it answers all but the first call of a
// repetition from the cache and passes the check; with the workload's
// offsets no call of a repetition hits the cache. Its answers are right
// either way: the check cannot catch it, the rotation makes it useless.
func TestMemoCublasDefeated(t *testing.T) {
	t.Setenv("FAKE_CUBLAS_MEMO", "1")
	ctx := context.Background()
	for _, p := range []string{"fp64", "fp32", "int8"} {
		for _, offsets := range []int64{1, 0} {
			// A new stats file empties the fake's memo.
			stats := filepath.Join(t.TempDir(), "memo")
			t.Setenv("FAKE_CUBLAS_MEMO_STATS", stats)
			w := newFake(t, "gpu-gemm-"+p+"-64", 21)
			w.offsets = offsets
			if err := w.Prepare(ctx); err != nil {
				t.Fatal(err)
			}
			if c, err := w.Check(ctx); err != nil || !c.OK {
				t.Fatalf("%s: check of the warm call: %+v, %v", p, c, err)
			}
			const calls = 6
			for rep := range 2 {
				h0, _ := memoStats(t, stats)
				if _, err := w.Run(ctx, calls); err != nil {
					t.Fatal(err)
				}
				h1, _ := memoStats(t, stats)
				c, err := w.Check(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !c.OK {
					t.Errorf("%s offsets %d rep %d: the memo's answers are right but failed: %+v", p, w.offsets, rep, c)
				}
				hits := h1 - h0
				if offsets == 1 && hits != calls-1 {
					t.Errorf("%s with one A: %d of %d calls hit the memo, want %d (the cheat this test guards against works here)", p, hits, calls, calls-1)
				}
				if offsets == 0 && hits != 0 {
					t.Errorf("%s with %d offsets: %d of %d calls hit the memo, want 0", p, w.offsets, hits, calls)
				}
			}
		}
	}
}

// TestPointerMemoCublasCaught: a memo keyed on the pointers alone returns
// stale products once the check has drawn new A and B into the same
// buffers and an offset recurs (here 4 offsets, so the next repetition
// reuses them), and the check finds them wrong.
func TestPointerMemoCublasCaught(t *testing.T) {
	t.Setenv("FAKE_CUBLAS_MEMO", "ptr")
	ctx := context.Background()
	for _, p := range []string{"fp64", "bf16", "int8"} {
		stats := filepath.Join(t.TempDir(), "memo")
		t.Setenv("FAKE_CUBLAS_MEMO_STATS", stats)
		w := newFake(t, "gpu-gemm-"+p+"-64", 22)
		w.offsets = 4
		if err := w.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Run(ctx, 4); err != nil { // every offset cached
			t.Fatal(err)
		}
		if c, err := w.Check(ctx); err != nil || !c.OK {
			t.Fatalf("%s: first repetition: %+v, %v", p, c, err)
		}
		h0, _ := memoStats(t, stats)
		if _, err := w.Run(ctx, 3); err != nil {
			t.Fatal(err)
		}
		c, err := w.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h1, _ := memoStats(t, stats); h1-h0 != 3 {
			t.Errorf("%s: %d stale hits, want 3", p, h1-h0)
		}
		if c.OK || c.Verdict != workloads.VerdictWrong {
			t.Errorf("%s: stale memoised products passed or were misjudged: %+v", p, c)
		}
	}
}

// TestInputsFreshEveryCheck: a check draws new contents into A and B
// (docs/gpu.md: inputs drawn afresh for every repetition) and a new first
// offset.
func TestInputsFreshEveryCheck(t *testing.T) {
	ctx := context.Background()
	w := newFake(t, "gpu-gemm-fp32-64", 23)
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	read := func(p cuda.DevPtr, bytes int) []byte {
		b := make([]byte, bytes)
		if err := w.lib.DtoH(hostPtr(b), p, bytes); err != nil {
			t.Fatal(err)
		}
		return b
	}
	nn := 64 * 64 * w.inSize()
	a0, b0, s0 := read(w.a, w.aCols()*64*w.inSize()), read(w.b, nn), w.start
	starts := map[int64]bool{s0: true}
	for range 3 {
		if _, err := w.Check(ctx); err != nil {
			t.Fatal(err)
		}
		starts[w.start] = true
	}
	if bytes.Equal(a0, read(w.a, len(a0))) || bytes.Equal(b0, read(w.b, nn)) {
		t.Error("a check left A or B as they were")
	}
	if len(starts) < 3 {
		t.Errorf("4 rounds used first offsets %v", starts)
	}
}

// TestOffsetsWrap: repetitions longer than the offsets (each offset used
// two or three times, the runs wrapping past the last) and folds between
// them still check exactly, and a lazy library is still caught.
func TestOffsetsWrap(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"fp64", "fp32", "fp16", "int8"} {
		w := newFake(t, "gpu-gemm-"+p+"-64", 24)
		w.offsets = 3
		if err := w.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		w.foldEvery = 4
		for _, calls := range []int{7, 3, 11} {
			if _, err := w.Run(ctx, calls); err != nil {
				t.Fatal(err)
			}
			if c, err := w.Check(ctx); err != nil || !c.OK {
				t.Fatalf("%s, %d calls on 3 offsets: %+v, %v", p, calls, c, err)
			}
			w.foldEvery = 4
		}
	}
	t.Setenv("FAKE_CUBLAS_LAZY", "1")
	for _, p := range []string{"fp64", "int8"} {
		w := newFake(t, "gpu-gemm-"+p+"-64", 25)
		w.offsets = 3
		if err := w.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Run(ctx, 8); err != nil {
			t.Fatal(err)
		}
		if c, err := w.Check(ctx); err != nil || c.OK || c.Verdict != workloads.VerdictWrong {
			t.Errorf("%s: lazy cuBLAS on 3 offsets: %+v, %v", p, c, err)
		}
	}
}
