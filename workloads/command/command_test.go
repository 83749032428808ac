package command

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/joulebench/joulebench/results"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644)
	exe := filepath.Join(dir, "exe")
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	for _, c := range []struct {
		arg  string
		code int
		want string
	}{
		{"joulebench-no-such-command", 127, "command not found in PATH"},
		{filepath.Join(dir, "missing"), 127, "no such file"},
		{plain, 126, "not executable"},
		{dir, 126, "directory"},
		{"", 127, "empty"},
		{exe, 0, ""},
		{"sh", 0, ""},
	} {
		p, err := Resolve(c.arg)
		if c.code == 0 {
			if err != nil || p == "" {
				t.Errorf("%q: %v", c.arg, err)
			}
			continue
		}
		var se *StartError
		if !errors.As(err, &se) || se.Code != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: want code %d with %q, got %v", c.arg, c.code, c.want, err)
		}
	}
}

func TestOpenWorkFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("kept\n"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{link, "symbolic link"},
		{fifo, "FIFO"},
		{dir, "directory"},
		{filepath.Join(dir, "no", "such", "dir", "w"), "no such file"},
	} {
		f, err := OpenWorkFile(c.path)
		if err == nil {
			f.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error saying %q, got %v", c.path, c.want, err)
		}
	}
	f, err := OpenWorkFile(target)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, _ := os.ReadFile(target); string(b) != "kept\n" {
		t.Errorf("an existing work file was changed: %q", b)
	}
	f, err = OpenWorkFile(filepath.Join(dir, "new"))
	if err != nil {
		t.Fatalf("a missing work file is created: %v", err)
	}
	f.Close()
}

func TestParseStat(t *testing.T) {
	for _, c := range []struct {
		in         string
		ppid, pgrp int
		ok         bool
	}{
		{"42 (sh) S 1 42 42 0 -1", 1, 42, true},
		{"43 (a) b (c)) R 42 42 42 0", 42, 42, true},
		{"44 (x", 0, 0, false},
		{"45 (x) S", 0, 0, false},
		{"46 (x) S one 2", 0, 0, false},
	} {
		ppid, pgrp, ok := ParseStat([]byte(c.in))
		if ppid != c.ppid || pgrp != c.pgrp || ok != c.ok {
			t.Errorf("%q: got %d %d %v", c.in, ppid, pgrp, ok)
		}
	}
}

// TestTree reads a made-up procfs: the root, its descendants by parent
// PID, and an orphan re-parented to init that is still in the root's
// process group; not a stranger, nor a loop of parents.
func TestTree(t *testing.T) {
	root := t.TempDir()
	for pid, stat := range map[string]string{
		"1":   "1 (init) S 0 1 1",
		"100": "100 (python3) S 1 100 100",     // the command
		"101": "101 (worker) S 100 100 100",    // its child
		"102": "102 (grand child) S 101 102 1", // a grandchild in its own group
		"103": "103 (orphan) S 1 100 100",      // re-parented, same group
		"200": "200 (stranger) S 1 200 200",
		"300": "300 (loop) S 301 300 300",
		"301": "301 (loop) S 300 301 301",
	} {
		os.MkdirAll(filepath.Join(root, pid), 0o755)
		os.WriteFile(filepath.Join(root, pid, "stat"), []byte(stat), 0o644)
	}
	os.MkdirAll(filepath.Join(root, "self"), 0o755)
	got := Tree(root, 100)
	if want := []int{100, 101, 102, 103}; !slices.Equal(got, want) {
		t.Errorf("tree %v, want %v", got, want)
	}
	if got := Tree(filepath.Join(root, "nope"), 100); got != nil {
		t.Errorf("missing procfs: %v", got)
	}
}

func f64(v float64) *float64 { return &v }
func u64(v uint64) *uint64   { return &v }

// gpuRecord is a record with one CPU and two GPU domains, one repetition
// from 1 s to 3 s, and a hand-made trace.
func gpuRecord(trace []results.TraceSample) *results.Record {
	return &results.Record{
		Meters: []results.Meter{
			{Name: "rapl", Domains: []results.Domain{{Name: "package-0", Kind: "package"}}},
			{Name: "nvml", Domains: []results.Domain{{Name: "gpu-0", Kind: "gpu"}, {Name: "gpu-1", Kind: "gpu"}}},
		},
		Workloads: []results.Workload{{Name: Name, Reps: []results.Rep{{StartS: 1, DurationS: 2}}}},
		Trace:     trace,
	}
}

