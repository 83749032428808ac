package metrics

import "github.com/joulebench/joulebench/results"

// CounterDelta is the energy a cumulative counter accumulated between two
// raw readings. A reading lower than the one before means the counter
// passed its range (max, RAPL's max_energy_range_uj) and started again from
// zero, so the part up to max is added. A counter with no range (max 0)
// that goes backwards was reset, not wrapped: the drop is not energy, so
// the delta is what it counted since (cur).
//
// The counter unit lost at each wrap (1 µJ here; RAPL's own unit is
// 15–61 µJ) is ignored, as Kepler and node_exporter do. A counter can wrap
// more than once between two readings only if they are further apart than
// its wrap time (about 60 s for a 262 kJ range at 4 kW); the harness reads
// at least every second.
//
// This is the one place wrap-around is handled: the harness integrates its
// phases with it, and report and verify recompute from raw readings with it.
func CounterDelta(prev, cur, max Energy) Energy {
	if cur >= prev {
		return cur - prev
	}
	if max > 0 {
		return max - prev + cur
	}
	return cur
}

// EdgeEnergy recomputes, from the record's raw readings alone, the energy
// of each domain between the readings labelled startEdge and endEdge: it
// follows every reading in between through CounterDelta. ok is false if a
// meter lacks either edge.
func EdgeEnergy(rec *results.Record, startEdge, endEdge string) (byDomain map[string]float64, ok bool) {
	type acc struct {
		started, ended bool
		prev           []int64
		sum            []Energy
	}
	meters := map[string]*results.Meter{}
	state := map[string]*acc{}
	for i := range rec.Meters {
		m := &rec.Meters[i]
		meters[m.Name] = m
		state[m.Name] = &acc{sum: make([]Energy, len(m.Domains))}
	}
	for _, r := range rec.Readings {
		m, a := meters[r.Meter], state[r.Meter]
		if m == nil || a.ended || len(r.EnergyUJ) != len(m.Domains) {
			continue
		}
		if !a.started {
			if r.Edge == startEdge {
				a.started, a.prev = true, r.EnergyUJ
			}
			continue
		}
		for d := range m.Domains {
			a.sum[d] += CounterDelta(Energy(a.prev[d]), Energy(r.EnergyUJ[d]), Energy(m.Domains[d].MaxEnergyUJ))
		}
		a.prev = r.EnergyUJ
		if r.Edge == endEdge {
			a.ended = true
		}
	}
	byDomain = map[string]float64{}
	for name, a := range state {
		if !a.started || !a.ended {
			return nil, false
		}
		for d, dom := range meters[name].Domains {
			byDomain[dom.Name] = a.sum[d].Joules()
		}
	}
	return byDomain, true
}
