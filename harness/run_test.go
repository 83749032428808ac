package harness

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
)

// sleepWork is a fake workload: each item sleeps for per and counts as flops.
type sleepWork struct {
	name     string
	per      time.Duration
	flops    float64
	calls    atomic.Int64
	armed    atomic.Bool // cancel at the start of the next Run call
	cancel   context.CancelFunc
	badCheck bool
}

func (w *sleepWork) Spec() workloads.Spec {
	return workloads.Spec{Name: w.name, Version: "1", WorkUnit: "sleep"}
}
func (w *sleepWork) Prepare(context.Context) error { return nil }
func (w *sleepWork) Run(ctx context.Context, iters int) (workloads.Work, error) {
	w.calls.Add(1)
	if w.armed.Load() {
		w.cancel()
	}
	done := 0
	for ; done < iters; done++ {
		if err := ctx.Err(); err != nil {
			break
		}
		time.Sleep(w.per)
	}
	return workloads.Work{FLOPs: w.flops * float64(done), Items: int64(done)}, ctx.Err()
}
func (w *sleepWork) Check(context.Context) (workloads.Check, error) {
	if w.badCheck {
		return workloads.Check{Name: "residual", Value: 1, Limit: 1e-6, Detail: "wrong answer"}, nil
	}
	return workloads.Check{Name: "residual", Value: 0, Limit: 1e-6, OK: true}, nil
}

func testConfig() Config {
	return Config{Interval: 5 * time.Millisecond, Idle: 60 * time.Millisecond, Warmup: 20 * time.Millisecond, MinTime: 80 * time.Millisecond, Reps: 3}
}

