package report

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// TestStatementGolden: testdata/html/CASE.statement.txt is the
// statement of CASE.json (-update rewrites it).
func TestStatementGolden(t *testing.T) {
	for _, name := range htmlCases(t) {
		t.Run(name, func(t *testing.T) {
			s, err := Statement(mustReadHTMLCase(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(s, "\n") {
				t.Error("the statement is not one paragraph")
			}
			golden(t, filepath.Join("testdata", "html", name+".statement.txt"), []byte(s+"\n"))
		})
	}
}

// TestStatementSays: the parts a paper needs are all there.
func TestStatementSays(t *testing.T) {
	s, err := Statement(mustReadHTMLCase(t, "quick-estimate"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"joulebench dev", "quick suite v2", "AMD EPYC (2 logical CPUs",
		"ESTIMATED, not measured", "the estimate meter",
		"mnist-mlp-int8-offline, 24.2 µJ per inference (95% CI 21.5–29.5; estimated)",
		"gemm-fp64-1024, 8.6 GFLOPS/W (95% CI 5.2–16.4; estimated), NOT VALID (variation)",
		"The whole run (from the first meter reading to the last",
		"gCO2e", "region WORLD", "Ember", "PUE of 1", "embodied not included",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("the statement does not say %q:\n%s", w, s)
		}
	}
}

// TestWholeRun: the run's total is every phase's energy, not only the
// repetitions', and its carbon follows from it.
func TestWholeRun(t *testing.T) {
	rec := mustReadHTMLCase(t, "fake-carbon")
	doms := metrics.TotalDomains(rec)
	var reps, all metrics.Energy
	all += metrics.Total(rec.Idle.EnergyJ, doms)
	for _, w := range rec.Workloads {
		if w.Warmup != nil {
			all += metrics.Total(w.Warmup.EnergyJ, doms)
		}
		for _, r := range w.Reps {
			reps += metrics.Total(r.EnergyJ, doms)
		}
	}
	all += reps
	got := wholeRun(rec)
	// From the first reading to the last: more than the phases (the
	// checks between them count too), and the fake meter's constant 55 W
	// over the readings' span.
	if !got.FromReadings || !(got.Energy >= all) || math.Abs(got.Energy.Joules()-55*got.Seconds) > 0.01*got.Energy.Joules() {
		t.Errorf("whole run %v over %.3f s, want at least the phases' %v and 55 W × the span (repetitions alone %v)", got.Energy, got.Seconds, all, reps)
	}
	c := rec.Carbon
	op := got.Energy.KWh() * c.PUE * c.GramsPerKWh
	if c.Embodied == nil || math.IsNaN(got.Embodied) || got.Embodied <= 0 {
		t.Fatalf("embodied %v for a record with embodied carbon", got.Embodied)
	}
	if math.Abs(got.Grams-(op+got.Embodied)) > 1e-9*got.Grams {
		t.Errorf("grams %v, want %v + %v", got.Grams, op, got.Embodied)
	}
	rec.Carbon = nil
	if g := wholeRun(rec).Grams; !math.IsNaN(g) {
		t.Errorf("grams %v without a carbon section, want NaN", g)
	}
}

// TestStatementNoCarbonNoReps: a record without carbon or repetitions
// says so rather than print zeros.
func TestStatementNoCarbonNoReps(t *testing.T) {
	rec := &results.Record{RunID: "r", Complete: true, Tool: results.Tool{Name: "joulebench", Version: "1"},
		Config:    results.Config{Suite: "quick", SuiteVersion: "2", Reps: 3, MinTimeS: 2},
		Host:      results.Host{CPUModel: "X", LogicalCPUs: 4},
		Workloads: []results.Workload{{Name: "gemm-fp64-64"}}}
	s, err := Statement(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"No energy meter was used", "no GFLOPS/W (no repetition defined it)", "no carbon accounting"} {
		if !strings.Contains(s, w) {
			t.Errorf("the statement does not say %q:\n%s", w, s)
		}
	}
}
