package report

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// Statement is one paragraph a researcher pastes into the compute and
// emissions section of a paper: each workload's headline figure with its
// 95% confidence interval, how the energy was obtained (which meter, or
// ESTIMATED), the hardware, the region and source of the carbon
// intensity, the energy and CO2e of the whole run (idle baseline and
// warm-ups included, not only the measured repetitions), and the tool's
// version.
func Statement(rec *results.Record) (string, error) {
	if rec == nil {
		return "", errors.New("report: statement: no record")
	}
	est, syn := metrics.Estimated(rec), metrics.Synthetic(rec)
	kind := kindWord(est, syn)
	var s []string
	say := func(format string, a ...any) { s = append(s, fmt.Sprintf(format, a...)) }

	tool := rec.Tool.Name
	if tool == "" {
		tool = "joulebench"
	}
	tool += " " + rec.Tool.Version
	if rec.Tool.Commit != "" {
		tool += " (commit " + rec.Tool.Commit + ")"
	}
	h := rec.Host
	cpu := h.CPUModel
	if cpu == "" {
		cpu = "an unknown CPU"
	}
	hw := cpu
	if h.Sockets > 1 {
		hw = fmt.Sprintf("%d× %s", h.Sockets, cpu)
	}
	hw += fmt.Sprintf(" (%d logical CPUs", h.LogicalCPUs)
	if h.Cores > 0 {
		hw += fmt.Sprintf(", %d cores", h.Cores)
	}
	if h.MemoryBytes > 0 {
		hw += fmt.Sprintf(", %.0f GiB memory", float64(h.MemoryBytes)/(1<<30))
	}
	if h.Virtualized {
		hw += ", a virtual machine"
	}
	hw += ")"
	suite := fmt.Sprintf("the %s suite v%s", rec.Config.Suite, rec.Config.SuiteVersion)
	if len(rec.Config.Overrides) > 0 {
		suite += " (with its rules overridden: " + strings.Join(rec.Config.Overrides, ", ") + ")"
	}
	say("We measured the energy of our computations with %s, running %s on %s.", tool, suite, hw)

	switch {
	case syn:
		say("The energy figures are SYNTHETIC: they come from joulebench's fake meter, which makes them up for tests and demos, and describe no hardware.")
	case est && meterWordsWhere(rec, measuredMeter) != "":
		// A GPU metered by NVML beside a CPU that only the estimate
		// covers: say which part is which.
		say("The energy figures are PARTLY ESTIMATED: %s measured; %s modelled from CPU utilisation and TDP, not measured.", meterWordsWhere(rec, measuredMeter), meterWordsWhere(rec, modelMeter))
	case est:
		say("The energy figures are ESTIMATED, not measured: %s, modelled from CPU utilisation and TDP.", meterWords(rec))
	case len(rec.Meters) == 0:
		say("No energy meter was used.")
	default:
		say("Energy was measured by %s.", meterWords(rec))
	}
	if hasBaseline(rec) {
		say("An idle baseline of %s s drew %s%s; the figures below are gross (idle included).", sig3(rec.Idle.DurationS), metrics.IdlePower(rec), kind)
	}

	sums := metrics.Summarize(rec)
	var figs []string
	for i, sm := range sums {
		wl := rec.Workloads[i]
		if wl.Error != "" {
			figs = append(figs, wl.Name+" failed ("+wl.Error+")")
			continue
		}
		f := wl.Name + ", " + headline(wl, sm, strings.Trim(kind, " ()"))
		if !sm.Validity.Valid {
			f += ", NOT VALID (" + strings.Join(ruleNames(sm.Validity), ", ") + ")"
		}
		figs = append(figs, f)
	}
	if len(figs) > 0 {
		reps := rec.Config.Reps
		say("Medians over %d repetitions of at least %g s each, with 95%% bootstrap confidence intervals: %s.", reps, rec.Config.MinTimeS, strings.Join(figs, "; "))
	}

	t := wholeRun(rec)
	span := "idle baseline, warm-ups and measured repetitions"
	if t.FromReadings {
		span = "from the first meter reading to the last: idle baseline, warm-ups, repetitions and the checks between them"
	}
	total := fmt.Sprintf("The whole run (%s, %.0f s) used %s (%.3g kWh%s)", span, t.Seconds, t.Energy, t.Energy.KWh(), strings.TrimSuffix(strings.Replace(kind, " (", ", ", 1), ")"))
	if c := rec.Carbon; c != nil {
		where := "a grid intensity of " + sig3(c.GramsPerKWh) + " gCO2e/kWh"
		switch c.Method {
		case results.CarbonSeries:
			where += " (a time series, weighted by when the repetitions' energy was spent"
		default:
			where += " (annual average"
		}
		if c.Region != "" {
			where += ", region " + c.Region
		}
		where += "; " + c.Source + ")"
		emb := carbon.EmbodiedNotIncluded
		if !math.IsNaN(t.Embodied) {
			emb = fmt.Sprintf("including %s g of embodied carbon", sig3(t.Embodied))
		}
		total += fmt.Sprintf(", that is %s gCO2e%s at %s and a PUE of %g, %s.", sig3(t.Grams), kind, where, c.PUE, emb)
	} else {
		total += "; the record has no carbon accounting, so no CO2e is given."
	}
	s = append(s, total)
	if !rec.Complete {
		say("The run did not complete: %s.", strings.TrimSuffix(rec.IncompleteReason, "."))
	}
	return strings.Join(s, " "), nil
}

