package meter

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/metrics"
)

const (
	raplTestPkgWrap  = metrics.Energy(262143328850)
	raplTestDRAMWrap = metrics.Energy(65712999613)
)

// raplTestOpen opens a fixture with the reader that can simulate a
// root-only counter.
func raplTestOpen(t *testing.T, fixture string) (*RAPL, string) {
	t.Helper()
	root := fixtureUnpack(t, filepath.Join("rapl", fixture))
	r, err := raplOpen(root, fixtureReadFile)
	if err != nil {
		t.Fatalf("open %s: %v", fixture, err)
	}
	return r, root
}

func raplTestRead(t *testing.T, r *RAPL) Reading {
	t.Helper()
	rd, err := r.Read(context.Background())
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(rd.Energy) != len(r.Domains()) {
		t.Fatalf("reading has %d values for %d domains", len(rd.Energy), len(r.Domains()))
	}
	return rd
}

// raplTestSet writes a domain's counter in the unpacked fixture, as the
// kernel would advance it.
func raplTestSet(t *testing.T, r *RAPL, domain string, v metrics.Energy) {
	t.Helper()
	i := slices.IndexFunc(r.domains, func(d Domain) bool { return d.Name == domain })
	if i < 0 {
		t.Fatalf("no domain %q", domain)
	}
	raplTestWrite(t, r.files[i], strconv.FormatInt(int64(v), 10)+"\n")
}

func raplTestWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func raplTestCheckDomains(t *testing.T, got, want []Domain) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("domains:\n got %+v\nwant %+v", got, want)
	}
}

func raplTestNotesMention(t *testing.T, r *RAPL, words ...string) {
	t.Helper()
	all := strings.Join(r.Notes(), "\n")
	for _, w := range words {
		if !strings.Contains(all, w) {
			t.Errorf("notes do not mention %q:\n%s", w, all)
		}
	}
}

func TestRAPLTwoSocketsWithDRAM(t *testing.T) {
	r, root := raplTestOpen(t, "two-sockets.txtar")
	if r.Name() != "rapl" || r.Method() != Counter {
		t.Errorf("name, method = %q, %q; want rapl, counter", r.Name(), r.Method())
	}
	raplTestCheckDomains(t, r.Domains(), []Domain{
		{Name: "package-0", Kind: KindPackage, Wrap: raplTestPkgWrap, InTotal: true},
		{Name: "dram-0", Kind: KindDRAM, Parent: "package-0", Wrap: raplTestDRAMWrap, InTotal: true},
		{Name: "core-0", Kind: KindCore, Parent: "package-0", Wrap: raplTestPkgWrap},
		{Name: "uncore-0", Kind: KindUncore, Parent: "package-0", Wrap: raplTestPkgWrap},
		{Name: "package-1", Kind: KindPackage, Wrap: raplTestPkgWrap, InTotal: true},
		{Name: "dram-1", Kind: KindDRAM, Parent: "package-1", Wrap: raplTestDRAMWrap, InTotal: true},
		{Name: "core-1", Kind: KindCore, Parent: "package-1", Wrap: raplTestPkgWrap},
		{Name: "uncore-1", Kind: KindUncore, Parent: "package-1", Wrap: raplTestPkgWrap},
	})
	if want := "powercap intel-rapl under " + filepath.Join(root, "class", "powercap"); r.Source() != want {
		t.Errorf("source = %q, want %q", r.Source(), want)
	}
	raplTestNotesMention(t, r, "dram-0, dram-1: DRAM lies outside the package", "core-0, uncore-0, core-1, uncore-1: inside their package")

	r1 := raplTestRead(t, r)
	if want := []metrics.Energy{100000000, 20000000, 60000000, 5000000, 200000000, 30000000, 70000000, 6000000}; !slices.Equal(r1.Energy, want) {
		t.Errorf("first reading = %v, want %v", r1.Energy, want)
	}

	// Advance every counter by its own amount; the total must be the
	// packages and their DRAM, and nothing of core or uncore.
	step := map[string]metrics.Energy{
		"package-0": 1000, "dram-0": 300, "core-0": 700, "uncore-0": 90,
		"package-1": 2000, "dram-1": 400, "core-1": 1500, "uncore-1": 80,
	}
	for i, d := range r.Domains() {
		raplTestSet(t, r, d.Name, r1.Energy[i]+step[d.Name])
	}
	r2 := raplTestRead(t, r)
	if r2.Time.Before(r1.Time) {
		t.Errorf("second reading at %v is before the first at %v", r2.Time, r1.Time)
	}
	var total metrics.Energy
	for i, d := range r.Domains() {
		if d.InTotal {
			total += r2.Energy[i] - r1.Energy[i]
		}
	}
	if want := metrics.Energy(1000 + 2000 + 300 + 400); total != want {
		t.Errorf("total = %d µJ, want %d (package-0 + package-1 + dram-0 + dram-1)", total, want)
	}
}

