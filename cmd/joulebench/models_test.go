package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/model/mnist"
)

// A model run goes through the same commands as a GEMM run, unchanged:
// run writes a record with the model tables, report prints them, certify
// signs it and verify accepts it, compare compares two of its workloads and
// two runs.
func TestModelRunCertifyCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("runs model workloads")
	}
	dir := t.TempDir()
	spec := filepath.Join("testdata", "spec-fast.json")
	if _, _, err := runCLI(t, "keygen", "--out", filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	key, pub := filepath.Join(dir, "keys", "joulebench.key"), filepath.Join(dir, "keys", "joulebench.pub")
	// The models suite's workloads with short phases, and a CV limit no
	// run fails: 300 ms repetitions on a busy 2-CPU machine (make test
	// runs packages side by side) vary by more than the suite's 10%, and
	// an invalid row has no place on a Pareto front.
	suite := filepath.Join(dir, "models-fast.json")
	if err := os.WriteFile(suite, []byte(`{"name":"models-fast","version":"1","idle_s":0.3,"warmup_s":0.1,"min_time_s":0.3,"reps":3,"min_readings":10,"max_cv":1,
		"workloads":["mnist-mlp-fp32-offline","mnist-mlp-struct50-offline","mnist-mlp-student-singlestream"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var recs []string
	for i := 0; i < 2; i++ {
		out, stderr, err := runCLI(t, "run", "--suite", suite,
			"--meter", "fake", "--interval", "20ms", "--region", "DE",
			"--out", filepath.Join(dir, "res"+string(rune('a'+i))))
		if err != nil {
			t.Fatalf("run: %v\n%s\n%s", err, out, stderr)
		}
		for _, want := range []string{"models, Offline (batch 256)", "mlp struct50", "reference", "Pareto front", "models, SingleStream", "p99 µs"} {
			if !strings.Contains(out, want) {
				t.Errorf("run output lacks %q:\n%s", want, out)
			}
		}
		for _, l := range strings.Split(out, "\n") {
			if w := report.DisplayWidth(l); w > report.TableWidth {
				t.Errorf("line of %d columns, over %d: %s", w, report.TableWidth, l)
			}
		}
		runs, _ := filepath.Glob(filepath.Join(dir, "res"+string(rune('a'+i)), "*"))
		recs = append(recs, runs[0])
		validateRecord(t, filepath.Join(runs[0], results.RecordFile))
	}
	rec, err := results.ReadFile(filepath.Join(recs[0], results.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range rec.Workloads {
		for _, r := range w.Reps {
			if r.Work.Quality[results.QAccuracy] < 0.9 || r.Check == nil || !r.Check.OK {
				t.Errorf("%s rep %d: accuracy %v, check %+v", w.Name, r.Index, r.Work.Quality, r.Check)
			}
		}
	}
	out, _, err := runCLI(t, "report", recs[0])
	if err != nil || !strings.Contains(out, "models, Offline") {
		t.Errorf("report: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "certify", recs[0], "--key", key, "--spec", spec, "--allow-estimated")
	if err != nil {
		t.Fatalf("certify a model run: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "verify", filepath.Join(recs[0], CertificateFile), "--pub", pub, "--spec", spec)
	if err != nil || !strings.HasPrefix(out, "VERIFIED: ") {
		t.Fatalf("verify a model run's certificate: %v\n%s", err, out)
	}
	// Forgeries of a model record's own figures: each is refused by
	// certify, naming the rule and the field.
	for _, f := range []struct {
		name, rule string
		edit       func(*results.Record)
	}{
		{"a raised accuracy", "accuracy recomputed", func(r *results.Record) { r.Workloads[1].Reps[0].Work.Quality[results.QAccuracy] = 0.995 }},
		{"a lowered reference", "accuracy recomputed", func(r *results.Record) { r.Workloads[1].Reps[2].Work.Quality[results.QReferenceAccuracy] = 0.9 }},
		// Both figures moved within the tolerance, the other way each,
		// to lift the variant into a higher gate level.
		{"a gate level lifted within the tolerance", "accuracy recomputed", func(r *results.Record) {
			for i := range r.Workloads[1].Reps {
				q := r.Workloads[1].Reps[i].Work.Quality
				q[results.QAccuracy] += 0.0019
				q[results.QReferenceAccuracy] -= 0.0019
			}
		}},
		{"a dropped accuracy", "accuracy recomputed", func(r *results.Record) { delete(r.Workloads[0].Reps[1].Work.Quality, results.QAccuracy) }},
		{"an inference workload called episodic", "work", func(r *results.Record) { r.Workloads[0].Episodic = true }},
		{"items not a batch per call", "work", func(r *results.Record) { r.Workloads[0].Reps[0].Work.Items++ }},
	} {
		b, _ := results.Marshal(rec)
		cp, err := results.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		f.edit(cp)
		fdir := filepath.Join(dir, "forged", strings.ReplaceAll(f.name, " ", "-"))
		if err := os.MkdirAll(fdir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := results.WriteFile(filepath.Join(fdir, results.RecordFile), cp); err != nil {
			t.Fatal(err)
		}
		out, _, err := runCLI(t, "certify", fdir, "--key", key, "--spec", spec, "--allow-estimated")
		if err == nil || !strings.Contains(err.Error()+out, ": "+f.rule+": ") {
			t.Errorf("%s: certify must refuse it at %q: %v\n%s", f.name, f.rule, err, out)
		}
	}

	out, _, err = runCLI(t, "compare", recs[0], "--base", "mnist-mlp-fp32-offline", "--other", "mnist-mlp-struct50-offline")
	if err != nil || !strings.Contains(out, "less") && !strings.Contains(out, "more") {
		t.Errorf("compare two model workloads: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "compare", recs[0], recs[1])
	if err != nil || !strings.Contains(out, "mnist-mlp-struct50-offline") {
		t.Errorf("compare two model runs: %v\n%s", err, out)
	}
}

// MNIST files that are not the ones joulebench pins are refused before
// anything is measured, with the file named and exit code 2.
func TestMNISTChecksumRefused(t *testing.T) {
	src, err := mnist.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "t10k-labels-idx1-ubyte.gz" {
			b[len(b)-3] ^= 0x40
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(mnist.EnvDir, dir)
	out := t.TempDir()
	_, _, err = runCLI(t, "run", "--suite", "models", "--workload", "mnist-mlp-fp32-offline", "--meter", "fake", "--out", out)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")) {
		t.Fatalf("want exit 2 naming the corrupt file, got %v", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("a refused run left %d entries in --out", len(ents))
	}
	if _, _, err := runCLI(t, "train", "--models", filepath.Join(dir, "no-such-dir")); err == nil || exitCode(err) != 2 {
		t.Errorf("train into a missing directory: %v", err)
	}
}

// Every workload a built-in suite names is one this binary has.
func TestBuiltinSuitesKnown(t *testing.T) {
	for _, name := range workloads.SuiteNames() {
		s, err := workloads.LoadSuite(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range s.Workloads {
			if _, err := workloads.SpecOf(w); err != nil {
				t.Errorf("suite %s: %v", name, err)
			}
		}
	}
}

// A variant below the 99% gate is reported as measured but certify
// refuses it: the gate is judged on accuracies certify recomputes itself.
func TestCertifyRefusesBelowGate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a model workload")
	}
	dir := t.TempDir()
	if _, _, err := runCLI(t, "keygen", "--out", filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runCLI(t, "run", "--suite", "models", "--workload", "mnist-mlp-prune90-offline", "--meter", "fake", "--idle", "300ms",
		"--warmup", "100ms", "--min-time", "300ms", "--reps", "3", "--interval", "20ms", "--out", filepath.Join(dir, "res"))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "FAIL") || !strings.Contains(out, "below the 99% gate") {
		t.Errorf("the table does not mark the variant below the gate:\n%s", out)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "res", "*"))
	out, _, err = runCLI(t, "certify", runs[0], "--key", filepath.Join(dir, "keys", "joulebench.key"), "--spec", filepath.Join("testdata", "spec-fast.json"), "--allow-estimated")
	if err == nil || !strings.Contains(err.Error()+out, ": accuracy gate: ") {
		t.Errorf("certify must refuse a variant below the gate: %v\n%s", err, out)
	}
}
