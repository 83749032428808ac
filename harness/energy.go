package harness

import (
	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
)

// Integrate sums the wrap-corrected deltas of a series of raw readings of
// one meter, domain by domain. Every intermediate reading counts, so a
// counter that wraps several times over a long phase is followed through
// each wrap.
func Integrate(domains []meter.Domain, readings []meter.Reading) []metrics.Energy {
	out := make([]metrics.Energy, len(domains))
	for i := 1; i < len(readings); i++ {
		prev, cur := readings[i-1].Energy, readings[i].Energy
		for d := range domains {
			if d < len(prev) && d < len(cur) {
				out[d] += metrics.CounterDelta(prev[d], cur[d], domains[d].Wrap)
			}
		}
	}
	return out
}
