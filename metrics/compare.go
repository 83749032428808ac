package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// Saving compares a figure of one workload or run (other) with a baseline
// (base), where lower is better (energy per item, gCO2e per item).
type Saving struct {
	// Ratio is median(other) / median(base).
	Ratio float64
	// Saving is 1 − Ratio: 0.31 means other uses 31% less than base.
	// CILow and CIHigh bound its 95% bootstrap confidence interval.
	Saving, CILow, CIHigh float64
	NBase, NOther         int
}

// Describe says it as a person would: "uses 31% less energy per item (95%
// CI 28–34%)" with what being "energy per item".
func (s Saving) Describe(what string) string {
	if math.IsNaN(s.Saving) {
		return "no comparison: a side has no values"
	}
	word, other, v, lo, hi := "less", "more", s.Saving, s.CILow, s.CIHigh
	if v < 0 {
		word, other, v, lo, hi = "more", "less", -v, -hi, -lo
	}
	if lo < 0 {
		// The interval crosses zero: the difference may go either way.
		return fmt.Sprintf("uses %.0f%% %s %s (95%% CI from %.0f%% %s to %.0f%% %s: not a clear difference)", 100*v, word, what, -100*lo, other, 100*hi, word)
	}
	return fmt.Sprintf("uses %.0f%% %s %s (95%% CI %.0f–%.0f%%)", 100*v, word, what, 100*lo, 100*hi)
}

// Compare computes the saving of other against base with a bootstrap CI:
// both sides are resampled independently (they are separate runs), the
// ratio of resampled medians taken, and its percentiles read. NaNs are
// ignored; the seed is fixed so the same records give the same interval.
func Compare(base, other []float64) Saving {
	b, o := finite(base), finite(other)
	s := Saving{NBase: len(b), NOther: len(o)}
	nan := math.NaN()
	if len(b) == 0 || len(o) == 0 {
		s.Ratio, s.Saving, s.CILow, s.CIHigh = nan, nan, nan, nan
		return s
	}
	slices.Sort(b)
	slices.Sort(o)
	s.Ratio = sortedMedian(o) / sortedMedian(b)
	s.Saving = 1 - s.Ratio
	rng := rand.New(rand.NewPCG(BootstrapSeed, uint64(len(b))<<32|uint64(len(o))))
	hb := bandwidth(b)
	ho := bandwidth(o)
	bb, ob := make([]float64, len(b)), make([]float64, len(o))
	sav := make([]float64, BootstrapResamples)
	for r := range sav {
		resample(rng, b, bb, hb)
		resample(rng, o, ob, ho)
		sav[r] = 1 - sortedMedian(ob)/sortedMedian(bb)
	}
	slices.Sort(sav)
	a := (1 - CILevel) / 2
	s.CILow = stat.Quantile(a, stat.LinInterp, sav, nil)
	s.CIHigh = stat.Quantile(1-a, stat.LinInterp, sav, nil)
	return s
}

func finite(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, f := range v {
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			out = append(out, f)
		}
	}
	return out
}

// bandwidth is the smoothing of BootstrapMedianCI; zero for one value.
func bandwidth(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	return 2 * stat.StdDev(x, nil) * math.Pow(float64(len(x)), -0.75)
}

// resample fills dst with a smoothed bootstrap resample of x, sorted.
func resample(rng *rand.Rand, x, dst []float64, h float64) {
	for i := range dst {
		dst[i] = x[rng.IntN(len(x))] + h*rng.NormFloat64()
	}
	slices.Sort(dst)
}
