package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/joulebench/joulebench/harness"
	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
	cmdwork "github.com/joulebench/joulebench/workloads/command"
)

// MeasureSuite names the "suite" of a joulebench measure record: one
// command, not a published suite.
const MeasureSuite = "measure"

// WorkFileName is the default work file's name in the run directory.
const WorkFileName = "work.jsonl"

// forwardedSignals are the signals joulebench measure passes on to the
// command's process group, each time it receives one.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// exitStatus is an error with the exit status joulebench should give for
// it: the measured command's, passed through as env(1) and timeout(1) do.
type exitStatus struct {
	code int
	err  error
}

func (e exitStatus) Error() string { return e.err.Error() }
func (e exitStatus) Unwrap() error { return e.err }

type measureFlags struct {
	meter, sysfsRoot, procRoot, out, workFile string
	interval, idle                            time.Duration
	reps                                      int
	tdp                                       float64
	json, wide                                bool
	redfishInsecure                           bool
	carbon                                    carbonFlags
}

// cmdMeasure is joulebench measure [flags] -- CMD ARGS...: it meters any
// command, once per repetition, after an idle baseline.
func cmdMeasure(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("measure", stderr)
	var f measureFlags
	fs.StringVar(&f.meter, "meter", "auto", "meters: auto, or a comma-separated list of rapl, nvml, redfish=https://BMC[/CHASSIS], estimate, fake")
	fs.BoolVar(&f.redfishInsecure, "redfish-insecure", false, "do not verify the BMC's TLS certificate (recorded in the meter's notes)")
	fs.StringVar(&f.sysfsRoot, "sysfs-root", "/sys", "where sysfs is mounted (RAPL)")
	fs.StringVar(&f.procRoot, "proc-root", "/proc", "where procfs is mounted (the command's process tree, utilisation, CPU model)")
	fs.DurationVar(&f.interval, "interval", 100*time.Millisecond, "time between meter readings and process-tree polls")
	fs.DurationVar(&f.idle, "idle", 5*time.Second, "the idle baseline's duration before the command runs (0 skips it)")
	fs.IntVar(&f.reps, "reps", 1, "run the command this many times, each one repetition")
	fs.StringVar(&f.workFile, "work-file", "", "the file the command may append work lines to, named to it as $"+cmdwork.WorkFileEnv+" (default: "+WorkFileName+" in the run directory); an existing file is not truncated")
	fs.StringVar(&f.out, "out", "results", "directory for records: OUT/RUN-ID/record.json")
	fs.BoolVar(&f.json, "json", false, "print the record as JSON instead of a table")
	fs.BoolVar(&f.wide, "wide", false, "show every column of the table, however wide")
	fs.Float64Var(&f.tdp, "tdp", 0, "estimate meter: the CPU's TDP in watts, instead of the built-in table")
	f.carbon.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: joulebench measure [flags] -- CMD ARGS...")
		fs.PrintDefaults()
	}
	// Flags end at "--" or at the command's name: the command's own
	// arguments are never read as joulebench's.
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return usagef("measure needs a command: joulebench measure [flags] -- CMD ARGS...")
	}
	copts, err := f.carbon.options(carbon.Options{})
	if err != nil {
		return err
	}
	if s := copts.Series; s != nil && !s.End().After(time.Now()) {
		return usagef("--intensity-file %s ends at %s, before this run starts; a file must cover the run (joulebench does not extrapolate)", s.Name, s.End().UTC().Format(time.RFC3339))
	}
	switch {
	case f.interval < time.Millisecond:
		return usagef("--interval %v: must be at least 1ms", f.interval)
	case f.interval > time.Second:
		return usagef("--interval %v: must be at most 1s, so that a RAPL counter cannot wrap twice between readings", f.interval)
	case f.reps < 1:
		return usagef("--reps %d: must be 1 or more", f.reps)
	case f.idle < 0:
		return usagef("--idle %v: must not be negative (0 skips the baseline)", f.idle)
	case f.tdp < 0:
		return usagef("--tdp %g: must be a positive number of watts, or 0 for the table", f.tdp)
	}
	var rootErr error
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "sysfs-root" || fl.Name == "proc-root" {
			if err := checkRoot("--"+fl.Name, fl.Value.String()); err != nil && rootErr == nil {
				rootErr = err
			}
		}
	})
	if rootErr != nil {
		return rootErr
	}
	// A command that cannot be started is found now: nothing is measured,
	// and no run directory is left behind.
	path, err := cmdwork.Resolve(argv[0])
	if err != nil {
		var se *cmdwork.StartError
		if errors.As(err, &se) {
			return exitStatus{se.Code, fmt.Errorf("measure: %w", err)}
		}
		return err
	}

	sel, err := selectMeters(f.meter, meter.Options{SysfsRoot: f.sysfsRoot, ProcRoot: f.procRoot, TDPWatts: f.tdp, RedfishInsecure: f.redfishInsecure}, stderr)
	if err != nil {
		return err
	}
	defer sel.Close()

	ver, commit := buildVersion()
	// As run does: the clock facts next to the start time, and the node
	// and job from a scheduler's environment.
	started, clk, node := time.Now(), harness.ReadClock(), harness.NodeIdentity(os.Getenv)
	rec := &results.Record{
		SchemaVersion: results.SchemaVersion,
		RunID:         newRunID(started),
		StartedAt:     started,
		Clock:         &clk,
		Node:          node,
		Tool:          results.Tool{Name: "joulebench", Version: ver, Commit: commit, GoVersion: runtime.Version()},
		Host:          harness.Fingerprint(f.procRoot, f.sysfsRoot),
		Config: results.Config{
			Suite: MeasureSuite, SuiteVersion: cmdwork.Version, Workloads: []string{cmdwork.Name}, MeterSelection: f.meter,
			SysfsRoot: f.sysfsRoot, IntervalS: f.interval.Seconds(), IdleS: f.idle.Seconds(), Reps: f.reps,
			// At least 10 readings a repetition, as DESIGN.md asks: a
			// command shorter than 10 intervals is flagged, not refused.
			MinReadings: 10, TDPW: f.tdp, Args: append([]string{"measure"}, args...),
		},
		Notes: append([]string(nil), sel.Notes...),
	}
	dir := filepath.Join(f.out, rec.RunID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef("--out %s: cannot create the run directory: %w", f.out, err)
	}
	workFile := f.workFile
	if workFile == "" {
		workFile = filepath.Join(dir, WorkFileName)
	}
	// With --json, joulebench's standard output is the record alone, so
	// that it parses: the command's own output goes to standard error.
	cmdStdout := stdout
	if f.json {
		cmdStdout = stderr
	}
	c, err := cmdwork.New(cmdwork.Options{
		Argv: argv, Path: path, WorkFile: workFile, ProcRoot: f.procRoot, Interval: f.interval,
		Stdin: os.Stdin, Stdout: cmdStdout, Stderr: stderr,
	})
	if err != nil {
		os.RemoveAll(dir)
		return usagef("--work-file: %w", err)
	}
	defer c.Close()
	rec.Command = ptrTo(c.Result())
	recPath := filepath.Join(dir, results.RecordFile)

	// The harness measures until the command exits, whatever happens to
	// ctx (main cancels it at the first Ctrl-C): the command gets the
	// signal instead, and its own clean-up is metered. hctx is cancelled
	// only when a terminating signal was forwarded, so that no further
	// repetition starts and the record says why.
	hctx, hcancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer hcancel(nil)
	stopForwarding := forwardSignals(c, hcancel, stderr)
	quit := c.Kill
	beforeQuit.Store(&quit)
	defer beforeQuit.Store(nil)

	cfg := harness.Config{Interval: f.interval, Idle: f.idle, Reps: f.reps}
	cfg.Checkpoint = func(r *results.Record) error {
		r.Command = ptrTo(c.Result())
		return results.WriteFile(recPath, r)
	}
	recordInProgress.Store(recPath)
	defer recordInProgress.Store("")
	runErr := harness.Run(hctx, cfg, sel.Meters, []workloads.Workload{c}, rec)
	stopForwarding()
	if len(rec.Meters) == 0 {
		// The harness refused to start (meters that overlap): nothing measured.
		c.Close()
		os.RemoveAll(dir)
		return usageError{runErr}
	}
	status := c.Finish(rec)
	if err := account(rec, copts); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if err := results.WriteFile(recPath, rec); err != nil {
		return errors.Join(runErr, err)
	}
	if err := writeRunOutputs(rec, recPath, f.out, f.wide, f.json, false, stdout, stderr); err != nil {
		runErr = errors.Join(runErr, err)
	}
	for _, l := range cmdwork.ShareLines(rec.Command) {
		fmt.Fprintln(stderr, l)
	}
	if status != 0 {
		why := "the command " + commandEnd(rec.Command)
		if !rec.Complete {
			why += "; the run is incomplete: " + rec.IncompleteReason
		}
		return exitStatus{status, fmt.Errorf("measure: %s (record kept at %s)", why, recPath)}
	}
	if runErr != nil && !rec.Complete {
		return fmt.Errorf("run incomplete (record kept at %s): %w", recPath, runErr)
	}
	return runErr
}

