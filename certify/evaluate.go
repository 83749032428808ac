package certify

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// EvalOptions are the caller's choices for an evaluation.
type EvalOptions struct {
	// Profile, if set, names the spec profile to judge by instead of the
	// one named after the record's suite (or "certify").
	Profile string
	// AllowEstimated is recorded on the certificate: the issuer accepts a
	// level 0 record. Refusal takes it too; it changes no rule.
	AllowEstimated bool
	// Now is the certificate's issue time, and the only clock Evaluate
	// reads: with the same record, spec and Now it returns the same
	// certificate. It is required.
	Now time.Time
}

// evalLevelSynthetic is the name level 0 takes when the fake meter made
// the numbers, so that the certificate says "level 0 (synthetic: fake
// meter)" rather than suggest a model estimated anything.
const evalLevelSynthetic = "synthetic: fake meter"

// Evaluate judges a record against a spec: it computes every workload's
// figures from the record's raw numbers (metrics.Summarize and
// carbon.Summarize, with their fixed bootstrap seeds), applies every rule
// of the profile, determines the measurement level and rates each
// workload. The certificate comes back even when rules fail (Valid false,
// the failures in Rules): the caller decides, through Refusal, whether to
// sign it. An error means the inputs could not be evaluated at all.
//
// Which rules are hard (failing one refuses the record) and which soft
// (a warning on the certificate):
//
//   - record complete (hard): an interrupted run is not the suite.
//   - workloads (hard): a record with none certifies nothing.
//   - idle baseline (hard, when the profile asks for one): net figures
//     and level 2 rest on it.
//   - sampling interval (hard): the configured interval is at most the
//     profile's.
//   - meter coverage (hard): the domains in the total count every device
//     that does the work (a CPU package, or a whole node, for a CPU
//     workload); otherwise the figures leave out the energy they claim.
//   - meter methods (hard): each meter's method, estimated flag, domain
//     kinds and total are what that meter is (the fake meter is
//     synthetic, the estimate a model, RAPL a counter whose packages and
//     DRAM count in the total); an unknown meter, or a meter or domain
//     name used twice, fails.
//   - meter readings (hard): every raw reading names a meter of the
//     record, has one value per domain, within the counter's range, and
//     each meter's readings go forward in time.
//   - raw readings (hard): the idle baseline's energy, duration and
//     readings agree with the raw readings.
//   - suite as published (soft): rules overridden on the command line are
//     noted; the profile's own rules are checked against what was
//     measured anyway.
//   - per workload, hard: completed; work (version, parameters, content
//     hash and work unit are the workload's own, every repetition's FLOPs
//     are FLOPs per item × items); answer checked (every repetition's
//     answer checked and right; schema 1 records fail); repetitions;
//     duration (every repetition); readings (every repetition); energy
//     (every repetition counted some); variation (the CV of energy per
//     item); raw readings (the warm-up's and every repetition's energy,
//     duration and readings agree with the raw readings); reading gaps
//     (within the profile's interval and each meter's max_gap_s); meter
//     faults (no meter read failed in a repetition); throughput ceiling
//     (CPU workloads: no repetition above what the host could do, stated
//     on the certificate).
//   - per workload, soft: answer checked when the workload has no check;
//     warnings the workload recorded (such as joulebench's own BLAS doing
//     the work, so that the figure describes our code, not the hardware).
//
// A record of joulebench measure (an arbitrary command) is not evaluated
// at all: see evalCommandRefusal.
//
// The level is computed from what each meter is, not from what its method
// field says: a record of the fake or the estimate meter is level 0
// whatever it claims.
func Evaluate(rec *results.Record, spec *Spec, specDigest string, opts EvalOptions) (*Certificate, error) {
	switch {
	case rec == nil:
		return nil, errors.New("certify: no record")
	case spec == nil:
		return nil, errors.New("certify: no spec")
	case opts.Now.IsZero():
		// Reading the clock here would make two evaluations of one
		// record differ; the caller supplies the time instead.
		return nil, errors.New("certify: EvalOptions.Now is required")
	}
	if err := evalCommandRefusal(rec); err != nil {
		return nil, err
	}
	if rec.Cluster != nil {
		return nil, fmt.Errorf("certify: record %s is a cluster record: it is judged with its node records (EvaluateCluster, or EvaluateFile with its path)", rec.RunID)
	}
	profName, prof, err := spec.ProfileFor(rec, opts.Profile)
	if err != nil {
		return nil, err
	}
	certifyProf := spec.Profiles[DefaultProfile]
	sums := metrics.Summarize(rec)
	csums, hasCarbon, err := carbon.Summarize(rec)
	if err != nil {
		return nil, fmt.Errorf("certify: record %s: %w", rec.RunID, err)
	}

	c := newCertificate(rec, spec, specDigest, profName, opts)
	c.Estimated = evalEstimated(rec)

	devices := map[string]bool{}
	for _, w := range rec.Workloads {
		devices[evalDevice(spec, w.Name)] = true
	}
	// Every span of the record is read from its own start: one pass over
	// the readings in all, however many repetitions a record claims.
	edges := metrics.IndexEdges(rec)
	c.Rules = evalRecordRules(rec, edges, prof, profName, devices)
	codes := make([]workCode, len(rec.Workloads))
	ceilings := make([]*Ceiling, len(rec.Workloads))
	for i, w := range rec.Workloads {
		codes[i] = evalWorkCode(w.Name)
		precision := w.Params["precision"]
		if codes[i].err == nil {
			precision = codes[i].spec.Params["precision"]
		}
		c.Rules = append(c.Rules, evalWorkloadRules(rec, i, w, codes[i], sums[i], prof, profName)...)
		c.Rules = append(c.Rules, evalRawRule(edges, w), evalGapRule(rec, edges, i, w, prof), evalFaultRule(i, w))
		if rs, ok := evalAccuracyRule(i, w); ok {
			c.Rules = append(c.Rules, rs...)
		}
		switch evalDevice(spec, w.Name) {
		case "cpu":
			ceil := evalCeiling(rec.Host, precision)
			ceilings[i] = &ceil
			c.Rules = append(c.Rules, evalCeilingRule(i, w, ceil))
		case "gpu":
			ceil := evalGPUCeiling(rec, precision)
			ceilings[i] = &ceil
			c.Rules = append(c.Rules, evalCeilingRule(i, w, ceil))
		}
	}
	c.Valid = true
	for _, r := range c.Rules {
		if r.Hard && !r.Pass {
			c.Valid = false
		}
	}
	c.Level = evalLevel(rec, spec, certifyProf, devices)
	evalWorkloadResults(c, rec, spec, sums, csums, hasCarbon, ceilings)
	return c, nil
}