func TestGPUShare(t *testing.T) {
	tree := []int{100, 101}
	trace := []results.TraceSample{
		// Before the repetition (the idle baseline): not counted.
		{TS: 0.5, Domain: "gpu-0", Procs: []results.ProcSample{{PID: 999, SMUtilPct: f64(100)}}},
		{TS: 1.0, Domain: "gpu-0", Procs: []results.ProcSample{{PID: 100, SMUtilPct: f64(60)}, {PID: 999, SMUtilPct: f64(20)}}},
		{TS: 2.0, Domain: "gpu-0", Procs: []results.ProcSample{{PID: 101, SMUtilPct: f64(30)}, {PID: 999, SMUtilPct: f64(10)}}},
		// A sample with no process figures at all: counted in neither sum.
		{TS: 2.5, Domain: "gpu-0"},
		// gpu-1 reports memory only.
		{TS: 1.5, Domain: "gpu-1", Procs: []results.ProcSample{{PID: 101, UsedMemBytes: u64(3 << 30)}, {PID: 7, UsedMemBytes: u64(1 << 30)}}},
		{TS: 2.5, Domain: "gpu-1", Procs: []results.ProcSample{{PID: 101, UsedMemBytes: u64(3 << 30)}, {PID: 7, UsedMemBytes: u64(1 << 30)}}},
		// After the repetition: not counted.
		{TS: 3.5, Domain: "gpu-0", Procs: []results.ProcSample{{PID: 999, SMUtilPct: f64(100)}}},
	}
	share, method := GPUShare(gpuRecord(trace), tree)
	// gpu-0: (60 + 30) / (60 + 20 + 30 + 10) = 0.75
	if math.Abs(share["gpu-0"]-0.75) > 1e-12 {
		t.Errorf("gpu-0 share %v, want 0.75", share["gpu-0"])
	}
	if math.Abs(share["gpu-1"]-0.75) > 1e-12 {
		t.Errorf("gpu-1 share %v, want 0.75 (3 GiB of 4)", share["gpu-1"])
	}
	want := "gpu-0: per-process SM utilisation, 2 samples; gpu-1: device memory held (no per-process utilisation reported), 2 samples"
	if method != want {
		t.Errorf("method %q\nwant   %q", method, want)
	}
	lines := ShareLines(&results.Command{GPUShare: share, GPUShareMethod: method})
	if len(lines) != 2 || lines[0] != "GPU share: gpu-0 75% of the compute (per-process SM utilisation, 2 samples)" ||
		!strings.HasPrefix(lines[1], "GPU share: gpu-1 75% of the device memory in use") {
		t.Errorf("lines %q", lines)
	}

	// No GPU meter: no share, no method.
	if s, m := GPUShare(&results.Record{Meters: []results.Meter{{Domains: []results.Domain{{Name: "package-0", Kind: "package"}}}}}, tree); s != nil || m != "" {
		t.Errorf("no GPU: %v %q", s, m)
	}
	// A GPU that reported no processes, or whose processes used nothing.
	idle := []results.TraceSample{{TS: 1.5, Domain: "gpu-0", Procs: []results.ProcSample{{PID: 100, SMUtilPct: f64(0)}}}}
	s, m := GPUShare(gpuRecord(idle), tree)
	if s != nil || !strings.Contains(m, "gpu-0: no share") || !strings.Contains(m, "gpu-1: no share") {
		t.Errorf("idle GPUs: %v %q", s, m)
	}
	// A stranger's use alone: the tree's share is 0, not absent.
	other := []results.TraceSample{{TS: 1.5, Domain: "gpu-0", Procs: []results.ProcSample{{PID: 999, SMUtilPct: f64(50)}}}}
	if s, _ := GPUShare(gpuRecord(other), tree); s["gpu-0"] != 0 || len(s) != 1 {
		t.Errorf("stranger only: %v", s)
	}
}