func TestRunFakeMeter(t *testing.T) {
	m := meter.NewFake(nil,
		// The counters start near the top of their range and wrap during
		// the run; a wrap every 400 ms leaves room for a starved sampler.
		meter.FakeDomain{Domain: meter.Domain{Name: "package-0", Kind: meter.KindPackage, Wrap: 20 * metrics.Joule, InTotal: true}, Power: 50 * metrics.Watt, Start: 19 * metrics.Joule},
		meter.FakeDomain{Domain: meter.Domain{Name: "core-0", Kind: meter.KindCore, Parent: "package-0", Wrap: 12 * metrics.Joule}, Power: 30 * metrics.Watt, Start: 11 * metrics.Joule},
	)
	w := &sleepWork{name: "sleep-a", per: 2 * time.Millisecond, flops: 1000}
	rec := &results.Record{}
	if err := Run(context.Background(), testConfig(), []meter.Meter{m}, []workloads.Workload{w}, rec); err != nil {
		t.Fatal(err)
	}
	if !rec.Complete {
		t.Fatalf("record not complete: %s", rec.IncompleteReason)
	}
	if rec.Idle == nil || rec.Idle.DurationS < 0.06 {
		t.Fatalf("idle phase missing or short: %+v", rec.Idle)
	}
	if len(rec.Workloads) != 1 || len(rec.Workloads[0].Reps) != 3 {
		t.Fatalf("want 1 workload with 3 reps, got %+v", rec.Workloads)
	}
	for _, r := range rec.Workloads[0].Reps {
		if r.DurationS < 0.08 {
			t.Errorf("rep %d lasted %.3fs, under the 80ms minimum", r.Index, r.DurationS)
		}
		// Only following every wrap gives the true power.
		for dom, want := range map[string]float64{"package-0": 50, "core-0": 30} {
			got := r.EnergyJ[dom] / r.DurationS
			if math.Abs(got-want)/want > 0.005 {
				t.Errorf("rep %d %s: %.3f W, want %.0f W", r.Index, dom, got, want)
			}
		}
		// 80 ms at 5 ms would be 16 readings; a loaded CI machine drops
		// ticks, so only ask for more than the two edges.
		if r.Readings < 3 {
			t.Errorf("rep %d: %d readings, want more than the two edges", r.Index, r.Readings)
		}
		if r.Work.Items != int64(r.Iters) || r.Work.FLOPs != 1000*float64(r.Iters) {
			t.Errorf("rep %d: work %+v for %d iters", r.Index, r.Work, r.Iters)
		}
	}
	if rec.Workloads[0].Check == nil || !rec.Workloads[0].Check.OK {
		t.Errorf("check not recorded: %+v", rec.Workloads[0].Check)
	}
	edges := 0
	for i, r := range rec.Readings {
		if i > 0 && r.TS < rec.Readings[i-1].TS {
			t.Fatalf("readings out of order at %d", i)
		}
		if r.Edge != "" {
			edges++
		}
	}
	// idle, warm-up and three reps, each opened and closed by an exact
	// read.
	if edges < 10 || edges%2 != 0 {
		t.Errorf("got %d edge readings, want at least 10, in pairs", edges)
	}
	wrapped := false
	for i := 1; i < len(rec.Readings); i++ {
		if rec.Readings[i].EnergyUJ[0] < rec.Readings[i-1].EnergyUJ[0] {
			wrapped = true
		}
	}
	if !wrapped {
		t.Error("the package counter never wrapped; the test does not test wrap-around")
	}
	if len(rec.Meters) != 1 || rec.Meters[0].Domains[1].Parent != "package-0" || rec.Meters[0].Domains[1].InTotal {
		t.Errorf("meter description wrong: %+v", rec.Meters)
	}
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &sleepWork{name: "sleep-b", per: 2 * time.Millisecond, cancel: cancel}
	// Cancel inside the second repetition, whatever number of calls the
	// warm-up and a short first repetition's extra calls took.
	cfg := testConfig()
	cfg.Progress = func(e Event) {
		if e.Phase == "rep" && e.Rep == 2 {
			w.armed.Store(true)
		}
	}
	rec := &results.Record{}
	err := Run(ctx, cfg, []meter.Meter{meter.DefaultFake()}, []workloads.Workload{w}, rec)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if rec.Complete || !strings.Contains(rec.IncompleteReason, "interrupted") {
		t.Fatalf("record should be incomplete and say interrupted: complete=%v reason=%q", rec.Complete, rec.IncompleteReason)
	}
	if len(rec.Workloads) != 1 || len(rec.Workloads[0].Reps) != 1 {
		t.Fatalf("want the one finished repetition kept, got %+v", rec.Workloads)
	}
	last := rec.Readings[len(rec.Readings)-1]
	if last.Edge != "interrupted" {
		t.Errorf("last reading edge = %q, want interrupted", last.Edge)
	}
	// The interrupted repetition's closing edge is read too: the sampler
	// reads with its own context, which outlives the run's.
	closed := false
	for _, r := range rec.Readings {
		closed = closed || r.Edge == "sleep-b/rep-1-end"
	}
	if !closed {
		t.Error("no closing reading of the interrupted repetition (sleep-b/rep-1-end)")
	}
}

func TestRunFailedCheckKeepsGoing(t *testing.T) {
	bad := &sleepWork{name: "bad", per: time.Millisecond, badCheck: true}
	good := &sleepWork{name: "good", per: time.Millisecond}
	cfg := testConfig()
	cfg.Idle, cfg.Reps, cfg.MinTime = 0, 1, 20*time.Millisecond
	rec := &results.Record{}
	err := Run(context.Background(), cfg, []meter.Meter{meter.DefaultFake()}, []workloads.Workload{bad, good}, rec)
	if !errors.Is(err, ErrWorkloadFailed) || !strings.Contains(err.Error(), "bad: warm-up: check residual failed") {
		t.Fatalf("want a failed check of bad, got %v", err)
	}
	if !rec.Complete || len(rec.Workloads) != 2 || rec.Workloads[0].Error == "" || rec.Workloads[1].Error != "" {
		t.Fatalf("record: complete=%v workloads=%+v", rec.Complete, rec.Workloads)
	}
}

func TestDuplicateDomainRefused(t *testing.T) {
	err := Run(context.Background(), testConfig(), []meter.Meter{meter.DefaultFake(), meter.DefaultFake()}, nil, &results.Record{})
	if err == nil || !strings.Contains(err.Error(), `domain "package-0"`) {
		t.Fatalf("want duplicate domain error, got %v", err)
	}
}