// evalWorkloadResults fills c's workloads from the record's summaries:
// each workload's figures, class and rating, shown with the level when
// it is 0.
func evalWorkloadResults(c *Certificate, rec *results.Record, spec *Spec, sums []metrics.Summary, csums []carbon.Summary, hasCarbon bool, ceilings []*Ceiling) {
	for i, w := range rec.Workloads {
		wr := WorkloadResult{
			Name: w.Name, Version: w.Version, ContentHash: w.ContentHash, WorkUnit: w.WorkUnit,
			Reps: len(w.Reps), Figures: map[string]Figure{}, Ceiling: ceilings[i],
		}
		for name, st := range sums[i].Stats {
			if f, ok := evalFigure(st); ok {
				wr.Figures[name] = f
			}
		}
		if hasCarbon {
			for _, name := range []string{carbon.FigGramsPerItem, carbon.FigGramsPerGFLOP} {
				if f, ok := evalFigure(csums[i].Stats[name]); ok {
					wr.Figures[name] = f
				}
			}
		}
		if cname, class, ok := spec.ClassOf(w.Name); ok {
			wr.Class = cname
			if f, ok := wr.Figures[class.Metric]; ok {
				band, _ := class.Rate(f.Median)
				wr.Rating = band
				wr.RatingBasis = &RatingBasis{Metric: class.Metric, Better: class.Better, Unit: class.Unit, Value: f.Median}
				for _, b := range class.Bands {
					wr.RatingBasis.Edges = append(wr.RatingBasis.Edges, Edge{Band: b.Band, Edge: b.Edge})
				}
			}
		}
		wr.RatingShown = wr.Rating
		if wr.Rating != "" && c.Level.Level == 0 {
			// Level 0 wherever a rating shows, the bare field included.
			wr.RatingShown = c.Level.String() + ": " + wr.Rating
			wr.Rating = wr.RatingShown
		}
		c.Workloads = append(c.Workloads, wr)
	}
}