func TestRAPLMMIODuplicateAndPsys(t *testing.T) {
	r, root := raplTestOpen(t, "laptop-mmio-psys.txtar")
	raplTestCheckDomains(t, r.Domains(), []Domain{
		{Name: "package-0", Kind: KindPackage, Wrap: raplTestPkgWrap, InTotal: true},
		{Name: "core-0", Kind: KindCore, Parent: "package-0", Wrap: raplTestPkgWrap},
		{Name: "uncore-0", Kind: KindUncore, Parent: "package-0", Wrap: raplTestPkgWrap},
		{Name: "psys", Kind: KindPsys, Wrap: raplTestPkgWrap},
		{Name: "package-0-mmio", Kind: KindPackage, Wrap: raplTestPkgWrap},
	})
	if want := "powercap intel-rapl and intel-rapl-mmio under " + filepath.Join(root, "class", "powercap"); r.Source() != want {
		t.Errorf("source = %q, want %q", r.Source(), want)
	}
	raplTestNotesMention(t, r,
		"psys: the platform as RAPL sees it",
		"package-0-mmio: the same counter as the MSR zone",
		"no DRAM zone")

	r1 := raplTestRead(t, r)
	for i, d := range r.Domains() {
		raplTestSet(t, r, d.Name, r1.Energy[i]+5000)
	}
	r2 := raplTestRead(t, r)
	var total metrics.Energy
	for i, d := range r.Domains() {
		if d.InTotal {
			total += r2.Energy[i] - r1.Energy[i]
		}
	}
	if total != 5000 {
		t.Errorf("total = %d µJ, want 5000: package-0 once, not its MMIO twin, psys, core or uncore", total)
	}
}

func TestRAPLMMIOOnlyCounts(t *testing.T) {
	r, _ := raplTestOpen(t, "mmio-only.txtar")
	raplTestCheckDomains(t, r.Domains(), []Domain{
		{Name: "package-0-mmio", Kind: KindPackage, Wrap: raplTestPkgWrap, InTotal: true},
	})
	raplTestNotesMention(t, r, "package-0-mmio: read through MMIO only")
}

func TestRAPLAMD(t *testing.T) {
	r, _ := raplTestOpen(t, "amd.txtar")
	w := metrics.Energy(65532610987)
	raplTestCheckDomains(t, r.Domains(), []Domain{
		{Name: "package-0", Kind: KindPackage, Wrap: w, InTotal: true},
		{Name: "core-0", Kind: KindCore, Parent: "package-0", Wrap: w},
		{Name: "package-1", Kind: KindPackage, Wrap: w, InTotal: true},
		{Name: "core-1", Kind: KindCore, Parent: "package-1", Wrap: w},
	})
	raplTestNotesMention(t, r, "no DRAM zone (usual on AMD")
}

