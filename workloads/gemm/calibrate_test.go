package gemm

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/workloads"
)

// The calibration behind checkLimit and medianLimit, and the figures in
// docs/gemm-check.md. It takes minutes, so it runs only when asked:
//
//	go test -run '^TestCalibrate$' -v -timeout 2h ./workloads/gemm -args -calibrate [-blas libblis.so.4|gonum] [-threads 1] [-blas-coretype SkylakeX] [-calibrate-n 16,64] [-calibrate-flops 3e11] [-calibrate-kmax 1e6]
//
// -blas picks the library as for BenchmarkGEMM ("" is OpenBLAS); one
// library per process, so BLIS needs a run of its own.
var (
	calibrate      = flag.Bool("calibrate", false, "TestCalibrate: measure the check's scaled errors on the library -blas names")
	calibrateN     = flag.String("calibrate-n", "16,17,64,100,512,1024,2048,4096", "TestCalibrate: sizes")
	calibrateFLOPs = flag.Float64("calibrate-flops", 0, "TestCalibrate: most FLOPs spent on one (N, k) case (0: 3e11, or 2e10 for gonum)")
	calibrateKMax  = flag.Int64("calibrate-kmax", 1e7, "TestCalibrate: most calls in one case")
	calibrateSeeds = flag.Int("calibrate-seeds", 3000, "TestCalibrateSeeds: seeds (matrices and vectors) per case")
)

// calibLine is one measured case.
type calibLine struct {
	lib, prec, kind string
	n               int
	k, kc           int64
	worst, median   float64
	rel             float64 // worst·u·g: the worst row error relative to the products
	exact           float64 // worst with an exact (double-double) y and z, NaN if not computed
	verdict         string
	perCall         time.Duration
}

func (l calibLine) String() string {
	return fmt.Sprintf("CALIB lib=%s prec=%s kind=%s n=%d k=%d kc=%d worst=%.4g median=%.4g rel=%.3g exact=%.4g verdict=%q percall=%s",
		l.lib, l.prec, l.kind, l.n, l.k, l.kc, l.worst, l.median, l.rel, l.exact, l.verdict, l.perCall)
}

func TestCalibrate(t *testing.T) {
	if !*calibrate {
		t.Skip("calibration takes minutes: go test -run '^TestCalibrate$' -v ./workloads/gemm -args -calibrate")
	}
	opts := workloads.Options{BLAS: *benchBLAS, Threads: *benchThreads, BLASCoreType: *benchCoreType}
	if opts.BLAS == "" {
		opts.BLAS = "libopenblas.so.0"
	}
	honest, err := systemLoader().load(opts)
	if err != nil {
		t.Fatal(err)
	}
	lib := honest.info()["provider"]
	budget := *calibrateFLOPs
	if budget == 0 {
		budget = 3e11
		if lib == "gonum" {
			budget = 2e10
		}
	}
	var sizes []int
	for _, s := range strings.Split(*calibrateN, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, n)
	}
	t.Logf("library %v", honest.info())
	for _, prec := range []string{"fp32", "fp64"} {
		for _, n := range sizes {
			ks := []int64{1, 2, 3, 8, 64, 256, 1000, 10000, 100000, 1000000, 10000000}
			for _, k := range ks {
				if k > 2 && (float64(k)*FLOPs(n) > budget || k > *calibrateKMax) {
					break
				}
				line := calibRun(t, honest, lib, prec, "honest", n, k, n <= 1024 && k <= 1000)
				t.Log(line)
				fmt.Fprintln(os.Stderr, line)
			}
			// Reduced precision, on the same library.
			type cheat struct {
				kind string
				p    provider
			}
			var cheats []cheat
			if prec == "fp32" {
				cheats = []cheat{{"tf32", &narrowInputs{provider: honest, bits: 10}}, {"bf16", &narrowInputs{provider: honest, bits: 7}}}
			} else {
				cheats = []cheat{{"fp32", &fp32For64{provider: honest}}}
			}
			for _, c := range cheats {
				for _, k := range []int64{1, 64, 1000} {
					if k > 1 && float64(k)*FLOPs(n) > budget {
						break
					}
					line := calibRun(t, c.p, lib, prec, c.kind, n, k, false)
					t.Log(line)
					fmt.Fprintln(os.Stderr, line)
				}
			}
		}
	}
}

