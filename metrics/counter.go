package metrics

import (
	"fmt"
	"math"

	"github.com/joulebench/joulebench/results"
)

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

// Span is what the raw readings between two edges say: each domain's
// energy (joules), the time from the first opening reading to the last
// closing one, and the fewest readings any meter took, edges included.
type Span struct {
	EnergyJ   map[string]float64
	DurationS float64
	Readings  int
	// MaxGapS is the longest time between two consecutive readings of one
	// meter inside the span: what the sampler actually achieved.
	MaxGapS float64
	// MeterGapS is that longest gap for each meter, by name.
	MeterGapS map[string]float64
}

// Edges indexes a record's readings by edge label, once, so that each span
// is read from where it starts rather than from the first reading: with a
// span per repetition, a record's spans then cost one pass over its
// readings, not one pass per repetition (a hostile 15 MB record of 4,000
// repetitions took 27 s to certify before).
type Edges struct {
	rec   *results.Record
	first map[string]int // index of the first reading with each edge label
}

// IndexEdges indexes rec's edge readings. The record must not change while
// the index is used.
func IndexEdges(rec *results.Record) *Edges {
	e := &Edges{rec: rec, first: map[string]int{}}
	for i, r := range rec.Readings {
		if r.Edge != "" {
			if _, ok := e.first[r.Edge]; !ok {
				e.first[r.Edge] = i
			}
		}
	}
	return e
}

// First is the index in the record's readings of the first reading
// labelled edge; ok is false when there is none.
func (e *Edges) First(edge string) (int, bool) {
	i, ok := e.first[edge]
	return i, ok
}

// EdgeSpan recomputes, from the record's raw readings alone, the span
// between the readings labelled startEdge and endEdge: it follows every
// reading in between through CounterDelta. ok is false if a meter lacks
// either edge. The harness derives a repetition's energy_j, duration_s and
// readings the same way, so a record whose stated figures disagree with its
// readings has been changed. For many spans of one record, index it once
// with IndexEdges.
func EdgeSpan(rec *results.Record, startEdge, endEdge string) (Span, bool) {
	return IndexEdges(rec).Span(startEdge, endEdge)
}

// Span is EdgeSpan over the indexed record.
func (e *Edges) Span(startEdge, endEdge string) (Span, bool) {
	rec := e.rec
	from, ok := e.first[startEdge]
	if !ok {
		return Span{}, false
	}
	type acc struct {
		started, ended bool
		prev           []int64
		sum            []Energy
		n              int
		t0, t1         float64
		last, gap      float64
	}
	meters := map[string]*results.Meter{}
	state := map[string]*acc{}
	for i := range rec.Meters {
		m := &rec.Meters[i]
		meters[m.Name] = m
		state[m.Name] = &acc{sum: make([]Energy, len(m.Domains))}
	}
	open := len(state)
	for _, r := range rec.Readings[from:] {
		if open == 0 {
			break // every meter has read its closing edge
		}
		m, a := meters[r.Meter], state[r.Meter]
		if m == nil || a.ended || len(r.EnergyUJ) != len(m.Domains) {
			continue
		}
		if !a.started {
			if r.Edge == startEdge {
				a.started, a.prev, a.n, a.t0, a.last = true, r.EnergyUJ, 1, r.TS, r.TS
			}
			continue
		}
		for d := range m.Domains {
			a.sum[d] += CounterDelta(Energy(a.prev[d]), Energy(r.EnergyUJ[d]), Energy(m.Domains[d].MaxEnergyUJ))
		}
		a.prev = r.EnergyUJ
		a.n++
		a.gap = math.Max(a.gap, r.TS-a.last)
		a.last = r.TS
		if r.Edge == endEdge {
			a.ended, a.t1 = true, r.TS
			open--
		}
	}
	sp := Span{EnergyJ: map[string]float64{}, Readings: math.MaxInt, MeterGapS: map[string]float64{}}
	first, last := math.Inf(1), math.Inf(-1)
	for name, a := range state {
		if !a.started || !a.ended {
			return Span{}, false
		}
		for d, dom := range meters[name].Domains {
			sp.EnergyJ[dom.Name] = a.sum[d].Joules()
		}
		sp.Readings = min(sp.Readings, a.n)
		sp.MaxGapS = math.Max(sp.MaxGapS, a.gap)
		sp.MeterGapS[name] = a.gap
		first, last = math.Min(first, a.t0), math.Max(last, a.t1)
	}
	if len(state) == 0 {
		return Span{}, false
	}
	sp.DurationS = last - first
	return sp, true
}

// CheckRep says whether a repetition's stated energy, duration and reading
// count agree with what its raw readings give ("" when they do, or when the
// record predates edge labels), and if not, how they differ.
func CheckRep(rec *results.Record, r results.Rep) string {
	return IndexEdges(rec).CheckRep(r)
}

// CheckRep is CheckRep over the indexed record.
func (e *Edges) CheckRep(r results.Rep) string {
	if r.Edge == "" {
		return ""
	}
	sp, ok := e.Span(r.Edge+"-start", r.Edge+"-end")
	if !ok {
		return fmt.Sprintf("its readings (%s-start … %s-end) are missing from the record", r.Edge, r.Edge)
	}
	for dom, want := range r.EnergyJ {
		got, ok := sp.EnergyJ[dom]
		if !ok || math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
			return fmt.Sprintf("%s energy %.6f J disagrees with its raw readings (%.6f J)", dom, want, got)
		}
	}
	if len(r.EnergyJ) != len(sp.EnergyJ) {
		return fmt.Sprintf("it states the energy of %d domains, its readings have %d", len(r.EnergyJ), len(sp.EnergyJ))
	}
	if math.Abs(sp.DurationS-r.DurationS) > 1e-6 {
		return fmt.Sprintf("duration %.6f s disagrees with its raw readings (%.6f s)", r.DurationS, sp.DurationS)
	}
	if sp.Readings != r.Readings {
		return fmt.Sprintf("%d readings stated, %d in the record", r.Readings, sp.Readings)
	}
	return ""
}
