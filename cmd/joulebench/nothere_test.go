package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
)

// notHere is a workload no machine can run (as bf16 on a CPU without
// native bf16).
type notHere struct{ name string }

func (w notHere) Spec() workloads.Spec {
	return workloads.Spec{Name: w.name, Version: "1", WorkUnit: "call"}
}
func (notHere) Prepare(context.Context) error                    { return nil }
func (notHere) Run(context.Context, int) (workloads.Work, error) { return workloads.Work{}, nil }
func (notHere) Validate(context.Context) error {
	return fmt.Errorf("%w: this test's CPU has no such unit", workloads.ErrNotHere)
}

func init() {
	workloads.Register("test-nothere-", func(name string, _ workloads.Options) (workloads.Workload, error) { return notHere{name}, nil })
}

// A suite's workload that cannot run on this machine is left out, with
// the reason on stderr and in the record, instead of refusing the suite;
// a selection of nothing but such workloads is bad input.
func TestWorkloadNotHereLeftOut(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "s.json")
	os.WriteFile(suite, []byte(`{"name":"s","version":"1","idle_s":0.1,"warmup_s":0,"min_time_s":0.1,"reps":2,"min_readings":1,"max_cv":1,"workloads":["test-nothere-a","gemm-fp32-512"]}`), 0o644)
	_, stderr, err := runCLI(t, "run", "--suite", suite, "--meter", "fake", "--interval", "20ms", "--out", filepath.Join(dir, "out"))
	if err != nil || !strings.Contains(stderr, "test-nothere-a left out: not available on this machine: this test's CPU has no such unit") {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "out", "*", results.RecordFile))
	rec, err := results.ReadFile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Workloads) != 1 || rec.Workloads[0].Name != "gemm-fp32-512" || !strings.Contains(strings.Join(rec.Notes, "\n"), "test-nothere-a left out") {
		t.Errorf("record: %d workloads, notes %q", len(rec.Workloads), rec.Notes)
	}
	_, _, err = runCLI(t, "run", "--suite", suite, "--workload", "test-nothere-*", "--meter", "fake", "--out", filepath.Join(dir, "out2"))
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "no workload of the selection can run here") {
		t.Errorf("only workloads that cannot run: %v", err)
	}
}