// TestCalibrateSeeds measures the tail of a correct library's scaled error
// where it is widest, at small N (few terms, few rows), over many seeds:
// the quantiles that checkLimit's margin is set against.
//
//	go test -run '^TestCalibrateSeeds$' -v ./workloads/gemm -args -calibrate [-blas libblis.so.4|gonum]
func TestCalibrateSeeds(t *testing.T) {
	if !*calibrate {
		t.Skip("calibration takes minutes: go test -run '^TestCalibrateSeeds$' -v ./workloads/gemm -args -calibrate")
	}
	opts := workloads.Options{BLAS: *benchBLAS, Threads: 1, BLASCoreType: *benchCoreType}
	if opts.BLAS == "" {
		opts.BLAS = "libopenblas.so.0"
	}
	p, err := systemLoader().load(opts)
	if err != nil {
		t.Fatal(err)
	}
	lib := p.info()["provider"]
	for _, prec := range both {
		for _, n := range []int{16, 17, 24, 33, 64, 100} {
			for _, k := range []int{1, 3} {
				var worst, median []float64
				for seed := uint64(1); seed <= uint64(*calibrateSeeds); seed++ {
					w := withProvider(t, fmt.Sprintf("gemm-%s-%d", prec, n), p, seed)
					if _, err := w.Run(context.Background(), k); err != nil {
						t.Fatal(err)
					}
					r := w.freivalds(false)
					worst, median = append(worst, r.worst), append(median, r.median)
					w.Close()
				}
				slices.Sort(worst)
				slices.Sort(median)
				q := func(p float64) float64 { return worst[int(p*float64(len(worst)-1))] }
				line := fmt.Sprintf("SEEDS lib=%s prec=%s n=%d k=%d seeds=%d worst: p50=%.3f p99=%.3f p99.9=%.3f max=%.3f median-max=%.3f",
					lib, prec, n, k, len(worst), q(0.5), q(0.99), q(0.999), worst[len(worst)-1], median[len(median)-1])
				t.Log(line)
				fmt.Fprintln(os.Stderr, line)
			}
		}
	}
}

// calibRun makes k calls of an N×N GEMM on p and scores the check.
func calibRun(t *testing.T, p provider, lib, prec, kind string, n int, k int64, exact bool) calibLine {
	t.Helper()
	w := withProvider(t, fmt.Sprintf("gemm-%s-%d", prec, n), p, 0)
	start := time.Now()
	if _, err := w.Run(context.Background(), int(k)); err != nil {
		t.Fatal(err)
	}
	perCall := time.Since(start) / time.Duration(k)
	ex := math.NaN()
	if exact {
		ex = w.exactWorst()
	}
	res := w.freivalds(true)
	chk := w.judge(res)
	w.Close() // now, not at the end of the test: N = 16384 takes 5 GiB
	return calibLine{lib: lib, prec: prec, kind: kind, n: n, k: k, kc: res.kc, worst: res.worst, median: res.median,
		rel: res.worst * w.unitRoundoff() * res.g, exact: ex, verdict: chk.Verdict, perCall: perCall}
}

// exactWorst is the check's worst scaled error with y and z computed in
// twice the working precision: the error of the library alone, without
// the check's own rounding.
func (w *workload) exactWorst() float64 {
	n := w.n
	s := &w.chk
	k := float64(w.calls)
	g := accScale(w.style, n, int(min(w.calls, int64(w.foldEvery))))
	worst := 0.0
	row := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := range row {
			if w.prec == "fp64" {
				row[j] = w.c64[i*n+j]
			} else {
				row[j] = float64(w.c32[i*n+j])
			}
		}
		var a []float64
		if w.prec == "fp64" {
			a = w.a64[i*n : (i+1)*n]
		} else {
			a = make([]float64, n)
			for j := range a {
				a[j] = float64(w.a32[i*n+j])
			}
		}
		for v := 0; v < checkVectors; v++ {
			r := s.r[v*n : (v+1)*n]
			y := dot2(row, r) + dot2(w.bank[i*n:(i+1)*n], r)
			z := k * dot2(a, s.w[v*n:(v+1)*n])
			e := math.Abs(y-z) / (w.unitRoundoff() * k * math.Sqrt(s.an2[i]/3) * g)
			worst = max(worst, e)
		}
	}
	return worst
}

// withProvider prepares the workload name on provider p with the given
// seed, closed when t ends.
func withProvider(t testing.TB, name string, p provider, seed uint64) *workload {
	t.Helper()
	wl, err := New(name, workloads.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	w := wl.(*workload)
	w.load = func(workloads.Options) (provider, error) { return p, nil }
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}
