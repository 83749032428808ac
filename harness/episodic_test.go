package harness

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
)

// jobWork is an episodic fake: each call is one job of random-free,
// growing length; it reports per-job quality through RepQuality.
type jobWork struct {
	sleepWork
	calls []int
	jobs  int
}

func (w *jobWork) Episodic() bool { return true }
func (w *jobWork) Run(ctx context.Context, iters int) (workloads.Work, error) {
	w.calls = append(w.calls, iters)
	w.jobs++
	time.Sleep(time.Duration(w.jobs) * 10 * time.Millisecond)
	return workloads.Work{FLOPs: 5, Items: int64(iters), Quality: map[string]float64{"from_run": 1}}, nil
}
func (w *jobWork) RepQuality() map[string]float64 {
	return map[string]float64{results.QSeed: float64(w.jobs), results.QConverged: float64(w.jobs % 2), "nan": nanValue()}
}

func nanValue() float64 { return math.NaN() }

// An episodic workload gets exactly one call per repetition, no warm-up,
// no top-up to the minimum time, and its whole-repetition quality lands
// in each repetition (NaN left out).
func TestEpisodicOneCallPerRep(t *testing.T) {
	w := &jobWork{sleepWork: sleepWork{name: "job"}}
	cfg := testConfig()
	cfg.MinTime = time.Second // a job shorter than this is not extended
	rec := &results.Record{}
	m := meter.NewFake(nil, meter.FakeDomain{Domain: meter.Domain{Name: "package-0", Kind: meter.KindPackage, Wrap: 1000 * metrics.Joule, InTotal: true}, Power: 10 * metrics.Watt})
	if err := Run(context.Background(), cfg, []meter.Meter{m}, []workloads.Workload{w}, rec); err != nil {
		t.Fatal(err)
	}
	wr := rec.Workloads[0]
	if !wr.Episodic || wr.Warmup != nil {
		t.Errorf("episodic %v, warm-up %+v: want episodic and no warm-up", wr.Episodic, wr.Warmup)
	}
	if len(w.calls) != cfg.Reps || len(wr.Reps) != cfg.Reps {
		t.Fatalf("calls %v, reps %d: want %d of each", w.calls, len(wr.Reps), cfg.Reps)
	}
	for i, r := range wr.Reps {
		if w.calls[i] != 1 || r.Iters != 1 || r.Work.Items != 1 {
			t.Errorf("rep %d: call of %d, iters %d, items %d: want one job", i, w.calls[i], r.Iters, r.Work.Items)
		}
		if r.DurationS >= 1 {
			t.Errorf("rep %d lasted %.3g s: a job must not be extended to the minimum time", i, r.DurationS)
		}
		q := r.Work.Quality
		if q[results.QSeed] != float64(i+1) || q["from_run"] != 1 {
			t.Errorf("rep %d quality %v", i, q)
		}
		if _, ok := q["nan"]; ok {
			t.Errorf("rep %d kept a NaN quality", i)
		}
	}
}