func newTestCommand(t *testing.T, argv ...string) *Command {
	t.Helper()
	c, err := New(Options{Argv: argv, WorkFile: filepath.Join(t.TempDir(), "work.jsonl"), Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSpec(t *testing.T) {
	a, b := NewSpec([]string{"python3", "train.py", "--epochs", "3"}), NewSpec([]string{"python3", "train.py --epochs", "3"})
	if a.Hash == b.Hash {
		t.Error("arguments that run together give the same spec")
	}
	if a.Params["argv"] != `["python3","train.py","--epochs","3"]` || a.Name != "command" || a.WorkUnit != UnitRun {
		t.Errorf("spec %+v", a)
	}
	if NewSpec([]string{"sh", "-c", "a > b && c"}).Params["argv"] != `["sh","-c","a > b && c"]` {
		t.Error("argv is HTML-escaped")
	}
}

func TestRunAndFinish(t *testing.T) {
	c := newTestCommand(t, "sh", "-c", `echo '{"items":5}' >> "$JOULEBENCH_WORK_FILE"; echo 'junk' >> "$JOULEBENCH_WORK_FILE"; sleep 0.05 & wait`)
	work, err := c.Run(context.Background(), 1)
	if err != nil || work.Items != 5 {
		t.Fatalf("run: %+v %v", work, err)
	}
	// A second repetition reads only what it appended.
	work, err = c.Run(context.Background(), 1)
	if err != nil || work.Items != 5 {
		t.Fatalf("second run: %+v %v", work, err)
	}
	rec := &results.Record{Workloads: []results.Workload{{Name: Name, Episodic: true, Reps: []results.Rep{{Work: results.Work{Items: 5}}, {Work: results.Work{Items: 5}}}}}}
	if status := c.Finish(rec); status != 0 {
		t.Errorf("status %d", status)
	}
	r := rec.Command
	if r.ExitCode != 0 || r.WorkLines != 4 || len(r.WorkErrors) != 2 || !strings.HasPrefix(r.WorkErrors[1], "repetition 2, line 2: not valid JSON") {
		t.Errorf("command %+v", r)
	}
	if len(r.PIDs) < 2 || r.PID != r.PIDs[0] {
		t.Errorf("pids %v (pid %d): the shell and the background sleep of the first repetition at least", r.PIDs, r.PID)
	}
	if w := rec.Workloads[0]; w.WorkUnit != UnitItem || w.Error != "" {
		t.Errorf("workload %+v", w)
	}
}

func TestRunFailureStopsRepetitions(t *testing.T) {
	c := newTestCommand(t, "sh", "-c", "kill -TERM $$")
	if _, err := c.Run(context.Background(), 1); err != nil {
		t.Fatalf("a failed command is a measured repetition, not an error: %v", err)
	}
	if _, err := c.Run(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "killed by SIGTERM in repetition 1") {
		t.Errorf("second repetition: %v", err)
	}
	rec := &results.Record{Workloads: []results.Workload{{Name: Name, Reps: []results.Rep{{}}}}}
	if status := c.Finish(rec); status != 128+int(syscall.SIGTERM) {
		t.Errorf("status %d, want %d", status, 128+int(syscall.SIGTERM))
	}
	if rec.Command.Signal != "SIGTERM" || rec.Command.ExitCode != -1 || !strings.Contains(rec.Workloads[0].Error, "SIGTERM") {
		t.Errorf("record: %+v, error %q", rec.Command, rec.Workloads[0].Error)
	}
}

// Forward reaches the whole process group once; SIGUSR1 does not stop the
// next repetition, SIGTERM does; a command ended by a forwarded signal is
// interrupted, not failed.
func TestForwardAndKill(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "mark")
	c := newTestCommand(t, "sh", "-c", `trap 'echo USR1 >> `+mark+`' USR1; trap 'echo TERM >> `+mark+`; exit 143' TERM; touch `+mark+`; while :; do sleep 0.01; done`)
	if c.Forward(syscall.SIGUSR1) {
		t.Error("forwarded with no command running")
	}
	done := make(chan error, 1)
	go func() { _, err := c.Run(context.Background(), 1); done <- err }()
	for {
		if _, err := os.Stat(mark); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !c.Forward(syscall.SIGUSR1) {
		t.Fatal("SIGUSR1 not forwarded")
	}
	time.Sleep(100 * time.Millisecond)
	if !c.Forward(syscall.SIGTERM) {
		t.Fatal("SIGTERM not forwarded")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(mark); string(b) != "USR1\nTERM\n" {
		t.Errorf("the command saw %q", b)
	}
	if _, err := c.Run(context.Background(), 1); !errors.Is(err, ErrStopped) {
		t.Errorf("a repetition started after SIGTERM was forwarded: %v", err)
	}
	rec := &results.Record{Workloads: []results.Workload{{Name: Name, Reps: []results.Rep{{}}}}}
	c.Finish(rec)
	if rec.Workloads[0].Error != "" || !strings.Contains(strings.Join(rec.Notes, "\n"), "forwarded SIGUSR1, SIGTERM") {
		t.Errorf("error %q, notes %q", rec.Workloads[0].Error, rec.Notes)
	}

	k := newTestCommand(t, "sh", "-c", `trap '' TERM INT; sleep 30 & wait; sleep 30`)
	go func() { _, err := k.Run(context.Background(), 1); done <- err }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	k.Kill()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Kill took %v", d)
	}
	if r := k.Result(); r.Signal != "SIGKILL" {
		t.Errorf("killed command: %+v", r)
	}
}
