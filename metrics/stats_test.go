package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/joulebench/joulebench/results"
)

// TestBootstrapCoverage: on synthetic normal data, the 95% interval must
// contain the true median in 93–97% of 1000 trials, for the repetition
// counts people use.
func TestBootstrapCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 bootstraps per sample size")
	}
	for _, n := range []int{5, 10, 30} { // a quick suite, a long one, a study
		rng := rand.New(rand.NewPCG(42, uint64(n)))
		const trials, mu = 1000, 10.0
		hit := 0
		x := make([]float64, n)
		for range trials {
			for i := range x {
				x[i] = mu + 0.5*rng.NormFloat64()
			}
			lo, hi := BootstrapMedianCI(x, 0.95, 2000, rng.Uint64())
			if lo <= mu && mu <= hi {
				hit++
			}
		}
		cov := float64(hit) / trials
		t.Logf("n=%d: coverage %.3f", n, cov)
		if cov < 0.93 || cov > 0.97 {
			t.Errorf("n=%d: 95%% CI covered the true median in %.1f%% of trials, want 93–97%%", n, 100*cov)
		}
	}
}

func TestDescribe(t *testing.T) {
	s := Describe([]float64{4, 1, math.NaN(), 3, 2})
	if s.N != 4 || s.Median != 2.5 || s.Mean != 2.5 {
		t.Errorf("got %+v", s)
	}
	// sample SD of 1..4 is sqrt(5/3)
	if math.Abs(s.SD-math.Sqrt(5.0/3)) > 1e-12 || math.Abs(s.CV-s.SD/2.5) > 1e-12 {
		t.Errorf("sd/cv: %+v", s)
	}
	if !(s.CILow < s.Median && s.Median < s.CIHigh) {
		t.Errorf("CI [%g, %g] does not hold the median %g", s.CILow, s.CIHigh, s.Median)
	}
	// Fixed seed: the same data always gives the same interval.
	if again := Describe([]float64{1, 2, 3, 4}); again != s {
		t.Errorf("not reproducible: %+v vs %+v", again, s)
	}
	one := Describe([]float64{7})
	if one.CILow != 7 || one.CIHigh != 7 || one.SD != 0 {
		t.Errorf("one value: %+v", one)
	}
	if e := Describe(nil); e.N != 0 || !math.IsNaN(e.Median) {
		t.Errorf("empty: %+v", e)
	}
}

// The review's table showed GFLOP/s "5 [-25, 74]": the smoothed bootstrap
// of three widely spread repetitions reaches below zero. A figure that
// cannot be negative has its interval cut at zero.
func TestDescribeNonNegative(t *testing.T) {
	v := []float64{0.5, 60, 70}
	if s := Describe(v); s.CILow >= 0 {
		t.Fatalf("test data no longer gives a negative lower end (%v): pick wider data", s.CILow)
	}
	s := DescribeNonNegative(v)
	if s.CILow != 0 || s.CIHigh <= 0 || s.Median != 60 {
		t.Errorf("DescribeNonNegative = %+v, want the interval cut at 0", s)
	}
}

// BenchmarkCheckAllReps checks every repetition of a record against its raw
// readings, as certify and the table do, for records of growing size: with
// the edge index the time per repetition stays flat (before it, a
// repetition's span was read from the record's first reading, and a
// record's time grew with the square of its repetitions).
//
//	go test -run '^$' -bench CheckAllReps ./metrics/
func BenchmarkCheckAllReps(b *testing.B) {
	for _, reps := range []int{500, 4000} {
		rec := manyReps(reps)
		b.Run(fmt.Sprintf("reps=%d", reps), func(b *testing.B) {
			for b.Loop() {
				edges := IndexEdges(rec)
				for _, r := range rec.Workloads[0].Reps {
					if msg := edges.CheckRep(r); msg != "" {
						b.Fatal(msg)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(reps), "ns/rep")
		})
		// Without one index for the record, each repetition passes over
		// every reading, as every check did before.
		b.Run(fmt.Sprintf("reps=%d/unindexed", reps), func(b *testing.B) {
			for b.Loop() {
				for _, r := range rec.Workloads[0].Reps {
					if msg := CheckRep(rec, r); msg != "" {
						b.Fatal(msg)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(reps), "ns/rep")
		})
	}
}

// manyReps is a record of one meter at 10 W and reps repetitions of 0.4 s,
// four readings each.
func manyReps(reps int) *results.Record {
	rec := &results.Record{Meters: []results.Meter{{Name: "m", Method: results.MethodCounter,
		Domains: []results.Domain{{Name: "package-0", Kind: "package", InTotal: true}}}}}
	w := results.Workload{Name: "w"}
	t, e := 0.0, int64(0)
	read := func(edge string) {
		rec.Readings = append(rec.Readings, results.Reading{TS: t, Meter: "m", Edge: edge, EnergyUJ: []int64{e}})
	}
	for k := 0; k < reps; k++ {
		edge := fmt.Sprintf("w/rep-%d", k)
		start := t
		read(edge + "-start")
		for j := 0; j < 4; j++ {
			t, e = t+0.1, e+1_000_000
			if j == 3 {
				read(edge + "-end")
			} else {
				read("")
			}
		}
		w.Reps = append(w.Reps, results.Rep{Index: k, Edge: edge, StartS: start, DurationS: t - start,
			EnergyJ: map[string]float64{"package-0": 4}, Readings: 5})
	}
	rec.Workloads = []results.Workload{w}
	return rec
}