// meterWords names the meters whose domains count in the total, with
// their method and those domains.
func meterWords(rec *results.Record) string {
	if s := meterWordsWhere(rec, func(results.Meter) bool { return true }); s != "" {
		return s
	}
	return "no meter counting in the total"
}

// modelMeter and measuredMeter tell an estimate from a measurement.
func modelMeter(m results.Meter) bool { return m.Estimated || m.Method == results.MethodModel }
func measuredMeter(m results.Meter) bool {
	return !modelMeter(m) && m.Method != results.MethodSynthetic
}

// meterWordsWhere is meterWords for the meters keep accepts, "" when none
// counts in the total.
func meterWordsWhere(rec *results.Record, keep func(results.Meter) bool) string {
	var out []string
	for _, m := range rec.Meters {
		if !keep(m) {
			continue
		}
		var doms []string
		for _, d := range m.Domains {
			if d.InTotal {
				doms = append(doms, d.Name)
			}
		}
		if len(doms) == 0 {
			continue
		}
		how := m.Method
		switch m.Method {
		case results.MethodCounter:
			how = "energy counter"
		case results.MethodSampledPower:
			how = "sampled power"
		case results.MethodExternal:
			how = "external meter"
		}
		out = append(out, fmt.Sprintf("the %s meter (%s: %s)", m.Name, how, strings.Join(doms, ", ")))
	}
	return strings.Join(out, " and ")
}

// headline is a workload's figure for a paper: GFLOPS/W for a GEMM,
// energy per work unit (an inference, a job) for the others, as "median
// unit (95% CI low–high)".
func headline(wl results.Workload, s metrics.Summary, kind string) string {
	if strings.HasPrefix(wl.Name, "gemm-") && !countsNoFLOPs(wl) {
		return ciPaper(s.Stats[metrics.FigFLOPsPerJ], 1e-9, "GFLOPS/W", kind)
	}
	unit, _, _ := strings.Cut(wl.WorkUnit, " (")
	if unit == "" {
		unit = "item"
	}
	st := s.Stats[metrics.FigJPerItem]
	p := pickPrefix([]float64{st.Median})
	return ciPaper(st, p.scale, p.name+"J per "+unit, kind)
}

// ciPaper formats a figure as a paper quotes it: "8.6 GFLOPS/W (95% CI
// 5.2–16.4)", to the decimals the run table uses; "(one repetition, no
// CI)" when one repetition gave it. kind ("estimated", "synthetic"),
// if any, ends the parenthesis.
func ciPaper(st metrics.Stats, scale float64, unit, kind string) string {
	if kind != "" {
		kind = "; " + kind
	}
	m := st.Median * scale
	if st.N == 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		return "no " + unit + " (no repetition defined it" + kind + ")"
	}
	if st.N == 1 || math.IsNaN(st.CILow) || math.IsNaN(st.CIHigh) {
		return fixed(m, sigDecimals(m, 3)) + " " + unit + " (one repetition, no CI" + kind + ")"
	}
	lo, hi := st.CILow*scale, st.CIHigh*scale
	d := min(ciDecimals(hi-m, m-lo, m), sigDecimals(m, 4))
	return fmt.Sprintf("%s %s (95%% CI %s–%s%s)", fixed(m, d), unit, fixed(lo, d), fixed(hi, d), kind)
}

