package gemm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/workloads"
)

func TestParseName(t *testing.T) {
	good := map[string]struct {
		prec string
		n    int
	}{
		"gemm-fp64-16":    {"fp64", 16},
		"gemm-fp32-2048":  {"fp32", 2048},
		"gemm-fp64-16384": {"fp64", 16384},
		"gemm-fp32-1000":  {"fp32", 1000},
	}
	for name, want := range good {
		prec, n, err := parseName(name)
		if err != nil || prec != want.prec || n != want.n {
			t.Errorf("parseName(%q) = %q, %d, %v; want %q, %d", name, prec, n, err, want.prec, want.n)
		}
	}
	bad := map[string]string{
		"gemm-fp16-512":   "precision",
		"gemm-fp64-15":    "out of range",
		"gemm-fp64-16385": "out of range",
		"gemm-fp64-0512":  "plain integer",
		"gemm-fp64-+512":  "plain integer",
		"gemm-fp64-":      "plain integer",
		"gemm-fp64-1e3":   "plain integer",
		"gemm-fp64":       "no size",
		"gemm-":           "no size",
		"gemmfp64-512":    "not a gemm",
		"gemm-fp64-512-x": "plain integer",
	}
	for name, why := range bad {
		_, _, err := parseName(name)
		if err == nil || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "gemm-fp64-N") {
			t.Errorf("parseName(%q) error = %v, want one saying %q and the expected form", name, err, why)
		}
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{"gemm-fp64-2048", "gemm-fp32-16", "gemm-fp64-0", "gemm-fp8-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		prec, n, err := parseName(name)
		if err != nil {
			return
		}
		// One amount of work, one name.
		if got := "gemm-" + prec + "-" + strconv.Itoa(n); got != name {
			t.Errorf("parseName(%q) accepted a non-canonical name (canonical %q)", name, got)
		}
		if n < MinN || n > MaxN {
			t.Errorf("parseName(%q) accepted N=%d", name, n)
		}
	})
}

