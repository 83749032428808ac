package gemm

import (
	"context"
	"flag"
	"fmt"
	"testing"

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
// and the residual check are outside the timed loop.
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
	b.Logf("provider=%s library=%s version=%s threads=%s corename=%s coretype_source=%q",
		info["provider"], info["library"], info["version"], info["threads"], info["corename"], info["coretype_source"])
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
		b.Fatalf("residual check: %+v, %v", chk, err)
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
