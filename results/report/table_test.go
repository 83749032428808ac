package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

func record(method string, estimated bool) *results.Record {
	return &results.Record{
		RunID: "r", Complete: true,
		Config: results.Config{Suite: "quick", SuiteVersion: "1"},
		Meters: []results.Meter{{Name: "m", Method: method, Estimated: estimated, Domains: []results.Domain{
			{Name: "package-0", Kind: "package", InTotal: true},
			{Name: "core-0", Kind: "core", Parent: "package-0"},
		}}},
		Idle: &results.Phase{DurationS: 1, EnergyJ: map[string]float64{"package-0": 10}},
		Workloads: []results.Workload{{Name: "gemm-fp64-64", Info: map[string]string{"provider": "gonum", "threads": "2", "warning": "pure-Go gonum BLAS: not the hardware"},
			Reps: []results.Rep{{DurationS: 2, Iters: 4, EnergyJ: map[string]float64{"package-0": 40, "core-0": 30}, Work: results.Work{FLOPs: 80e9, Items: 4}}}}},
	}
}

func TestTableMeasured(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, record(results.MethodCounter, false)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// 80 GFLOP over 2 s is 40 GFLOP/s; 40 J is 20 W, 10 J a call, 2 GFLOPS/W
	// gross; net of the 10 W idle, 20 J: 4 GFLOPS/W. The core zone is not added.
	for _, want := range []string{"40.0", "20.0", "10.000", "2.000", "4.000", "core-0 (not in total)", "WARNING: gemm-fp64-64: pure-Go gonum BLAS", "gonum ×2"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(strings.ToLower(out), "estimate") {
		t.Errorf("a measured run must not say estimate:\n%s", out)
	}
}

func TestTableEstimated(t *testing.T) {
	rec := record(results.MethodModel, true)
	rec.Complete, rec.IncompleteReason = false, "interrupted: context canceled"
	var b bytes.Buffer
	if err := WriteTable(&b, rec); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"ESTIMATED (model)", "ESTIMATE:", "power W (est.)", "GFLOPS/W (est.)", "(estimated)", "INCOMPLETE: interrupted"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
