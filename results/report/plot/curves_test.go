package plot

import (
	"testing"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// The energy-to-accuracy curves come from each job's evaluations and the
// raw readings: a job's last evaluation is at most its whole energy, and
// close to it (the evaluation that reached the target ends the job); a
// converged job's curve ends at the target.
func TestTransferCurves(t *testing.T) {
	rec, err := results.ReadFile("testdata/transfer-curves.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := TransferCurves(rec)
	if err != nil || p == nil {
		t.Fatalf("no curves: %v", err)
	}
	cum := cumulative(rec)
	sums := metrics.Summarize(rec)
	jobs := 0
	for i, w := range rec.Workloads {
		for k, r := range w.Reps {
			pts := curveOf(r.Work.Quality)
			if len(pts) == 0 {
				continue
			}
			jobs++
			last := pts[len(pts)-1]
			e := cum(r.StartS+last.s) - cum(r.StartS)
			whole := sums[i].Reps[k].Gross.Joules()
			if !(e <= whole*1.001) || e < 0.8*whole {
				t.Errorf("%s job %d: %.2f J at its last evaluation, %.2f J in the whole job", w.Name, k+1, e, whole)
			}
			if r.Work.Quality[results.QConverged] == 1 && last.acc < r.Work.Quality[results.QTarget] {
				t.Errorf("%s job %d converged but its curve ends at %.4f", w.Name, k+1, last.acc)
			}
			for j := 1; j < len(pts); j++ {
				if pts[j].s < pts[j-1].s {
					t.Fatalf("%s job %d: evaluations out of order", w.Name, k+1)
				}
			}
		}
	}
	if jobs < 4 {
		t.Errorf("%d jobs with curves", jobs)
	}
	// A record without evaluations has no curves.
	for i := range rec.Workloads {
		for k := range rec.Workloads[i].Reps {
			for key := range rec.Workloads[i].Reps[k].Work.Quality {
				if len(key) > 6 && key[:6] == results.QCurvePrefix {
					delete(rec.Workloads[i].Reps[k].Work.Quality, key)
				}
			}
		}
	}
	if p, err := TransferCurves(rec); p != nil || err != nil {
		t.Errorf("curves without evaluations: %v %v", p, err)
	}
}
