package metrics

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

// modelRecord builds a record of model workloads on one counter meter:
// each workload's repetitions spend the given joules on items inferences,
// at the given accuracy against a reference accuracy of 0.98.
func modelRecord(ws ...modelSpec) *results.Record {
	cfg := results.Config{Reps: 3, MinTimeS: 1, MinReadings: 1}
	rec := &results.Record{Config: cfg, Complete: true,
		Meters: []results.Meter{{Name: "m", Method: results.MethodCounter, Domains: []results.Domain{{Name: "package-0", Kind: "package", InTotal: true}}}}}
	for _, s := range ws {
		w := results.Workload{Name: s.name, Params: map[string]string{
			results.ParamModel: s.model, results.ParamVariant: s.variant, results.ParamScenario: s.scenario}}
		if s.strategy != "" {
			w.Params = map[string]string{results.ParamStrategy: s.strategy}
			w.Episodic = true
		}
		for i, j := range s.joules {
			q := map[string]float64{results.QAccuracy: s.acc, results.QReferenceAccuracy: 0.98}
			if s.strategy != "" {
				q = map[string]float64{results.QConverged: 1, results.QSteps: 100, results.QTarget: 0.95, results.QAccuracy + "_at_stop": 0.951}
				if i < len(s.converged) && !s.converged[i] {
					q[results.QConverged] = 0
					q[results.QAccuracy+"_at_stop"] = 0.93
				}
				if i < len(s.liar) && s.liar[i] {
					q[results.QAccuracy+"_at_stop"] = 0.5
				}
			}
			w.Reps = append(w.Reps, results.Rep{Index: i, DurationS: 2, Readings: 20, Iters: 1,
				EnergyJ: map[string]float64{"package-0": j}, Work: results.Work{Items: 1000, Quality: q}})
		}
		w.Check = &results.Check{Name: "agreement", OK: true, Limit: 0.002}
		rec.Workloads = append(rec.Workloads, w)
	}
	return rec
}

type modelSpec struct {
	name, model, variant, scenario, strategy string
	acc                                      float64
	joules                                   []float64
	converged, liar                          []bool
}

func TestAccuracyGateLevels(t *testing.T) {
	for _, tc := range []struct {
		acc   float64
		level string
		pass  bool
	}{{0.98, "99.9%", true}, {0.9791, "99.9%", true}, {0.9789, "99%", true}, {0.9702, "99%", true}, {0.9701, "below 99%", false}, {0.5, "below 99%", false}} {
		rec := modelRecord(modelSpec{name: "x", model: "mnist-mlp", variant: "int8", scenario: "offline", acc: tc.acc, joules: []float64{1, 1, 1}})
		g := AccuracyGate(rec.Workloads[0])
		if !g.Known || g.Level != tc.level || g.Pass() != tc.pass {
			t.Errorf("accuracy %g of 0.98: got %+v, want level %s pass %v", tc.acc, g, tc.level, tc.pass)
		}
	}
	if g := AccuracyGate(results.Workload{Reps: []results.Rep{{}}}); g.Known || g.Pass() {
		t.Errorf("no accuracy measured: got %+v", g)
	}
}

// A variant below the 99% gate is marked invalid, says why, and is never
// ranked as a saving or placed on the Pareto front.
func TestBelowGateIsInvalidAndNotRanked(t *testing.T) {
	rec := modelRecord(
		modelSpec{name: "ref", model: "mnist-mlp", variant: "fp32", scenario: "offline", acc: 0.98, joules: []float64{10, 10.2, 9.8}},
		modelSpec{name: "p90", model: "mnist-mlp", variant: "prune90", scenario: "offline", acc: 0.90, joules: []float64{1, 1.1, 0.9}},
	)
	sums := Summarize(rec)
	if sums[1].Validity.Valid {
		t.Fatal("a variant at 91.8% of the reference's accuracy is valid")
	}
	if f := strings.Join(sums[1].Validity.Failed(), "\n"); !strings.Contains(f, "accuracy: accuracy 90.00% is 91.84% of the fp32 reference's 98.00%") {
		t.Errorf("reason: %s", f)
	}
	rows := ModelRows(rec, sums)
	if rows[1].Ranked || rows[1].Saving != nil || rows[1].DominatedBy != "" {
		t.Errorf("below-gate row ranked: %+v", rows[1])
	}
	if w := rows[1].SavingWords(); !strings.Contains(w, "not ranked") {
		t.Errorf("words: %s", w)
	}
}