func ruleNames(v metrics.Validity) []string {
	var out []string
	for _, r := range v.Rules {
		if !r.Pass {
			out = append(out, r.Name)
		}
	}
	return out
}

// runTotal is the energy and carbon of a whole run: every measured
// phase, the idle baseline and warm-ups included.
type runTotal struct {
	// FromReadings: the total spans the first reading to the last.
	FromReadings bool
	Energy       metrics.Energy
	Seconds      float64
	// Grams is the run's CO2e, operational plus embodied when known; NaN
	// without a carbon section. Embodied is its embodied part, NaN when
	// not included.
	Grams, Embodied float64
}

// wholeRun is the energy the total's domains counted from the first
// reading to the last, or, in a record without readings, adds up the
// idle baseline, every warm-up and every
// repetition over the total domains. Operational carbon is E × PUE × I
// with the record's intensity (for a time series, the one the
// repetitions' energy met); embodied carbon is the device's share over
// the same time.
func wholeRun(rec *results.Record) runTotal {
	doms := metrics.TotalDomains(rec)
	var t runTotal
	add := func(energy map[string]float64, secs float64) {
		t.Energy += metrics.Total(energy, doms)
		t.Seconds += secs
	}
	// From the first reading to the last: everything the meters counted
	// while joulebench ran, answer checks and set-up between the phases
	// included, not only the phases.
	if e, secs, ok := readingsTotal(rec, doms); ok {
		t.Energy, t.Seconds, t.FromReadings = metrics.Energy(e*float64(metrics.Joule)), secs, true
	} else {
		if rec.Idle != nil {
			add(rec.Idle.EnergyJ, rec.Idle.DurationS)
		}
		for _, w := range rec.Workloads {
			if w.Warmup != nil {
				add(w.Warmup.EnergyJ, w.Warmup.DurationS)
			}
			for _, r := range w.Reps {
				add(r.EnergyJ, r.DurationS)
			}
		}
	}
	t.Grams, t.Embodied = math.NaN(), math.NaN()
	if c := rec.Carbon; c != nil {
		t.Grams = carbon.Grams(t.Energy, c.GramsPerKWh, c.PUE)
		if e := c.Embodied; e != nil {
			emb := carbon.Embodied{KgCO2e: e.KgCO2e, LifetimeYears: e.LifetimeYears, Source: e.Source}
			t.Embodied = emb.Share(metrics.Seconds(t.Seconds), e.Share)
			if !math.IsNaN(t.Embodied) {
				t.Grams += t.Embodied
			}
		}
	}
	return t
}

// readingsTotal is the energy of the total's domains from each meter's
// first reading to its last (counter wraps followed), and the span of the
// readings; ok is false when the record keeps too few readings.
func readingsTotal(rec *results.Record, doms []string) (joules, secs float64, ok bool) {
	in := map[string]bool{}
	for _, d := range doms {
		in[d] = true
	}
	first, last := math.Inf(1), math.Inf(-1)
	for _, m := range rec.Meters {
		var prev []int64
		for _, r := range rec.Readings {
			if r.Meter != m.Name || len(r.EnergyUJ) != len(m.Domains) {
				continue
			}
			first, last = math.Min(first, r.TS), math.Max(last, r.TS)
			if prev != nil {
				for i, d := range m.Domains {
					if !in[d.Name] {
						continue
					}
					delta := metrics.CounterDelta(metrics.Energy(prev[i])*metrics.Microjoule, metrics.Energy(r.EnergyUJ[i])*metrics.Microjoule, metrics.Energy(d.MaxEnergyUJ)*metrics.Microjoule)
					joules += delta.Joules()
				}
			}
			prev = r.EnergyUJ
		}
	}
	if !(last > first) {
		return 0, 0, false
	}
	return joules, last - first, true
}
