package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"golang.org/x/term"

	_ "github.com/joulebench/joulebench/workloads/gemm"  // registers gemm-*
	_ "github.com/joulebench/joulebench/workloads/gpu"   // registers gpu-gemm-*
	_ "github.com/joulebench/joulebench/workloads/model" // registers mnist-*
)

// version and commit are set at link time by the Makefile; a plain go build
// reports the module version and VCS revision it was built from, if the
// toolchain recorded them.
var (
	version = "dev"
	commit  = ""
)

// usageError is bad usage or input: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitCode maps an error to the CLI's exit codes: a measured command's
// own exit status passed through (joulebench measure), 2 bad usage or
// input, 1 any other failure.
func exitCode(err error) int {
	var x exitStatus
	if errors.As(err, &x) {
		return x.code
	}
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type command struct {
	name, args, help string
	run              func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "[--suite quick|standard|certify|models|gpu|FILE] [--workload GLOB] [--meter auto|rapl|nvml|redfish=URL|estimate|fake] [--region R] [flags]", "run a suite of workloads under the meters and write a record", cmdRun},
		{"train", "[--models DIR] [--meter M] [--threads N]", "train the reference MNIST models under the meters and derive the compressed variants (make models)", cmdTrain},
		{"measure", "[--meter M] [--idle DUR] [--reps N] [--work-file F] [--out DIR] [flags] -- CMD ARGS...", "meter any command (a training script): run it under the meters, pass its exit status through", cmdMeasure},
		{"meters", "[--sysfs-root DIR]", "what can be measured here, by which method, and why not", cmdMeters},
		{"serve", "[--listen 127.0.0.1:9478] [--meter M] [--interval DUR] [--node NAME] [--sysfs-root DIR] [--proc-root DIR]", "serve the meters as Prometheus metrics (/metrics, /healthz): energy counters, power, meter up", cmdServe},
		{"estimate", "--cpu MODEL --load 0..1 [--threads N] [--tdp W]", "show the watts the estimate meter would assume", cmdEstimate},
		{"report", "RECORD|CERT [--html F] [--md F] [--png DIR] [--statement] [--pub PUB] [--region R] [--json|--benchfmt]", "print a record's table, its figures recomputed from the record; write it as HTML, Markdown, PNG plots, or a paragraph for papers", cmdReport},
		{"compare", "A B [C ...] [--plot F] | RECORD --base W --other W [--json]", "runs side by side, each against the first, or one workload against another, with 95% confidence intervals", cmdCompare},
		{"carbon", "--kwh X [--region R] [--pue P] | --list", "turn kWh into gCO2e with the same table and formula as a run", cmdCarbon},
		{"keygen", "--out DIR", "make an Ed25519 key pair for signing certificates", cmdKeygen},
		{"certify", "RECORD --key KEY [--allow-estimated] [--spec FILE] [--profile P]", "judge a record by the spec and sign a certificate (in-toto/DSSE)", cmdCertify},
		{"verify", "CERT --pub PUB [--pub PUB...] [--record RECORD] [--spec FILE]", "check a certificate's signature, record and every figure", cmdVerify},
		{"reproduce", "CERT --pub PUB --key KEY [--out DIR]", "verify, rerun the same work here, compare, sign the outcome", cmdReproduce},
		{"merge", "DIR... --out DIR [--json]", "merge the node records of one Slurm or Kubernetes run into a cluster record (energy and work summed per repetition)", cmdMerge},
		{"results", "list|show ID|reindex|top --workload W [--metric M] [--out DIR]", "the SQLite index of OUT's records: list, show, rebuild, rank by work per joule", cmdResults},
		{"gpu-baseline", "[--record RECORD] [--precision P --n N] [--time D]", "time cuBLAS called directly, and each gpu-gemm workload of a record against it (scripts/gpu-check.sh)", cmdGPUBaseline},
		{"version", "", "print the version", cmdVersion},
	}
}

// run is the whole CLI, testable without a process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return usagef("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	printUsage(stderr)
	return usagef("unknown command %q", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "joulebench measures what computing work costs in energy, on real meters.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  joulebench %s %s\n      %s\n", c.name, c.args, c.help)
	}
	fmt.Fprintln(w, "\nExit codes: 0 ok, 1 failure (measurement, verification), 2 bad usage or input.")
	fmt.Fprintln(w, "Run 'joulebench COMMAND -h' for a command's flags.")
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("joulebench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags, allowing positional arguments before flags as well as
// after them (joulebench report RECORD --json).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	v, c := buildVersion()
	fmt.Fprintf(stdout, "joulebench %s", v)
	if c != "" {
		fmt.Fprintf(stdout, " (%s)", c)
	}
	fmt.Fprintf(stdout, " %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// buildVersion returns the version and VCS commit of this binary.
func buildVersion() (ver, rev string) {
	ver = version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ver, commit
	}
	if ver == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		ver = bi.Main.Version
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return ver, commit
	}
	if dirty {
		rev += "-dirty"
	}
	return ver, rev
}

// isTerminal reports whether w is a terminal, for progress output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
