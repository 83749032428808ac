package certify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
)

// workCode is what this joulebench's own code says about a workload of a
// record: its spec, and whether it checks its answers. ok is false when
// the workload is not one joulebench has (err says why).
type workCode struct {
	spec     workloads.Spec
	checks   bool
	episodic bool
	err      error
}

// evalWorkCode asks the workload registry, without preparing anything (no
// library is loaded, nothing allocated), what the workload called name is.
func evalWorkCode(name string) workCode {
	w, err := workloads.New(name, workloads.Options{})
	if err != nil {
		return workCode{err: err}
	}
	_, checks := w.(workloads.Checker)
	return workCode{spec: w.Spec(), checks: checks, episodic: workloads.IsEpisodic(w)}
}

// CommandWorkload is the workload name of joulebench measure's records
// (package workloads/command), which certify refuses.
const CommandWorkload = "command"

// ErrCommandRecord is returned (wrapped) by Evaluate for a record of
// joulebench measure.
var ErrCommandRecord = errors.New("a record of joulebench measure cannot be certified")

// evalCommandRefusal refuses a record of joulebench measure. Its work is
// whatever the command did and reported about itself: no spec defines it,
// no check can recompute its items, FLOPs or accuracy, and no rerun can be
// built from an allow-list of standard work, so a certificate of it would
// lend the command's own claims a signature they have not earned. Its
// energy is still measured energy: report and compare read the record.
func evalCommandRefusal(rec *results.Record) error {
	named := rec.Command != nil
	for _, w := range rec.Workloads {
		named = named || w.Name == CommandWorkload
	}
	if !named {
		return nil
	}
	return fmt.Errorf("certify: record %s: %w: its work is what the command itself reported (no joulebench spec defines it, and no check or rerun can test it), so there is nothing standard to certify; report and compare read it", rec.RunID, ErrCommandRecord)
}

// workFLOPsTolerance is how far, relatively, a repetition's stated FLOPs
// may lie from FLOPs per item × items: floating-point rounding of one
// product, nothing more.
const workFLOPsTolerance = 1e-9

// evalWorkRule checks what a workload says about itself and its work
// against this joulebench's code: the version, parameters, content hash
// and work unit must be the workload's own, and every repetition's FLOPs
// must be the workload's FLOPs per item times its items (2N³ per GEMM
// call), with items ≥ 1 and one item per iteration. The figures are
// computed from these numbers, so a record that multiplied its FLOPs must
// fail here rather than earn a better rating.
func evalWorkRule(wi int, w results.Workload, code workCode) Rule {
	r := Rule{Name: "work", Workload: w.Name, Hard: true}
	f := fmt.Sprintf("workloads[%d]", wi)
	if code.err != nil {
		r.Reason = fmt.Sprintf("%s.name: %q is not a workload this joulebench has, so its work cannot be checked: %v", f, w.Name, code.err)
		return r
	}
	s := code.spec
	var bad []string
	fail := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	if w.Version != s.Version {
		fail("%s.version is %q, but this joulebench's %s is version %q: the work it did cannot be checked here (verify it with the joulebench that made it, or run it again with this one)", f, w.Version, w.Name, s.Version)
	}
	if !maps.Equal(w.Params, s.Params) {
		fail("%s.params are %s, but %s's are %s", f, workParams(w.Params), w.Name, workParams(s.Params))
	}
	if w.ContentHash != s.Hash {
		fail("%s.content_hash is %q, but %s's is %q", f, w.ContentHash, w.Name, s.Hash)
	}
	if w.WorkUnit != s.WorkUnit {
		fail("%s.work_unit is %q, but %s's is %q", f, w.WorkUnit, w.Name, s.WorkUnit)
	}
	if w.Episodic != code.episodic {
		fail("%s.episodic is %v, but %s %s", f, w.Episodic, w.Name, map[bool]string{true: "is episodic (one whole job per repetition)", false: "is not episodic: its repetitions are held to the minimum time and variation"}[code.episodic])
	}
	for j, rep := range w.Reps {
		rf := fmt.Sprintf("%s.reps[%d]", f, j)
		if rep.Work.Items < 1 {
			fail("%s.work.items is %d: a repetition does at least one item", rf, rep.Work.Items)
			continue
		}
		if per := s.PerCall(); int64(rep.Iters)*per != rep.Work.Items {
			fail("%s.iters is %d but work.items is %d: each iteration of %s is %d item(s)", rf, rep.Iters, rep.Work.Items, w.Name, per)
		}
		want := s.FLOPsPerItem * float64(rep.Work.Items)
		if got := rep.Work.FLOPs; !(math.Abs(got-want) <= workFLOPsTolerance*math.Abs(want)) {
			fail("%s.work.flops is %.10g, but %d items of %s are %.10g FLOPs (%.10g each)", rf, got, rep.Work.Items, w.Name, want, s.FLOPsPerItem)
		}
	}
	if len(bad) > 0 {
		r.Reason = evalFirstOf(bad)
		return r
	}
	r.Pass = true
	r.Reason = fmt.Sprintf("version %s, parameters and content hash are %s's own, and every repetition's FLOPs are %.10g per item × its items", s.Version, w.Name, s.FLOPsPerItem)
	return r
}