func TestRAPLMultiDieAndAlikeNames(t *testing.T) {
	r, _ := raplTestOpen(t, "multi-die.txtar")
	raplTestCheckDomains(t, r.Domains(), []Domain{
		{Name: "package-0-die-0", Kind: KindPackage, Wrap: raplTestPkgWrap, InTotal: true},
		{Name: "dram-0-die-0", Kind: KindDRAM, Parent: "package-0-die-0", Wrap: raplTestDRAMWrap, InTotal: true},
		{Name: "package-0-die-1", Kind: KindPackage, Wrap: raplTestPkgWrap, InTotal: true},
		{Name: "dram-0-die-1", Kind: KindDRAM, Parent: "package-0-die-1", Wrap: raplTestDRAMWrap, InTotal: true},
		{Name: "psys@intel-rapl:11", Kind: KindPsys, Wrap: raplTestPkgWrap},
		{Name: "psys@intel-rapl:12", Kind: KindPsys, Wrap: raplTestPkgWrap},
	})
	raplTestNotesMention(t, r, "told apart by directory")
	rd := raplTestRead(t, r)
	if want := []metrics.Energy{1000, 100, 2000, 200, 3000, 4000}; !slices.Equal(rd.Energy, want) {
		t.Errorf("reading = %v, want %v", rd.Energy, want)
	}
}

func TestRAPLOddZones(t *testing.T) {
	r, _ := raplTestOpen(t, "odd.txtar")
	raplTestCheckDomains(t, r.Domains(), []Domain{
		{Name: "package-0", Kind: KindPackage, Wrap: raplTestPkgWrap, InTotal: true},
		{Name: "dram-3", Kind: KindDRAM, Wrap: raplTestDRAMWrap, InTotal: true},
	})
	raplTestNotesMention(t, r,
		`left out zone intel-rapl:0:5 named "npu"`,
		"left out zone intel-rapl:0:0:0",
		"subzones without a package zone, reported on their own: intel-rapl:3:0")
}

func TestRAPLDomainsIsACopy(t *testing.T) {
	r, _ := raplTestOpen(t, "amd.txtar")
	r.Domains()[0].Name = "changed"
	if r.Domains()[0].Name != "package-0" {
		t.Error("changing the slice Domains returned changed the meter")
	}
}

// raplTestUnsupported checks that err is a missing meter whose message
// holds every one of words.
func raplTestUnsupported(t *testing.T, err error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("open succeeded; want an error")
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("error %q does not wrap errors.ErrUnsupported", err)
	}
	if !strings.HasPrefix(err.Error(), "rapl: ") {
		t.Errorf("error %q is not prefixed \"rapl: \"", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestRAPLPermissionDenied(t *testing.T) {
	root := fixtureUnpack(t, "rapl/permission.txtar")
	_, err := raplOpen(root, fixtureReadFile)
	pc := filepath.Join(root, "class", "powercap")
	raplTestUnsupported(t, err,
		"read package-0 energy",
		filepath.Join(pc, "intel-rapl:0", "energy_uj"),
		"permission denied",
		"CVE-2020-8694",
		"run as root",
		"`sudo chmod a+r "+filepath.Join(pc, "intel-rapl:*", "energy_uj")+" "+filepath.Join(pc, "intel-rapl-mmio:*", "energy_uj")+"`")
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("error %q does not wrap fs.ErrPermission", err)
	}
}

func TestRAPLPermissionDeniedOneFile(t *testing.T) {
	root := fixtureUnpack(t, "rapl/permission-one.txtar")
	_, err := raplOpen(root, fixtureReadFile)
	raplTestUnsupported(t, err, "`sudo chmod a+r "+filepath.Join(root, "class", "powercap", "intel-rapl:0", "energy_uj")+"`")
}

func TestRAPLPermissionDeniedOnRead(t *testing.T) {
	r, _ := raplTestOpen(t, "amd.txtar")
	raplTestWrite(t, r.files[2], fixturePermissionDenied+"\n")
	_, err := r.Read(context.Background())
	raplTestUnsupported(t, err, "read package-1 energy", r.files[2], "sudo chmod a+r "+r.files[2])
}

// TestRAPLPermissionDeniedChmod is the real thing, where the tests do not
// run as root (root reads a 0000 file all the same).
func TestRAPLPermissionDeniedChmod(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: chmod 000 does not stop root from reading")
	}
	root := fixtureUnpack(t, "rapl/two-sockets.txtar")
	files, err := filepath.Glob(filepath.Join(root, "class", "powercap", "*", "energy_uj"))
	if err != nil || len(files) == 0 {
		t.Fatalf("glob: %v, %d files", err, len(files))
	}
	for _, f := range files {
		if err := os.Chmod(f, 0o000); err != nil {
			t.Fatal(err)
		}
	}
	_, err = OpenRAPL(root)
	raplTestUnsupported(t, err, "read package-0 energy", "CVE-2020-8694",
		"sudo chmod a+r "+filepath.Join(root, "class", "powercap", "intel-rapl:*", "energy_uj"))
}