// evalRawRule checks the warm-up's and every repetition's stated energy,
// duration and readings against the record's raw readings: the figures are
// computed from what the repetitions state, so a record edited after the
// run must fail here rather than earn a better rating.
func evalRawRule(edges *metrics.Edges, w results.Workload) Rule {
	r := Rule{Name: "raw readings", Workload: w.Name, Hard: true, Pass: true,
		Reason: "the warm-up's and every repetition's energy, duration and readings agree with the raw meter readings"}
	if w.Warmup != nil {
		if msg := evalCheckPhase(edges, w.Warmup); msg != "" {
			r.Pass, r.Reason = false, "the warm-up "+msg
			return r
		}
	}
	for _, rep := range w.Reps {
		if rep.Edge == "" {
			r.Pass, r.Reason = false, fmt.Sprintf("repetition %d names no edge readings, so its figures cannot be checked against the raw readings", rep.Index+1)
			return r
		}
		if msg := edges.CheckRep(rep); msg != "" {
			r.Pass, r.Reason = false, fmt.Sprintf("repetition %d: %s", rep.Index+1, msg)
			return r
		}
	}
	return r
}

// evalCheckPhase checks an idle baseline or a warm-up against the raw
// readings as metrics.CheckRep checks a repetition: the net figures
// subtract the idle power, so an idle baseline edited after the run would
// move them. It returns "" when they agree.
func evalCheckPhase(edges *metrics.Edges, p *results.Phase) string {
	if p.Edge == "" {
		return "names no edge readings, so its energy cannot be checked against the raw readings"
	}
	if msg := edges.CheckRep(results.Rep{Edge: p.Edge, DurationS: p.DurationS, EnergyJ: p.EnergyJ, Readings: p.Readings}); msg != "" {
		return "(" + p.Edge + "): " + msg
	}
	return ""
}

// evalGapRule checks the sampling interval the sampler achieved, not only
// the one it was asked for: a starved sampler leaves gaps, and a counter
// may wrap unseen in one. Each gap is held to the profile's interval and
// to its meter's max_gap_s, the time in which that meter's counter can
// wrap.
func evalGapRule(rec *results.Record, edges *metrics.Edges, wi int, w results.Workload, prof Profile) Rule {
	r := Rule{Name: "reading gaps", Workload: w.Name, Hard: true}
	limits := map[string]float64{}
	for _, m := range rec.Meters {
		if m.MaxGapS > 0 {
			limits[m.Name] = m.MaxGapS
		}
	}
	worst := 0.0
	for j, rep := range w.Reps {
		if rep.Edge == "" {
			continue
		}
		gaps := evalMeterGaps(rec, edges, rep.Edge+"-start", rep.Edge+"-end")
		for _, m := range rec.Meters {
			g := gaps[m.Name]
			worst = math.Max(worst, g)
			if lim, ok := limits[m.Name]; ok && g > lim {
				r.Reason = fmt.Sprintf("workloads[%d].reps[%d]: in repetition %d meter %s went %s s between two readings, longer than its max_gap_s of %s s (meters[%d].max_gap_s), in which its counter can wrap unseen",
					wi, j, rep.Index+1, m.Name, evalSecs(g), evalSecs(lim), slices.IndexFunc(rec.Meters, func(x results.Meter) bool { return x.Name == m.Name }))
				return r
			}
		}
	}
	vs, ls := evalVs(worst, prof.MaxIntervalS)
	r.Pass = worst <= prof.MaxIntervalS
	r.Reason = fmt.Sprintf("longest time between two readings in a repetition %s s, maximum %s s", vs, ls)
	if r.Pass && len(limits) > 0 {
		r.Reason += ", and within each meter's max_gap_s"
	}
	return r
}

// evalMeterGaps is, for each meter, the longest time between two of its
// consecutive readings from the one labelled start to the one labelled
// end: from the indexed span when every meter has both edges, else (a
// broken record, which the raw readings rule refuses anyway) by a scan of
// every reading.
func evalMeterGaps(rec *results.Record, edges *metrics.Edges, start, end string) map[string]float64 {
	if sp, ok := edges.Span(start, end); ok {
		return sp.MeterGapS
	}
	type acc struct {
		in, done bool
		last     float64
		gap      float64
	}
	state := map[string]*acc{}
	for _, r := range rec.Readings {
		a := state[r.Meter]
		if a == nil {
			a = &acc{}
			state[r.Meter] = a
		}
		switch {
		case a.done:
		case !a.in:
			if r.Edge == start {
				a.in, a.last = true, r.TS
			}
		default:
			a.gap = math.Max(a.gap, r.TS-a.last)
			a.last = r.TS
			a.done = r.Edge == end
		}
	}
	out := map[string]float64{}
	for m, a := range state {
		out[m] = a.gap
	}
	return out
}

