package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
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
