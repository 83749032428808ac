package gemm

import (
	"context"
	"flag"
	"fmt"
	"math"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/joulebench/joulebench/workloads"
)

// Flags for BenchmarkGEMM, so that cref/compare.sh can run the Go side on
// exactly the library, thread count and kernel it runs the C side on:
//
//	go test -run '^$' -bench '^BenchmarkGEMM$' ./workloads/gemm -args -blas libopenblas.so.0 -threads 2
var (
	benchBLAS     = flag.String("blas", "", "BenchmarkGEMM: CBLAS library to load (\"\" searches; gonum for pure Go)")
	benchThreads  = flag.Int("threads", 0, "BenchmarkGEMM: BLAS threads (0: all CPUs)")
	benchCoreType = flag.String("blas-coretype", "", "BenchmarkGEMM: OpenBLAS kernel (\"\"/auto, library, or a name)")
)

// benchSink keeps the compiler from dropping the work.
var benchSink workloads.Work

// benchGEMM measures the workload's Run, as the harness calls it, and
// reports GFLOP/s. Setup, one warm-up call (page faults, thread pool start)
// and the answer check are outside the timed loop.
func benchGEMM(b *testing.B, opts workloads.Options, prec string, n int) {
	wl, err := New(fmt.Sprintf("gemm-%s-%d", prec, n), opts)
	if err != nil {
		b.Fatal(err)
	}
	w := wl.(*workload)
	if err := w.Prepare(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	info := w.Info()
	if opts.BLAS != "gonum" && info["provider"] == "gonum" {
		b.Skipf("no system CBLAS (%s); BenchmarkGEMMGonum measures gonum", info["fallback_reason"])
	}
	// cref/compare.sh reads corename and fold_every from this line.
	b.Logf("provider=%s library=%s version=%s threads=%s corename=%s fold_every=%d coretype_source=%q",
		info["provider"], info["library"], info["version"], info["threads"], info["corename"], w.foldEvery, info["coretype_source"])
	ctx := context.Background()
	if _, err := w.Run(ctx, 1); err != nil {
		b.Fatal(err)
	}
	var flops float64
	for b.Loop() {
		work, err := w.Run(ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		flops += work.FLOPs
		benchSink = work
	}
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	chk, err := w.Check(ctx)
	if err != nil || !chk.OK {
		b.Fatalf("answer check: %+v, %v", chk, err)
	}
}

func benchOpts() workloads.Options {
	return workloads.Options{BLAS: *benchBLAS, Threads: *benchThreads, BLASCoreType: *benchCoreType}
}

// BenchmarkGEMM runs the system CBLAS (OpenBLAS by default, or -blas) under
// the names cref prints, so benchstat compares the two directly.
func BenchmarkGEMM(b *testing.B) {
	for _, prec := range []string{"fp64", "fp32"} {
		for _, n := range []int{256, 512, 1024, 2048, 4096} {
			b.Run(fmt.Sprintf("prec=%s/n=%d", prec, n), func(b *testing.B) { benchGEMM(b, benchOpts(), prec, n) })
		}
	}
}

// BenchmarkGEMMGonum runs gonum's pure-Go BLAS: joulebench's own code, the
// fallback's figure.
func BenchmarkGEMMGonum(b *testing.B) {
	for _, prec := range []string{"fp64", "fp32"} {
		for _, n := range []int{256, 512, 1024, 2048} {
			b.Run(fmt.Sprintf("prec=%s/n=%d", prec, n), func(b *testing.B) {
				benchGEMM(b, workloads.Options{BLAS: "gonum", Threads: *benchThreads}, prec, n)
			})
		}
	}
}

// repetition is the quick suite's minimum repetition time, the yardstick
// for the check's cost: Check and its re-arm run once per repetition.
const repetition = 2 * time.Second

// BenchmarkCheck measures Check with its re-arm (the Freivalds pass over A
// and C, the next round's A drawn, C zeroed), as the harness calls it
// after every repetition, and reports it as a share of a 2 s repetition.
// bank=yes adds the pass over the fold bank, made only when the round
// folded. No BLAS runs: the check never uses the library under test.
//
//	go test -run '^$' -bench '^BenchmarkCheck$' ./workloads/gemm
func BenchmarkCheck(b *testing.B) {
	for _, prec := range []string{"fp64", "fp32"} {
		for _, n := range []int{512, 1024, 2048, 4096} {
			for _, bank := range []bool{false, true} {
				if bank && n != 4096 {
					continue
				}
				name := fmt.Sprintf("prec=%s/n=%d", prec, n)
				if bank {
					name += "/bank=yes"
				}
				b.Run(name, func(b *testing.B) { benchCheck(b, prec, n, bank) })
			}
		}
	}
}

func benchCheck(b *testing.B, prec string, n int, bank bool) {
	w := withProvider(b, fmt.Sprintf("gemm-%s-%d", prec, n), newGonumProvider(0, "", ""), 1)
	ctx := context.Background()
	for b.Loop() {
		w.calls = 1 // as after one call; the answer's content costs nothing
		if bank {
			w.folds = 1
		}
		if _, err := w.Check(ctx); err != nil {
			b.Fatal(err)
		}
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(100*per.Seconds()/repetition.Seconds(), "%rep")
}

// BenchmarkBeta compares one GEMM call with beta = 1 (what the workload
// calls: C ← A·B + C) and beta = 0 (version 1's C = A·B) on the system
// CBLAS (-blas) and on gonum.
func BenchmarkBeta(b *testing.B) {
	for _, lib := range []string{"cblas", "gonum"} {
		for _, prec := range []string{"fp64", "fp32"} {
			for _, n := range []int{512, 1024, 2048} {
				if lib == "gonum" && n > 1024 {
					continue
				}
				for _, beta := range []float64{0, 1} {
					b.Run(fmt.Sprintf("lib=%s/prec=%s/n=%d/beta=%g", lib, prec, n, beta), func(b *testing.B) {
						benchBeta(b, lib, prec, n, beta)
					})
				}
			}
		}
	}
}

func benchBeta(b *testing.B, lib, prec string, n int, beta float64) {
	opts := benchOpts()
	if lib == "gonum" {
		opts.BLAS = "gonum"
	}
	p, err := systemLoader().load(opts)
	if err != nil {
		b.Fatal(err)
	}
	var call func()
	nn := n * n
	switch cp := p.(type) {
	case *cblasProvider:
		if lib == "gonum" {
			b.Fatal("asked for gonum, got a CBLAS")
		}
		if prec == "fp64" {
			a, bm, c := fill64(nn), fill64(nn), fill64(nn)
			call = func() { cp.lib.dgemm(n, cp.threads, beta, a, bm, c) }
		} else {
			a, bm, c := fill32(nn), fill32(nn), fill32(nn)
			call = func() { cp.lib.sgemm(n, cp.threads, float32(beta), a, bm, c) }
		}
	case *gonumProvider:
		if lib != "gonum" {
			b.Skipf("no system CBLAS (%s)", cp.fallback)
		}
		if prec == "fp64" {
			a, bm, c := fill64(nn), fill64(nn), fill64(nn)
			call = func() { gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, bm, n, beta, c, n) }
		} else {
			a, bm, c := fill32(nn), fill32(nn), fill32(nn)
			call = func() {
				gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, bm, n, float32(beta), c, n)
			}
		}
	}
	call() // warm-up: page faults, thread pool
	for b.Loop() {
		call()
	}
	b.ReportMetric(FLOPs(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func fill64(nn int) []float64 {
	x := make([]float64, nn)
	fillRow64(x, 1, 0)
	return x
}

func fill32(nn int) []float32 {
	x := make([]float32, nn)
	fillRow32(x, 1, 0)
	return x
}

// BenchmarkFold measures fold, which runs inside the measured loop once
// every foldEvery calls, and reports its cost as a share of those calls'
// time on the system CBLAS (-blas), measured here first.
func BenchmarkFold(b *testing.B) {
	for _, prec := range []string{"fp32", "fp64"} {
		for _, n := range []int{16, 100, 512, 1024, 2048} {
			b.Run(fmt.Sprintf("prec=%s/n=%d", prec, n), func(b *testing.B) { benchFold(b, prec, n) })
		}
	}
}

func benchFold(b *testing.B, prec string, n int) {
	wl, err := New(fmt.Sprintf("gemm-%s-%d", prec, n), benchOpts())
	if err != nil {
		b.Fatal(err)
	}
	w := wl.(*workload)
	ctx := context.Background()
	if err := w.Prepare(ctx); err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	// The time of one call, from enough calls to take 0.2 s, not folding.
	every := w.foldEvery
	w.foldEvery = math.MaxInt
	calls := 1
	var per time.Duration
	for {
		t := time.Now()
		if _, err := w.Run(ctx, calls); err != nil {
			b.Fatal(err)
		}
		if d := time.Since(t); d > 200*time.Millisecond {
			per = d / time.Duration(calls)
			break
		}
		calls *= 4
	}
	for b.Loop() {
		w.fold()
	}
	fold := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(every), "calls/fold")
	b.ReportMetric(float64(per.Nanoseconds()), "ns/call")
	b.ReportMetric(100*fold.Seconds()/(float64(every)*per.Seconds()), "%calls")
	b.Logf("provider=%s corename=%s: fold every %d calls, %s a call, %s a fold", w.Info()["provider"], w.Info()["corename"], every, per, fold)
}