func workParams(p map[string]string) string {
	if len(p) == 0 {
		return "none"
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		kv = append(kv, k+"="+strconv.Quote(p[k]))
	}
	return strings.Join(kv, ", ")
}

// evalAnswerRule requires every repetition's answer to have been checked,
// over the whole result and after that repetition's calls, and found
// right. A schema 1 record checked 64 entries of the last repetition only,
// so a fast wrong answer in the others went unseen: it is refused.
func evalAnswerRule(rec *results.Record, wi int, w results.Workload, code workCode) Rule {
	r := Rule{Name: "answer checked", Workload: w.Name, Hard: true}
	f := fmt.Sprintf("workloads[%d]", wi)
	if rec.SchemaVersion < 2 {
		r.Reason = fmt.Sprintf("schema_version is %d: its answer check covered 64 entries of the last repetition only; run it again with this joulebench", rec.SchemaVersion)
		return r
	}
	has := w.Check != nil
	for _, rep := range w.Reps {
		has = has || rep.Check != nil
	}
	if !code.checks && !has {
		// A workload that cannot check its answer (a command under
		// measure) is not refused, but the certificate says so.
		r.Hard, r.Reason = false, "the workload has no check of its answer"
		return r
	}
	if len(w.Reps) == 0 {
		r.Pass, r.Reason = true, "no repetitions to check"
		return r
	}
	worst := (*results.Check)(nil)
	for j, rep := range w.Reps {
		c := rep.Check
		rf := fmt.Sprintf("%s.reps[%d].check", f, j)
		switch {
		case c == nil:
			r.Reason = fmt.Sprintf("%s is missing: repetition %d's answer was not checked", rf, rep.Index+1)
			return r
		case !c.OK:
			r.Reason = fmt.Sprintf("%s: repetition %d's answer %s: %s %.3g (limit %.3g)%s", rf, rep.Index+1, workVerdict(c.Verdict), c.Name, c.Value, c.Limit, evalDetail(c.Detail))
			return r
		}
		if worst == nil || c.Value > worst.Value || (c.Value == worst.Value && c.Name < worst.Name) {
			worst = c
		}
	}
	if c := w.Check; c != nil && !c.OK {
		r.Reason = fmt.Sprintf("%s.check: the answer %s: %s %.3g (limit %.3g)%s", f, workVerdict(c.Verdict), c.Name, c.Value, c.Limit, evalDetail(c.Detail))
		return r
	}
	r.Pass = true
	r.Reason = fmt.Sprintf("every repetition's answer was checked after its calls and was right; worst %s %.3g (limit %.3g)", worst.Name, worst.Value, worst.Limit)
	return r
}

// workVerdict says what a failed check found, in words.
func workVerdict(v string) string {
	switch v {
	case workloads.VerdictReducedPrecision:
		return "is right only to reduced precision (the error of TF32 or BF16 arithmetic, not of the precision the workload names)"
	case workloads.VerdictWrong, "":
		return "is wrong"
	}
	return "failed its check (" + v + ")"
}

// Ceiling is the most FLOP/s the recorded host could do on a workload: an
// upper bound that no honest run reaches, so that a repetition above it
// is refused as impossible. Basis says how it was reckoned, in words.
type Ceiling struct {
	FLOPS float64 `json:"flops_per_s"`
	Basis string  `json:"basis"`
}

// ceilingClockHz is the fastest clock any shipped CPU boosts to: the Intel
// Core i9-14900KS's 6.2 GHz maximum turbo (Intel ark, "Intel Core
// i9-14900KS Processor, 36M Cache, up to 6.20 GHz", launched Q1 2024; AMD's
// fastest, the Ryzen 9 9950X, boosts to 5.7 GHz). A host that states a
// higher max_mhz (an overclock) is held to its own.
const ceilingClockHz = 6.2e9

// ceilingPerCycle is the most FLOPs one CPU can start per cycle in a
// precision, and why.
type ceilingPerCycle struct {
	fp64, fp32 float64
	why        string
}

