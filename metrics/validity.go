package metrics

import (
	"fmt"
	"math"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// Rule is one validity rule applied to a workload, with its verdict.
type Rule struct {
	Name   string
	Pass   bool
	Reason string
}

// Validity is every rule's verdict on a workload; Valid only if all pass.
type Validity struct {
	Valid bool
	Rules []Rule
}

// Failed lists the reasons of the rules that failed.
func (v Validity) Failed() []string {
	var out []string
	for _, r := range v.Rules {
		if !r.Pass {
			out = append(out, r.Name+": "+r.Reason)
		}
	}
	return out
}

// Validate applies the run's rules (from its config: repetitions, minimum
// duration and readings per repetition, maximum coefficient of variation
// of energy per item) and the meters' (no failed read, no gap between
// readings long enough to hide a counter wrap) to one workload of rec,
// each with a pass or fail and why.
func Validate(rec *results.Record, w results.Workload, jPerItem Stats) Validity {
	cfg := rec.Config
	var rules []Rule
	add := func(name string, pass bool, format string, a ...any) {
		rules = append(rules, Rule{Name: name, Pass: pass, Reason: fmt.Sprintf(format, a...)})
	}
	if w.Error != "" {
		add("completed", false, "the workload failed: %s", w.Error)
	}
	if bad := failedRepCheck(w); bad != "" {
		add("answer checked", false, "%s", bad)
	} else if w.Check != nil {
		add("answer checked", w.Check.OK, "%s %.3g (limit %.3g)%s", w.Check.Name, w.Check.Value, w.Check.Limit, verdictWord(w.Check.Verdict))
	}
	if none := noEnergy(rec, w); none != "" {
		add("energy", false, "%s", none)
	}
	if faults := repFaults(w); faults != "" {
		add("meter reads", false, "%s", faults)
	}
	if gaps := repGaps(rec, w); gaps != "" {
		add("reading gaps", false, "%s", gaps)
	}
	if short, set := repTooShortForMeter(rec, w); set {
		add("meter update interval", short == "", "%s", meterOr(short, "every repetition is long enough for every meter's update interval (min_rep_s)"))
	}
	episodic := Episodic(w)
	if w.Episodic && !episodic {
		add("episodic", false, "the record calls the workload episodic, but %s", notEpisodic(w))
	}
	want := max(cfg.Reps, 1)
	add("repetitions", len(w.Reps) >= want, "%d of the %d required", len(w.Reps), want)
	if len(w.Reps) > 0 {
		shortest, fewest := math.Inf(1), math.MaxInt
		for _, r := range w.Reps {
			shortest = math.Min(shortest, r.DurationS)
			fewest = min(fewest, r.Readings)
		}
		if !episodic {
			// A whole job lasts as long as it lasts; the readings rule
			// still says whether it was metered closely enough.
			add("duration", shortest >= cfg.MinTimeS, "shortest repetition %.3g s, minimum %.3g s", shortest, cfg.MinTimeS)
		}
		add("readings", fewest >= cfg.MinReadings, "fewest readings in a repetition %d, minimum %d", fewest, cfg.MinReadings)
	}
	if g := AccuracyGate(w); g.Known {
		add("accuracy", g.Pass(), "accuracy %.2f%% is %.2f%% of the fp32 reference's %.2f%% (gate %s; the minimum is 99%%)",
			100*g.Accuracy, 100*g.Ratio, 100*g.Reference, g.Level)
	}
	// Jobs to a target differ by seed by design (how many steps each seed
	// needs): an episodic workload's spread is reported as an interval,
	// not held to the suite's CV.
	if !episodic && cfg.MaxCV > 0 {
		switch {
		case jPerItem.N < 2:
			add("variation", false, "fewer than 2 repetitions: the coefficient of variation is unknown (maximum %.3g)", cfg.MaxCV)
		default:
			add("variation", jPerItem.CV <= cfg.MaxCV, "CV of energy per item %.3g, maximum %.3g", jPerItem.CV, cfg.MaxCV)
		}
	}
	v := Validity{Valid: true, Rules: rules}
	for _, r := range rules {
		v.Valid = v.Valid && r.Pass
	}
	return v
}

func verdictWord(v string) string {
	if v == "" {
		return ""
	}
	return " (" + v + ")"
}

// failedRepCheck describes the first repetition whose answer check failed,
// "" when none did.
func failedRepCheck(w results.Workload) string {
	for _, r := range w.Reps {
		if c := r.Check; c != nil && !c.OK {
			return fmt.Sprintf("repetition %d: %s %.3g (limit %.3g)%s: %s", r.Index+1, c.Name, c.Value, c.Limit, verdictWord(c.Verdict), c.Detail)
		}
	}
	return ""
}

// noEnergy names the repetitions whose total domains counted no energy: a
// meter that read nothing, or a total that covers nothing that ran.
func noEnergy(rec *results.Record, w results.Workload) string {
	doms := TotalDomains(rec)
	var none []string
	for _, r := range w.Reps {
		if Total(r.EnergyJ, doms) <= 0 {
			none = append(none, fmt.Sprint(r.Index+1))
		}
	}
	if len(none) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s counted no energy in the total domains (%s)", plural(len(none), "repetition", "repetitions"), strings.Join(none, ", "), strings.Join(doms, ", "))
}

// repFaults describes the repetitions during which a meter read failed:
// their energy may miss what those reads would have seen.
func repFaults(w results.Workload) string {
	var reps []string
	first := ""
	for _, r := range w.Reps {
		if len(r.MeterFaults) > 0 {
			reps = append(reps, fmt.Sprint(r.Index+1))
			if first == "" {
				first = r.MeterFaults[0]
			}
		}
	}
	if len(reps) == 0 {
		return ""
	}
	return fmt.Sprintf("a meter read failed during %s %s (first: %s); the energy may miss a counter wrap in the gap",
		plural(len(reps), "repetition", "repetitions"), strings.Join(reps, ", "), first)
}

// repGaps describes the first repetition with a gap between two readings
// of a meter longer than that meter allows (Meter.MaxGapS): a counter can
// wrap unseen in such a gap, and its energy is then too low.
func repGaps(rec *results.Record, w results.Workload) string {
	limits := map[string]float64{}
	for _, m := range rec.Meters {
		if m.MaxGapS > 0 {
			limits[m.Name] = m.MaxGapS
		}
	}
	if len(limits) == 0 {
		return ""
	}
	edges := IndexEdges(rec)
	for _, r := range w.Reps {
		if r.Edge == "" {
			continue
		}
		sp, ok := edges.Span(r.Edge+"-start", r.Edge+"-end")
		if !ok {
			continue
		}
		for _, m := range rec.Meters {
			if lim, ok := limits[m.Name]; ok && sp.MeterGapS[m.Name] > lim {
				return fmt.Sprintf("repetition %d: meter %s went %.3g s between two readings, longer than the %.3g s in which its counter can wrap: energy may be lost",
					r.Index+1, m.Name, sp.MeterGapS[m.Name], lim)
			}
		}
	}
	return ""
}

// repTooShortForMeter describes the first repetition shorter than a
// meter of the record can measure (Meter.MinRepS: a BMC that updates
// every 30 s and lags the load gives a short repetition the energy of
// another time). set is false when no meter sets a minimum.
func repTooShortForMeter(rec *results.Record, w results.Workload) (short string, set bool) {
	for _, m := range rec.Meters {
		if !(m.MinRepS > 0) {
			continue
		}
		set = true
		for _, r := range w.Reps {
			if r.DurationS < m.MinRepS {
				return fmt.Sprintf("repetition %d lasted %.3g s, shorter than the %.3g s meter %s needs (a few of its update intervals: it updates its reading only every so often and lags the load, so a shorter repetition is given another time's energy); run longer repetitions (--min-time)",
					r.Index+1, r.DurationS, m.MinRepS, m.Name), true
			}
		}
	}
	return "", set
}

func meterOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Episodic reports whether w is an episodic workload (one whole job per
// repetition) as the record says and as its shape bears out: no warm-up,
// and every repetition one call of one item. A record that calls a
// workload episodic without that shape is not believed, so the flag
// cannot dodge the duration and variation rules.
func Episodic(w results.Workload) bool {
	return w.Episodic && notEpisodic(w) == ""
}

func notEpisodic(w results.Workload) string {
	if w.Warmup != nil {
		return "it has a warm-up"
	}
	for _, r := range w.Reps {
		if r.Iters != 1 || r.Work.Items != 1 {
			return fmt.Sprintf("repetition %d made %d calls of %d items, not one job", r.Index+1, r.Iters, r.Work.Items)
		}
	}
	return ""
}
