package certify

import (
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRerunArgsKeepsStandardWork(t *testing.T) {
	for _, tc := range []struct {
		in    []string
		want  string
		suite string
		notes int
	}{
		{[]string{"run"}, "run --suite=quick", "quick", 0},
		{[]string{"run", "--suite", "certify"}, "run --suite=certify", "certify", 0},
		{[]string{"run", "-suite=standard", "--workload", "gemm-fp32-*, gemm-fp64-512", "--reps", "5", "--threads=4"},
			"run --suite=standard --workload=gemm-fp32-*,gemm-fp64-512 --reps=5 --threads=4", "standard", 0},
		{[]string{"run", "--meter", "fake", "--idle", "300ms", "--warmup", "0", "--min-time", "300ms", "--reps", "3", "--interval", "20ms", "--region", "DE", "--out", "/tmp/x"},
			"run --suite=quick --meter=fake --reps=3 --min-time=300ms --idle=300ms --warmup=0s --interval=20ms --region=DE", "quick", 1},
		{[]string{"run", "--meter=rapl,estimate,rapl", "--tdp", "125", "--blas-coretype", "SkylakeX", "--pue", " 1.56 ", "--embodied", "rack-server", "--embodied-share", "0.25"},
			"run --suite=quick --meter=rapl,estimate --tdp=125 --blas-coretype=SkylakeX --pue=1.56 --embodied=rack-server --embodied-share=0.25", "quick", 0},
		{[]string{"run", "--embodied-kg", "1000", "--embodied-years", "4", "--reps", "0x5"}, "run --suite=quick --reps=5 --embodied-kg=1000 --embodied-years=4", "quick", 0},
		// Dropped, each with a note: output, printing, and a grid series.
		{[]string{"run", "--json", "--benchfmt=true", "--wide", "--emissions-csv", "e.csv", "--intensity-file=grid.csv", "--out=res"}, "run --suite=quick", "quick", 6},
		// The defaults of the path-valued flags are no choice.
		{[]string{"run", "--sysfs-root", "/sys", "--proc-root=/proc/", "--blas="}, "run --suite=quick", "quick", 0},
		// Last wins, as with run's own flag parsing.
		{[]string{"run", "--suite", "./mine.json", "--suite", "standard", "--reps", "3", "--reps=7"}, "run --suite=standard --reps=7", "standard", 0},
		// A value that looks like a flag is a value, and stays one.
		{[]string{"run", "--region", "-DE", "--workload", "--x"}, "run --suite=quick --workload=--x --region=-DE", "quick", 0},
	} {
		p, err := RerunArgs(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := strings.Join(p.Args, " "); got != tc.want || p.Suite != tc.suite || len(p.Notes) != tc.notes || len(p.NeedsOwn) != 0 {
			t.Errorf("%q:\n got %s (suite %q, %d notes %q, needs %v)\nwant %s (suite %q, %d notes)", tc.in, got, p.Suite, len(p.Notes), p.Notes, p.NeedsOwn, tc.want, tc.suite, tc.notes)
		}
	}
}

// Issue 7 item 1: a certificate names no library, root or suite file that
// reproduce would load or read; each is listed for the reproducer to
// choose, with what they may pass.
func TestRerunArgsNeverCarriesAPath(t *testing.T) {
	p, err := RerunArgs([]string{"run", "--blas", "./evil.so", "--sysfs-root=/tmp/fake-sys", "--proc-root", "/tmp/p", "--suite", "../suite.json", "--reps", "5"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Args, " "); got != "run --reps=5" || p.Suite != "" {
		t.Errorf("args %s, suite %q", got, p.Suite)
	}
	want := map[string]string{"blas": "./evil.so", "sysfs-root": "/tmp/fake-sys", "proc-root": "/tmp/p", "suite": "../suite.json"}
	if !maps.Equal(p.NeedsOwn, want) {
		t.Errorf("NeedsOwn = %v, want %v", p.NeedsOwn, want)
	}
	err = p.Unchosen(map[string]bool{"proc-root": true})
	if !errors.Is(err, ErrNeedsOwn) {
		t.Fatalf("Unchosen = %v", err)
	}
	for _, w := range []string{
		`the original ran with --blas "./evil.so"`, "pass reproduce --blas PATH|gonum|default",
		`the original ran suite file "../suite.json"; reproduce runs only built-in suites; pass reproduce --suite FILE to run a file you trust`,
		"pass reproduce --sysfs-root DIR",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Unchosen: %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "procfs") {
		t.Errorf("Unchosen names a flag the reproducer chose: %v", err)
	}
	if err := p.Unchosen(map[string]bool{"blas": true, "sysfs-root": true, "proc-root": true, "suite": true}); err != nil {
		t.Errorf("all chosen: %v", err)
	}
	// gonum is a choice of BLAS too: the reproducer makes it.
	if p, _ := RerunArgs([]string{"run", "--blas=gonum"}); p.NeedsOwn["blas"] != "gonum" {
		t.Errorf("--blas gonum: %v", p.NeedsOwn)
	}
}

func TestRerunArgsRefuses(t *testing.T) {
	long := strings.Repeat("a", RerunMaxValue+1)
	many := append([]string{"run"}, slices.Repeat([]string{"--reps=5"}, RerunMaxArgs)...)
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, "states no command line"},
		{[]string{"measure", "--", "sh"}, `argument 0 "measure": the command is not run`},
		{[]string{"run", "gemm-fp64-512"}, `argument 1 "gemm-fp64-512": a positional argument`},
		{[]string{"run", "--reps", "5", "--", "x"}, `argument 3 "--": a positional argument`},
		{[]string{"run", "-"}, `argument 1 "-": a positional argument`},
		{[]string{"run", "---reps=5"}, "bad syntax"},
		{[]string{"run", "--=5"}, "bad syntax"},
		{[]string{"run", "--ld-preload", "x.so"}, `argument 1 "--ld-preload": run has no flag --ld-preload`},
		{[]string{"run", "--reps"}, `"--reps": --reps has no value`},
		{[]string{"run", "--reps", "500"}, "500 is outside 1–100"},
		{[]string{"run", "--reps", "five"}, "not an integer"},
		{[]string{"run", "--threads=-1"}, "outside 0–4096"},
		{[]string{"run", "--interval", "1h"}, "outside 1ms–1s"},
		{[]string{"run", "--idle=-5s"}, "outside 0s–1h0m0s"},
		{[]string{"run", "--tdp", "NaN"}, "not a finite number"},
		{[]string{"run", "--tdp", "1e9"}, "outside 0–10000"},
		{[]string{"run", "--embodied-share", "0"}, "outside 0–1"},
		{[]string{"run", "--pue", "7"}, "--pue"},
		{[]string{"run", "--meter", "redfish=https://bmc.example/redfish"}, "names an address or a path"},
		{[]string{"run", "--meter", "rapl,/dev/cpu"}, "names an address or a path"},
		{[]string{"run", "--meter", "rapl,wattsup"}, `"wattsup" is not a meter`},
		{[]string{"run", "--meter", "auto,rapl"}, `"auto" is not a meter`},
		{[]string{"run", "--workload", "gemm-[a-z]*"}, "not a workload glob"},
		{[]string{"run", "--workload", "a,,b"}, "not a workload glob"},
		{[]string{"run", "--region", "DE;rm -rf"}, "not a region code"},
		{[]string{"run", "--embodied", "mainframe"}, "not a known kind"},
		{[]string{"run", "--blas-coretype", "../x"}, "not auto, library or a kernel name"},
		{[]string{"run", "--json=maybe"}, "--json takes true or false"},
		{[]string{"run", "--region", long}, "more than the 4096"},
		{many, "257 arguments, more than the 256"},
	} {
		_, err := RerunArgs(tc.in)
		if !errors.Is(err, ErrRerunArgs) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.80q: err = %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && len(err.Error()) > 1000 {
			t.Errorf("%.80q: an error of %d bytes", tc.in, len(err.Error()))
		}
	}
}

// rerunCanonical is what every token after "run" in a plan must look like.
var rerunCanonical = regexp.MustCompile(`^--([a-z-]+)=(.*)$`)

// FuzzRerunArgs: for any command line in a record, RerunArgs never panics;
// what it returns is "run" and --name=value tokens, each an allow-listed
// flag with a value that passes its own check unchanged; it never names
// a library, a root or a suite file; and it is its own fixed point.
func FuzzRerunArgs(f *testing.F) {
	for _, seed := range []string{
		"run",
		"run\x00--suite\x00certify\x00--region\x00DE",
		"run\x00--blas\x00./evil.so\x00--sysfs-root=/tmp\x00--suite\x00x.json",
		"run\x00--meter\x00redfish=http://x\x00--reps\x005",
		"run\x00--workload=gemm-fp64-*\x00--interval\x0050ms\x00--out\x00r\x00--json",
		"run\x00-suite=quick\x00--suite\x00--blas",
		"run\x00--region\x00--blas=x",
		"measure\x00--\x00sh",
	} {
		f.Add(seed)
	}
	carried := map[string]bool{}
	for _, n := range rerunOrder {
		carried[n] = true
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		p, err := RerunArgs(args)
		if err != nil {
			if !errors.Is(err, ErrRerunArgs) {
				t.Fatalf("error without ErrRerunArgs: %v", err)
			}
			return
		}
		if len(p.Args) == 0 || p.Args[0] != "run" {
			t.Fatalf("args %q", p.Args)
		}
		for _, tok := range p.Args[1:] {
			m := rerunCanonical.FindStringSubmatch(tok)
			if m == nil {
				t.Fatalf("token %q is not --name=value", tok)
			}
			name, value := m[1], m[2]
			if !carried[name] {
				t.Fatalf("token %q: --%s is not carried", tok, name)
			}
			if v, err := rerunCheck(name, value); err != nil || v != value {
				t.Fatalf("token %q: its check gives %q, %v", tok, v, err)
			}
		}
		for _, tok := range p.Args {
			for _, never := range []string{"--blas=", "--sysfs-root=", "--proc-root=", "--out="} {
				if strings.HasPrefix(tok, never) {
					t.Fatalf("the rerun carries %q", tok)
				}
			}
		}
		for name := range p.NeedsOwn {
			if name != "blas" && name != "sysfs-root" && name != "proc-root" && name != "suite" {
				t.Fatalf("NeedsOwn lists --%s", name)
			}
		}
		if _, file := p.NeedsOwn["suite"]; file == (p.Suite != "") {
			t.Fatalf("suite %q with NeedsOwn %v", p.Suite, p.NeedsOwn)
		}
		if p.Suite == "" {
			return // a suite file: the reproducer adds their own --suite
		}
		again, err := RerunArgs(p.Args)
		if err != nil || !slices.Equal(again.Args, p.Args) || len(again.NeedsOwn) != 0 {
			t.Fatalf("not a fixed point: %q gives %q, %v", p.Args, again.Args, err)
		}
	})
}
