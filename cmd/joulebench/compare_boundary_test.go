package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

// boundaryRecord is a run of gemm-fp64-1024 whose meter counts the given
// domains (name → kind) by method; every domain gets the same energy, so
// a record that counts fewer domains uses less energy per call.
func boundaryRecord(t *testing.T, dir, name, method string, domains ...string) string {
	t.Helper()
	m := results.Meter{Name: "m", Method: method, Estimated: method == results.MethodModel}
	for i := 0; i < len(domains); i += 2 {
		m.Domains = append(m.Domains, results.Domain{Name: domains[i], Kind: domains[i+1], InTotal: true})
	}
	rec := &results.Record{SchemaVersion: results.SchemaVersion, RunID: name, Complete: true,
		Config: results.Config{Suite: "quick", SuiteVersion: "1", Reps: 3, MinTimeS: 2, MinReadings: 10},
		Meters: []results.Meter{m}}
	w := results.Workload{Name: "gemm-fp64-1024", Version: "1"}
	for i, e := range []float64{20, 21, 20.5} {
		r := results.Rep{Index: i, DurationS: 2, Iters: 100, Readings: 20, EnergyJ: map[string]float64{}, Work: results.Work{FLOPs: 100 * 2 * 1024 * 1024 * 1024, Items: 100}}
		for j := 0; j < len(domains); j += 2 {
			r.EnergyJ[domains[j]] = e
		}
		w.Reps = append(w.Reps, r)
	}
	rec.Workloads = []results.Workload{w}
	path := filepath.Join(dir, name+".json")
	if err := results.WriteFile(path, rec); err != nil {
		t.Fatal(err)
	}
	return path
}

// Records whose totals count different things (OTHER leaves DRAM out, and
// its "saving" would be DRAM's share, not better work) are not compared:
// compare says why, and with nothing else to compare it is bad input.
func TestCompareRefusesOtherBoundary(t *testing.T) {
	dir := t.TempDir()
	base := boundaryRecord(t, dir, "base", results.MethodCounter, "package-0", "package", "dram-0", "dram")
	other := boundaryRecord(t, dir, "other", results.MethodCounter, "package-0", "package")
	want := base + " counts package+dram, " + other + " counts package only: " + other + "'s energy leaves out DRAM, so the comparison favours " + other
	_, _, err := runCLI(t, "compare", base, other)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), want) {
		t.Errorf("compare of two boundaries must refuse, saying why: %v", err)
	}
	// With a third record of the base's boundary, that one is compared
	// and the other listed.
	same := boundaryRecord(t, dir, "same", results.MethodCounter, "package-0", "package", "dram-0", "dram")
	out, _, err := runCLI(t, "compare", base, other, same)
	if err != nil || !strings.Contains(out, "not compared: "+other+" against "+base+": "+want) || strings.Contains(out, "WARNING") {
		t.Errorf("compare of three with one other boundary: %v\n%s", err, out)
	}
	js, _, err := runCLI(t, "compare", base, same, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Warnings                    []string
		BaseBoundary, OtherBoundary struct{ Kinds []string }
	}
	if err := json.Unmarshal([]byte(js), &rows); err != nil || len(rows) == 0 {
		t.Fatalf("compare --json: %v\n%s", err, js)
	}
	for _, r := range rows {
		if len(r.Warnings) != 0 || strings.Join(r.BaseBoundary.Kinds, "+") != "package+dram" {
			t.Errorf("compare --json row: %+v", r)
		}
	}
}

// A measurement against an estimate, and a fake meter's made-up figures,
// are named as such: "(synthetic)", never "(est.)" for the fake meter.
func TestCompareWarnsOnMethod(t *testing.T) {
	dir := t.TempDir()
	base := boundaryRecord(t, dir, "rapl", results.MethodCounter, "package-0", "package")
	est := boundaryRecord(t, dir, "est", results.MethodModel, "cpu-estimated", "package")
	fake := boundaryRecord(t, dir, "fake", results.MethodSynthetic, "package-0", "package")
	out, _, err := runCLI(t, "compare", base, est)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "WARNING: "+base+" is measured (counter), "+est+" is estimated (model): ") || !strings.Contains(out, "(est.)") {
		t.Errorf("measured against estimated:\n%s", out)
	}
	out, _, err = runCLI(t, "compare", base, fake)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "WARNING: "+base+" is measured (counter), "+fake+" is synthetic (fake meter): a fake meter's figures are made up") ||
		!strings.Contains(out, "(synthetic)") || strings.Contains(out, "(est.)") || strings.Contains(out, "estimated") {
		t.Errorf("measured against a fake meter:\n%s", out)
	}
}

// The review's case: the same machine accounted in two grids; the carbon
// saving is the grids', and compare must say so.
func TestCompareWarnsOnCarbonAccounting(t *testing.T) {
	dir := t.TempDir()
	fast := []string{"run", "--meter", "fake", "--workload", "gemm-fp32-*", "--idle", "100ms", "--warmup", "0", "--min-time", "100ms", "--reps", "3", "--interval", "20ms"}
	if _, stderr, err := runCLI(t, append(fast, "--out", filepath.Join(dir, "a"))...); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if _, stderr, err := runCLI(t, append(fast, "--region", "DE", "--out", filepath.Join(dir, "b"))...); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	a, _ := filepath.Glob(filepath.Join(dir, "a", "*"))
	b, _ := filepath.Glob(filepath.Join(dir, "b", "*"))
	out, _, err := runCLI(t, "compare", a[0], b[0])
	if err != nil || !strings.Contains(out, "WARNING: ") || !strings.Contains(out, "(DE)") || !strings.Contains(out, "differ by the accounting") ||
		!strings.Contains(out, "different carbon accounting") {
		t.Errorf("compare of two grids must warn about the carbon: %v\n%s", err, out)
	}
}
