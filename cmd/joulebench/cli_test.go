package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/joulebench/joulebench/results"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func validateRecord(t *testing.T, path string) {
	t.Helper()
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join("..", "..", "docs", "record.schema.json"))
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inst, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("record does not match docs/record.schema.json: %v", err)
	}
}

// The end-to-end test of the issue: the quick suite exactly as a user runs
// it, on the fake meter, into a fresh directory.
func TestRunQuickFake(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the quick suite (about 20 s)")
	}
	dir := t.TempDir()
	stdout, stderr, err := runCLI(t, "run", "--suite", "quick", "--meter", "fake", "--out", dir)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "*", "record.json"))
	if len(recs) != 1 {
		t.Fatalf("want one record under %s, got %v", dir, recs)
	}
	validateRecord(t, recs[0])
	rec, err := results.ReadFile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Complete || len(rec.Workloads) != 5 || rec.Idle == nil {
		t.Fatalf("record: complete=%v workloads=%d idle=%v", rec.Complete, len(rec.Workloads), rec.Idle)
	}
	for _, w := range rec.Workloads {
		if len(w.Reps) != 3 || w.Check == nil || !w.Check.OK || w.Info["provider"] == "" {
			t.Errorf("%s: reps=%d check=%+v info=%v", w.Name, len(w.Reps), w.Check, w.Info)
		}
		for _, r := range w.Reps {
			if r.DurationS < 2 || r.Readings < 10 {
				t.Errorf("%s rep %d: %.2f s, %d readings; the quick suite wants ≥ 2 s and ≥ 10 readings", w.Name, r.Index, r.DurationS, r.Readings)
			}
			// The fake meter draws 50 W + 5 W, and its package counter wraps.
			if p := (r.EnergyJ["package-0"] + r.EnergyJ["dram-0"]) / r.DurationS; p < 54.7 || p > 55.3 {
				t.Errorf("%s rep %d: %.2f W from the fake meter, want 55", w.Name, r.Index, p)
			}
		}
	}
	for _, want := range []string{"gemm-fp64-1024", "gemm-fp32-1024", "mnist-mlp-int8-offline", "GFLOPS/W", "meter fake", "models, Offline (batch 256)", "mlp int8"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "record: ") {
		t.Errorf("stderr does not name the record: %s", stderr)
	}
	// report recomputes the same table from the file.
	again, _, err := runCLI(t, "report", recs[0])
	if err != nil || again != stdout {
		t.Errorf("report differs from run's table (err %v):\n%s\nvs\n%s", err, again, stdout)
	}
}