func TestDelta(t *testing.T) {
	for _, c := range []struct{ prev, cur, wrap, want metrics.Energy }{
		{10, 25, 100, 15},
		{90, 5, 100, 15}, // wrapped once
		{50, 50, 100, 0}, // no change
		{90, 5, 0, 5},    // no range: a reset, not energy
		{0, 99, 100, 99}, // up to the top
		{99, 0, 100, 1},  // exactly at the wrap
	} {
		if got := metrics.CounterDelta(c.prev, c.cur, c.wrap); got != c.want {
			t.Errorf("CounterDelta(%d, %d, %d) = %d, want %d", c.prev, c.cur, c.wrap, got, c.want)
		}
	}
}

// speedupWork gets ten times faster after its first call, as a machine does
// when a neighbour goes quiet after the warm-up: the planned iterations then
// take a tenth of the minimum time.
type speedupWork struct {
	sleepWork
	first atomic.Bool
}

func (w *speedupWork) Run(ctx context.Context, iters int) (workloads.Work, error) {
	per := w.per
	if w.first.Swap(true) {
		per /= 10
	}
	done := 0
	for ; done < iters && ctx.Err() == nil; done++ {
		time.Sleep(per)
	}
	return workloads.Work{FLOPs: w.flops * float64(done), Items: int64(done)}, ctx.Err()
}

func TestRunRepNeverShort(t *testing.T) {
	cfg := testConfig()
	cfg.Warmup = 0 // one warm-up call, at the slow speed
	w := &speedupWork{sleepWork: sleepWork{name: "speedup", per: 20 * time.Millisecond, flops: 1}}
	rec := &results.Record{}
	if err := Run(context.Background(), cfg, []meter.Meter{meter.DefaultFake()}, []workloads.Workload{w}, rec); err != nil {
		t.Fatal(err)
	}
	reps := rec.Workloads[0].Reps
	if len(reps) != cfg.Reps {
		t.Fatalf("got %d reps, want %d", len(reps), cfg.Reps)
	}
	planned := itersFor(cfg.MinTime, w.per)
	for _, r := range reps {
		if r.DurationS < cfg.MinTime.Seconds() {
			t.Errorf("rep %d lasted %.3f s, under the minimum %v", r.Index, r.DurationS, cfg.MinTime)
		}
		if r.Iters <= planned {
			t.Errorf("rep %d made %d calls, want more than the %d planned from the slow warm-up", r.Index, r.Iters, planned)
		}
		if r.Work.Items != int64(r.Iters) || r.Work.FLOPs != float64(r.Iters) {
			t.Errorf("rep %d: work %+v does not count all %d calls", r.Index, r.Work, r.Iters)
		}
	}
}

func TestAddWorkQuality(t *testing.T) {
	a := workloads.Work{FLOPs: 1, Items: 30, Quality: map[string]float64{"accuracy": 0.9, "only-a": 1}}
	b := workloads.Work{FLOPs: 2, Items: 10, Quality: map[string]float64{"accuracy": 0.5, "only-b": 2}}
	got := addWork(a, 3, b, 1)
	want := map[string]float64{"accuracy": (0.9*30 + 0.5*10) / 40, "only-a": 1, "only-b": 2}
	if got.FLOPs != 3 || got.Items != 40 {
		t.Errorf("sum = %+v", got)
	}
	for k, v := range want {
		if math.Abs(got.Quality[k]-v) > 1e-12 {
			t.Errorf("quality %s = %g, want %g", k, got.Quality[k], v)
		}
	}
	// Without items, the calls weigh.
	got = addWork(workloads.Work{Quality: map[string]float64{"q": 1}}, 3, workloads.Work{Quality: map[string]float64{"q": 0}}, 1)
	if got.Quality["q"] != 0.75 {
		t.Errorf("call-weighted quality = %g, want 0.75", got.Quality["q"])
	}
}
