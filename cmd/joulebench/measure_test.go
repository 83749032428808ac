package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/joulebench/joulebench/results"
)

// measureRun runs joulebench measure in-process with the fake meter, no
// idle baseline and a fast interval, and returns the record it left (nil
// when none), its output and its error.
func measureRun(t *testing.T, out string, extra []string, argv ...string) (*results.Record, string, string, error) {
	t.Helper()
	args := append([]string{"measure", "--meter", "fake", "--idle", "0", "--interval", "10ms", "--out", out}, extra...)
	args = append(append(args, "--"), argv...)
	stdout, stderr, err := runCLI(t, args...)
	recs, _ := filepath.Glob(filepath.Join(out, "*", results.RecordFile))
	if len(recs) == 0 {
		return nil, stdout, stderr, err
	}
	if len(recs) > 1 {
		t.Fatalf("want one record under %s, got %v", out, recs)
	}
	validateRecord(t, recs[0])
	rec, rerr := results.ReadFile(recs[0])
	if rerr != nil {
		t.Fatalf("the record does not read: %v", rerr)
	}
	return rec, stdout, stderr, err
}

func TestMeasureReportsWork(t *testing.T) {
	out := t.TempDir()
	script := `echo to-stdout; sleep 0.2
echo '{"items":40,"flops":2e9}' >> "$JOULEBENCH_WORK_FILE"
echo '{"items":24,"flops":1e9,"accuracy":0.5}' >> "$JOULEBENCH_WORK_FILE"
echo '{"items":1,"items":1000}' >> "$JOULEBENCH_WORK_FILE"
echo '{"accuracy":0.93}' >> "$JOULEBENCH_WORK_FILE"`
	rec, stdout, stderr, err := measureRun(t, out, nil, "sh", "-c", script)
	if err != nil {
		t.Fatalf("measure: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "to-stdout") {
		t.Errorf("the command's output is not joulebench's:\n%s", stdout)
	}
	if !strings.Contains(stderr, "record: ") {
		t.Errorf("no record line:\n%s", stderr)
	}
	c := rec.Command
	if c == nil || c.ExitCode != 0 || c.Signal != "" || c.WorkLines != 4 || c.PID == 0 || len(c.PIDs) == 0 {
		t.Fatalf("command: %+v", c)
	}
	if len(c.WorkErrors) != 1 || !strings.Contains(c.WorkErrors[0], "line 3") || !strings.Contains(c.WorkErrors[0], "twice") {
		t.Errorf("the duplicate-key line is not listed as refused: %q", c.WorkErrors)
	}
	if !rec.Complete {
		t.Errorf("incomplete: %s", rec.IncompleteReason)
	}
	w := rec.Workloads[0]
	if w.Name != "command" || w.WorkUnit != "item the command reported" || w.Error != "" || len(w.Reps) != 1 {
		t.Fatalf("workload: %+v", w)
	}
	if wk := w.Reps[0].Work; wk.Items != 64 || wk.FLOPs != 3e9 || wk.Quality[results.QAccuracy] != 0.93 {
		t.Errorf("work: %+v (want 64 items, 3e9 FLOPs, accuracy 0.93: the sums and the last accuracy)", wk)
	}
	if w.Params["argv"] != `["sh","-c",`+strconv.Quote(script)+`]` {
		t.Errorf("params: %q", w.Params)
	}
	if !strings.Contains(stdout, "command") || !strings.Contains(stdout, "J/item") {
		t.Errorf("the table lacks the command's row or its unit:\n%s", stdout)
	}
	for _, f := range []string{"report.txt", "report.html", "work.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, rec.RunID, f)); err != nil {
			t.Errorf("run directory: %v", err)
		}
	}
	// report reads the record back and prints the same row.
	rout, _, err := runCLI(t, "report", filepath.Join(out, rec.RunID))
	if err != nil || !strings.Contains(rout, "command") || !strings.Contains(rout, "J/item") {
		t.Errorf("report: %v\n%s", err, rout)
	}
}