// evalFaultRule refuses a repetition during which a meter read failed: the
// energy between the readings around it may miss a counter wrap.
func evalFaultRule(wi int, w results.Workload) Rule {
	r := Rule{Name: "meter faults", Workload: w.Name, Hard: true}
	// The warm-up is not rated, but its energy feeds nothing only if it
	// is honest too: a failed read there is refused alike.
	if w.Warmup != nil && len(w.Warmup.MeterFaults) > 0 {
		r.Reason = fmt.Sprintf("workloads[%d].warmup.meter_faults: %d meter %s failed during the warm-up (first: %s)",
			wi, len(w.Warmup.MeterFaults), evalPlural(len(w.Warmup.MeterFaults), "read", "reads"), w.Warmup.MeterFaults[0])
		return r
	}
	for j, rep := range w.Reps {
		if len(rep.MeterFaults) > 0 {
			r.Reason = fmt.Sprintf("workloads[%d].reps[%d].meter_faults: %d meter %s failed during repetition %d (first: %s); its energy may miss a counter wrap",
				wi, j, len(rep.MeterFaults), evalPlural(len(rep.MeterFaults), "read", "reads"), rep.Index+1, rep.MeterFaults[0])
			return r
		}
	}
	r.Pass, r.Reason = true, "no meter read failed during a repetition"
	return r
}

// evalEstimated reports whether some energy in the total is modelled or
// synthetic, judging each meter by what it is (meterMethod) as well as by
// what the record says of it.
func evalEstimated(rec *results.Record) bool {
	if metrics.Estimated(rec) || metrics.Synthetic(rec) {
		return true
	}
	for _, m := range rec.Meters {
		if meterMethod(m) == results.MethodSynthetic {
			return true
		}
		if !meterNotMeasured(m) {
			continue
		}
		for _, d := range m.Domains {
			if d.InTotal {
				return true
			}
		}
	}
	return false
}

// evalFigure turns statistics into a certificate figure; ok is false when
// the record does not define it, since JSON has no NaN and a zero would
// be a false figure.
func evalFigure(s metrics.Stats) (Figure, bool) {
	f := Figure{Median: s.Median, CILow: s.CILow, CIHigh: s.CIHigh, CV: s.CV, N: s.N}
	if s.N == 0 {
		return Figure{}, false
	}
	for _, v := range []float64{f.Median, f.CILow, f.CIHigh, f.CV} {
		if !specFinite(v) {
			return Figure{}, false
		}
	}
	return f, true
}

// evalDevice is the device a workload runs on: its class's, else the
// device its code says it runs on (a GPU workload's spec has the param
// device=gpu; the code's spec, not the record's params, which are the
// record's claim), else "cpu", as every other workload joulebench has
// runs on the CPU.
func evalDevice(spec *Spec, workload string) string {
	if _, class, ok := spec.ClassOf(workload); ok {
		return class.Device
	}
	if code := evalWorkCode(workload); code.err == nil && code.spec.Params["device"] == "gpu" {
		return "gpu"
	}
	return "cpu"
}

func evalMeters(rec *results.Record) []MeterRef {
	out := make([]MeterRef, 0, len(rec.Meters))
	for _, m := range rec.Meters {
		mr := MeterRef{Name: m.Name, Method: m.Method, Domains: []DomainRef{}}
		for _, d := range m.Domains {
			mr.Domains = append(mr.Domains, DomainRef{Name: d.Name, Kind: d.Kind, InTotal: d.InTotal})
		}
		out = append(out, mr)
	}
	return out
}

func evalCarbon(c *results.Carbon) *CarbonRef {
	if c == nil {
		return nil
	}
	out := &CarbonRef{Method: c.Method, Region: c.Region, GramsPerKWh: c.GramsPerKWh, Year: c.Year, Source: c.Source, PUE: c.PUE,
		Embodied: "embodied not included"}
	if e := c.Embodied; e != nil {
		out.Embodied = fmt.Sprintf("included: %s, %.6g kgCO2e over %.6g years, share %.6g (%s)", e.Device, e.KgCO2e, e.LifetimeYears, e.Share, e.Source)
	}
	return out
}

