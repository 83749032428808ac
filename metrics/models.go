package metrics

import (
	"fmt"
	"math"
	"sort"

	"github.com/joulebench/joulebench/results"
)

// The accuracy gates of MLPerf Inference: a variant is valid at the 99%
// (99.9%) level when its accuracy is at least 99% (99.9%) of the fp32
// reference's (MLPerf Inference rules, "Benchmarks" table: 99% and 99.9%
// of FP32 accuracy targets).
const (
	GateLow  = 0.99
	GateHigh = 0.999
)

// Gate is where a model workload's accuracy stands against its fp32
// reference's, from the medians over its repetitions.
type Gate struct {
	// Known is false when the workload measured no accuracy.
	Known                      bool
	Accuracy, Reference, Ratio float64
	// Level is "99.9%", "99%" or "below 99%".
	Level string
}

// Pass reports whether the variant meets at least the 99% gate.
func (g Gate) Pass() bool { return g.Known && g.Ratio >= GateLow }

// AccuracyGate reads the accuracy a model workload measured on the full
// test set and its reference's, and says which gate it meets. The lowest
// accuracy of any repetition and the highest reference accuracy are used:
// both are deterministic for given weights, so they should not vary, and
// a repetition below the gate must not hide behind a median.
func AccuracyGate(w results.Workload) Gate {
	acc, ref := math.Inf(1), math.Inf(-1)
	n := 0
	for _, r := range w.Reps {
		a, okA := r.Work.Quality[results.QAccuracy]
		b, okB := r.Work.Quality[results.QReferenceAccuracy]
		if !okA || !okB {
			continue
		}
		acc, ref, n = math.Min(acc, a), math.Max(ref, b), n+1
	}
	if n == 0 {
		return Gate{}
	}
	return GateOf(acc, ref)
}

// GateOf says which gate an accuracy meets against a reference accuracy.
func GateOf(acc, ref float64) Gate {
	if !(ref > 0) || math.IsNaN(acc) || acc < 0 || acc > 1 || ref > 1 {
		return Gate{}
	}
	g := Gate{Known: true, Accuracy: acc, Reference: ref, Ratio: acc / ref}
	switch {
	case g.Ratio >= GateHigh:
		g.Level = "99.9%"
	case g.Ratio >= GateLow:
		g.Level = "99%"
	default:
		g.Level = "below 99%"
	}
	return g
}

// ModelRow is one model workload's figures: accuracy and its gate, energy
// per inference, throughput, latency, and the saving against the fp32
// reference of the same model and scenario in the same record.
type ModelRow struct {
	Name, Model, Variant, Scenario string
	Gate                           Gate
	// JPerInf is gross joules per inference; Throughput inferences per
	// second, over the repetitions.
	JPerInf, Throughput Stats
	// Latency: medians over the repetitions of each repetition's p50, p90
	// and p99, in milliseconds; NaN when not measured (Offline).
	P50, P90, P99 float64
	Valid         bool
	// Ranked: valid and at least at the 99% gate; only ranked rows are
	// compared as savings and placed on the Pareto front.
	Ranked bool
	// ReferenceMismatch says how the variant's stated reference accuracy
	// disagrees with the fp32 workload's measured one in the same record;
	// such a row is not ranked.
	ReferenceMismatch string
	// Reference is the fp32 workload the saving is against, "" when the
	// record has none or this is it. Saving is nil then.
	Reference string
	Saving    *Saving
	// DominatedBy names a ranked row of the same scenario with at least
	// this accuracy at no more energy per inference (one of them
	// strictly better); "" for the Pareto front.
	DominatedBy string
}