func TestMeasureRunUnitWithoutItems(t *testing.T) {
	rec, _, stderr, err := measureRun(t, t.TempDir(), []string{"--reps", "2"}, "sh", "-c", "sleep 0.1")
	if err != nil {
		t.Fatalf("measure: %v\n%s", err, stderr)
	}
	w := rec.Workloads[0]
	if w.WorkUnit != "run" || len(w.Reps) != 2 || !w.Episodic {
		t.Fatalf("workload: unit %q, %d reps, episodic %v", w.WorkUnit, len(w.Reps), w.Episodic)
	}
	for _, r := range w.Reps {
		if r.Work.Items != 1 || r.Iters != 1 {
			t.Errorf("rep %d: %d items in %d calls, want one run", r.Index, r.Work.Items, r.Iters)
		}
	}
}

func TestMeasureExitStatusPassedThrough(t *testing.T) {
	out := t.TempDir()
	rec, stdout, stderr, err := measureRun(t, out, []string{"--reps", "3"}, "sh", "-c", "sleep 0.1; exit 3")
	if exitCode(err) != 3 {
		t.Fatalf("want exit 3, got %d (%v)\n%s", exitCode(err), err, stderr)
	}
	if rec == nil || rec.Command.ExitCode != 3 || rec.Command.Signal != "" {
		t.Fatalf("record: %+v", rec)
	}
	if !rec.Complete {
		t.Errorf("a failed command's run is whole; record says incomplete: %s", rec.IncompleteReason)
	}
	w := rec.Workloads[0]
	if len(w.Reps) != 1 || !strings.Contains(w.Error, "exited with status 3") {
		t.Errorf("want the failed repetition kept, no more run, and the error said: %d reps, error %q", len(w.Reps), w.Error)
	}
	if w.Reps[0].DurationS < 0.05 || len(w.Reps[0].EnergyJ) == 0 {
		t.Errorf("the failed repetition's energy is not measured: %+v", w.Reps[0])
	}
	if !strings.Contains(strings.Join(rec.Notes, "\n"), "status 3") {
		t.Errorf("no note: %q", rec.Notes)
	}
	if !strings.Contains(stdout, "FAILED") {
		t.Errorf("the table does not say the command failed:\n%s", stdout)
	}
	rout, _, _ := runCLI(t, "report", filepath.Join(out, rec.RunID))
	if !strings.Contains(rout, "FAILED") {
		t.Errorf("report does not say the command failed:\n%s", rout)
	}
}

func TestMeasureKilledBySignal(t *testing.T) {
	rec, _, stderr, err := measureRun(t, t.TempDir(), nil, "sh", "-c", "kill -KILL $$")
	if exitCode(err) != 137 {
		t.Fatalf("want exit 137 (128 + SIGKILL), got %d (%v)\n%s", exitCode(err), err, stderr)
	}
	if rec.Command.Signal != "SIGKILL" || rec.Command.ExitCode != -1 {
		t.Errorf("command: %+v", rec.Command)
	}
	if !strings.Contains(rec.Workloads[0].Error, "SIGKILL") {
		t.Errorf("workload error: %q", rec.Workloads[0].Error)
	}
}

func TestMeasureCannotStart(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "script.sh")
	os.WriteFile(plain, []byte("#!/bin/sh\necho hi\n"), 0o644)
	for _, c := range []struct {
		argv []string
		code int
		want string
	}{
		{[]string{"joulebench-no-such-command"}, 127, "joulebench-no-such-command: command not found in PATH"},
		{[]string{filepath.Join(dir, "missing")}, 127, "no such file"},
		{[]string{plain}, 126, "not executable"},
		{[]string{dir}, 126, "directory"},
	} {
		out := filepath.Join(dir, "out")
		_, _, err := runCLI(t, "measure", "--meter", "fake", "--idle", "0", "--out", out, "--", c.argv[0])
		if exitCode(err) != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want exit %d with %q, got %d: %v", c.argv, c.code, c.want, exitCode(err), err)
		}
		if ents, _ := os.ReadDir(out); len(ents) > 0 {
			t.Errorf("%v: nothing was measured, but %s holds %v", c.argv, out, ents)
		}
	}
}

