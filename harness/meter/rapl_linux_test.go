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
	"syscall"
	"testing"
	"time"

	"github.com/joulebench/joulebench/internal/infile"
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

// A --sysfs-root that is not there, or is a file, is a wrong flag (exit
// status 2), not a machine without RAPL: before ErrBadRoot it read as "no
// powercap RAPL zones", and --meter auto fell back to the estimate.
func TestRAPLBadRoot(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	raplTestWrite(t, file, "not a directory\n")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, root, what string }{
		{"missing", filepath.Join(dir, "nonexistent"), "no such directory"},
		{"a file", file, "is not a directory"},
		{"a FIFO", fifo, "is not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := raplTestOpenTimed(t, tc.root)
			if !errors.Is(err, ErrBadRoot) || errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("open: %v; want ErrBadRoot and not ErrUnsupported, as the flag is wrong", err)
			}
			for _, w := range []string{"rapl: --sysfs-root " + tc.root, tc.what, "give the directory sysfs is mounted at"} {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not say %q", err, w)
				}
			}
		})
	}
	// The honest case it mirrors: a root that is a directory without
	// powercap is a machine without RAPL (TestRAPLNoPowercap).
	if _, err := OpenRAPL(t.TempDir()); errors.Is(err, ErrBadRoot) || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("empty root: %v, want ErrUnsupported", err)
	}
	// "" is the default /sys, which is never a wrong flag.
	if _, err := OpenRAPL(""); errors.Is(err, ErrBadRoot) {
		t.Errorf("default root: %v", err)
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

// raplTestOpenTimed opens root with the meter's own reader, failing the
// test if the open blocks: a hostile tree may not hang a run.
func raplTestOpenTimed(t *testing.T, root string) (*RAPL, error) {
	t.Helper()
	type result struct {
		r   *RAPL
		err error
	}
	done := make(chan result, 1)
	go func() { r, err := OpenRAPL(root); done <- result{r, err} }()
	select {
	case res := <-done:
		return res.r, res.err
	case <-time.After(5 * time.Second):
		t.Fatalf("OpenRAPL(%s) blocked", root)
	}
	return nil, nil
}

// raplTestReadTimed reads r, failing the test if the read blocks.
func raplTestReadTimed(t *testing.T, r *RAPL) (Reading, error) {
	t.Helper()
	type result struct {
		rd  Reading
		err error
	}
	done := make(chan result, 1)
	go func() { rd, err := r.Read(context.Background()); done <- result{rd, err} }()
	select {
	case res := <-done:
		return res.rd, res.err
	case <-time.After(5 * time.Second):
		t.Fatal("Read blocked")
	}
	return Reading{}, nil
}

// raplTestReplace puts something else where path was: a FIFO ("fifo"), a
// symlink to /dev/zero ("zero"), a directory ("dir"), or, for any other
// kind, a regular file holding it.
func raplTestReplace(t *testing.T, path, kind string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	var err error
	switch kind {
	case "fifo":
		err = syscall.Mkfifo(path, 0o644)
	case "zero":
		err = os.Symlink("/dev/zero", path)
	case "dir":
		err = os.Mkdir(path, 0o755)
	default:
		err = os.WriteFile(path, []byte(kind), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestRAPLHostile: every file of a zone is outside input. Each case takes
// the honest AMD tree, breaks one thing as a broken or forged sysfs would,
// and checks that OpenRAPL refuses it at once, with a real error (not
// ErrUnsupported: that would make --meter auto fall back quietly to the
// estimate and hide the tampering) that names the zone or the file.
func TestRAPLHostile(t *testing.T) {
	const zone = "class/powercap/intel-rapl:0"
	digits := strings.Repeat("9", 5000)
	for _, tc := range []struct {
		name  string
		file  string // under the root
		kind  string // for raplTestReplace
		words []string
		is    error
	}{
		{"FIFO as energy_uj", zone + "/energy_uj", "fifo", []string{"read package-0 energy", "a FIFO", "broken or forged"}, infile.ErrNotRegular},
		{"/dev/zero as energy_uj", zone + "/energy_uj", "zero", []string{"read package-0 energy", "character device"}, infile.ErrNotRegular},
		{"directory as energy_uj", zone + "/energy_uj", "dir", []string{"read package-0 energy", "a directory"}, infile.ErrNotRegular},
		{"energy_uj of 5000 digits", zone + "/energy_uj", digits + "\n", []string{"read package-0 energy", "more than 4 KiB"}, infile.ErrTooLarge},
		{"energy_uj of 20 digits", zone + "/energy_uj", "99999999999999999999\n", []string{"read package-0 energy", "out of range"}, nil},
		{"energy_uj with junk", zone + "/energy_uj", "123\x00456\n", []string{"read package-0 energy", "not a decimal number"}, nil},
		{"/dev/zero as name", zone + "/name", "zero", []string{"zone intel-rapl:0: read name", "character device"}, infile.ErrNotRegular},
		{"FIFO as name", zone + "/name", "fifo", []string{"zone intel-rapl:0: read name", "a FIFO"}, infile.ErrNotRegular},
		{"name of 5000 bytes", zone + "/name", "package-" + digits, []string{"zone intel-rapl:0: read name", "more than 4 KiB"}, infile.ErrTooLarge},
		{"name with markup", zone + "/name", "package-0<script>\n", []string{"zone intel-rapl:0", "not a zone name"}, nil},
		{"name of two lines", zone + "/name", "package-0\npackage-1\n", []string{"zone intel-rapl:0", "not a zone name"}, nil},
		{"max_energy_range_uj 0", zone + "/max_energy_range_uj", "0\n", []string{"zone intel-rapl:0", zone + "/max_energy_range_uj is 0", "cannot be unwrapped"}, nil},
		{"max_energy_range_uj missing", zone + "/max_energy_range_uj", "", []string{"zone intel-rapl:0: open ", "max_energy_range_uj: no such file", "cannot be unwrapped"}, fs.ErrNotExist},
		{"max_energy_range_uj junk", zone + "/max_energy_range_uj", "lots\n", []string{"zone intel-rapl:0", "max_energy_range_uj", "not a decimal number"}, nil},
		{"max_energy_range_uj negative", zone + "/max_energy_range_uj", "-1\n", []string{"zone intel-rapl:0", "max_energy_range_uj", "not a decimal number"}, nil},
		{"max_energy_range_uj past int64", zone + "/max_energy_range_uj", "18446744073709551615\n", []string{"zone intel-rapl:0", "max_energy_range_uj", "out of range"}, nil},
		{"/dev/zero as max_energy_range_uj", zone + "/max_energy_range_uj", "zero", []string{"zone intel-rapl:0: read max_energy_range_uj", "character device"}, infile.ErrNotRegular},
		{"FIFO as constraint_0_max_power_uw", zone + "/constraint_0_max_power_uw", "fifo", []string{"zone intel-rapl:0: read constraint_0_max_power_uw", "a FIFO"}, infile.ErrNotRegular},
		{"/dev/zero as constraint_1_max_power_uw", zone + "/constraint_1_max_power_uw", "zero", []string{"zone intel-rapl:0: read constraint_1_max_power_uw", "character device"}, infile.ErrNotRegular},
		{"FIFO as a zone", zone, "fifo", []string{"zone intel-rapl:0: read name", "not a directory"}, syscall.ENOTDIR},
		{"FIFO as class/powercap", "class/powercap", "fifo", []string{"list zones under", "not a directory"}, syscall.ENOTDIR},
		{"/dev/zero as class/powercap", "class/powercap", "zero", []string{"list zones under", "not a directory"}, syscall.ENOTDIR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fixtureUnpack(t, "rapl/amd.txtar")
			// The honest tree it mirrors opens.
			if _, err := raplTestOpenTimed(t, root); err != nil {
				t.Fatalf("honest tree: %v", err)
			}
			p := filepath.Join(root, filepath.FromSlash(tc.file))
			if tc.kind == "" {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			} else {
				raplTestReplace(t, p, tc.kind)
			}
			_, err := raplTestOpenTimed(t, root)
			raplTestBroken(t, err, tc.words...)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if tc.kind != "" && !strings.Contains(err.Error(), filepath.Base(p)) {
				t.Errorf("error %q does not name %s", err, filepath.Base(p))
			}
		})
	}
}

// TestRAPLHostileAfterOpen: a file swapped for a FIFO or /dev/zero after
// the meter opened fails the next Read at once; it neither blocks nor
// reads for ever.
func TestRAPLHostileAfterOpen(t *testing.T) {
	for _, kind := range []string{"fifo", "zero", strings.Repeat("7", 5000)} {
		r, _ := raplTestOpen(t, "amd.txtar")
		if _, err := raplTestReadTimed(t, r); err != nil {
			t.Fatalf("honest read: %v", err)
		}
		raplTestReplace(t, r.files[2], kind)
		_, err := raplTestReadTimed(t, r)
		raplTestBroken(t, err, "read package-1 energy", r.files[2], "broken or forged")
	}
}

// TestRAPLReadHonoursContext: a context cancelled while the meter reads
// stops before the next file.
func TestRAPLReadHonoursContext(t *testing.T) {
	r, _ := raplTestOpen(t, "amd.txtar")
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	r.readFile = func(p string) ([]byte, error) {
		calls++
		if calls == 2 {
			cancel()
		}
		return fixtureReadFile(p)
	}
	if _, err := r.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("read: %v, want context.Canceled", err)
	}
	if calls != 2 {
		t.Errorf("%d files read after the cancel; want none", calls-2)
	}
}

// TestRAPLWrapAcrossReadings: a counter that wraps between two readings
// is returned raw, below its range, and the harness's (b - a) mod range
// gives the energy between them.
func TestRAPLWrapAcrossReadings(t *testing.T) {
	r, _ := raplTestOpen(t, "amd.txtar")
	w := r.Domains()[0].Wrap
	raplTestSet(t, r, "package-0", w-1000)
	a := raplTestRead(t, r)
	raplTestSet(t, r, "package-0", 500) // 1000 to the top, then 500 more
	b := raplTestRead(t, r)
	if b.Energy[0] != 500 || a.Energy[0] != w-1000 {
		t.Fatalf("readings %d, %d; want the raw counters %d, 500", a.Energy[0], b.Energy[0], w-1000)
	}
	if got := ((b.Energy[0]-a.Energy[0])%w + w) % w; got != 1500 {
		t.Errorf("energy across the wrap = %d µJ, want 1500", got)
	}
	// Exactly at the range is still a counter value; one past it is not.
	raplTestSet(t, r, "package-0", w)
	raplTestRead(t, r)
	raplTestSet(t, r, "package-0", w+1)
	_, err := r.Read(context.Background())
	raplTestBroken(t, err, "exceeds max_energy_range_uj")
}

// TestRAPLMaxGap checks the wrap time of real trees: range ÷ the most the
// domain can draw, the shortest over the domains, in exact nanoseconds.
func TestRAPLMaxGap(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		powers  []metrics.Power
		gap     time.Duration
		note    string
	}{
		// 65532610987 µJ ÷ 1500 W = 43.688407324666… s, rounded down.
		{"amd.txtar", []metrics.Power{1500 * metrics.Watt, 1500 * metrics.Watt, 1500 * metrics.Watt, 1500 * metrics.Watt},
			43688407324, "readings must come less than 43.688s apart: package-0 can wrap that soon"},
		// DRAM: 65712999613 µJ ÷ 1000 W = 65.712999613 s; a package
		// (262143328850 µJ ÷ 1500 W = 174.76 s) wraps later.
		{"two-sockets.txtar", []metrics.Power{1500 * metrics.Watt, 1000 * metrics.Watt, 1500 * metrics.Watt, 1500 * metrics.Watt,
			1500 * metrics.Watt, 1000 * metrics.Watt, 1500 * metrics.Watt, 1500 * metrics.Watt},
			65712999613, "dram-0 can wrap that soon"},
		// psys at 3 kW: 87.38 s; the package at 1.5 kW: 174.76 s.
		{"laptop-mmio-psys.txtar", []metrics.Power{1500 * metrics.Watt, 1500 * metrics.Watt, 1500 * metrics.Watt, 3000 * metrics.Watt, 1500 * metrics.Watt},
			87381109616, "psys can wrap that soon"},
		// The package's short_term constraint (2 kW) raises its power;
		// its long_term (270 W, the TDP), the junk and the implausible
		// ones do not lower anything.
		{"constraints.txtar", []metrics.Power{2000 * metrics.Watt, 1000 * metrics.Watt, 1500 * metrics.Watt},
			65712999613, "dram-0 can wrap that soon"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			r, _ := raplTestOpen(t, tc.fixture)
			if !slices.Equal(r.powers, tc.powers) {
				t.Errorf("powers = %v, want %v", r.powers, tc.powers)
			}
			if got := r.MaxGap(); got != tc.gap {
				t.Errorf("MaxGap = %v (%d ns), want %v (%d ns)", got, int64(got), tc.gap, int64(tc.gap))
			}
			if MaxGapOf(r) != r.MaxGap() {
				t.Error("MaxGapOf disagrees with MaxGap")
			}
			raplTestNotesMention(t, r, tc.note)
		})
	}
	r, _ := raplTestOpen(t, "constraints.txtar")
	raplTestNotesMention(t, r,
		"zone intel-rapl:0: constraint_1_max_power_uw says up to 2000 W, above the 1500 W assumed for a package domain",
		"zone intel-rapl:0:0: ignored constraint_0_max_power_uw: value \"n/a\" is not a decimal number",
		"zone intel-rapl:0:1: ignored constraint_0_max_power_uw: 100000000000000 µW is more than any RAPL domain draws")
	if n := strings.Join(r.Notes(), "\n"); strings.Contains(n, "constraint_0_max_power_uw says") || strings.Contains(n, "constraint_1_max_power_uw: 0") {
		t.Errorf("the TDP and a 0 constraint are not news:\n%s", n)
	}
}

