package certify

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/workloads"
)

// Bounds on a command line read from a record: far above what run takes,
// far below what could hurt.
const (
	// RerunMaxArgs is the most tokens a rerun's original command line may
	// have.
	RerunMaxArgs = 256
	// RerunMaxValue is the longest a token may be, in bytes.
	RerunMaxValue = 4 << 10
)

// ErrRerunArgs is wrapped by every RerunArgs error: the original's command
// line is not one reproduce will run again.
var ErrRerunArgs = errors.New("the original's command line cannot be run again")

// ErrNeedsOwn is wrapped by RerunPlan.Unchosen: the original chose a path
// (a library, a root, a suite file) that reproduce does not take from a
// certificate, and the reproducer has not chosen their own.
var ErrNeedsOwn = errors.New("the reproducer must choose for themselves")

// RerunPlan is how reproduce runs a certificate's work again: the original
// run's command line rebuilt from an allow-list of flags that only select
// standard work, each value checked, and what was left out.
type RerunPlan struct {
	// Args is the rerun's command line: "run", then every flag kept, each
	// as one --name=value token (so that no value can be read as a flag),
	// in a fixed order. The caller adds the reproducer's own flags (--out,
	// and those NeedsOwn names) after it.
	Args []string
	// Suite is the built-in suite the rerun runs: the original's --suite,
	// or "quick" (run's default) when it named none; "" when the original
	// ran a suite file (NeedsOwn["suite"]).
	Suite string
	// NeedsOwn lists the original's flags that name a path — a library to
	// load (--blas), a root to read (--sysfs-root, --proc-root), a suite
	// file (--suite FILE) — by flag name, with the original's value.
	// None is carried: a certificate is data, never a program. The
	// reproducer must pass each one themselves (Unchosen says how). A
	// --sysfs-root /sys or --proc-root /proc, the defaults, and an empty
	// --blas (the default search) are no choice and are not listed.
	NeedsOwn map[string]string
	// Notes say which flags were dropped and why.
	Notes []string
}