// ModelRows gives a row for every model workload in rec (those with a
// scenario param), in record order.
func ModelRows(rec *results.Record, sums []Summary) []ModelRow {
	byName := map[string]int{}
	for i, s := range sums {
		byName[s.Name] = i
	}
	var rows []ModelRow
	var reps [][]float64
	for i, w := range rec.Workloads {
		sc := w.Params[results.ParamScenario]
		if sc == "" || i >= len(sums) {
			continue
		}
		s := sums[i]
		row := ModelRow{
			Name: w.Name, Model: w.Params[results.ParamModel], Variant: w.Params[results.ParamVariant], Scenario: sc,
			Gate: AccuracyGate(w), JPerInf: s.Stats[FigJPerItem], Valid: s.Validity.Valid,
			P50: qualityMedian(w, results.QLatencyP50), P90: qualityMedian(w, results.QLatencyP90), P99: qualityMedian(w, results.QLatencyP99),
		}
		tp := make([]float64, len(w.Reps))
		jp := make([]float64, len(s.Reps))
		for k, r := range w.Reps {
			tp[k] = math.NaN()
			if r.DurationS > 0 {
				tp[k] = float64(r.Work.Items) / r.DurationS
			}
		}
		for k, r := range s.Reps {
			jp[k] = r.JPerItem
		}
		row.Throughput = DescribeNonNegative(tp)
		row.Ranked = row.Valid && row.Gate.Pass()
		rows = append(rows, row)
		reps = append(reps, jp)
	}
	// The reference accuracy is the fp32 workload's own measured accuracy
	// where the record has one (of the same model, any scenario): a
	// variant's stated reference_accuracy is not taken on trust when the
	// record can say otherwise. A disagreement is kept for the warnings.
	for i := range rows {
		r := &rows[i]
		if !r.Gate.Known {
			continue
		}
		for _, b := range rows {
			if b.Variant == "fp32" && b.Model == r.Model && b.Gate.Known {
				if math.Abs(b.Gate.Accuracy-r.Gate.Reference) > ReferenceTolerance {
					r.ReferenceMismatch = fmt.Sprintf("states the fp32 reference's accuracy as %.4f, but %s measured %.4f", r.Gate.Reference, b.Name, b.Gate.Accuracy)
				}
				r.Gate = GateOf(r.Gate.Accuracy, math.Max(r.Gate.Reference, b.Gate.Accuracy))
				break
			}
		}
		r.Ranked = r.Valid && r.Gate.Pass() && r.ReferenceMismatch == ""
	}
	// Savings against the fp32 row of the same model and scenario.
	for i := range rows {
		r := &rows[i]
		if r.Variant == "fp32" {
			continue
		}
		for j, b := range rows {
			if b.Variant == "fp32" && b.Model == r.Model && b.Scenario == r.Scenario {
				r.Reference = b.Name
				if r.Ranked && b.Valid {
					sv := Compare(reps[j], reps[i])
					r.Saving = &sv
				}
				break
			}
		}
	}
	// The Pareto front of accuracy against energy per inference, per
	// scenario, among ranked rows.
	for i := range rows {
		r := &rows[i]
		if !r.Ranked {
			continue
		}
		best := -1
		for j, o := range rows {
			if j == i || !o.Ranked || o.Scenario != r.Scenario {
				continue
			}
			ja, jb := o.JPerInf.Median, r.JPerInf.Median
			aa, ab := o.Gate.Accuracy, r.Gate.Accuracy
			if ja <= jb && aa >= ab && (ja < jb || aa > ab) {
				if best < 0 || o.JPerInf.Median < rows[best].JPerInf.Median {
					best = j
				}
			}
		}
		if best >= 0 {
			r.DominatedBy = rows[best].Name
		}
	}
	return rows
}

// ReferenceTolerance is how far a variant's stated reference accuracy may
// lie from the fp32 workload's measured one: 20 of 10,000 images.
const ReferenceTolerance = 0.002

// SavingWords says a row's saving as a sentence: "int8 uses 71% less
// energy per inference (95% CI 68–74%), at 99.9% of reference accuracy".
func (r ModelRow) SavingWords() string {
	switch {
	case r.Variant == "fp32":
		return fmt.Sprintf("%s is the reference", r.Name)
	case !r.Gate.Known:
		return fmt.Sprintf("%s: not ranked: no accuracy measured", r.Variant)
	case r.ReferenceMismatch != "":
		return fmt.Sprintf("%s: not ranked: it %s", r.Variant, r.ReferenceMismatch)
	case !r.Gate.Pass():
		return fmt.Sprintf("%s: not ranked: accuracy %.2f%% is %.1f%% of the reference's %.2f%%, below the 99%% gate",
			r.Variant, 100*r.Gate.Accuracy, 100*r.Gate.Ratio, 100*r.Gate.Reference)
	case !r.Valid:
		return fmt.Sprintf("%s: not ranked: the measurement is not valid (see the warnings)", r.Variant)
	case r.Saving == nil && r.Reference != "":
		return fmt.Sprintf("%s: not compared: the fp32 reference %s is not a valid measurement", r.Variant, r.Reference)
	case r.Saving == nil:
		return fmt.Sprintf("%s: no fp32 reference of %s %s in this record to compare with", r.Variant, r.Model, r.Scenario)
	}
	return fmt.Sprintf("%s %s, at %.1f%% of reference accuracy (gate %s)", r.Variant, r.Saving.Describe("energy per inference"), 100*r.Gate.Ratio, r.Gate.Level)
}