func TestMeasureUsage(t *testing.T) {
	out := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"measure", "--meter", "fake"}, "needs a command"},
		{[]string{"measure", "--meter", "fake", "--"}, "needs a command"},
		{[]string{"measure", "--no-such-flag", "--", "true"}, "no-such-flag"},
		{[]string{"measure", "--reps", "0", "--", "true"}, "--reps"},
		{[]string{"measure", "--idle", "-1s", "--", "true"}, "--idle"},
		{[]string{"measure", "--meter", "bogus", "--out", out, "--", "true"}, "unknown meter"},
		{[]string{"measure", "--meter", "fake", "--out", out, "--work-file", "/dev/null", "--", "true"}, "not a regular file"},
	} {
		_, _, err := runCLI(t, c.args...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want exit 2 with %q, got %d: %v", c.args, c.want, exitCode(err), err)
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) > 0 {
		t.Errorf("refused runs left %v", ents)
	}
}

// A --work-file that is a symbolic link is refused, however harmless its
// target: joulebench never follows a link it was not asked to.
func TestMeasureWorkFileSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, nil, 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	_, _, err := runCLI(t, "measure", "--meter", "fake", "--idle", "0", "--out", filepath.Join(dir, "out"), "--work-file", link, "--", "true")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("want exit 2 naming the link, got %v", err)
	}
}

// An existing --work-file is not truncated, and what it held before the
// run is not counted.
func TestMeasureWorkFileKept(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, "work.jsonl")
	old := `{"items":1000}` + "\n"
	os.WriteFile(wf, []byte(old), 0o644)
	rec, _, stderr, err := measureRun(t, filepath.Join(dir, "out"), []string{"--work-file", wf}, "sh", "-c", `echo '{"items":7}' >> "$JOULEBENCH_WORK_FILE"`)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if got := rec.Workloads[0].Reps[0].Work.Items; got != 7 {
		t.Errorf("items %d, want 7: only what the repetition appended counts", got)
	}
	if b, _ := os.ReadFile(wf); !strings.HasPrefix(string(b), old) {
		t.Errorf("the work file lost its earlier contents: %q", b)
	}
}

func TestMeasureCompareAndCertify(t *testing.T) {
	dir := t.TempDir()
	a, _, _, err := measureRun(t, filepath.Join(dir, "a"), nil, "sh", "-c", "sleep 0.05")
	if err != nil {
		t.Fatal(err)
	}
	b, _, _, err := measureRun(t, filepath.Join(dir, "b"), nil, "sh", "-c", "sleep 0.05")
	if err != nil {
		t.Fatal(err)
	}
	c, _, _, err := measureRun(t, filepath.Join(dir, "c"), nil, "sh", "-c", "sleep 0.06")
	if err != nil {
		t.Fatal(err)
	}
	pa, pb, pc := filepath.Join(dir, "a", a.RunID), filepath.Join(dir, "b", b.RunID), filepath.Join(dir, "c", c.RunID)
	out, errOut, err := runCLI(t, "compare", pa, pb)
	if err != nil || !strings.Contains(out, "command") || strings.Contains(out+errOut, "not compared") {
		t.Errorf("compare of the same argv: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err = runCLI(t, "compare", pa, pc)
	if err == nil || !strings.Contains(err.Error(), "parameters (content hash) differ") {
		t.Errorf("compare of different argv must say the work differs: %v\n%s%s", err, out, errOut)
	}
	// certify refuses it: a command's figures are its own claims.
	runCLI(t, "keygen", "--out", filepath.Join(dir, "keys"))
	out, _, err = runCLI(t, "certify", pa, "--key", filepath.Join(dir, "keys", "joulebench.key"), "--allow-estimated")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "joulebench measure") {
		t.Fatalf("certify of a measure record: want exit 2 with a clear refusal, got %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(pa, CertificateFile)); err == nil {
		t.Error("a certificate was written for a measure record")
	}
}

// measureProcess starts joulebench measure as a real process, with the
// fake meter, so that real signals can be sent to it.
func measureProcess(t *testing.T, out string, script string) (*exec.Cmd, *lockedBuffer) {
	// A short idle baseline, so that a record is on disk before the
	// command starts.
	return startJoulebench(t, "measure", "--meter", "fake", "--idle", "100ms", "--interval", "20ms", "--out", out, "--", "sh", "-c", script)
}

func waitForFile(t *testing.T, path string, out *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in 30 s:\n%s", path, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A Ctrl-C reaches joulebench only (the command has its own process
// group); joulebench forwards it once, keeps measuring while the command
// cleans up, and writes the record, marked interrupted.
func TestMeasureForwardsSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts joulebench processes")
	}
	dir := t.TempDir()
	mark, ready := filepath.Join(dir, "mark"), filepath.Join(dir, "ready")
	script := `trap 'echo INT >> ` + mark + `; sleep 0.2; exit 130' INT; touch ` + ready + `; while :; do sleep 0.02; done`
	cmd, out := measureProcess(t, filepath.Join(dir, "out"), script)
	defer cmd.Process.Kill()
	waitForFile(t, ready, out)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130 (the command's), got %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(mark); string(b) != "INT\n" {
		t.Errorf("the command got SIGINT %d times, want once (%q)", strings.Count(string(b), "INT"), b)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "out", "*", results.RecordFile))
	if len(recs) != 1 {
		t.Fatalf("records: %v\n%s", recs, out)
	}
	validateRecord(t, recs[0])
	rec, err := results.ReadFile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if rec.Complete || !strings.Contains(rec.IncompleteReason, "SIGINT") {
		t.Errorf("want the record incomplete, naming SIGINT: complete %v, %q", rec.Complete, rec.IncompleteReason)
	}
	if rec.Command.ExitCode != 130 || len(rec.Workloads) != 1 || len(rec.Workloads[0].Reps) != 1 {
		t.Fatalf("the interrupted repetition is not kept: %+v", rec.Command)
	}
	// The clean-up (0.2 s after the signal) was metered.
	if d := rec.Workloads[0].Reps[0].DurationS; d < 0.2 {
		t.Errorf("repetition %.3f s: the command's clean-up was not measured", d)
	}
	if !strings.Contains(strings.Join(rec.Notes, "\n"), "forwarded SIGINT") {
		t.Errorf("notes do not say SIGINT was forwarded: %q", rec.Notes)
	}
}