// Unchosen returns nil when the reproducer chose every flag NeedsOwn
// lists (chosen holds the flag names they passed to reproduce), else an
// error wrapping ErrNeedsOwn that says, for each one, what the original
// chose and what they may pass.
func (p *RerunPlan) Unchosen(chosen map[string]bool) error {
	var msgs []string
	for _, name := range specSortedKeys(p.NeedsOwn) {
		if !chosen[name] {
			msgs = append(msgs, rerunOwnHint(name, p.NeedsOwn[name]))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNeedsOwn, strings.Join(msgs, "; "))
}

func rerunOwnHint(name, value string) string {
	v := strconv.Quote(rerunShort(value))
	switch name {
	case "suite":
		return fmt.Sprintf("the original ran suite file %s; reproduce runs only built-in suites; pass reproduce --suite FILE to run a file you trust", v)
	case "blas":
		return fmt.Sprintf("the original ran with --blas %s; reproduce loads no library a certificate names; pass reproduce --blas PATH|gonum|default to choose your own", v)
	case "cuda-lib-dir":
		return fmt.Sprintf("the original loaded CUDA from %s (--cuda-lib-dir); reproduce loads no library a certificate names; pass reproduce --cuda-lib-dir DIR to choose your own, or --cuda-lib-dir default for the system's", v)
	case "sysfs-root":
		return fmt.Sprintf("the original read sysfs under %s (--sysfs-root); reproduce reads no root a certificate names; pass reproduce --sysfs-root DIR (/sys for this machine's own)", v)
	case "proc-root":
		return fmt.Sprintf("the original read procfs under %s (--proc-root); reproduce reads no root a certificate names; pass reproduce --proc-root DIR (/proc for this machine's own)", v)
	}
	return fmt.Sprintf("the original passed --%s %s; pass reproduce --%s to choose your own", name, v, name)
}

// What RerunArgs does with each flag of run.
const (
	rerunCarry = iota // checked and kept
	rerunDrop         // left out, with a note
	rerunOwn          // a path: left out, listed in NeedsOwn
)

type rerunFlag struct {
	action int
	isBool bool
	// check returns the value in canonical form, or why it is refused;
	// "" with no error leaves the flag out (the default).
	check func(string) (string, error)
	note  string
}

var (
	rerunGlob   = regexp.MustCompile(`^[A-Za-z0-9*?._-]{1,128}$`)
	rerunRegion = regexp.MustCompile(`^[A-Za-z0-9:._-]{1,64}$`)
	rerunWord   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	rerunCore   = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
)

// rerunMeters are the plain meter backends a rerun may select: no
// redfish=URL, which would have reproduce contact an address a
// certificate names.
var rerunMeters = []string{"rapl", "hwmon", "nvml", "estimate", "fake"}

// rerunFlags is the allow-list: every flag of run, and what a rerun does
// with it. A flag not listed is refused.
var rerunFlags = map[string]rerunFlag{
	"suite":    {action: rerunCarry, check: rerunSuite},
	"workload": {action: rerunCarry, check: rerunWorkloads},
	"meter":    {action: rerunCarry, check: rerunMeter},
	"reps": {action: rerunCarry, check: func(v string) (string, error) {
		if n, err := strconv.ParseInt(v, 0, 64); err == nil && n == 0 {
			// 0 is the suite's own count, as if the flag were absent.
			return "", nil
		}
		n, err := rerunInt(v, 1, 100)
		return strconv.FormatInt(n, 10), err
	}},
	"min-time": {action: rerunCarry, check: rerunDuration(0, time.Hour)},
	"idle":     {action: rerunCarry, check: rerunDuration(0, time.Hour)},
	"warmup":   {action: rerunCarry, check: rerunDuration(0, time.Hour)},
	"interval": {action: rerunCarry, check: rerunDuration(time.Millisecond, time.Second)},
	"threads": {action: rerunCarry, check: func(v string) (string, error) {
		n, err := rerunInt(v, 0, 4096)
		return strconv.FormatInt(n, 10), err
	}},
	"tdp":           {action: rerunCarry, check: rerunFloat(0, 10000, true)},
	"blas-coretype": {action: rerunCarry, check: rerunCoreType},
	"region": {action: rerunCarry, check: func(v string) (string, error) {
		if v == "" {
			return "", nil // the world average
		}
		if !rerunRegion.MatchString(v) {
			return "", errors.New("not a region code (letters, digits and : . _ -, at most 64)")
		}
		return v, nil
	}},
	"pue": {action: rerunCarry, check: func(v string) (string, error) {
		if v == "" {
			return "", nil
		}
		p, err := carbon.ParsePUE(v)
		if err != nil {
			return "", err
		}
		return strconv.FormatFloat(p, 'g', -1, 64), nil
	}},
	"embodied": {action: rerunCarry, check: func(v string) (string, error) {
		v = strings.TrimSpace(v)
		if v == "" {
			return "", nil
		}
		if !rerunWord.MatchString(v) {
			return "", errors.New("not a word (letters, digits, _ and -, at most 64)")
		}
		if _, ok := carbon.EmbodiedDefault(v); !ok {
			return "", fmt.Errorf("not a known kind (%s)", strings.Join(carbon.EmbodiedKinds(), ", "))
		}
		return v, nil
	}},
	"embodied-kg":    {action: rerunCarry, check: rerunFloat(0, 1e7, true)},
	"embodied-years": {action: rerunCarry, check: rerunFloat(0, 100, true)},
	"embodied-share": {action: rerunCarry, check: rerunFloat(0, 1, false)},

	"out":              {action: rerunDrop, note: "dropped --out: the rerun writes where reproduce is told to"},
	"json":             {action: rerunDrop, isBool: true, note: "dropped --json: it changes only what run prints"},
	"benchfmt":         {action: rerunDrop, isBool: true, note: "dropped --benchfmt: it changes only what run prints"},
	"wide":             {action: rerunDrop, isBool: true, note: "dropped --wide: it changes only what run prints"},
	"redfish-insecure": {action: rerunDrop, isBool: true, note: "dropped --redfish-insecure: reproduce contacts no BMC a certificate names (redfish is not among the meters a rerun may use)"},
	"emissions-csv":    {action: rerunDrop, note: "dropped --emissions-csv: the rerun appends to no file a certificate names"},
	"intensity-file": {action: rerunDrop, note: "dropped --intensity-file: a grid time series of the original's hours cannot cover a run made now; " +
		"the rerun uses the world average unless reproduce is given a region, and carbon figures are compared only when both runs used the same accounting"},

	"blas":         {action: rerunOwn},
	"cuda-lib-dir": {action: rerunOwn},
	"sysfs-root":   {action: rerunOwn},
	"proc-root":    {action: rerunOwn},
}

// rerunOrder is the order RerunArgs writes the kept flags in.
var rerunOrder = []string{"suite", "workload", "meter", "reps", "min-time", "idle", "warmup", "interval", "threads", "tdp",
	"blas-coretype", "region", "pue", "embodied", "embodied-kg", "embodied-years", "embodied-share"}

// rerunDefaults are values of path-valued flags that are no choice: run's
// own defaults.
var rerunDefaults = map[string]string{"sysfs-root": "/sys", "proc-root": "/proc", "blas": "", "cuda-lib-dir": ""}

// RerunArgs rebuilds, from the command line a record says its run was
// made with (config.args: "run", then run's flags), the command line
// reproduce may run. It is a pure function and runs, loads and reads
// nothing: every token is parsed against an allow-list of run's flags
// (--name value, --name=value, one dash or two), never passed through.
//
// Kept, each value checked and bounded, and written as --name=value:
// --suite (a built-in suite name only), --workload (comma-separated globs
// of [A-Za-z0-9*?._-]), --meter (auto, or plain backends from rapl,
// hwmon, nvml, estimate, fake: never redfish=URL), --reps (1–100),
// --min-time, --idle, --warmup (0–1h), --interval (1ms–1s), --threads
// (0–4096), --tdp (0–10000), --blas-coretype (auto, library or a kernel
// name), and the carbon flags --region, --pue, --embodied, --embodied-kg,
// --embodied-years, --embodied-share. Dropped with a note: --out, --json,
// --benchfmt, --wide, --emissions-csv, --intensity-file. Never carried, and listed
// in NeedsOwn: --blas, --sysfs-root, --proc-root and --suite FILE.
//
// An unknown flag, a positional argument, a flag without its value, a
// value that fails its check, more than RerunMaxArgs tokens, a token over
// RerunMaxValue bytes, or a first token other than "run" is an error
// wrapping ErrRerunArgs that names the token. As with run's own flag
// parsing, a flag given twice takes its last value.
func RerunArgs(orig []string) (RerunPlan, error) {
	plan := RerunPlan{NeedsOwn: map[string]string{}}
	bad := func(i int, format string, a ...any) (RerunPlan, error) {
		return RerunPlan{}, fmt.Errorf("%w: argument %d %q: %s", ErrRerunArgs, i, rerunShort(orig[i]), fmt.Sprintf(format, a...))
	}
	switch {
	case len(orig) == 0:
		return RerunPlan{}, fmt.Errorf("%w: the record states no command line (config.args)", ErrRerunArgs)
	case len(orig) > RerunMaxArgs:
		return RerunPlan{}, fmt.Errorf("%w: %d arguments, more than the %d a run is ever given", ErrRerunArgs, len(orig), RerunMaxArgs)
	}
	for i, tok := range orig {
		if len(tok) > RerunMaxValue {
			return bad(i, "%d bytes, more than the %d any argument of run may have", len(tok), RerunMaxValue)
		}
	}
	if orig[0] != "run" {
		return bad(0, "the command is not run: reproduce reruns only joulebench run")
	}
	kept := map[string]string{}
	noted := map[string]bool{}
	for i := 1; i < len(orig); i++ {
		tok := orig[i]
		rest, ok := strings.CutPrefix(tok, "-")
		if !ok || rest == "" || rest == "-" {
			return bad(i, "a positional argument; run takes flags only")
		}
		rest = strings.TrimPrefix(rest, "-")
		if rest == "" || rest[0] == '-' || rest[0] == '=' {
			return bad(i, "not a flag (bad syntax)")
		}
		name, value, hasValue := strings.Cut(rest, "=")
		fl, known := rerunFlags[name]
		if !known {
			return bad(i, "run has no flag --%s that reproduce may carry (it carries %s)", name, strings.Join(rerunOrder, ", "))
		}
		if fl.isBool {
			if hasValue {
				if _, err := strconv.ParseBool(value); err != nil {
					return bad(i, "--%s takes true or false", name)
				}
			}
		} else if !hasValue {
			if i+1 >= len(orig) {
				return bad(i, "--%s has no value", name)
			}
			i++
			value = orig[i]
		}
		switch fl.action {
		case rerunDrop:
			if !noted[name] {
				noted[name] = true
				plan.Notes = append(plan.Notes, fl.note)
			}
		case rerunOwn:
			if rerunIsDefault(name, value) {
				delete(plan.NeedsOwn, name)
			} else {
				plan.NeedsOwn[name] = value
			}
		case rerunCarry:
			if name == "suite" && !slices.Contains(workloads.SuiteNames(), value) {
				// A suite file is a path: the reproducer's choice.
				delete(kept, name)
				plan.NeedsOwn[name] = value
				continue
			}
			v, err := fl.check(value)
			if err != nil {
				return bad(i, "--%s %q: %v", name, rerunShort(value), err)
			}
			if name == "suite" {
				delete(plan.NeedsOwn, name)
			}
			kept[name] = v
		}
	}
	if _, file := plan.NeedsOwn["suite"]; !file {
		if kept["suite"] == "" {
			kept["suite"] = "quick" // run's default, written out
		}
		plan.Suite = kept["suite"]
	}
	plan.Args = []string{"run"}
	for _, name := range rerunOrder {
		if v := kept[name]; v != "" {
			plan.Args = append(plan.Args, "--"+name+"="+v)
		}
	}
	return plan, nil
}

// rerunCheck checks one kept flag's value as RerunArgs does, returning
// its canonical form ("" when the flag is left out as a default).
func rerunCheck(name, value string) (string, error) {
	fl, ok := rerunFlags[name]
	if !ok || fl.action != rerunCarry {
		return "", fmt.Errorf("--%s is not carried", name)
	}
	if name == "suite" && !slices.Contains(workloads.SuiteNames(), value) {
		return "", fmt.Errorf("%q is not a built-in suite", value)
	}
	return fl.check(value)
}

func rerunIsDefault(name, value string) bool {
	def, ok := rerunDefaults[name]
	if !ok {
		return false
	}
	if def == "" {
		return value == ""
	}
	return value != "" && filepath.Clean(value) == def
}

// rerunShort keeps an argument quoted in an error short.
func rerunShort(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func rerunSuite(v string) (string, error) {
	if !slices.Contains(workloads.SuiteNames(), v) {
		return "", fmt.Errorf("not a built-in suite (%s)", strings.Join(workloads.SuiteNames(), ", "))
	}
	return v, nil
}

func rerunWorkloads(v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", nil // every workload of the suite
	}
	parts := strings.Split(v, ",")
	if len(parts) > 64 {
		return "", fmt.Errorf("%d patterns, more than 64", len(parts))
	}
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if !rerunGlob.MatchString(p) {
			return "", fmt.Errorf("pattern %q is not a workload glob (letters, digits and * ? . _ -, at most 128)", rerunShort(p))
		}
		parts[i] = p
	}
	return strings.Join(parts, ","), nil
}