func TestModelSavingAndPareto(t *testing.T) {
	rec := modelRecord(
		modelSpec{name: "ref", model: "mnist-mlp", variant: "fp32", scenario: "offline", acc: 0.98, joules: []float64{10, 10.1, 9.9}},
		modelSpec{name: "int8", model: "mnist-mlp", variant: "int8", scenario: "offline", acc: 0.9795, joules: []float64{3, 3.05, 2.95}},
		// Dominated by int8: less accurate and dearer.
		modelSpec{name: "p50", model: "mnist-mlp", variant: "prune50", scenario: "offline", acc: 0.979, joules: []float64{12, 12.1, 11.9}},
		// Cheapest, least accurate but above the gate: on the front.
		modelSpec{name: "student", model: "mnist-mlp", variant: "student", scenario: "offline", acc: 0.975, joules: []float64{0.5, 0.51, 0.49}},
		// Another scenario: its own front, no reference of its own.
		modelSpec{name: "int8-ss", model: "mnist-mlp", variant: "int8", scenario: "singlestream", acc: 0.981, joules: []float64{5, 5, 5}},
	)
	rows := ModelRows(rec, Summarize(rec))
	byName := map[string]ModelRow{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	i8 := byName["int8"]
	if i8.Saving == nil || math.Abs(i8.Saving.Saving-0.7) > 1e-9 {
		t.Fatalf("int8 saving: %+v", i8.Saving)
	}
	if !(i8.Saving.CILow < 0.7 && i8.Saving.CIHigh > 0.7) {
		t.Errorf("int8 CI [%g, %g] does not hold 0.7", i8.Saving.CILow, i8.Saving.CIHigh)
	}
	if w := i8.SavingWords(); !strings.HasPrefix(w, "int8 uses 70% less energy per inference (95% CI ") || !strings.Contains(w, "of reference accuracy (gate 99.9%)") {
		t.Errorf("words: %s", w)
	}
	if byName["p50"].DominatedBy != "int8" {
		t.Errorf("prune50 dominated by %q, want int8", byName["p50"].DominatedBy)
	}
	for _, n := range []string{"ref", "int8", "student", "int8-ss"} {
		if byName[n].DominatedBy != "" {
			t.Errorf("%s dominated by %s; it is on the front", n, byName[n].DominatedBy)
		}
	}
	if p := byName["p50"].Saving; p == nil || p.Saving > 0 {
		t.Errorf("prune50 costs more than the reference: saving %+v", p)
	}
	if byName["int8-ss"].Saving != nil || !strings.Contains(byName["int8-ss"].SavingWords(), "no fp32 reference") {
		t.Errorf("singlestream int8 without a reference: %q", byName["int8-ss"].SavingWords())
	}
}

func TestTransferRows(t *testing.T) {
	rec := modelRecord(
		modelSpec{name: "pre", strategy: "pretrain", joules: []float64{100, 100, 100}},
		modelSpec{name: "scratch", strategy: "scratch", joules: []float64{50, 52, 48}},
		modelSpec{name: "full", strategy: "full", joules: []float64{10, 11, 9, 1000}, converged: []bool{true, true, true, false}},
		modelSpec{name: "head", strategy: "head", joules: []float64{5, 5, 5}, converged: []bool{false, false, false}},
		// One job converged, one says so at 50% accuracy: no saving.
		modelSpec{name: "few", strategy: "few", joules: []float64{1, 1, 1}, converged: []bool{true, true, false}, liar: []bool{false, true, false}},
	)
	rows := TransferRows(rec, Summarize(rec))
	if few := rows[4]; few.Converged != 1 || few.Disbelieved != 1 || few.Saving != nil || few.NoSaving == "" {
		t.Errorf("a strategy with one believable converged job: %+v", few)
	}
	rows = rows[:4]
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	full, head := rows[2], rows[3]
	if full.Converged != 3 || full.Jobs != 4 || full.Energy.Median != 10 {
		t.Errorf("full: %+v (the job that missed its target must not count)", full)
	}
	// Pretraining 100 J, saving 50 − 10 = 40 J a job: repaid after 3 jobs.
	if full.BreakEven != 3 {
		t.Errorf("break-even %g, want 3", full.BreakEven)
	}
	if head.Converged != 0 || head.Saving != nil || head.Energy.N != 0 {
		t.Errorf("head never converged but has figures: %+v", head)
	}
}

// ExampleAccuracyGate shows the MLPerf gate: 97.9% against a 98.0%
// reference is 99.898% of it, which misses the 99.9% level and meets 99%.
func ExampleAccuracyGate() {
	w := results.Workload{Reps: []results.Rep{{Work: results.Work{Quality: map[string]float64{
		results.QAccuracy: 0.979, results.QReferenceAccuracy: 0.980}}}}}
	g := AccuracyGate(w)
	fmt.Printf("%.5f of the reference: gate %s\n", g.Ratio, g.Level)
	// Output: 0.99898 of the reference: gate 99%
}

// A variant's stated reference accuracy is held to the fp32 workload's own
// measured accuracy in the same record: lowering it to pass the gate does
// not rank the variant.
func TestReferenceFromRecord(t *testing.T) {
	rec := modelRecord(
		modelSpec{name: "ref", model: "mnist-mlp", variant: "fp32", scenario: "offline", acc: 0.98, joules: []float64{10, 10, 10}},
		modelSpec{name: "p90", model: "mnist-mlp", variant: "prune90", scenario: "offline", acc: 0.96, joules: []float64{4, 4, 4}},
	)
	for i := range rec.Workloads[1].Reps {
		rec.Workloads[1].Reps[i].Work.Quality[results.QReferenceAccuracy] = 0.961 // forged
	}
	rows := ModelRows(rec, Summarize(rec))
	p := rows[1]
	if p.Ranked || p.Saving != nil || p.ReferenceMismatch == "" || p.Gate.Pass() {
		t.Errorf("a forged reference accuracy ranked the variant: %+v", p)
	}
	if w := p.SavingWords(); !strings.Contains(w, "ref measured 0.9800") {
		t.Errorf("words: %s", w)
	}
}

// A GEMM record that calls itself episodic to dodge the duration and
// variation rules is not believed.
func TestEpisodicFlagNotTrusted(t *testing.T) {
	cfg := results.Config{Reps: 3, MinTimeS: 2, MinReadings: 1, MaxCV: 0.05}
	rep := func(d, j float64) results.Rep {
		return results.Rep{DurationS: d, Readings: 5, Iters: 40, EnergyJ: map[string]float64{"package-0": j}, Work: results.Work{Items: 40}}
	}
	meters := []results.Meter{{Name: "m", Method: results.MethodCounter, Domains: []results.Domain{{Name: "package-0", Kind: "package", InTotal: true}}}}
	w := results.Workload{Name: "gemm-fp32-512", Episodic: true, Warmup: &results.Phase{}, Reps: []results.Rep{rep(0.1, 1), rep(0.1, 5), rep(0.1, 9)}}
	rec := &results.Record{Config: cfg, Meters: meters, Workloads: []results.Workload{w}}
	v := Summarize(rec)[0].Validity
	f := strings.Join(v.Failed(), "\n")
	for _, want := range []string{"episodic: the record calls the workload episodic, but it has a warm-up", "duration:", "variation:"} {
		if !strings.Contains(f, want) {
			t.Errorf("a forged episodic flag: reasons lack %q:\n%s", want, f)
		}
	}
}
