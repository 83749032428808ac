package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/results/report"
)

// metersFixture unpacks harness/meter/testdata/NAME, a txtar archive of a
// sysfs or procfs tree, into a new temporary directory.
func metersFixture(t *testing.T, name string) string {
	t.Helper()
	a, err := txtar.ParseFile(filepath.Join("..", "..", "harness", "meter", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range a.Files {
		if !filepath.IsLocal(f.Name) {
			t.Fatalf("txtar file %q is not a local path", f.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkFits(t *testing.T, name, out string) {
	t.Helper()
	for i, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if w := report.DisplayWidth(l); w > report.TableWidth {
			t.Errorf("%s: line %d is %d columns wide, over %d:\n%s", name, i+1, w, report.TableWidth, out)
			return
		}
	}
}

// Item 12: joulebench meters fits 120 columns on the machines of the
// fixtures: two sockets with every RAPL subzone, a laptop with psys and
// MMIO zones, an unreadable tree; a VM's estimate with its long notes.
func TestMetersFit120(t *testing.T) {
	proc := metersFixture(t, "estimate/vm-xeon-8380.txtar")
	for _, fx := range []string{"two-sockets", "multi-die", "laptop-mmio-psys", "permission", "malformed", "amd"} {
		sysfs := metersFixture(t, "rapl/"+fx+".txtar")
		for _, args := range [][]string{{"--proc-root", proc}, {"--proc-root", t.TempDir()}} {
			out, _, err := runCLI(t, append([]string{"meters", "--sysfs-root", sysfs}, args...)...)
			if err != nil {
				t.Fatalf("%s: %v", fx, err)
			}
			checkFits(t, fx, out)
		}
	}
}

// writeMeters wraps long reasons and long domain lists inside their cells
// and loses no word of them.
func TestWriteMetersWraps(t *testing.T) {
	long := fmt.Errorf("rapl: read /tmp/a-very-long-sysfs-root-given-with-sysfs-root/%s/class/powercap/intel-rapl:0/energy_uj: permission denied "+
		"(energy_uj is readable by root only since the fix for CVE-2020-8694: run as root, or sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj)",
		strings.Repeat("x", 150))
	var doms []meter.Domain
	for s := range 4 {
		for _, k := range []string{"package", "core", "uncore", "dram"} {
			doms = append(doms, meter.Domain{Name: fmt.Sprintf("%s-%d", k, s), InTotal: k == "package" || k == "dram"})
		}
	}
	sts := []meter.Status{
		{Backend: "rapl", Err: long},
		{Backend: "hwmon", Err: fmt.Errorf("hwmon: %w", errors.ErrUnsupported)},
		{Backend: "estimate", Method: meter.Model, Domains: []meter.Domain{{Name: "cpu-estimated", InTotal: true}},
			Notes: []string{strings.Repeat("a long note about the estimate ", 12), "another note"}},
		{Backend: "fake", Method: meter.Synthetic, Domains: doms},
	}
	var b bytes.Buffer
	if err := writeMeters(&b, sts); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	checkFits(t, "constructed statuses", out)
	// Every word of the reason is in the table, some cut across lines.
	flat := strings.NewReplacer("│", "", " ", "", "\n", "").Replace(out)
	if !strings.Contains(flat, strings.ReplaceAll(long.Error(), " ", "")) {
		t.Errorf("the reason lost text:\n%s", out)
	}
	for _, want := range []string{"BROKEN", "│ hwmon    │ no ", "model (ESTIMATED)", "core-3*", "uncore-3*"} {
		if !strings.Contains(out, want) {
			t.Errorf("meters table lacks %q:\n%s", want, out)
		}
	}
}
