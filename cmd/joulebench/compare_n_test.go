package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

// compare over three records: each compared with the first where the
// work is the same; a record whose workload version differs is listed
// with the reason, not compared.
func TestCompareManyRecords(t *testing.T) {
	dir := t.TempDir()
	a := boundaryRecord(t, dir, "a", results.MethodCounter, "package-0", "package")
	b := boundaryRecord(t, dir, "b", results.MethodCounter, "package-0", "package")
	c := boundaryRecord(t, dir, "c", results.MethodCounter, "package-0", "package")
	rec, err := results.ReadFile(c)
	if err != nil {
		t.Fatal(err)
	}
	rec.Workloads[0].Version = "9"
	rec.Config.Suite = "standard"
	if err := results.WriteFile(c, rec); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "compare", a, b, c)
	if err != nil {
		t.Fatalf("compare a b c: %v\n%s", err, out)
	}
	for _, want := range []string{
		"not compared: gemm-fp64-1024: version \"1\" in " + a + ", \"9\" in " + c + ": the work differs",
		"note: suites differ: quick v1 in " + a + ", standard v1 in " + c,
		"gemm-fp64-1024 (" + b + ") uses",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("compare output lacks %q:\n%s", want, out)
		}
	}
	// Nothing comparable at all is bad input.
	if _, _, err := runCLI(t, "compare", a, c); err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "share no workload") {
		t.Errorf("two records with nothing comparable: %v", err)
	}
	if _, _, err := runCLI(t, "compare", a); err == nil || exitCode(err) != 2 {
		t.Errorf("one record without --base/--other: %v", err)
	}
}

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The compare table and its sentences, for four records (one with less
// energy per call, one the same, one of another workload version, which
// is listed, not compared), against testdata/compare.golden.
func TestCompareGolden(t *testing.T) {
	dir := t.TempDir()
	a := boundaryRecord(t, dir, "a", results.MethodCounter, "package-0", "package", "dram-0", "dram")
	b := boundaryRecord(t, dir, "b", results.MethodCounter, "package-0", "package", "dram-0", "dram")
	c := boundaryRecord(t, dir, "c", results.MethodCounter, "package-0", "package", "dram-0", "dram")
	rec, err := results.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rec.Workloads[0].Reps {
		for d := range rec.Workloads[0].Reps[i].EnergyJ {
			rec.Workloads[0].Reps[i].EnergyJ[d] *= 0.8
		}
	}
	if err := results.WriteFile(b, rec); err != nil {
		t.Fatal(err)
	}
	// D ran another version of the workload: listed, not compared.
	d := boundaryRecord(t, dir, "d", results.MethodCounter, "package-0", "package", "dram-0", "dram")
	rd, err := results.ReadFile(d)
	if err != nil {
		t.Fatal(err)
	}
	rd.Workloads[0].Version = "9"
	if err := results.WriteFile(d, rd); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "compare", a, b, c, d)
	if err != nil {
		t.Fatal(err)
	}
	out = strings.ReplaceAll(out, dir+string(filepath.Separator), "DIR/")
	golden := filepath.Join("testdata", "compare.golden")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if out != string(want) {
		t.Errorf("compare output differs from %s (-update accepts it):\n%s", golden, out)
	}
}