func TestSpec(t *testing.T) {
	w, err := New("gemm-fp64-2048", workloads.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := w.Spec()
	if s.Name != "gemm-fp64-2048" || s.Version != "2" || s.WorkUnit != WorkUnit || s.FLOPsPerItem != FLOPs(2048) ||
		s.Params["precision"] != "fp64" || s.Params["n"] != "2048" || len(s.Params) != 2 {
		t.Errorf("spec = %+v", s)
	}
	// The hash is part of the record's contract: a change here means old
	// records no longer match, so it must come with a new Version.
	if s.Hash != hashGemmFP642048 {
		t.Errorf("hash = %s, want %s", s.Hash, hashGemmFP642048)
	}
	w2, _ := New("gemm-fp32-2048", workloads.Options{})
	if w2.Spec().Hash == s.Hash {
		t.Error("fp32 and fp64 specs share a hash")
	}
}

// hashGemmFP642048 is sha256 of {"name":"gemm-fp64-2048","version":"2","params":{"n":"2048","precision":"fp64"}}
// (printf '%s' '...' | sha256sum).
const hashGemmFP642048 = "e2001ce07df1e13678c465282a970a9c47cb04fcb2e4bf0c12b2a063c833e2d1"

func TestFLOPs(t *testing.T) {
	if got := FLOPs(2048); got != 2*2048*2048*2048 {
		t.Errorf("FLOPs(2048) = %g", got)
	}
	w := prepared(t, "gemm-fp64-32", workloads.Options{BLAS: "gonum"})
	work, err := w.Run(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if work.Items != 3 || work.FLOPs != 3*2*32*32*32 {
		t.Errorf("work = %+v, want 3 items, %d FLOPs", work, 3*2*32*32*32)
	}
	if work, err := w.Run(context.Background(), 0); err != nil || work.Items != 0 || work.FLOPs != 0 {
		t.Errorf("Run(0) = %+v, %v", work, err)
	}
	if _, err := w.Run(context.Background(), -1); err == nil {
		t.Error("Run(-1): no error")
	}
}

func TestRegistered(t *testing.T) {
	names := workloads.Names()
	for _, n := range []string{"gemm-fp32-512", "gemm-fp64-4096"} {
		if !slices.Contains(names, n) {
			t.Errorf("%s not among registered names %v", n, names)
		}
	}
	w, err := workloads.New("gemm-fp32-777", workloads.Options{})
	if err != nil || w.Spec().Params["n"] != "777" {
		t.Errorf("workloads.New(gemm-fp32-777) = %v, %v", w, err)
	}
	if _, err := workloads.New("gemm-fp64-8", workloads.Options{}); err == nil {
		t.Error("gemm-fp64-8: no error")
	}
	if _, err := New("gemm-fp64-64", workloads.Options{Threads: -1}); err == nil {
		t.Error("threads -1: no error")
	}
}

// prepared returns a prepared workload that is closed when t ends.
func prepared(t testing.TB, name string, opts workloads.Options) *workload {
	t.Helper()
	wl, err := New(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	w := wl.(*workload)
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// runAndCheck runs w twice and checks the answer.
func runAndCheck(t *testing.T, w *workload) workloads.Check {
	t.Helper()
	if _, err := w.Run(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	chk, err := w.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return chk
}

func TestGonum(t *testing.T) {
	// 100 is no multiple of any block size: edge tiles get exercised.
	for _, name := range []string{"gemm-fp64-100", "gemm-fp32-100", "gemm-fp64-256", "gemm-fp32-256"} {
		t.Run(name, func(t *testing.T) {
			w := prepared(t, name, workloads.Options{BLAS: "gonum", Threads: 1})
			chk := runAndCheck(t, w)
			if !chk.OK || chk.Name != "freivalds" || chk.Value > chk.Limit || chk.Limit <= 0 || chk.Verdict != "" {
				t.Errorf("check = %+v", chk)
			}
			t.Logf("scaled error %.3g (limit %.3g)", chk.Value, chk.Limit)
			info := w.Info()
			if info["provider"] != "gonum" || info["warning"] != GonumWarning || info["threads"] == "" || info["version"] == "" ||
				info["check"] != "freivalds" || info["check_seed"] != fmt.Sprintf("%016x", fixedSeed) {
				t.Errorf("info = %v", info)
			}
		})
	}
}

// TestCheckFailsOnWrongAnswer corrupts single entries of a right answer
// after the calls; the check covers every entry, the first and the last
// included.
func TestCheckFailsOnWrongAnswer(t *testing.T) {
	for _, tt := range []struct {
		name    string
		corrupt func(w *workload)
	}{
		{"fp64 off by 1e-9", func(w *workload) { w.c64[0] += 1e-9 }},
		{"fp64 NaN", func(w *workload) { w.c64[0] = math.NaN() }},
		{"fp64 last entry", func(w *workload) { w.c64[len(w.c64)-1] *= 1.01 }},
		{"fp64 middle entry", func(w *workload) { w.c64[len(w.c64)/2+7] = 0 }},
		{"fp32 off by 1e-2", func(w *workload) { w.c32[0] += 1e-2 }},
		{"fp32 Inf", func(w *workload) { w.c32[0] = float32(math.Inf(-1)) }},
		{"fp32 +Inf and -Inf", func(w *workload) { w.c32[5], w.c32[6] = float32(math.Inf(1)), float32(math.Inf(-1)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "gemm-fp64-128"
			if strings.HasPrefix(tt.name, "fp32") {
				name = "gemm-fp32-128"
			}
			w := prepared(t, name, workloads.Options{BLAS: "gonum"})
			if _, err := w.Run(context.Background(), 2); err != nil {
				t.Fatal(err)
			}
			tt.corrupt(w)
			chk, err := w.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if chk.OK || !(chk.Value > chk.Limit) || chk.Verdict != workloads.VerdictWrong {
				t.Errorf("corrupted answer passed or not called wrong: %+v", chk)
			}
			if !strings.Contains(chk.Detail, "wrong answer") {
				t.Errorf("detail = %q", chk.Detail)
			}
			// The same calls without the corruption pass: it is the
			// corruption that failed.
			if _, err := w.Run(context.Background(), 2); err != nil {
				t.Fatal(err)
			}
			if chk, err := w.Check(context.Background()); err != nil || !chk.OK {
				t.Errorf("next round, uncorrupted: %+v, %v", chk, err)
			}
		})
	}
}

// fakeProvider returns a fast wrong answer, as a broken kernel would: fp64
// writes garbage into C, fp32 does nothing.
type fakeProvider struct {
	decision coreTypeDecision
	calls    int
	onCall   func(calls int)
}

func (f *fakeProvider) dgemm(n int, a, b, c []float64) {
	f.calls++
	for i := range c {
		c[i] = float64(i%7) - 3
	}
	if f.onCall != nil {
		f.onCall(f.calls)
	}
}

func (f *fakeProvider) sgemm(n int, a, b, c []float32) {
	f.calls++
	if f.onCall != nil {
		f.onCall(f.calls)
	}
	// c left as it was: all zeros.
}

func (f *fakeProvider) begin()                     {}
func (f *fakeProvider) coreType() coreTypeDecision { return f.decision }
func (f *fakeProvider) info() map[string]string    { return map[string]string{"provider": "fake"} }

func fakeWorkload(t *testing.T, name string, fp *fakeProvider) *workload {
	t.Helper()
	wl, err := New(name, workloads.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := wl.(*workload)
	w.load = func(workloads.Options) (provider, error) { return fp, nil }
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestCheckFailsFastWrongProvider(t *testing.T) {
	for _, name := range []string{"gemm-fp64-64", "gemm-fp32-64"} {
		t.Run(name, func(t *testing.T) {
			fp := &fakeProvider{decision: coreTypeDecision{Value: "SkylakeX", Source: sourceAutoAVX512}}
			w := fakeWorkload(t, name, fp)
			chk := runAndCheck(t, w)
			if chk.OK || chk.Verdict != workloads.VerdictWrong {
				t.Fatalf("garbage passed or not called wrong: %+v", chk)
			}
			// The kernel was forced: the way out is the library's own choice.
			if !strings.Contains(chk.Detail, "--blas-coretype library") {
				t.Errorf("detail does not suggest --blas-coretype library: %q", chk.Detail)
			}
		})
	}
	fp := &fakeProvider{} // kernel not forced: nothing to suggest
	chk := runAndCheck(t, fakeWorkload(t, "gemm-fp64-64", fp))
	if chk.OK || strings.Contains(chk.Detail, "--blas-coretype") {
		t.Errorf("check = %+v", chk)
	}
}

func TestCheckBeforeRun(t *testing.T) {
	w := prepared(t, "gemm-fp64-32", workloads.Options{BLAS: "gonum"})
	if _, err := w.Check(context.Background()); err == nil {
		t.Error("check before Run: no error")
	}
	if _, err := w.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if chk, err := w.Check(context.Background()); err != nil || !chk.OK {
		t.Fatalf("check = %+v, %v", chk, err)
	}
	if _, err := w.Check(context.Background()); err == nil {
		t.Error("second check with no Run between: no error")
	}
	unprepared, _ := New("gemm-fp64-32", workloads.Options{})
	if _, err := unprepared.Run(context.Background(), 1); err == nil {
		t.Error("Run before Prepare: no error")
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fp := &fakeProvider{onCall: func(calls int) {
		if calls == 2 {
			cancel()
		}
	}}
	w := fakeWorkload(t, "gemm-fp64-32", fp)
	work, err := w.Run(ctx, 10)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if work.Items != 2 || work.FLOPs != 2*FLOPs(32) {
		t.Errorf("work = %+v, want the 2 calls done", work)
	}
}

func TestLoaderFallback(t *testing.T) {
	noSearch := func(coreTypeDecision) (cblasLibrary, coreTypeDecision, error) {
		return nil, coreTypeDecision{}, fmt.Errorf("%w: libopenblas.so.0: not here", errNoCBLAS)
	}
	noNamed := func(name string, d coreTypeDecision) (cblasLibrary, coreTypeDecision, error) {
		return nil, d, errors.New("cblas: load " + name + ": dlopen: not here")
	}
	l := loader{named: noNamed, search: noSearch, cpuinfo: filepath.Join("testdata", "cpuinfo-zen5.txt"),
		lookupEnv: func(string) (string, bool) { return "", false }}

	p, err := l.load(workloads.Options{Threads: 3})
	if err != nil {
		t.Fatal(err)
	}
	info := p.info()
	if info["provider"] != "gonum" || info["warning"] != GonumWarning ||
		!strings.Contains(info["fallback_reason"], "libopenblas.so.0") ||
		info["cpu_isa"] != "avx512" || info["threads_requested"] != "3" {
		t.Errorf("fallback info = %v", info)
	}

	// A library that is there but cannot be used as asked is an error,
	// not a reason to measure gonum instead.
	conflict := l
	conflict.search = func(d coreTypeDecision) (cblasLibrary, coreTypeDecision, error) {
		return nil, d, errors.New("cblas: OpenBLAS was loaded with another kernel")
	}
	if _, err := conflict.load(workloads.Options{}); err == nil {
		t.Error("search conflict fell back to gonum")
	}

	// A library the user named must load, or the run fails.
	if _, err := l.load(workloads.Options{BLAS: "/opt/mkl/libmkl_rt.so"}); err == nil ||
		!strings.Contains(err.Error(), "/opt/mkl/libmkl_rt.so") {
		t.Errorf("named library: err = %v", err)
	}

	// gonum by name does not search.
	l.search = func(coreTypeDecision) (cblasLibrary, coreTypeDecision, error) {
		t.Error("--blas gonum searched for a CBLAS")
		return nil, coreTypeDecision{}, errors.New("searched")
	}
	p, err = l.load(workloads.Options{BLAS: "gonum"})
	if err != nil {
		t.Fatal(err)
	}
	if info := p.info(); info["provider"] != "gonum" || info["warning"] != GonumWarning || info["fallback_reason"] != "" {
		t.Errorf("--blas gonum info = %v", info)
	}

	// A kernel the CPU cannot run is refused before anything loads,
	// whether the flag or the environment asks for it.
	l.cpuinfo = filepath.Join("testdata", "cpuinfo-haswell.txt")
	l.named = func(name string, d coreTypeDecision) (cblasLibrary, coreTypeDecision, error) {
		t.Errorf("loaded %s with kernel %q on a CPU that cannot run it", name, d.Value)
		return nil, d, errors.New("loaded")
	}
	if _, err := l.load(workloads.Options{BLAS: "libopenblas.so.0", BLASCoreType: "SkylakeX"}); err == nil ||
		!strings.Contains(err.Error(), "AVX-512") {
		t.Errorf("SkylakeX on Haswell: err = %v", err)
	}
	l.lookupEnv = func(k string) (string, bool) {
		if k == coreTypeEnv {
			return "SkylakeX", true
		}
		return "", false
	}
	if _, err := l.load(workloads.Options{BLAS: "libopenblas.so.0"}); err == nil ||
		!strings.Contains(err.Error(), coreTypeEnv+"=SkylakeX") || !strings.Contains(err.Error(), "--blas-coretype library") {
		t.Errorf("SkylakeX from the environment on Haswell: err = %v", err)
	}
}

func TestNonexistentBLAS(t *testing.T) {
	const path = "/nonexistent/joulebench/libnope.so"
	wl, err := New("gemm-fp64-32", workloads.Options{BLAS: path})
	if err != nil {
		t.Fatal(err)
	}
	err = wl.Prepare(context.Background())
	if err == nil {
		t.Fatal("no error for a library that does not exist")
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Errorf("error does not name the path: %v", err)
	}
	if cgoEnabled {
		if !strings.Contains(strings.ToLower(msg), "no such file") {
			t.Errorf("error does not say why: %v", err)
		}
	} else if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("without cgo: err = %v, want errors.ErrUnsupported", err)
	}
	t.Log(err)
}

// openBLAS prepares name on the system OpenBLAS, or skips the test.
func openBLAS(t *testing.T, name string, opts workloads.Options) *workload {
	t.Helper()
	if !cgoEnabled {
		t.Skip("built without cgo: no system BLAS can be loaded")
	}
	if opts.BLAS == "" {
		opts.BLAS = "libopenblas.so.0"
	}
	wl, err := New(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	w := wl.(*workload)
	if err := w.Prepare(context.Background()); err != nil {
		if strings.Contains(err.Error(), "dlopen") {
			t.Skipf("OpenBLAS not installed (apt-get install libopenblas0): %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if p := w.Info()["provider"]; p != "openblas" {
		t.Skipf("%s is %s, not OpenBLAS", opts.BLAS, p)
	}
	return w
}

func TestOpenBLAS(t *testing.T) {
	for _, name := range []string{"gemm-fp64-100", "gemm-fp32-100", "gemm-fp64-256", "gemm-fp32-256"} {
		t.Run(name, func(t *testing.T) {
			w := openBLAS(t, name, workloads.Options{Threads: 2})
			chk := runAndCheck(t, w)
			if !chk.OK {
				t.Errorf("check = %+v", chk)
			}
			t.Logf("scaled error %.3g (limit %.3g)", chk.Value, chk.Limit)
		})
	}
}

func TestOpenBLASInfo(t *testing.T) {
	w := openBLAS(t, "gemm-fp64-64", workloads.Options{Threads: 1})
	info := w.Info()
	t.Log(info)
	for _, k := range []string{"provider", "library", "version", "config", "threads", "corename", "coretype", "coretype_source", "cpu_isa", "check", "check_seed"} {
		if info[k] == "" {
			t.Errorf("Info has no %s: %v", k, info)
		}
	}
	if _, ok := info["warning"]; ok {
		t.Errorf("OpenBLAS run carries a warning: %v", info)
	}
	if !filepath.IsAbs(info["library"]) {
		t.Errorf("library %q is not the resolved file", info["library"])
	} else if _, err := os.Stat(info["library"]); err != nil {
		t.Error(err)
	}
	if info["threads"] != "1" {
		t.Errorf("threads = %s, want 1", info["threads"])
	}
	// The count is per workload: a second one with 2 threads gets 2.
	if w2 := openBLAS(t, "gemm-fp64-64", workloads.Options{Threads: 2}); w2.Info()["threads"] != "2" {
		t.Errorf("second workload: threads = %s, want 2", w2.Info()["threads"])
	}
}

// TestOneLibraryPerProcess: after OpenBLAS is loaded, another library is
// refused, the same one by another name is not, and neither is a kernel
// change (OpenBLAS fixed it at load).
func TestOneLibraryPerProcess(t *testing.T) {
	w := openBLAS(t, "gemm-fp64-32", workloads.Options{})
	lib := w.Info()["library"]

	same, _ := New("gemm-fp64-32", workloads.Options{BLAS: lib})
	if err := same.Prepare(context.Background()); err != nil {
		t.Errorf("same library by its path: %v", err)
	}
	// The default search reuses what is loaded.
	def, _ := New("gemm-fp64-32", workloads.Options{})
	if err := def.Prepare(context.Background()); err != nil {
		t.Errorf("default search: %v", err)
	} else if got := def.(*workload).Info()["library"]; got != lib {
		t.Errorf("default search gave %s, want the loaded %s", got, lib)
	}

	other, _ := New("gemm-fp64-32", workloads.Options{BLAS: "libjoulebench-other-blas.so.1"})
	if err := other.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "already loaded") {
		t.Errorf("second library: err = %v", err)
	}

	kernel := "Haswell"
	if w.Info()["coretype"] == kernel {
		kernel = "Sandybridge"
	}
	k, _ := New("gemm-fp64-32", workloads.Options{BLASCoreType: kernel})
	if err := k.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "only at load") {
		t.Errorf("kernel change after load: err = %v", err)
	}
}
