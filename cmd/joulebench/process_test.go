package main

import (
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/joulebench/joulebench/workloads/gpu/cuda/cudatest"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// TestMain lets the test binary be joulebench itself, so that tests can
// kill a real process: with JOULEBENCH_TEST_MAIN=1 it runs main.
func TestMain(m *testing.M) {
	if os.Getenv("JOULEBENCH_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	cudatest.Cleanup() // the fake CUDA libraries, if a test built them
	os.Exit(code)
}

// lockedBuffer is an output buffer that exec's copying goroutine writes
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startJoulebench starts this test binary as joulebench with args.
func startJoulebench(t *testing.T, args ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "JOULEBENCH_TEST_MAIN=1")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// longRun is a run that goes on far longer than any test waits.
func longRun(out string) []string {
	return []string{"run", "--meter", "fake", "--workload", "gemm-fp32-*", "--idle", "200ms", "--warmup", "50ms",
		"--min-time", "250ms", "--reps", "500", "--interval", "20ms", "--out", out}
}

// checkKilledRecord reads what a killed run left and checks it is a whole
// record, marked unfinished, whose every repetition agrees with its raw
// readings. It returns how many repetitions it kept.
func checkKilledRecord(t *testing.T, dir string) int {
	t.Helper()
	recs, _ := filepath.Glob(filepath.Join(dir, "*", results.RecordFile))
	if len(recs) != 1 {
		t.Fatalf("want one record under %s, got %v", dir, recs)
	}
	validateRecord(t, recs[0])
	rec, err := results.ReadFile(recs[0])
	if err != nil {
		t.Fatalf("the record a kill left does not read: %v", err)
	}
	if rec.Complete {
		t.Error("a killed run's record says complete")
	}
	reps := 0
	for _, w := range rec.Workloads {
		for _, r := range w.Reps {
			reps++
			if msg := metrics.CheckRep(rec, r); msg != "" {
				t.Errorf("%s rep %d: %s", w.Name, r.Index, msg)
			}
			if r.Check == nil || !r.Check.OK {
				t.Errorf("%s rep %d: kept without its answer check", w.Name, r.Index)
			}
		}
	}
	out, _, err := runCLI(t, "report", recs[0])
	if err != nil || !strings.Contains(out, "INCOMPLETE") {
		t.Errorf("report of a killed run: %v\n%s", err, out)
	}
	return reps
}

// Item 10: kill -9 at random points of a run. Whatever the moment, what is
// on disk is a whole record, marked unfinished, with every repetition
// finished before the kill, each consistent with its readings.
func TestKill9KeepsFinishedRepetitions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills joulebench processes (about 10 s)")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill times drawn with seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	kept := 0
	for i := 0; i < 3; i++ {
		dir := t.TempDir()
		cmd, out := startJoulebench(t, longRun(dir)...)
		// After the first checkpoint (the meters described), at a random
		// point up to 4 s in: in the idle baseline, a warm-up, a repetition
		// or while a checkpoint is being written.
		wait := time.Duration(300+rng.IntN(3700)) * time.Millisecond
		time.Sleep(wait)
		cmd.Process.Kill()
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("run was not killed (%v):\n%s", err, out)
		}
		n := checkKilledRecord(t, dir)
		t.Logf("killed after %v: %d repetitions kept", wait, n)
		kept += n
	}
	if kept == 0 {
		t.Error("no kill kept a repetition: the record is not written as the run goes")
	}
}

// Item 9: a second Ctrl-C ends the process at once, and the record as of
// the last finished repetition is there and readable. The workload is an
// fp64 GEMM at N=4096, whose calls take over a second here, so the first
// Ctrl-C's graceful stop (which lets the call in progress finish) is still
// going when the second one comes.
func TestSecondInterruptQuitsPromptly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts joulebench processes")
	}
	dir := t.TempDir()
	cmd, out := startJoulebench(t, "run", "--suite", "standard", "--workload", "gemm-fp64-4096", "--meter", "fake",
		"--idle", "100ms", "--warmup", "0", "--min-time", "100ms", "--reps", "50", "--interval", "50ms", "--out", dir)
	defer cmd.Process.Kill()
	waitFor := func(what string, ok func() bool) {
		deadline := time.Now().Add(60 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("no %s in 60 s:\n%s", what, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("repetition on disk", func() bool {
		recs, _ := filepath.Glob(filepath.Join(dir, "*", results.RecordFile))
		if len(recs) != 1 {
			return false
		}
		rec, err := results.ReadFile(recs[0])
		return err == nil && len(rec.Workloads) > 0 && len(rec.Workloads[0].Reps) > 0
	})
	cmd.Process.Signal(syscall.SIGINT)
	waitFor("first interrupt handled", func() bool { return strings.Contains(out.String(), "stopping") })
	cmd.Process.Signal(syscall.SIGINT)
	sent := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("want exit 130 (128 + SIGINT), got %v\n%s", err, out)
		}
		t.Logf("exited %v after the second Ctrl-C", time.Since(sent).Round(time.Millisecond))
	case <-time.After(1 * time.Second):
		t.Fatalf("a second Ctrl-C did not end the process within 1 s:\n%s", out)
	}
	if n := checkKilledRecord(t, dir); n == 0 {
		t.Error("the record lost its finished repetitions")
	}
	if !strings.Contains(out.String(), "again: quitting now: the record as of the last finished repetition is ") {
		t.Errorf("the second interrupt is not explained:\n%s", out)
	}
}