// evalTotal is a domain that counts in the node total, with its meter and
// the method the meter is judged by (meterMethod).
type evalTotal struct {
	meter, method, name, kind string
}

func evalTotals(rec *results.Record) []evalTotal {
	var out []evalTotal
	for _, m := range rec.Meters {
		for _, d := range m.Domains {
			if d.InTotal {
				out = append(out, evalTotal{meter: m.Name, method: meterMethod(m), name: d.Name, kind: d.Kind})
			}
		}
	}
	return out
}

// evalCovers reports whether a domain kind counts the energy of a device:
// a whole node counts everything in it.
func evalCovers(device, kind string) bool {
	switch device {
	case "cpu":
		return kind == evalKindPackage || kind == evalKindNode
	case "gpu":
		return kind == evalKindGPU || kind == evalKindNode
	}
	return false
}

func evalRecordRules(rec *results.Record, edges *metrics.Edges, prof Profile, profName string, devices map[string]bool) []Rule {
	var rules []Rule
	add := func(name string, hard, pass bool, format string, a ...any) {
		rules = append(rules, Rule{Name: name, Hard: hard, Pass: pass, Reason: fmt.Sprintf(format, a...)})
	}
	if rec.Complete {
		add("record complete", true, true, "the run finished")
	} else {
		why := rec.IncompleteReason
		if why == "" {
			why = "no reason recorded"
		}
		add("record complete", true, false, "the run did not finish: %s", why)
	}
	add("workloads", true, len(rec.Workloads) > 0, "%d %s", len(rec.Workloads), evalPlural(len(rec.Workloads), "workload", "workloads"))
	if why := evalHost(rec.Host); why != "" {
		add("host", true, false, "%s", why)
	} else {
		add("host", true, true, "%d logical CPUs, %d cores, %d sockets: a machine that can exist (the throughput ceiling is computed from them)", rec.Host.LogicalCPUs, rec.Host.Cores, rec.Host.Sockets)
	}

	switch idle := rec.Idle; {
	case prof.MinIdleS == 0:
		add("idle baseline", true, true, "not required by the %s profile", profName)
	case idle == nil:
		add("idle baseline", true, false, "the record has none; the %s profile requires at least %s s", profName, evalSecs(prof.MinIdleS))
	case len(idle.MeterFaults) > 0:
		// Net figures subtract the idle power: a baseline that missed a
		// counter wrap would flatter every one of them.
		add("idle baseline", true, false, "idle.meter_faults: %d meter %s failed during the idle baseline (first: %s); its energy may miss a counter wrap",
			len(idle.MeterFaults), evalPlural(len(idle.MeterFaults), "read", "reads"), idle.MeterFaults[0])
	default:
		vs, ls := evalVs(idle.DurationS, prof.MinIdleS)
		add("idle baseline", true, idle.DurationS >= prof.MinIdleS, "%s s, minimum %s s", vs, ls)
	}

	iv := rec.Config.IntervalS
	switch {
	case !(iv > 0):
		add("sampling interval", true, false, "the record does not state its sampling interval; maximum %s s", evalSecs(prof.MaxIntervalS))
	default:
		vs, ls := evalVs(iv, prof.MaxIntervalS)
		add("sampling interval", true, iv <= prof.MaxIntervalS, "%s s, maximum %s s", vs, ls)
	}

	totals := evalTotals(rec)
	var names []string
	for _, t := range totals {
		names = append(names, t.name+" ("+t.kind+")")
	}
	inTotal := "none"
	if len(names) > 0 {
		inTotal = strings.Join(names, ", ")
	}
	var missing []string
	for _, dev := range evalSortedSet(devices) {
		covered := false
		for _, t := range totals {
			covered = covered || evalCovers(dev, t.kind)
		}
		if !covered {
			what := "CPU package or whole node"
			if dev == "gpu" {
				what = "GPU or whole node"
			}
			missing = append(missing, fmt.Sprintf("the %s does the work but the total counts no %s", strings.ToUpper(dev), what))
		}
	}
	if len(missing) == 0 {
		add("meter coverage", true, true, "the total (%s) counts every device that does the work", inTotal)
	} else {
		add("meter coverage", true, false, "%s; in the total: %s", strings.Join(missing, "; "), inTotal)
	}

	rules = append(rules, evalMeterRule(rec), evalReadingsRule(rec))
	if rec.Idle != nil {
		if msg := evalCheckPhase(edges, rec.Idle); msg != "" {
			add("raw readings", true, false, "the idle baseline %s", msg)
		} else {
			add("raw readings", true, true, "the idle baseline's energy, duration and readings agree with the raw meter readings")
		}
	}

	if len(rec.Config.Overrides) == 0 {
		add("suite as published", false, true, "no suite rule was overridden")
	} else {
		add("suite as published", false, false, "the command line overrode the suite's %s; the spec's rules were checked against what was measured",
			strings.Join(rec.Config.Overrides, ", "))
	}
	return rules
}

