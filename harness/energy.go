package harness

import (
	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
)

// Delta is the energy a counter accumulated between two raw readings. A
// reading lower than the one before means the counter wrapped at wrap (its
// range), and the part up to the wrap is added. A counter with no range
// (wrap 0) that goes backwards is reset, not wrapped: the drop is not
// energy, so the delta is what it counted since (cur).
//
// A counter can wrap more than once between two readings only if they are
// further apart than its wrap time (about 60 s for a 260 kJ range at 4 kW),
// which the sampler interval rules out.
func Delta(prev, cur, wrap metrics.Energy) metrics.Energy {
	if cur >= prev {
		return cur - prev
	}
	if wrap > 0 {
		return wrap - prev + cur
	}
	return cur
}

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
				out[d] += Delta(prev[d], cur[d], domains[d].Wrap)
			}
		}
	}
	return out
}