// evalPerCycle reads the widest floating-point unit the host's CPU flags
// allow. Each figure is FMA units × lanes × 2 (an FMA is two FLOPs) of
// the widest core of that ISA, counted for every CPU.
func evalPerCycle(h results.Host) ceilingPerCycle {
	has := func(f string) bool { return slices.Contains(h.CPUFlags, f) }
	switch {
	case has("sme"):
		return ceilingPerCycle{128, 512, "sme: a matrix unit's outer product of two 512-bit vectors per cycle (Apple M4's streaming vector length), 8×8 fp64 or 16×16 fp32 FMAs × 2 FLOPs per FMA"}
	case h.Arch == "arm64" && len(h.CPUFlags) == 0:
		return ceilingPerCycle{128, 512, "an arm64 host that lists no CPU features may have a matrix unit: as sme, 8×8 fp64 or 16×16 fp32 FMAs per cycle × 2 FLOPs per FMA"}
	case has("avx512f"):
		return ceilingPerCycle{32, 64, "avx512f: 2 FMA units × 512-bit vectors × 2 FLOPs per FMA"}
	case has("sve") || has("sve2"):
		return ceilingPerCycle{32, 64, "sve: 2 FMA pipes × 512-bit vectors (A64FX) × 2 FLOPs per FMA"}
	case has("avx2") && has("fma"):
		return ceilingPerCycle{16, 32, "avx2 and fma: 2 FMA units × 256-bit vectors × 2 FLOPs per FMA"}
	case has("asimd"):
		return ceilingPerCycle{16, 32, "asimd: 4 FMA pipes × 128-bit vectors (Neoverse V2, Apple's cores) × 2 FLOPs per FMA"}
	}
	return ceilingPerCycle{32, 64, "the host lists no vector unit joulebench knows, so the widest x86 one is assumed: 2 FMA units × 512-bit vectors × 2 FLOPs per FMA"}
}

// evalCeiling is the throughput ceiling of a CPU workload on the record's
// host: CPUs × clock × FLOPs per cycle per CPU, each an upper bound that
// no honest run exceeds. CPUs are the larger of logical CPUs and cores,
// with SMT siblings counted as if each had its own units; the clock is
// ceilingClockHz or the host's max_mhz if higher; FLOPs per cycle come
// from the widest unit its CPU flags allow, in the workload's precision.
func evalCeiling(h results.Host, precision string) Ceiling {
	cpus := max(h.LogicalCPUs, h.Cores, 0)
	clock, clockWhy := ceilingClockHz, "6.2 GHz (the fastest shipped boost clock, Intel Core i9-14900KS)"
	if hz := h.MaxMHz * 1e6; hz > clock {
		clock, clockWhy = hz, fmt.Sprintf("%s GHz (the host's max_mhz, above 6.2 GHz)", strconv.FormatFloat(h.MaxMHz/1000, 'g', -1, 64))
	}
	pc := evalPerCycle(h)
	per, prec := pc.fp32, "fp32"
	switch precision {
	case "fp64":
		per, prec = pc.fp64, "fp64"
	case "fp32":
	case "bf16":
		per, prec = 2*pc.fp32, "bf16 (twice fp32: a bf16 dot-product instruction does two multiply-adds per fp32 lane)"
		if slices.Contains(h.CPUFlags, "amx_bf16") {
			per, prec = 1024, "bf16 (AMX: a 16×32 by 32×16 bf16 tile product, 512 multiply-adds per cycle per core, × 2)"
		}
	case "int8":
		per, prec = 4*pc.fp32, "int8 operations (four times fp32: a VNNI dot-product instruction does four u8×s8 multiply-adds per 32-bit lane)"
		if slices.Contains(h.CPUFlags, "amx_int8") {
			per, prec = 2048, "int8 operations (AMX: 1024 int8 multiply-adds per cycle per core, × 2)"
		}
	default:
		prec = "fp32 (the workload names no fp64 or fp32 precision, so the larger figure)"
	}
	c := Ceiling{FLOPS: float64(cpus) * clock * per}
	c.Basis = fmt.Sprintf("%d CPUs (the larger of logical_cpus %d and cores %d, each counted with its own units) × %s × %s %s FLOPs per cycle (%s) = %.4g FLOP/s",
		cpus, h.LogicalCPUs, h.Cores, clockWhy, strconv.FormatFloat(per, 'g', -1, 64), prec, pc.why, c.FLOPS)
	return c
}