func evalWorkloadRules(rec *results.Record, wi int, w results.Workload, code workCode, s metrics.Summary, prof Profile, profName string) []Rule {
	var rules []Rule
	add := func(name string, hard, pass bool, format string, a ...any) {
		rules = append(rules, Rule{Name: name, Workload: w.Name, Hard: hard, Pass: pass, Reason: fmt.Sprintf(format, a...)})
	}
	if w.Error == "" {
		add("completed", true, true, "ran without error")
	} else {
		add("completed", true, false, "the workload failed: %s", w.Error)
	}
	rules = append(rules, evalWorkRule(wi, w, code), evalAnswerRule(rec, wi, w, code))
	add("repetitions", true, len(w.Reps) >= prof.MinReps, "%d of the %d required", len(w.Reps), prof.MinReps)
	if len(w.Reps) == 0 {
		add("duration", true, false, "no repetitions; minimum %s s each", evalSecs(prof.MinRepS))
		add("readings", true, false, "no repetitions; minimum %d readings each", prof.MinReadingsPerRep)
		add("energy", true, false, "no repetitions")
	} else {
		shortest, fewest := math.Inf(1), math.MaxInt
		for _, r := range w.Reps {
			shortest = math.Min(shortest, r.DurationS)
			fewest = min(fewest, r.Readings)
		}
		vs, ls := evalVs(shortest, prof.MinRepS)
		add("duration", true, shortest >= prof.MinRepS, "shortest repetition %s s, minimum %s s", vs, ls)
		add("readings", true, fewest >= prof.MinReadingsPerRep, "fewest readings in a repetition %d, minimum %d", fewest, prof.MinReadingsPerRep)
		// A meter that updates slowly (a BMC: every 30 s or so) cannot
		// measure a repetition shorter than a few of its updates.
		for _, m := range rec.Meters {
			if m.MinRepS > 0 {
				vs, ls := evalVs(shortest, m.MinRepS)
				add("meter update interval", true, shortest >= m.MinRepS, "shortest repetition %s s, minimum %s s for meter %s (a few of its update intervals)", vs, ls, m.Name)
			}
		}
		var none []string
		for i, r := range s.Reps {
			if r.Gross <= 0 {
				none = append(none, fmt.Sprint(w.Reps[i].Index+1))
			}
		}
		if len(none) == 0 {
			add("energy", true, true, "every repetition counted energy in the total")
		} else {
			add("energy", true, false, "%s %s counted no energy in the total domains", evalPlural(len(none), "repetition", "repetitions"), strings.Join(none, ", "))
		}
	}
	if st := s.Stats[metrics.FigJPerItem]; st.N < 2 || !specFinite(st.CV) {
		add("variation", true, false, "fewer than 2 repetitions with a defined energy per item: the coefficient of variation is unknown (maximum %g)", prof.MaxCV)
	} else {
		add("variation", true, st.CV <= prof.MaxCV, "CV of energy per item %.3g, maximum %g", st.CV, prof.MaxCV)
	}
	if warn := w.Info["warning"]; warn != "" {
		add("warnings", false, false, "%s", warn)
	} else {
		add("warnings", false, true, "the workload recorded no warning")
	}
	return rules
}

