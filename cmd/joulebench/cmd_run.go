package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/joulebench/joulebench/harness"
	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
	"github.com/joulebench/joulebench/results/store"
	"github.com/joulebench/joulebench/workloads"
)

type runFlags struct {
	suite, workload, meter, sysfsRoot, procRoot, out, blas, coretype string
	cudaLibDir                                                       string
	interval, minTime                                                time.Duration
	idle, warmup                                                     optDuration
	reps, threads                                                    int
	tdp                                                              float64
	json, benchfmt, wide, redfishInsecure                            bool
	emissionsCSV                                                     string
	carbon                                                           carbonFlags
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, _, err := measure(ctx, args, stdout, stderr)
	return err
}

// measure is joulebench run: it returns the record and where it was
// written (empty when nothing was measured), so that reproduce can rerun a
// certified run exactly as run would.
func measure(ctx context.Context, args []string, stdout, stderr io.Writer) (path string, rec *results.Record, err error) {
	defer func() {
		if path == "" {
			rec = nil
		}
	}()
	fs := newFlags("run", stderr)
	var f runFlags
	fs.StringVar(&f.suite, "suite", "quick", "suite to run: quick, standard, certify, or a suite FILE")
	fs.StringVar(&f.workload, "workload", "", "only the suite's workloads matching these comma-separated globs, e.g. 'gemm-fp32-*'")
	fs.StringVar(&f.meter, "meter", "auto", "meters: auto, or a comma-separated list of rapl, nvml, redfish=https://BMC[/CHASSIS], estimate, fake")
	fs.BoolVar(&f.redfishInsecure, "redfish-insecure", false, "do not verify the BMC's TLS certificate (recorded in the meter's notes)")
	fs.StringVar(&f.sysfsRoot, "sysfs-root", "/sys", "where sysfs is mounted (RAPL)")
	fs.StringVar(&f.procRoot, "proc-root", "/proc", "where procfs is mounted (utilisation, CPU model)")
	fs.DurationVar(&f.interval, "interval", 100*time.Millisecond, "time between meter readings (phase edges are always read)")
	fs.StringVar(&f.out, "out", "results", "directory for records: OUT/RUN-ID/record.json")
	fs.BoolVar(&f.json, "json", false, "print the record as JSON instead of a table")
	fs.Float64Var(&f.tdp, "tdp", 0, "estimate meter: the CPU's TDP in watts, instead of the built-in table")
	fs.StringVar(&f.blas, "blas", "", "CBLAS library PATH to load, or 'gonum' for pure Go (default: OpenBLAS, BLIS, MKL, libblas, in that order)")
	fs.StringVar(&f.cudaLibDir, "cuda-lib-dir", "", "GPU workloads: load libcudart.so, libcublas.so and libcublasLt.so from this directory only (default: LD_LIBRARY_PATH, then the loader's search)")
	fs.StringVar(&f.coretype, "blas-coretype", "auto", "OpenBLAS kernel: auto (AVX-512 kernel on AVX-512 CPUs), library (OpenBLAS decides), or a name such as SkylakeX, Haswell, Zen")
	fs.IntVar(&f.threads, "threads", 0, "BLAS threads (0 = all logical CPUs)")
	fs.IntVar(&f.reps, "reps", 0, "repetitions per workload (0 = the suite's)")
	fs.Var(&f.idle, "idle", "the idle baseline's `duration`, e.g. 30s (default: the suite's; 0 skips it)")
	fs.Var(&f.warmup, "warmup", "the `duration` of each workload's warm-up, e.g. 2s (default: the suite's)")
	fs.DurationVar(&f.minTime, "min-time", 0, "shortest repetition (default: the suite's)")
	fs.BoolVar(&f.wide, "wide", false, "show every column of the table (s/rep, W, net-of-idle figures, BLAS per workload), however wide; the default fits 120 columns")
	fs.BoolVar(&f.benchfmt, "benchfmt", false, "print Go benchmark lines (J/op, flops/J, gCO2e/op) for benchstat instead of the table")
	fs.StringVar(&f.emissionsCSV, "emissions-csv", "", "also append the run to FILE in CodeCarbon's emissions.csv columns")
	f.carbon.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) > 0 {
		return "", nil, usagef("run takes no arguments, got %q", pos)
	}
	copts, err := f.carbon.options(carbon.Options{})
	if err != nil {
		return "", nil, err
	}
	// A series that ends before the run starts cannot cover it: refuse it
	// now rather than after measuring.
	if s := copts.Series; s != nil && !s.End().After(time.Now()) {
		return "", nil, usagef("--intensity-file %s ends at %s, before this run starts; a file must cover the run (joulebench does not extrapolate)", s.Name, s.End().UTC().Format(time.RFC3339))
	}

	switch {
	case f.interval < time.Millisecond:
		return "", nil, usagef("--interval %v: must be at least 1ms (meters update every millisecond at best, and each repetition needs readings between its edges)", f.interval)
	case f.interval > time.Second:
		return "", nil, usagef("--interval %v: must be at most 1s, so that a RAPL counter cannot wrap twice between readings", f.interval)
	case f.threads < 0:
		return "", nil, usagef("--threads %d: must be 0 (all logical CPUs) or more", f.threads)
	case f.tdp < 0:
		return "", nil, usagef("--tdp %g: must be a positive number of watts, or 0 for the table", f.tdp)
	case f.reps < 0:
		return "", nil, usagef("--reps %d: must be 1 or more (0 keeps the suite's)", f.reps)
	case f.minTime < 0:
		return "", nil, usagef("--min-time %v: must be positive (0 keeps the suite's)", f.minTime)
	case f.idle.d < 0 || f.warmup.d < 0:
		return "", nil, usagef("--idle and --warmup must not be negative")
	}
	// A root given on the command line must be a directory: a typo would
	// otherwise look like "this machine has no RAPL".
	var rootErr error
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "cuda-lib-dir" {
			if fi, err := os.Stat(fl.Value.String()); (err != nil || !fi.IsDir()) && rootErr == nil {
				rootErr = usagef("--cuda-lib-dir %s: not a directory; give the directory that holds libcudart.so and libcublas.so", fl.Value.String())
			}
		}
		if fl.Name == "sysfs-root" || fl.Name == "proc-root" {
			if err := checkRoot("--"+fl.Name, fl.Value.String()); err != nil && rootErr == nil {
				rootErr = err
			}
		}
	})
	if rootErr != nil {
		return "", nil, rootErr
	}
	if f.emissionsCSV != "" {
		if err := report.CheckCodeCarbonCSV(f.emissionsCSV); err != nil {
			return "", nil, usageError{err}
		}
	}

	suite, err := workloads.LoadSuite(f.suite)
	if err != nil {
		return "", nil, usageError{err}
	}
	names, err := suite.Select(f.workload)
	if err != nil {
		return "", nil, usageError{err}
	}
	cfg := harness.Config{
		Interval: f.interval, Idle: suite.Idle(), Warmup: suite.Warmup(), MinTime: suite.MinTime(), Reps: suite.Reps,
	}
	var overrides []string
	if f.idle.set {
		cfg.Idle, overrides = f.idle.d, append(overrides, "idle_s")
	}
	if f.warmup.set {
		cfg.Warmup, overrides = f.warmup.d, append(overrides, "warmup_s")
	}
	if f.minTime > 0 {
		cfg.MinTime, overrides = f.minTime, append(overrides, "min_time_s")
	}
	if f.reps > 0 {
		cfg.Reps, overrides = f.reps, append(overrides, "reps")
	}

	// The answer checks' seed is drawn afresh for every run, so that no
	// library can know their random vectors or the repetitions' fresh
	// inputs in advance; it is recorded, so the checks can be redone.
	seed, err := newSeed()
	if err != nil {
		return "", nil, err
	}
	opts := workloads.Options{BLAS: f.blas, BLASCoreType: f.coretype, Threads: f.threads, Seed: seed, CUDALibDir: f.cudaLibDir}
	var ws []workloads.Workload
	var kept []string
	left := leftOut{}
	for _, n := range names {
		w, err := workloads.New(n, opts)
		if err != nil {
			return "", nil, usageError{err}
		}
		// A bad --blas or kernel is refused now, not after the idle baseline.
		if v, ok := w.(workloads.Validator); ok {
			if err := v.Validate(ctx); err != nil {
				// A workload this machine cannot run at all is left out
				// of the suite, and the record says so; anything else is
				// bad input.
				if errors.Is(err, workloads.ErrNotHere) {
					left.add(n, err)
					continue
				}
				return "", nil, usageError{err}
			}
		}
		ws = append(ws, w)
		kept = append(kept, n)
	}
	skipped := left.lines()
	for _, msg := range skipped {
		fmt.Fprintln(stderr, msg)
	}
	if len(ws) == 0 {
		return "", nil, usagef("no workload of the selection can run here: each was left out, for the reason given above")
	}
	names = kept

	sel, err := selectMeters(f.meter, meter.Options{SysfsRoot: f.sysfsRoot, ProcRoot: f.procRoot, TDPWatts: f.tdp, RedfishInsecure: f.redfishInsecure}, stderr)
	if err != nil {
		return "", nil, err
	}
	defer sel.Close()

	ver, commit := buildVersion()
	// The clock facts are read next to the start time they describe; the
	// node and job come from Slurm's or Kubernetes' environment.
	started, clk, node := time.Now(), harness.ReadClock(), harness.NodeIdentity(os.Getenv)
	rec = &results.Record{
		SchemaVersion: results.SchemaVersion,
		RunID:         newRunID(started),
		StartedAt:     started,
		Clock:         &clk,
		Node:          node,
		Tool:          results.Tool{Name: "joulebench", Version: ver, Commit: commit, GoVersion: runtime.Version()},
		Host:          harness.Fingerprint(f.procRoot, f.sysfsRoot),
		Config: results.Config{
			Suite: suite.Name, SuiteVersion: suite.Version, Workloads: names, MeterSelection: f.meter,
			SysfsRoot: f.sysfsRoot, IntervalS: f.interval.Seconds(), IdleS: cfg.Idle.Seconds(),
			WarmupS: cfg.Warmup.Seconds(), MinTimeS: cfg.MinTime.Seconds(), Reps: cfg.Reps,
			MinReadings: suite.MinReadings, MaxCV: suite.MaxCV, BLAS: f.blas, BLASCoreType: f.coretype,
			Threads: f.threads, TDPW: f.tdp, Overrides: overrides, Args: append([]string{"run"}, args...),
			CheckSeed: fmt.Sprintf("%016x", seed),
		},
		Notes: append(append([]string(nil), sel.Notes...), skipped...),
	}
	// The run directory exists before anything is measured, so that a bad
	// --out is found now rather than after the measurements are lost.
	dir := filepath.Join(f.out, rec.RunID)
	if nodeDir, ok := harness.NodeDir(f.out, node); ok {
		// Under Slurm or Kubernetes every node writes OUT/<job>/<node>
		// on a shared filesystem: created exclusively, so that a second
		// task on one node, or a rerun of the step, cannot overwrite it.
		if err := os.MkdirAll(filepath.Dir(nodeDir), 0o755); err != nil {
			return "", nil, usagef("--out %s: cannot create the job directory: %w", f.out, err)
		}
		if err := os.Mkdir(nodeDir, 0o755); err != nil {
			return "", nil, usagef("--out %s: cannot create this node's directory %s: %w (run one task per node: srun --ntasks-per-node=1, or one pod per node; a job step writes each node once)", f.out, nodeDir, err)
		}
		dir = nodeDir
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, usagef("--out %s: cannot create the run directory: %w", f.out, err)
	}
	recPath := filepath.Join(dir, results.RecordFile)
	if isTerminal(stderr) {
		cfg.Progress = progressPrinter(stderr)
	}
	// The record is written as the run goes, atomically, after every
	// phase: a SIGKILL, an out-of-memory kill or a second Ctrl-C loses at
	// most the repetition in progress, and what is on disk is always a
	// whole record (marked incomplete) that report and certify read.
	cfg.Checkpoint = func(r *results.Record) error { return results.WriteFile(recPath, r) }
	recordInProgress.Store(recPath)
	defer recordInProgress.Store("")
	runErr := harness.Run(ctx, cfg, sel.Meters, ws, rec)
	if cfg.Progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if len(rec.Meters) == 0 {
		// The harness refused to start (meters that overlap): nothing measured.
		os.Remove(dir)
		return "", nil, usageError{runErr}
	}
	// Carbon is accounted from the measured joules; a problem with it (an
	// intensity file that does not cover the run) loses no measurement.
	if err := account(rec, copts); err != nil {
		runErr = errors.Join(runErr, err)
	}
	// Whatever happened, what was measured is written.
	if err := results.WriteFile(recPath, rec); err != nil {
		return "", nil, errors.Join(runErr, err)
	}
	if err := writeRunOutputs(rec, recPath, f.out, f.wide, f.json, f.benchfmt, stdout, stderr); err != nil {
		return recPath, rec, errors.Join(runErr, err)
	}
	if f.emissionsCSV != "" {
		if err := report.AppendCodeCarbonCSV(f.emissionsCSV, rec); err != nil {
			return recPath, rec, errors.Join(runErr, err)
		}
		fmt.Fprintf(stderr, "emissions: %s\n", f.emissionsCSV)
	}
	if runErr != nil && !rec.Complete {
		return recPath, rec, fmt.Errorf("run incomplete (record kept at %s): %w", recPath, runErr)
	}
	return recPath, rec, runErr
}