// A second Ctrl-C quits at once, and the command's process group is
// killed first rather than left running unmeasured.
func TestMeasureSecondInterruptKillsCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts joulebench processes")
	}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := `trap '' INT; echo $$ > ` + pidFile + `.tmp; mv ` + pidFile + `.tmp ` + pidFile + `; while :; do sleep 0.02; done`
	cmd, out := measureProcess(t, filepath.Join(dir, "out"), script)
	defer cmd.Process.Kill()
	waitForFile(t, pidFile, out)
	b, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	defer syscall.Kill(-pid, syscall.SIGKILL)
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	werr := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130, got %v\n%s", werr, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the command (pid %d) outlived joulebench's second Ctrl-C", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "out", "*", results.RecordFile))
	if len(recs) != 1 {
		t.Fatalf("the checkpointed record is gone: %v\n%s", recs, out)
	}
	validateRecord(t, recs[0])
}

// alive reports whether pid runs (a zombie has ended).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}

// With --json, standard output is the record alone, so that it parses:
// the command's own output goes to standard error.
func TestMeasureJSONIsTheRecordAlone(t *testing.T) {
	out := t.TempDir()
	_, stdout, stderr, err := measureRun(t, out, []string{"--json"}, "sh", "-c", "echo hello from the command")
	if err != nil {
		t.Fatalf("measure: %v\n%s", err, stderr)
	}
	if _, err := results.Decode([]byte(stdout)); err != nil {
		t.Fatalf("stdout is not a record: %v\n%s", err, stdout)
	}
	if !strings.Contains(stderr, "hello from the command") {
		t.Errorf("the command's output is not on stderr:\n%s", stderr)
	}
}

// A command that leaves a background process behind: the record says its
// processes were still running when it exited, and what they did after
// is not in the record.
func TestMeasureLeftBehindNoted(t *testing.T) {
	rec, _, stderr, err := measureRun(t, t.TempDir(), nil, "sh", "-c", "sleep 2 >/dev/null 2>&1 &")
	if err != nil {
		t.Fatalf("measure: %v\n%s", err, stderr)
	}
	if !strings.Contains(strings.Join(rec.Notes, "\n"), "still running when it exited") {
		t.Errorf("no note of the process left behind: %q", rec.Notes)
	}
	if rec.Command == nil || rec.Command.Running {
		t.Errorf("a finished command's record says running: %+v", rec.Command)
	}
	if rec.Clock == nil || rec.Clock.MonotonicNS <= 0 {
		t.Errorf("a measure record lacks its clock facts: %+v", rec.Clock)
	}
}