// evalCeilingRule refuses a repetition whose throughput (FLOPs over its
// duration) is above the ceiling: no host does more than its units can,
// so such a repetition's FLOPs, items or duration are not what happened.
func evalCeilingRule(wi int, w results.Workload, c Ceiling) Rule {
	r := Rule{Name: "throughput ceiling", Workload: w.Name, Hard: true}
	f := fmt.Sprintf("workloads[%d]", wi)
	best := 0.0
	for j, rep := range w.Reps {
		rf := fmt.Sprintf("%s.reps[%d]", f, j)
		if rep.Work.FLOPs <= 0 {
			continue
		}
		if !(rep.DurationS > 0) {
			r.Reason = fmt.Sprintf("%s.duration_s is %g with %.4g FLOPs: infinite throughput", rf, rep.DurationS, rep.Work.FLOPs)
			return r
		}
		tp := rep.Work.FLOPs / rep.DurationS
		if !(tp <= c.FLOPS) {
			r.Reason = fmt.Sprintf("%s: %.4g FLOPs in %s s (work.flops / duration_s) is %.4g FLOP/s, above the %.4g FLOP/s this host could do at most (%s)",
				rf, rep.Work.FLOPs, evalSecs(rep.DurationS), tp, c.FLOPS, c.Basis)
			return r
		}
		best = math.Max(best, tp)
	}
	r.Pass = true
	r.Reason = fmt.Sprintf("fastest repetition %.4g FLOP/s, at most %.4g FLOP/s on this host", best, c.FLOPS)
	return r
}

// evalAccuracyRule recomputes a model workload's accuracy, and its fp32
// reference's, on the whole test set with joulebench's own pure-Go
// kernels (no library is loaded), and holds every repetition's stated
// accuracy and reference accuracy to them, within
// workloads.AccuracyTolerance. The accuracy gate and the savings are read
// from those figures, so a record that raised a variant's accuracy, or
// lowered its reference's, must fail here. ok is false for workloads that
// have no accuracy to check.
func evalAccuracyRule(wi int, w results.Workload) (rules []Rule, ok bool) {
	r, acc, ref, ok := evalAccuracyFigures(wi, w)
	if !ok {
		return nil, false
	}
	rules = append(rules, r)
	if r.Pass {
		rules = append(rules, evalGateRule(w, acc, ref))
	}
	return rules, true
}

func evalAccuracyFigures(wi int, w results.Workload) (r Rule, acc, ref float64, ok bool) {
	wl, err := workloads.New(w.Name, workloads.Options{})
	if err != nil {
		return Rule{}, 0, 0, false
	}
	ac, isAC := wl.(workloads.AccuracyChecker)
	if !isAC {
		return Rule{}, 0, 0, false
	}
	r = Rule{Name: "accuracy recomputed", Workload: w.Name, Hard: true}
	acc, ref, err = ac.RecomputeAccuracy(context.Background())
	if err != nil {
		r.Reason = fmt.Sprintf("could not recompute %s's accuracy here, so the record's cannot be checked: %v", w.Name, err)
		return r, acc, ref, true
	}
	f := fmt.Sprintf("workloads[%d]", wi)
	tol := workloads.AccuracyTolerance
	for j, rep := range w.Reps {
		rf := fmt.Sprintf("%s.reps[%d].work.quality", f, j)
		for _, q := range []struct {
			key  string
			want float64
		}{{results.QAccuracy, acc}, {results.QReferenceAccuracy, ref}} {
			got, has := rep.Work.Quality[q.key]
			switch {
			case !has:
				r.Reason = fmt.Sprintf("%s.%s is missing: repetition %d states no accuracy", rf, q.key, rep.Index+1)
				return r, acc, ref, true
			case !(math.Abs(got-q.want) <= tol):
				r.Reason = fmt.Sprintf("%s.%s is %.4f, but recomputed with joulebench's own kernels it is %.4f (tolerance %.4f)", rf, q.key, got, q.want, tol)
				return r, acc, ref, true
			}
		}
	}
	// The gate level is decided on the recomputed figures, and the
	// record's own must say the same: two figures each moved within the
	// tolerance must not lift a variant into a higher level.
	want, stated := metrics.GateOf(acc, ref), metrics.AccuracyGate(w)
	if stated.Level != want.Level {
		r.Reason = fmt.Sprintf("%s.reps[*].work.quality puts the variant at gate %q (%.4f of the reference), but recomputed it is at %q (%.4f of %.4f)", f, stated.Level, stated.Ratio, want.Level, want.Ratio, ref)
		return r, acc, ref, true
	}
	r.Pass = true
	r.Reason = fmt.Sprintf("every repetition's accuracy is within %.4f of %.4f and its reference's of %.4f, both recomputed on the whole test set with joulebench's own pure-Go kernels", tol, acc, ref)
	return r, acc, ref, true
}

// evalGateRule is the MLPerf accuracy gate, on the recomputed accuracies:
// a variant below 99% of its fp32 reference's accuracy is not a valid
// result, whatever its energy.
func evalGateRule(w results.Workload, acc, ref float64) Rule {
	g := metrics.GateOf(acc, ref)
	r := Rule{Name: "accuracy gate", Workload: w.Name, Hard: true, Pass: g.Pass()}
	r.Reason = fmt.Sprintf("accuracy %.2f%% is %.2f%% of the fp32 reference's %.2f%% (recomputed): gate %s; the minimum is 99%%", 100*acc, 100*g.Ratio, 100*ref, g.Level)
	return r
}