// A constraint the kernel cannot read (EIO where the firmware gives no
// figure) is no bound and no fault: the kind's power stands.
func TestRAPLConstraintUnreadable(t *testing.T) {
	root := fixtureUnpack(t, "rapl/constraints.txtar")
	raplTestWrite(t, filepath.Join(root, "class/powercap/intel-rapl:0/constraint_1_max_power_uw"), fixturePermissionDenied)
	r, err := raplOpen(root, fixtureReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if r.powers[0] != 1500*metrics.Watt {
		t.Errorf("package power %v, want the 1500 W bound", r.powers[0])
	}
}

// Every kind raplKindOf returns has a power bound, and each bound is above
// the largest shipping part it stands for (500 W CPUs) and far below where
// the wrap time would fall near the sampling interval.
func TestRAPLMaxPowerCoversEveryKind(t *testing.T) {
	for _, name := range []string{"package-0", "core", "uncore", "dram", "psys"} {
		k, ok := raplKindOf(name)
		p, has := raplMaxPower[k]
		if !ok || !has || p < 1000*metrics.Watt || p > raplSaneMaxPower {
			t.Errorf("%s (%s): bound %v", name, k, p)
		}
		// The shortest range a RAPL part has (AMD, 65.5 kJ) must take
		// more than 10 s to wrap at the bound: 100 sampling intervals.
		if d, _ := wrapTime(65532610987, p); d < 10*time.Second {
			t.Errorf("%s: wrap time %v at %v is too short for an honest run", k, d, p)
		}
	}
}