func qualityMedian(w results.Workload, key string) float64 {
	var v []float64
	for _, r := range w.Reps {
		if x, ok := r.Work.Quality[key]; ok {
			v = append(v, x)
		}
	}
	return Median(v)
}

// TransferRow is one transfer-learning strategy: how many of its jobs
// reached the target, and the energy to reach it over those that did.
type TransferRow struct {
	Name, Strategy string
	Target         float64
	Jobs           int
	Converged      int
	// Energy is gross joules to the target accuracy, over converged jobs
	// only: a job that missed its target has no energy-to-target.
	Energy Stats
	Steps  float64
	// Saving against training from scratch, over converged jobs; nil for
	// scratch itself, pretraining, or when either side has none.
	Saving *Saving
	// BreakEven is how many fine-tuning jobs repay the pretraining energy
	// from their saving against scratch; NaN when there is none, and
	// NoBreakEven says why.
	BreakEven   float64
	NoBreakEven string
	// NoSaving says why Saving is nil for a fine-tuning strategy.
	NoSaving string
	// Disbelieved counts jobs that said they converged but stopped below
	// the target: they are counted as not converged.
	Disbelieved int
}

// MinConvergedJobs is the fewest jobs that must reach the target, on
// each side, for a saving to be computed.
const MinConvergedJobs = 2

// TransferRows gives a row per transfer-learning workload (one with a
// strategy param) in rec, in record order.
func TransferRows(rec *results.Record, sums []Summary) []TransferRow {
	var rows []TransferRow
	energies := map[string][]float64{}
	for i, w := range rec.Workloads {
		st := w.Params[results.ParamStrategy]
		if st == "" || i >= len(sums) {
			continue
		}
		row := TransferRow{Name: w.Name, Strategy: st, Jobs: len(w.Reps), BreakEven: math.NaN()}
		var e, steps []float64
		for k, r := range w.Reps {
			// Pretraining has no target: every finished job counts. A
			// fine-tuning job counts when it says it converged and the
			// accuracy it stopped at is the target: a converged flag
			// the accuracy does not bear out is not believed.
			q := r.Work.Quality
			done := st == "pretrain" || q[results.QConverged] == 1
			if at, ok := q[results.QAccuracy+"_at_stop"]; done && st != "pretrain" && (!ok || at < q[results.QTarget]) {
				done = false
				row.Disbelieved++
			}
			if done && k < len(sums[i].Reps) {
				row.Converged++
				e = append(e, sums[i].Reps[k].Gross.Joules())
				steps = append(steps, r.Work.Quality[results.QSteps])
			}
			if t, ok := r.Work.Quality[results.QTarget]; ok {
				row.Target = t
			}
		}
		row.Energy = DescribeNonNegative(e)
		row.Steps = Median(steps)
		energies[st] = e
		rows = append(rows, row)
	}
	pre := Median(energies["pretrain"])
	for i := range rows {
		r := &rows[i]
		if r.Strategy == "scratch" || r.Strategy == "pretrain" {
			continue
		}
		if len(energies["scratch"]) == 0 || len(energies[r.Strategy]) == 0 {
			continue
		}
		// A saving over one job each has no interval worth the name: at
		// least MinConvergedJobs on both sides.
		if len(energies["scratch"]) < MinConvergedJobs || len(energies[r.Strategy]) < MinConvergedJobs {
			r.NoSaving = fmt.Sprintf("fewer than %d jobs reached the target (%s %d, scratch %d): no saving is computed", MinConvergedJobs, r.Strategy, len(energies[r.Strategy]), len(energies["scratch"]))
			continue
		}
		sv := Compare(energies["scratch"], energies[r.Strategy])
		r.Saving = &sv
		perJob := Median(energies["scratch"]) - Median(energies[r.Strategy])
		switch {
		case len(energies["pretrain"]) == 0:
			r.NoBreakEven = "no pretraining in this record"
		case perJob <= 0:
			r.NoBreakEven = "never: no saving per job"
		case sv.CILow <= 0:
			r.NoBreakEven = "not shown: the saving's interval includes 0"
		default:
			r.BreakEven = math.Ceil(pre / perJob)
		}
	}
	return rows
}

// SortedScenarios lists the scenarios of rows in a fixed order.
func SortedScenarios(rows []ModelRow) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if !seen[r.Scenario] {
			seen[r.Scenario] = true
			out = append(out, r.Scenario)
		}
	}
	sort.Strings(out)
	return out
}
