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

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/store"
)

// resultsCLI runs joulebench results ARGS: through run, as a user does,
// once cli.go registers the command; directly until then.
func resultsCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	for _, c := range commands() {
		if c.name == "results" {
			return runCLI(t, append([]string{"results"}, args...)...)
		}
	}
	var out, errb bytes.Buffer
	err := cmdResults(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// resultsRecord writes a record of one GEMM workload, valid by the run's
// rules, whose three repetitions spend scale × 100 J (±3%) on 1e12 FLOPs.
func resultsRecord(t *testing.T, out string, i int, scale float64, method string) string {
	t.Helper()
	id := fmt.Sprintf("20261130T1000%02dZ-abc%03d", i, i)
	start := time.Date(2026, 11, 30, 10, 0, i, 0, time.UTC)
	rec := &results.Record{
		SchemaVersion: results.SchemaVersion, RunID: id, Complete: true, StartedAt: start, FinishedAt: start.Add(time.Minute),
		Tool:   results.Tool{Name: "joulebench", Version: "test"},
		Host:   results.Host{Hostname: fmt.Sprintf("node%d", i), CPUModel: "Test CPU", LogicalCPUs: 8, OS: "linux", Arch: "amd64"},
		Config: results.Config{Suite: "quick", SuiteVersion: "1", IntervalS: 0.1, MinTimeS: 1, Reps: 3, MinReadings: 10, MaxCV: 0.2},
		Meters: []results.Meter{{Name: map[bool]string{true: "estimate", false: "rapl"}[method == results.MethodModel], Method: method, Estimated: method == results.MethodModel,
			Domains: []results.Domain{{Name: "package-0", Kind: "package", InTotal: true}}}},
	}
	w := results.Workload{Name: "gemm-fp64-1024", Version: "1", WorkUnit: "GEMM call", Check: &results.Check{Name: "freivalds", OK: true}}
	for k, j := range []float64{1.00, 1.03, 0.97} {
		w.Reps = append(w.Reps, results.Rep{Index: k, Iters: 100, DurationS: 2, Readings: 21,
			EnergyJ: map[string]float64{"package-0": scale * j * 100}, Work: results.Work{FLOPs: 1e12, Items: 100}})
	}
	rec.Workloads = []results.Workload{w}
	p := filepath.Join(out, id, results.RecordFile)
	if err := results.WriteFile(p, rec); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResultsCLI(t *testing.T) {
	out := t.TempDir()
	resultsRecord(t, out, 1, 1.0, results.MethodCounter)
	resultsRecord(t, out, 2, 0.5, results.MethodCounter)
	resultsRecord(t, out, 3, 1.01, results.MethodCounter)
	resultsRecord(t, out, 4, 0.1, results.MethodModel)
	corrupt := filepath.Join(out, "20261130T999999Z-bad", results.RecordFile)
	os.MkdirAll(filepath.Dir(corrupt), 0o755)
	os.WriteFile(corrupt, []byte("{truncated"), 0o644)

	stdout, stderr, err := resultsCLI(t, "reindex", "--out", out)
	if err != nil {
		t.Fatalf("reindex: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "indexed 4 records") || !strings.Contains(stderr, "warning: skipped "+corrupt) {
		t.Errorf("reindex:\n%s\n%s", stdout, stderr)
	}

	stdout, _, err = resultsCLI(t, "list", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"20261130T100004Z-abc004", "0 ESTIMATED", "Test CPU ×8 (node2)", "───"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, stdout)
		}
	}

	stdout, _, err = resultsCLI(t, "show", "20261130T100002Z", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"run       20261130T100002Z-abc002", "meters    rapl:counter", "gemm-fp64-1024", "20 ["} {
		if !strings.Contains(stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, stdout)
		}
	}

	stdout, _, err = resultsCLI(t, "top", "--workload", "gemm-fp64-1024", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"machines ranked by GFLOP/J (higher is better)", "ranks 2–3 tie: each one's 95% interval overlaps rank 2's",
		"figures, not measurements: ranked apart"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("top lacks %q:\n%s", want, stdout)
		}
	}
	lines := strings.Split(stdout, "\n")
	var ranks []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], "20261130T") {
			ranks = append(ranks, f[0]+" "+f[1][len(f[1])-3:])
		}
	}
	if got := strings.Join(ranks, ","); got != "1 002,=2 001,=2 003,1 004" {
		t.Errorf("top ranks %s:\n%s", got, stdout)
	}
	t.Logf("top:\n%s", stdout)

	// Deleting the index: the next command rebuilds it.
	os.Remove(filepath.Join(out, store.DBFile))
	if stdout, stderr, err = resultsCLI(t, "list", "--out", out); err != nil || !strings.Contains(stderr, "no index yet") || !strings.Contains(stdout, "abc001") {
		t.Errorf("list without an index: %v\n%s\n%s", err, stdout, stderr)
	}

	for _, args := range [][]string{
		{}, {"frobnicate"}, {"show"}, {"show", "nope", "--out", out}, {"top", "--out", out},
		{"top", "--workload", "nope", "--out", out}, {"list", "--out", filepath.Join(out, "missing")},
	} {
		if _, _, err := resultsCLI(t, args...); exitCode(err) != 2 {
			t.Errorf("results %q: exit %d (%v), want 2", args, exitCode(err), err)
		}
	}
	// A file that is not an index: a clear error, and it is left alone.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, store.DBFile), []byte(strings.Repeat("not sqlite ", 200)), 0o644)
	if _, _, err := resultsCLI(t, "reindex", "--out", bad); err == nil || !strings.Contains(err.Error(), "not an SQLite database") {
		t.Errorf("reindex into a non-SQLite file: %v", err)
	}
}