// checkRoot refuses a --sysfs-root or --proc-root that is not a directory.
func checkRoot(flagName, dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return usagef("%s %s: %v; give the directory where the filesystem is mounted", flagName, dir, err)
	case !fi.IsDir():
		return usagef("%s %s: not a directory; give the directory where the filesystem is mounted", flagName, dir)
	}
	return nil
}

// newSeed draws a seed from the system's random source.
func newSeed() (uint64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("draw the answer checks' seed: %w", err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// output prints the record as JSON, benchmark lines or the table.
func output(w io.Writer, rec *results.Record, asJSON, benchfmt bool, table []byte) error {
	switch {
	case asJSON:
		b, err := results.Marshal(rec)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case benchfmt:
		return report.WriteBenchfmt(w, rec)
	}
	_, err := w.Write(table)
	return err
}

// newRunID names a run by its start time, plus random bits so that two runs
// started in the same second do not collide.
func newRunID(t time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// progressPrinter draws one status line on a terminal.
func progressPrinter(w io.Writer) func(harness.Event) {
	return func(e harness.Event) {
		var s string
		switch e.Phase {
		case "idle":
			s = fmt.Sprintf("idle baseline (%s)", e.Duration.Round(time.Second))
		case "warmup":
			s = fmt.Sprintf("[%d/%d] %s warm-up", e.Index+1, e.Count, e.Workload)
		default:
			bar := strings.Repeat("█", e.Rep-1) + strings.Repeat("░", e.Reps-e.Rep+1)
			s = fmt.Sprintf("[%d/%d] %s %s rep %d/%d (~%s)", e.Index+1, e.Count, e.Workload, bar, e.Rep, e.Reps, e.Duration.Round(100*time.Millisecond))
		}
		fmt.Fprintf(w, "\r\033[K%s", s)
	}
}

// optDuration is a duration flag that may be left unset (the suite's value
// then holds); unset, it shows no default in the help.
type optDuration struct {
	d   time.Duration
	set bool
}

func (o *optDuration) String() string {
	if o == nil || !o.set {
		return ""
	}
	return o.d.String()
}

func (o *optDuration) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return err
	}
	o.d, o.set = d, true
	return nil
}

// leftOut collects the workloads a machine cannot run, grouped by reason:
// ten GPU workloads on a machine without CUDA share one reason, said once.
type leftOut struct {
	reasons []string
	names   map[string][]string
}

func (l *leftOut) add(name string, err error) {
	if l.names == nil {
		l.names = map[string][]string{}
	}
	r := err.Error()
	if _, ok := l.names[r]; !ok {
		l.reasons = append(l.reasons, r)
	}
	l.names[r] = append(l.names[r], name)
}

// lines says, for each reason in the order first met, which workloads
// were left out for it.
func (l *leftOut) lines() []string {
	var out []string
	for _, r := range l.reasons {
		out = append(out, fmt.Sprintf("%s left out: %s", strings.Join(l.names[r], ", "), r))
	}
	return out
}

// selectMeters selects the meters as joulebench run does: asking for a
// meter that does not exist, or that this machine lacks, is bad input; a
// meter that is there but broken is a failure. The selection's notes go
// to stderr.
func selectMeters(spec string, o meter.Options, stderr io.Writer) (*meter.Selection, error) {
	sel, err := meter.Select(spec, o)
	if err != nil {
		if errors.Is(err, meter.ErrUnknown) || errors.Is(err, errors.ErrUnsupported) || errors.Is(err, meter.ErrBadRoot) || errors.Is(err, meter.ErrRedfishConfig) {
			return nil, usageError{err}
		}
		return nil, err
	}
	for _, n := range sel.Notes {
		fmt.Fprintln(stderr, n)
	}
	return sel, nil
}

// writeRunOutputs writes what a finished run leaves beside its record and
// prints, as joulebench run does: report.txt (every column and every
// figure's statistics), the table or JSON on stdout, "record: PATH" on
// stderr, report.html and the results index (a failure of the last two
// loses nothing measured and is a warning). run and measure share it.
func writeRunOutputs(rec *results.Record, recPath, out string, wide, asJSON, benchfmt bool, stdout, stderr io.Writer) error {
	dir := filepath.Dir(recPath)
	var tbl, wideTbl, stats bytes.Buffer
	if err := report.WriteTableOptions(&tbl, rec, report.TableOptions{Wide: wide}); err != nil {
		return err
	}
	if err := report.WriteTableOptions(&wideTbl, rec, report.TableOptions{Wide: true}); err != nil {
		return err
	}
	if err := report.WriteStats(&stats, rec); err != nil {
		return err
	}
	if err := results.WriteFileAtomic(filepath.Join(dir, "report.txt"), append(bytes.Clone(wideTbl.Bytes()), stats.Bytes()...), 0o644); err != nil {
		return err
	}
	if err := output(stdout, rec, asJSON, benchfmt, tbl.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "record: %s\n", recPath)
	if err := writeReports(rec, recPath, "", nil, filepath.Join(dir, "report.html"), "", "", stderr); err != nil {
		fmt.Fprintf(stderr, "WARNING: no HTML report: %v\n", err)
	}
	if err := store.AddRun(out, recPath); err != nil {
		fmt.Fprintf(stderr, "WARNING: the results index was not updated (joulebench results reindex --out %s rebuilds it): %v\n", out, err)
	}
	return nil
}