func TestRunEstimateIsLabelled(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, err := runCLI(t, "run", "--meter", "estimate", "--workload", "gemm-fp32-*", "--idle", "0", "--warmup", "0",
		"--min-time", "200ms", "--reps", "1", "--interval", "20ms", "--out", dir)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "ESTIMATE") || !strings.Contains(stdout, "(est.)") {
		t.Errorf("an estimate run must say so in the table:\n%s", stdout)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "*", "record.json"))
	validateRecord(t, recs[0])
	rec, _ := results.ReadFile(recs[0])
	if !rec.Meters[0].Estimated || rec.Meters[0].Method != results.MethodModel {
		t.Errorf("record must mark the estimate: %+v", rec.Meters[0])
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("not json"), 0o644)
	newer := filepath.Join(dir, "newer.json")
	os.WriteFile(newer, []byte(`{"schema_version": 99}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"run", "--suite", "nope"}, "not a built-in suite"},
		{[]string{"run", "--workload", "gemm-fp16-*"}, "matches none"},
		{[]string{"run", "--meter", "bogus"}, "unknown meter"},
		{[]string{"run", "--meter", "rapl", "--sysfs-root", dir}, "rapl"},
		{[]string{"run", "--meter", "fake", "--sysfs-root", filepath.Join(dir, "nope")}, "--sysfs-root"},
		{[]string{"run", "--meter", "fake", "--proc-root", garbage}, "not a directory"},
		{[]string{"meters", "--sysfs-root", filepath.Join(dir, "nope")}, "sysfs-root"},
		{[]string{"run", "--meter", "fake", "--suite", "/dev/zero"}, "not a regular file"},
		{[]string{"run", "--meter", "fake", "--intensity-file", "/dev/zero"}, "not a regular file"},
		{[]string{"report", "/dev/zero"}, "not a regular file"},
		{[]string{"run", "--meter", "fake", "--emissions-csv", "/dev/zero", "--out", dir}, "not a regular file"},
		{[]string{"report", garbage, "--emissions-csv", "/dev/zero"}, "garbage.json"},
		{[]string{"run", "--interval", "1us"}, "--interval"},
		{[]string{"run", "--interval", "0"}, "--interval"},
		{[]string{"run", "--reps", "-3"}, "--reps"},
		{[]string{"run", "--min-time", "-1s"}, "--min-time"},
		{[]string{"run", "--meter", "fake,estimate", "--out", dir}, "count it twice"},
		{[]string{"run", "--blas", "/nonexistent/libcblas.so", "--out", dir}, "/nonexistent/libcblas.so"},
		{[]string{"run", "--meter", "fake", "--out", garbage}, "--out"},
		{[]string{"estimate", "--cpu", "x", "--load", "0.5", "--threads", "2"}, "one of --load"},
		{[]string{"run", "--no-such-flag"}, "no-such-flag"},
		{[]string{"report"}, "one RECORD"},
		{[]string{"report", garbage}, "garbage.json"},
		{[]string{"report", newer}, "newer schema"},
		{[]string{"estimate", "--cpu", "x", "--load", "2"}, "load"},
	} {
		_, _, err := runCLI(t, c.args...)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want exit 2 with %q, got %v (exit %d)", c.args, c.want, err, exitCode(err))
		}
	}
	// Nothing was measured, so nothing may be left behind.
	if left, _ := filepath.Glob(filepath.Join(dir, "*", "record.json")); len(left) > 0 {
		t.Errorf("refused runs left records: %v", left)
	}
	if _, _, err := runCLI(t, "version"); err != nil {
		t.Errorf("version: %v", err)
	}
}

func TestMetersNoHardware(t *testing.T) {
	out, _, err := runCLI(t, "meters", "--sysfs-root", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rapl", "no powercap", "estimate", "ESTIMATED", "fake"} {
		if !strings.Contains(out, want) {
			t.Errorf("meters output lacks %q:\n%s", want, out)
		}
	}
}

// Ctrl-C (here: the context main cancels on SIGINT) keeps what was measured.
func TestRunInterruptedKeepsRecord(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	err := run(ctx, []string{"run", "--meter", "fake", "--idle", "200ms", "--warmup", "100ms", "--min-time", "500ms", "--reps", "10", "--out", dir}, &out, &errb)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("want an incomplete-run failure (exit 1), got %v", err)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "*", "record.json"))
	if len(recs) != 1 {
		t.Fatalf("no record written: %v", recs)
	}
	validateRecord(t, recs[0])
	rec, err := results.ReadFile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if rec.Complete || !strings.Contains(rec.IncompleteReason, "interrupted") {
		t.Errorf("record must be marked incomplete: complete=%v reason=%q", rec.Complete, rec.IncompleteReason)
	}
	if len(rec.Workloads) == 0 || len(rec.Workloads[0].Reps) == 0 {
		t.Errorf("the repetitions finished before the interrupt are lost: %+v", rec.Workloads)
	}
	if !strings.Contains(out.String(), "INCOMPLETE") {
		t.Errorf("the table must say the run is incomplete:\n%s", out.String())
	}
}

// Interrupted before any workload ran: the record still matches the schema.
func TestRunInterruptedInIdle(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	err := run(ctx, []string{"run", "--meter", "fake", "--idle", "5s", "--out", dir}, &out, &errb)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("want exit 1, got %v", err)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "*", "record.json"))
	if len(recs) != 1 {
		t.Fatalf("no record written: %v", recs)
	}
	validateRecord(t, recs[0])
}

func TestCarbonCommand(t *testing.T) {
	out, _, err := runCLI(t, "carbon", "--kwh", "2", "--region", "FR", "--pue", "1.5")
	if err != nil || !strings.Contains(out, "2 kWh × PUE 1.5 ×") || !strings.Contains(out, "source:") || !strings.Contains(out, "embodied not included") {
		t.Errorf("carbon: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "carbon", "--kwh", "1", "--region", "US-EGRID-CAMX")
	if err != nil || !strings.Contains(out, "direct emissions") || !strings.Contains(out, "no upstream or lifecycle share") {
		t.Errorf("an eGRID figure must say it is direct emissions only: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "carbon", "--kwh", "1")
	if err != nil || !strings.Contains(out, "world average") {
		t.Errorf("the default must say it is the world average: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "carbon", "--list")
	if err != nil || !strings.Contains(out, "aws:eu-west-1") || !strings.Contains(out, "US-EGRID-CAMX") {
		t.Errorf("--list: %v", err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"carbon", "--kwh", "1", "--region", "germny"}, "closest: DE"},
		{[]string{"carbon", "--kwh", "1", "--pue", "0.5"}, "--pue"},
		{[]string{"carbon"}, "--kwh"},
	} {
		if _, _, err := runCLI(t, c.args...); err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want exit 2 with %q, got %v", c.args, c.want, err)
		}
	}
}

// A run with carbon options, then everything that reads its record:
// report with another region, benchfmt, CodeCarbon's CSV, compare.
func TestCarbonEndToEnd(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "emissions.csv")
	fast := []string{"--meter", "fake", "--idle", "200ms", "--warmup", "0", "--min-time", "200ms", "--reps", "3", "--interval", "20ms", "--out", dir}
	_, stderr, err := runCLI(t, append([]string{"run", "--workload", "gemm-*", "--region", "DE", "--pue", "1.2", "--embodied", "rack-server", "--emissions-csv", csvPath}, fast...)...)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "*", "record.json"))
	validateRecord(t, recs[0])
	rec, _ := results.ReadFile(recs[0])
	if rec.Carbon == nil || rec.Carbon.Region != "DE" || rec.Carbon.PUE != 1.2 || rec.Carbon.Embodied == nil || rec.Carbon.Method != results.CarbonAnnual {
		t.Fatalf("carbon section: %+v", rec.Carbon)
	}
	out, _, err := runCLI(t, "report", recs[0], "--region", "FR")
	if err != nil || !strings.Contains(out, "FR (France)") || !strings.Contains(out, "gCO2e/call") {
		t.Errorf("report --region FR: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "report", recs[0], "--benchfmt")
	if err != nil || strings.Count(out, "BenchmarkJoulebench/gemm-fp64-1024 ") != 3 || !strings.Contains(out, "synthetic-gCO2e/op") {
		t.Errorf("benchfmt (a fake meter's units say synthetic-): %v\n%s", err, out)
	}
	b, _ := os.ReadFile(csvPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "timestamp,project_name,run_id,experiment_id,duration,emissions,") || !strings.Contains(lines[1], ",Germany,DE,DE,") {
		t.Errorf("emissions.csv:\n%s", b)
	}
	if _, _, err := runCLI(t, "report", recs[0], "--emissions-csv", csvPath); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(csvPath); strings.Count(string(b), "\n") != 5 {
		t.Errorf("a second write must append, CodeCarbon-style:\n%s", b)
	}
	out, _, err = runCLI(t, "compare", recs[0], "--base", "gemm-fp64-1024", "--other", "gemm-fp32-1024")
	if err != nil || !strings.Contains(out, "energy per item (95% CI") {
		t.Errorf("compare: %v\n%s", err, out)
	}
	// A series around now, 5-minute steps alternating 100 and 300 g/kWh.
	var series strings.Builder
	series.WriteString("timestamp,g_per_kwh\n")
	t0 := time.Now().UTC().Truncate(5 * time.Minute).Add(-time.Hour)
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&series, "%s,%d\n", t0.Add(time.Duration(i)*5*time.Minute).Format(time.RFC3339), 100+200*(i%2))
	}
	sf := filepath.Join(dir, "grid.csv")
	os.WriteFile(sf, []byte(series.String()), 0o644)
	sdir := filepath.Join(dir, "series")
	if _, stderr, err := runCLI(t, append([]string{"run", "--intensity-file", sf, "--workload", "gemm-fp32-*"}, append(fast, "--out", sdir)...)...); err != nil {
		t.Fatalf("run --intensity-file: %v\n%s", err, stderr)
	}
	srecs, _ := filepath.Glob(filepath.Join(sdir, "*", "record.json"))
	validateRecord(t, srecs[0])
	srec, _ := results.ReadFile(srecs[0])
	if c := srec.Carbon; c == nil || c.Method != results.CarbonSeries || len(c.Series) == 0 || !strings.Contains(c.Source, "grid.csv") {
		t.Fatalf("series carbon section: %+v", c)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("timestamp,g_per_kwh\n2026-01-01T00:00:00Z,100\n2026-01-01T01:00:00Z,-5\n"), 0o644)
	_, _, err = runCLI(t, append([]string{"run", "--intensity-file", bad}, fast...)...)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "bad.csv: line 3") {
		t.Errorf("a bad intensity file must be refused before measuring, naming the line: %v", err)
	}
}