// commandEnd says how the command ended, as the record has it.
func commandEnd(c *results.Command) string {
	switch {
	case c.StartError != "":
		return "could not be started: " + c.StartError
	case c.Signal != "":
		return "was killed by " + c.Signal
	}
	return fmt.Sprintf("exited with status %d", c.ExitCode)
}

// forwardSignals passes each signal of forwardedSignals joulebench gets
// on to the command's process group, once, and says so on stderr; a
// terminating one also cancels the harness (through cancel) so that no
// further repetition starts. The returned function stops forwarding.
func forwardSignals(c *cmdwork.Command, cancel context.CancelCauseFunc, stderr io.Writer) (stop func()) {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, forwardedSignals...)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				sig, ok := s.(syscall.Signal)
				if !ok {
					continue
				}
				sent := c.Forward(sig)
				if sent {
					fmt.Fprintf(stderr, "joulebench: %s forwarded to the command's process group; measuring until the command exits\n", cmdwork.SignalName(sig))
				}
				if sig == syscall.SIGUSR1 || sig == syscall.SIGUSR2 {
					continue
				}
				what := "joulebench received " + cmdwork.SignalName(sig)
				if sent {
					what += " and forwarded it to the command's process group"
				} else {
					what += " while no command was running"
				}
				cancel(errors.New(what))
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		<-finished
	}
}

func ptrTo[T any](v T) *T { return &v }
