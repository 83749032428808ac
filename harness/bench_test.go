package harness

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gemm"
)

// BenchmarkSampler measures what metering costs the work: GEMM throughput
// with no sampler against a sampler reading the estimate meter (a /proc/stat
// parse, heavier than a RAPL counter read) every 10 ms. Compare with
// benchstat: the interval=10ms GFLOP/s should be within 1% of interval=off.
func BenchmarkSampler(b *testing.B) {
	for _, iv := range []time.Duration{0, 10 * time.Millisecond} {
		name := "interval=off"
		if iv > 0 {
			name = fmt.Sprintf("interval=%v", iv)
		}
		b.Run(name, func(b *testing.B) { benchSampler(b, "gemm-fp64-1024", iv) })
	}
}

func benchSampler(b *testing.B, workload string, interval time.Duration) {
	ctx := context.Background()
	w, err := gemm.New(workload, workloads.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Prepare(ctx); err != nil {
		b.Fatal(err)
	}
	if c, ok := w.(workloads.Closer); ok {
		defer c.Close()
	}
	if interval > 0 {
		m, err := meter.OpenEstimate(meter.EstimateOptions{})
		if err != nil {
			b.Skip("no meter to sample:", err)
		}
		s := startSampler(ctx, []meter.Meter{m}, interval)
		defer s.stop()
	}
	var flops float64
	for b.Loop() {
		work, err := w.Run(ctx, 8)
		if err != nil {
			b.Fatal(err)
		}
		flops += work.FLOPs
	}
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
