package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/results"
)

// evilLibrary builds a shared library whose constructor writes marker the
// moment it is loaded: the code a certificate could make a reproducer run.
func evilLibrary(t *testing.T, dir, marker string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc to build the test library with")
	}
	src := filepath.Join(dir, "evil.c")
	os.WriteFile(src, []byte(`#include <stdio.h>
__attribute__((constructor)) static void evil(void) { FILE *f = fopen("`+marker+`", "w"); if (f) { fputs("ran", f); fclose(f); } }
void cblas_dgemm(void) {} void cblas_sgemm(void) {}
`), 0o644)
	lib := filepath.Join(dir, "evil.so")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Skipf("cannot build the test library: %v\n%s", err, out)
	}
	return lib
}

// Item 1: a certificate is data, never a program. A signed record whose
// command line names a library (--blas), a root or a suite file makes
// reproduce stop and ask the reproducer for their own choice; it never
// loads, reads or runs what the certificate names. Before the fix,
// reproduce ran the record's command line and dlopen'ed the library.
func TestReproduceRunsNoCodeACertificateNames(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the workloads")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "library-constructor-ran")
	lib := evilLibrary(t, dir, marker)
	spec := filepath.Join("testdata", "spec-fast.json")
	runCLI(t, "keygen", "--out", filepath.Join(dir, "keys"))
	key, pub := filepath.Join(dir, "keys", "joulebench.key"), filepath.Join(dir, "keys", "joulebench.pub")
	if _, stderr, err := runCLI(t, "run", "--meter", "fake", "--workload", "gemm-fp32-*", "--idle", "200ms", "--warmup", "0", "--min-time", "200ms", "--reps", "3", "--interval", "20ms", "--out", filepath.Join(dir, "res")); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "res", "*"))
	recPath := filepath.Join(runs[0], results.RecordFile)
	orig, _ := os.ReadFile(recPath)

	suiteFile := filepath.Join(dir, "quick-copy.json")
	os.WriteFile(suiteFile, []byte(`{"name":"quick","version":"1","idle_s":5,"warmup_s":1,"min_time_s":2,"reps":3,"min_readings":10,"max_cv":0.1,"workloads":["gemm-fp64-1024","gemm-fp32-1024"]}`), 0o644)
	for _, c := range []struct {
		name, flag, value, want string
	}{
		{"library", "--blas", lib, "--blas"},
		{"sysfs root", "--sysfs-root", dir, "--sysfs-root"},
		{"proc root", "--proc-root", dir, "--proc-root"},
		{"suite file", "--suite", suiteFile, "--suite"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The signer's record says it ran with the path; the signer
			// signs it (certify checks the figures, not the command line).
			rec, err := results.ReadFile(recPath)
			if err != nil {
				t.Fatal(err)
			}
			rec.Config.Args = append(rec.Config.Args, c.flag, c.value)
			if err := results.WriteFile(recPath, rec); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(recPath, orig, 0o644)
			if out, _, err := runCLI(t, "certify", recPath, "--key", key, "--spec", spec, "--allow-estimated", "--force"); err != nil {
				t.Fatalf("certify: %v\n%s", err, out)
			}
			cert := filepath.Join(runs[0], CertificateFile)
			out, _, err := runCLI(t, "reproduce", cert, "--pub", pub, "--key", key, "--spec", spec, "--out", filepath.Join(dir, "again-"+strings.ReplaceAll(c.name, " ", "-")))
			if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "pass") {
				t.Errorf("reproduce must refuse the original's %s and say what to pass: %v\n%s", c.flag, err, out)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("reproduce loaded the library the certificate named: its constructor ran")
			}
			if c.flag != "--blas" {
				return
			}
			// With the reproducer's own choice the rerun goes ahead, and
			// records that choice; the certificate's library stays unloaded.
			out, _, err = runCLI(t, "reproduce", cert, "--pub", pub, "--key", key, "--spec", spec, "--blas", "default", "--out", filepath.Join(dir, "again-own"))
			if !strings.Contains(out, "verdict: not a measurement") {
				t.Errorf("reproduce --blas default: %v\n%s", err, out)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("reproduce loaded the library the certificate named: its constructor ran")
			}
			again, _ := filepath.Glob(filepath.Join(dir, "again-own", "*", results.RecordFile))
			if len(again) != 1 {
				t.Fatal("no rerun record")
			}
			ar, _ := results.ReadFile(again[0])
			if strings.Contains(strings.Join(ar.Config.Args, " "), lib) {
				t.Errorf("the rerun's command line carries the certificate's library: %q", ar.Config.Args)
			}
		})
	}
}

// Every flag of run is one reproduce's allow-list knows (it carries it,
// drops it, or asks the reproducer for their own): a new flag forgotten
// there would make every record that used it unreproducible.
func TestRerunKnowsEveryRunFlag(t *testing.T) {
	_, stderr, _ := runCLI(t, "run", "-h")
	names := regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`).FindAllStringSubmatch(stderr, -1)
	if len(names) < 20 {
		t.Fatalf("found only %d flags in run -h:\n%s", len(names), stderr)
	}
	for _, m := range names {
		if !certify.RerunKnows(m[1]) {
			t.Errorf("run's flag --%s is not in certify's rerun allow-list (certify/rerun.go rerunFlags)", m[1])
		}
	}
}
