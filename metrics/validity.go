package metrics

import (
	"fmt"
	"math"

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
// of energy per item) to one workload, each with a pass or fail and why.
func Validate(cfg results.Config, w results.Workload, jPerItem Stats) Validity {
	var rules []Rule
	add := func(name string, pass bool, format string, a ...any) {
		rules = append(rules, Rule{Name: name, Pass: pass, Reason: fmt.Sprintf(format, a...)})
	}
	if w.Error != "" {
		add("completed", false, "the workload failed: %s", w.Error)
	}
	if w.Check != nil {
		add("answer checked", w.Check.OK, "%s %.3g (limit %.3g)", w.Check.Name, w.Check.Value, w.Check.Limit)
	}
	want := max(cfg.Reps, 1)
	add("repetitions", len(w.Reps) >= want, "%d of the %d required", len(w.Reps), want)
	if len(w.Reps) > 0 {
		shortest, fewest := math.Inf(1), math.MaxInt
		for _, r := range w.Reps {
			shortest = math.Min(shortest, r.DurationS)
			fewest = min(fewest, r.Readings)
		}
		add("duration", shortest >= cfg.MinTimeS, "shortest repetition %.3g s, minimum %.3g s", shortest, cfg.MinTimeS)
		add("readings", fewest >= cfg.MinReadings, "fewest readings in a repetition %d, minimum %d", fewest, cfg.MinReadings)
	}
	if cfg.MaxCV > 0 {
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