func evalDetail(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

// evalLevel determines the measurement level. Levels are cumulative: each
// needs what the one below needs, and a record that falls short of the
// next level's conditions is told which it missed.
func evalLevel(rec *results.Record, spec *Spec, certifyProf Profile, devices map[string]bool) Level {
	name := func(l int) string {
		if n := spec.LevelName(l); n != "" {
			return n
		}
		return fmt.Sprint(l)
	}
	// Each meter is judged by what it is (meterMethod), not by what the
	// record's method field says, so no edit lifts the fake meter or the
	// estimate above level 0.
	for _, m := range rec.Meters {
		if m.Method == results.MethodSynthetic || meterMethod(m) == results.MethodSynthetic {
			return Level{Level: 0, Name: evalLevelSynthetic,
				Reason: fmt.Sprintf("meter %s is synthetic (the fake meter): its numbers describe no hardware", m.Name)}
		}
	}
	totals := evalTotals(rec)
	for _, m := range rec.Meters {
		if !meterNotMeasured(m) {
			continue
		}
		for _, d := range m.Domains {
			if d.InTotal {
				return Level{Level: 0, Name: name(0),
					Reason: fmt.Sprintf("meter %s is a model (%s), not a measurement, and %s counts in the total", m.Name, meterOr(meterMethod(m), m.Method), d.Name)}
			}
		}
	}
	measured := func(t evalTotal) bool {
		return t.method == results.MethodCounter || t.method == results.MethodSampledPower || t.method == results.MethodExternal
	}
	var meters []string
	seen := map[string]bool{}
	for _, t := range totals {
		if measured(t) && !seen[t.meter] {
			seen[t.meter] = true
			meters = append(meters, t.meter+" ("+t.method+")")
		}
	}
	for _, dev := range evalSortedSet(devices) {
		covered := false
		for _, t := range totals {
			covered = covered || (measured(t) && evalCovers(dev, t.kind))
		}
		if !covered {
			return Level{Level: 0, Name: name(0),
				Reason: fmt.Sprintf("no measuring meter counts the %s that does the work in the total", strings.ToUpper(dev))}
		}
	}
	var node, pkgs, drams []string
	for _, t := range totals {
		if !measured(t) {
			continue
		}
		switch {
		case t.kind == evalKindNode && t.method == results.MethodExternal:
			node = append(node, t.name)
		case t.kind == evalKindPackage:
			pkgs = append(pkgs, t.name)
		case t.kind == evalKindDRAM:
			drams = append(drams, t.name)
		}
	}

	// The certify profile's durations, which levels 2 and 3 require
	// whatever profile the record is judged by.
	var short []string
	switch idle := rec.Idle; {
	case idle == nil || idle.DurationS <= 0:
		short = append(short, "no idle baseline")
	case idle.DurationS < certifyProf.MinIdleS:
		short = append(short, evalNeeds("an idle baseline of", idle.DurationS, certifyProf.MinIdleS))
	}
	shortest, reps := math.Inf(1), 0
	for _, w := range rec.Workloads {
		for _, r := range w.Reps {
			shortest = math.Min(shortest, r.DurationS)
			reps++
		}
	}
	if reps == 0 {
		short = append(short, "no repetitions")
	} else if shortest < certifyProf.MinRepS {
		short = append(short, evalNeeds("a shortest repetition of", shortest, certifyProf.MinRepS))
	}
	// An external meter that updates only every so often (a BMC) says how
	// long a repetition must be for it to follow the load (min_rep_s).
	for _, m := range rec.Meters {
		if m.MinRepS > 0 && reps > 0 && shortest < m.MinRepS {
			short = append(short, fmt.Sprintf("a shortest repetition of %s s, shorter than the %s s meter %s needs to follow the load (min_rep_s)", evalSecs(shortest), evalSecs(m.MinRepS), m.Name))
		}
		// A BMC whose TLS certificate was not verified may not be the
		// BMC: anyone on the path could have answered.
		if m.TLSInsecure {
			short = append(short, fmt.Sprintf("meter %s did not verify its BMC's TLS certificate (--redfish-insecure), so its readings may not be the BMC's", m.Name))
		}
	}
	durations := fmt.Sprintf("an idle baseline and repetitions at least as long as the %s profile's (%s s, %s s)", DefaultProfile, evalSecs(certifyProf.MinIdleS), evalSecs(certifyProf.MinRepS))
	by := "meter " + strings.Join(meters, ", ") + " counts"
	if len(meters) > 1 {
		by = "meters " + strings.Join(meters, ", ") + " count"
	}

	if len(node) > 0 {
		if len(short) == 0 {
			return Level{Level: 3, Name: name(3),
				Reason: fmt.Sprintf("an external meter counts the whole node (%s) in the total, with %s", strings.Join(node, ", "), durations)}
		}
		return Level{Level: 1, Name: name(1),
			Reason: fmt.Sprintf("an external meter counts the whole node (%s); not level 3: %s", strings.Join(node, ", "), strings.Join(short, "; "))}
	}
	var not2 []string
	if len(drams) == 0 {
		not2 = append(not2, "no DRAM domain in the total (some CPUs' counters have none; an external node meter would give level 3)")
	} else if len(drams) < len(pkgs) {
		not2 = append(not2, fmt.Sprintf("%d DRAM domains for %d CPU packages", len(drams), len(pkgs)))
	}
	not2 = append(not2, short...)
	if len(not2) == 0 {
		return Level{Level: 2, Name: name(2),
			Reason: fmt.Sprintf("%s the CPU packages (%s) and their DRAM (%s), with %s", by, strings.Join(pkgs, ", "), strings.Join(drams, ", "), durations)}
	}
	return Level{Level: 1, Name: name(1),
		Reason: fmt.Sprintf("%s every device that does the work; not level 2: %s", by, strings.Join(not2, "; "))}
}

// evalSecs formats seconds for a reason: to the millisecond, without an
// exponent, as a person reads a duration.
func evalSecs(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// evalVs formats a value and the limit it is held to. When rounding would
// show a value that misses its limit as equal to it, the value is shown
// in full, so that a reason never reads "60 s, minimum 60 s" for a fail.
func evalVs(v, limit float64) (string, string) {
	vs, ls := evalSecs(v), evalSecs(limit)
	if vs == ls && v != limit {
		vs = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return vs, ls
}

func evalNeeds(what string, v, limit float64) string {
	vs, ls := evalVs(v, limit)
	return fmt.Sprintf("%s %s s, where the %s profile needs %s s", what, vs, DefaultProfile, ls)
}

func evalSortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Bounds on a host a record may describe. The host is the signer's claim,
// and the throughput ceiling is computed from it, so a host no machine
// could be (100,000 CPUs, a 1 THz clock) would let any throughput through.
// The bounds are far above any single node shipped (an IBM Power E1080
// has 240 cores × SMT8 = 1,920 logical CPUs; an HPE Superdome Flex up to
// 896 cores, 1,792 threads; the clock record is about 9.1 GHz, an
// overclocked Core i9-14900KF under liquid helium) and far below what
// would make the ceiling meaningless.
const (
	evalMaxLogicalCPUs = 16384
	evalMaxSockets     = 64
	evalMaxMHz         = 10000
)

// evalHost says why a record's host cannot be a machine, "" when it can.
func evalHost(h results.Host) string {
	switch {
	case h.LogicalCPUs < 1 || h.LogicalCPUs > evalMaxLogicalCPUs:
		return fmt.Sprintf("host.logical_cpus is %d; a node has 1 to %d", h.LogicalCPUs, evalMaxLogicalCPUs)
	case h.Cores < 0 || h.Cores > h.LogicalCPUs:
		return fmt.Sprintf("host.cores is %d, but a core is at least one logical CPU and the host has %d", h.Cores, h.LogicalCPUs)
	case h.Sockets < 0 || h.Sockets > evalMaxSockets || (h.Cores > 0 && h.Sockets > h.Cores):
		return fmt.Sprintf("host.sockets is %d with %d cores; a node has 0 (unknown) to %d sockets, each with a core", h.Sockets, h.Cores, evalMaxSockets)
	case !(h.MaxMHz >= 0 && h.MaxMHz <= evalMaxMHz):
		return fmt.Sprintf("host.max_mhz is %g; no CPU runs above %d MHz", h.MaxMHz, evalMaxMHz)
	}
	return ""
}

// newCertificate is the part of a certificate that names what was judged
// and by what: the spec, profile, record, host, meters and carbon.
func newCertificate(rec *results.Record, spec *Spec, specDigest, profName string, opts EvalOptions) *Certificate {
	return &Certificate{
		Version:        CertificateVersion,
		Spec:           SpecRef{Name: spec.Name, Version: spec.Version, Digest: specDigest},
		Profile:        profName,
		IssuedAt:       opts.Now.UTC(),
		Record:         RecordRef{RunID: rec.RunID, StartedAt: rec.StartedAt, Suite: rec.Config.Suite, SuiteVersion: rec.Config.SuiteVersion, Tool: rec.Tool},
		Host:           rec.Host,
		Meters:         evalMeters(rec),
		AllowEstimated: opts.AllowEstimated,
		Carbon:         evalCarbon(rec.Carbon),
	}
}
