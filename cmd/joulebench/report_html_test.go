package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run writes report.html beside the record and indexes the run; report
// writes the HTML, Markdown and PNG reports it is asked for, and the
// statement for papers.
func TestReportFormats(t *testing.T) {
	dir := t.TempDir()
	_, stderr, err := runCLI(t, "run", "--meter", "fake", "--workload", "gemm-fp32-*", "--idle", "200ms", "--warmup", "0",
		"--min-time", "200ms", "--reps", "3", "--interval", "20ms", "--out", dir)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "2*"))
	if len(runs) != 1 {
		t.Fatalf("runs: %v", runs)
	}
	run := runs[0]
	page, err := os.ReadFile(filepath.Join(run, "report.html"))
	if err != nil || !strings.Contains(stderr, "report: "+filepath.Join(run, "report.html")) {
		t.Fatalf("run wrote no report.html or did not say where: %v\n%s", err, stderr)
	}
	for _, want := range []string{"<svg", "SYNTHETIC", "gemm-fp32-1024"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(string(page), "<script") {
		t.Error("report.html has a script")
	}
	if _, err := os.Stat(filepath.Join(dir, "joulebench.db")); err != nil {
		t.Errorf("run did not index the record: %v", err)
	}
	out, _, err := runCLI(t, "results", "list", "--out", dir)
	if err != nil || !strings.Contains(out, filepath.Base(run)) {
		t.Errorf("results list: %v\n%s", err, out)
	}

	html, md, png := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.md"), filepath.Join(dir, "png")
	if _, stderr, err := runCLI(t, "report", run, "--html", html, "--md", md, "--png", png); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	for _, f := range []string{html, md, filepath.Join(png, "power.png"), filepath.Join(png, "efficiency.png")} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(md); !strings.Contains(string(b), "png/power.png") {
		t.Errorf("the Markdown does not link the PNGs as it sees them:\n%s", b)
	}
	st, _, err := runCLI(t, "report", run, "--statement")
	if err != nil || !strings.Contains(st, "SYNTHETIC") || !strings.Contains(st, "95%") || !strings.Contains(st, "whole run") {
		t.Errorf("statement: %v\n%s", err, st)
	}
	// A report over a directory is bad input.
	if _, _, err := runCLI(t, "report", run, "--html", png); err == nil || exitCode(err) != 2 {
		t.Errorf("--html onto a directory: %v", err)
	}
}
