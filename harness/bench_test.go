package harness

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gemm"
)

// benchThreads leaves CPUs free for the sampler, to tell its own cost from
// the cost of taking a CPU from a GEMM that uses them all:
// go test -run '^$' -bench SamplerPaired ./harness/ -args -bench.threads 14
var benchThreads = flag.Int("bench.threads", 0, "BLAS threads for the sampler benchmarks (0 = all logical CPUs)")

// BenchmarkSamplerPaired measures what metering costs the work. Each case
// alternates blocks of GEMM calls without and with a background load, inside
// one benchmark, so that drift on a noisy machine (a VM's neighbours,
// thermal state) hits both alike, and reports the ratio of throughputs as
// "on/off" (target: at least 0.99 for the 10 ms sampler).
//
//   - none: no load in either block — the noise floor of the ratio;
//   - ticker=10ms: a goroutine that only wakes every 10 ms on a Go ticker;
//   - wake=10ms: the same on the sampler's own tick source (a timerfd on
//     Linux) — the cost of the wake-up itself, which no meter code avoids;
//   - fake=10ms, estimate=10ms, estimate=100ms: the real sampler reading
//     a meter (the estimate parses /proc/stat, costlier than a RAPL read).
func BenchmarkSamplerPaired(b *testing.B) {
	est := func(iv time.Duration) func(b *testing.B) func() {
		return func(b *testing.B) func() {
			m, err := meter.OpenEstimate(meter.EstimateOptions{})
			if err != nil {
				b.Skip("no meter to sample:", err)
			}
			s := startSampler(context.Background(), []meter.Meter{m}, iv, 0)
			return s.stop
		}
	}
	for _, c := range []struct {
		name string
		load func(b *testing.B) func()
	}{
		{"none", func(*testing.B) func() { return func() {} }},
		{"ticker=10ms", func(*testing.B) func() { return ticker(10 * time.Millisecond) }},
		{"wake=10ms", func(*testing.B) func() { return bareTicks(10 * time.Millisecond) }},
		{"fake=10ms", func(*testing.B) func() {
			return startSampler(context.Background(), []meter.Meter{meter.DefaultFake()}, 10*time.Millisecond, 0).stop
		}},
		{"estimate=10ms", est(10 * time.Millisecond)},
		{"estimate=100ms", est(100 * time.Millisecond)},
	} {
		b.Run(c.name, func(b *testing.B) { benchPaired(b, c.load) })
	}
}

// ticker starts a goroutine that wakes every d and does nothing.
func ticker(d time.Duration) (stop func()) {
	done, fin := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(fin)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-fin }
}

// bareTicks waits on the sampler's tick source every d and does nothing.
func bareTicks(d time.Duration) (stop func()) {
	t := newTicks(d)
	fin := make(chan struct{})
	go func() {
		defer close(fin)
		for t.wait() {
		}
	}()
	return func() { t.stop(); <-fin }
}

func benchPaired(b *testing.B, load func(*testing.B) (stop func())) {
	ctx := context.Background()
	w, err := gemm.New("gemm-fp64-1024", workloads.Options{Threads: *benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Prepare(ctx); err != nil {
		b.Fatal(err)
	}
	if c, ok := w.(workloads.Closer); ok {
		defer c.Close()
	}
	block := func(on bool) (float64, time.Duration) {
		stop := func() {}
		if on {
			stop = load(b)
		}
		t := time.Now()
		work, err := w.Run(ctx, 4)
		d := time.Since(t)
		stop()
		if err != nil {
			b.Fatal(err)
		}
		return work.FLOPs, d
	}
	var fOff, fOn float64
	var dOff, dOn time.Duration
	var ratios []float64
	for i := 0; b.Loop(); i++ {
		// Swap the order every other iteration so neither always goes first.
		var pair [2]float64 // throughput off, on
		for _, on := range []bool{i%2 == 1, i%2 == 0} {
			f, d := block(on)
			if on {
				fOn, dOn = fOn+f, dOn+d
				pair[1] = f / d.Seconds()
			} else {
				fOff, dOff = fOff+f, dOff+d
				pair[0] = f / d.Seconds()
			}
		}
		ratios = append(ratios, pair[1]/pair[0])
	}
	off, on := fOff/dOff.Seconds(), fOn/dOn.Seconds()
	b.ReportMetric(off/1e9, "GFLOP/s-off")
	b.ReportMetric(on/1e9, "GFLOP/s-on")
	// on/off is the median of the pairs' ratios: a neighbour's burst on a
	// shared machine spoils one pair, not the figure. on/off-pooled is the
	// ratio of the totals, which such a burst does move.
	b.ReportMetric(metrics.Median(ratios), "on/off")
	b.ReportMetric(on/off, "on/off-pooled")
}

// BenchmarkEstimateRead is the cost of one read of the estimate meter: at
// a 10 ms interval, this over 10 ms is the share of one CPU metering takes.
func BenchmarkEstimateRead(b *testing.B) {
	m, err := meter.OpenEstimate(meter.EstimateOptions{})
	if err != nil {
		b.Skip(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := m.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
