package metrics

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// Bootstrap settings. The seed is fixed so that the same record always
// gives the same interval: a certificate's interval must be recomputable.
const (
	BootstrapResamples = 10000
	BootstrapSeed      = 0x6a6f756c65 // "joule"
	CILevel            = 0.95
)

// Stats summarises one figure over a workload's repetitions.
type Stats struct {
	N      int
	Median float64
	Mean   float64
	SD     float64 // sample standard deviation (n−1)
	CV     float64 // SD / |Mean|
	// CILow and CIHigh bound the 95% bootstrap confidence interval of the
	// median. With one value, both equal it: there is no spread to see.
	CILow, CIHigh float64
}

// HalfWidth is half the confidence interval's width, for "value ± h".
func (s Stats) HalfWidth() float64 { return (s.CIHigh - s.CILow) / 2 }

// DescribeNonNegative is Describe for a figure that cannot be negative
// (throughput, power, gross energy, gCO2e): the smoothed bootstrap adds
// noise to each resample, which can carry the interval's lower end below
// zero when the repetitions spread widely; the interval is cut at zero,
// the edge of what the figure can be, rather than shown as "[-25, 74]".
func DescribeNonNegative(v []float64) Stats {
	s := Describe(v)
	s.CILow, s.CIHigh = math.Max(s.CILow, 0), math.Max(s.CIHigh, 0)
	return s
}

// Describe computes the statistics of v, ignoring NaNs (a repetition whose
// figure is undefined, such as FLOPs/J of zero energy). An empty v gives
// NaNs and N = 0.
func Describe(v []float64) Stats {
	x := make([]float64, 0, len(v))
	for _, f := range v {
		if !math.IsNaN(f) {
			x = append(x, f)
		}
	}
	nan := math.NaN()
	s := Stats{N: len(x), Median: nan, Mean: nan, SD: nan, CV: nan, CILow: nan, CIHigh: nan}
	if len(x) == 0 {
		return s
	}
	slices.Sort(x)
	s.Median = sortedMedian(x)
	s.Mean = stat.Mean(x, nil)
	if len(x) > 1 {
		s.SD = stat.StdDev(x, nil)
		if s.Mean != 0 {
			s.CV = s.SD / math.Abs(s.Mean)
		}
	} else {
		s.SD, s.CV = 0, 0
	}
	s.CILow, s.CIHigh = BootstrapMedianCI(x, CILevel, BootstrapResamples, BootstrapSeed)
	return s
}

// BootstrapMedianCI is a smoothed percentile bootstrap interval for the
// median of x at the given level.
//
// The plain percentile bootstrap of a median undercovers badly for the
// handful of repetitions a benchmark has, because a resampled median can
// only take the few values of x. Adding a little Gaussian noise to each
// resample (the smoothed bootstrap of Efron 1979; Hall, DiCiccio & Romano
// 1989 show it improves the median's interval) makes the resampled
// medians continuous. The bandwidth 2σ·n^(-3/4) was chosen by simulation:
// with it the 95% interval held the true median of normal samples in
// 94–96% of 1000 trials for n = 5, 7, 10, 30 and 50 (σ/√n gave 93.2% at
// n = 5). TestBootstrapCoverage keeps that true.
func BootstrapMedianCI(x []float64, level float64, resamples int, seed uint64) (lo, hi float64) {
	n := len(x)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	if n == 1 {
		return x[0], x[0]
	}
	h := bandwidth(x)
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	meds := make([]float64, resamples)
	buf := make([]float64, n)
	for r := range meds {
		resample(rng, x, buf, h)
		meds[r] = sortedMedian(buf)
	}
	slices.Sort(meds)
	a := (1 - level) / 2
	return stat.Quantile(a, stat.LinInterp, meds, nil), stat.Quantile(1-a, stat.LinInterp, meds, nil)
}

func sortedMedian(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