func TestRAPLNoPowercap(t *testing.T) {
	empty := t.TempDir()
	_, err := OpenRAPL(empty)
	raplTestUnsupported(t, err,
		"no powercap RAPL zones under "+filepath.Join(empty, "class", "powercap"),
		"RAPL driver", "VM")

	bare := t.TempDir()
	if err := os.MkdirAll(filepath.Join(bare, "class", "powercap"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = OpenRAPL(bare)
	raplTestUnsupported(t, err, "no powercap RAPL zones under "+filepath.Join(bare, "class", "powercap"))

	// procfs fails on the dtpm zones, which have no range file; with no
	// RAPL zone about, that is still "no RAPL here".
	_, err = OpenRAPL(fixtureUnpack(t, "rapl/dtpm-only.txtar"))
	raplTestUnsupported(t, err, "no powercap RAPL zones")
}

func TestRAPLMissingRoot(t *testing.T) {
	_, err := OpenRAPL(filepath.Join(t.TempDir(), "nonexistent"))
	if err == nil || errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("open of a missing sysfs root: %v; want a real error, as the flag is wrong", err)
	}
}

// raplTestBroken checks that err is a real error, not a missing meter.
func raplTestBroken(t *testing.T, err error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("error %q wraps errors.ErrUnsupported; a broken meter is a real error", err)
	}
	if !strings.HasPrefix(err.Error(), "rapl: ") {
		t.Errorf("error %q is not prefixed \"rapl: \"", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestRAPLMalformed(t *testing.T) {
	root := fixtureUnpack(t, "rapl/malformed.txtar")
	_, err := OpenRAPL(root)
	raplTestBroken(t, err, "read package-0 energy", filepath.Join(root, "class", "powercap", "intel-rapl:0", "energy_uj"), `"12abc"`)

	r, _ := raplTestOpen(t, "amd.txtar")
	raplTestWrite(t, r.files[1], "-5\n")
	_, err = r.Read(context.Background())
	raplTestBroken(t, err, "read core-0 energy", r.files[1])

	raplTestSet(t, r, "core-0", 0)
	raplTestSet(t, r, "package-1", 65532610988)
	_, err = r.Read(context.Background())
	raplTestBroken(t, err, "read package-1 energy", "exceeds max_energy_range_uj")

	raplTestSet(t, r, "package-1", 0)
	if err := os.Remove(r.files[3]); err != nil {
		t.Fatal(err)
	}
	_, err = r.Read(context.Background())
	raplTestBroken(t, err, "read core-1 energy", r.files[3])
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %q does not wrap fs.ErrNotExist", err)
	}
}

func TestRAPLReadCancelled(t *testing.T) {
	r, _ := raplTestOpen(t, "amd.txtar")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("read with a cancelled context: %v, want context.Canceled", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestRAPLParseEnergy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want metrics.Energy
		ok   bool
	}{
		{"0\n", 0, true},
		{"262143328850\n", 262143328850, true},
		{"  42  \n", 42, true},
		{"9223372036854775807\n", 9223372036854775807, true},
		{"9223372036854775808\n", 0, false},
		{"18446744073709551616\n", 0, false},
		{"-1\n", 0, false},
		{"+1\n", 0, false},
		{"0x10\n", 0, false},
		{"1_000\n", 0, false},
		{"1.5\n", 0, false},
		{"\n", 0, false},
		{"", 0, false},
		{"12 34\n", 0, false},
	} {
		got, err := raplParseEnergy([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("raplParseEnergy(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