func rerunMeter(v string) (string, error) {
	if strings.ContainsAny(v, "=/:") {
		return "", errors.New("it names an address or a path (redfish=URL?); reproduce contacts nothing a certificate names: pass reproduce --meter to choose your own")
	}
	var out []string
	for _, m := range strings.Split(v, ",") {
		m = strings.TrimSpace(m)
		switch {
		case m == "auto" && len(out) == 0 && !strings.Contains(v, ","):
			return "auto", nil
		case !slices.Contains(rerunMeters, m):
			return "", fmt.Errorf("%q is not a meter a rerun may select (auto, or %s)", rerunShort(m), strings.Join(rerunMeters, ", "))
		case !slices.Contains(out, m):
			out = append(out, m)
		}
	}
	return strings.Join(out, ","), nil
}

func rerunCoreType(v string) (string, error) {
	switch {
	case v == "auto" || v == "library":
		return v, nil
	case rerunCore.MatchString(v):
		return v, nil
	}
	return "", errors.New("not auto, library or a kernel name (letters and digits, at most 32)")
}

func rerunInt(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(v, 0, 64)
	if err != nil {
		return 0, errors.New("not an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is outside %d–%d", n, lo, hi)
	}
	return n, nil
}

func rerunDuration(lo, hi time.Duration) func(string) (string, error) {
	return func(v string) (string, error) {
		d, err := time.ParseDuration(v)
		if err != nil {
			return "", errors.New("not a duration (such as 2s or 100ms)")
		}
		if d < lo || d > hi {
			return "", fmt.Errorf("%v is outside %v–%v", d, lo, hi)
		}
		return d.String(), nil
	}
}

func rerunFloat(lo, hi float64, loIncl bool) func(string) (string, error) {
	return func(v string) (string, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", errors.New("not a finite number")
		}
		if f < lo || (!loIncl && f == lo) || f > hi {
			return "", fmt.Errorf("%g is outside %g–%g", f, lo, hi)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	}
}

// RerunKnows reports whether RerunArgs knows the flag of run called name:
// carries it, drops it, or asks the reproducer for their own. A flag it
// does not know makes every rerun of a record that used it fail, so the
// CLI's tests hold every flag of run to it.
func RerunKnows(name string) bool {
	_, ok := rerunFlags[name]
	return ok
}
