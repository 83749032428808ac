package meter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/metrics"
)

// RAPL reads the energy counters of Intel and AMD CPUs (Running Average
// Power Limit) through the Linux powercap interface in sysfs. Its domains
// are the packages, their core, uncore and DRAM subzones, psys where the
// platform has it, and the MMIO view of a package that some Intel client
// CPUs add. The node total adds the packages and their DRAM only: core and
// uncore lie inside the package, psys overlaps everything, and an MMIO
// package is the same counter read another way.
type RAPL struct {
	dir      string   // ROOT/class/powercap, for messages
	controls []string // control types in use, for Source
	domains  []Domain
	files    []string        // energy_uj of each domain, in domains order
	powers   []metrics.Power // the most each domain can draw, in domains order
	gap      time.Duration   // MaxGap
	notes    []string
	// readFile reads every attribute (raplReadAttr); tests replace it to
	// simulate a kernel that refuses the read, which running the tests as
	// root cannot.
	readFile func(string) ([]byte, error)
}

var (
	_ Meter      = (*RAPL)(nil)
	_ Describer  = (*RAPL)(nil)
	_ GapLimiter = (*RAPL)(nil)
)

// The powercap control types that are RAPL, in order of preference: the
// MSR (or TPMI) view comes first so that an MMIO zone is recognised as its
// duplicate. AMD's RAPL registers as "intel-rapl" too.
const (
	raplControlMSR  = "intel-rapl"
	raplControlMMIO = "intel-rapl-mmio"
)

// OpenRAPL opens the RAPL zones under sysfsRoot ("" means "/sys") and reads
// each once, so that a counter the kernel will not let us read fails here
// rather than in the middle of a run. A host without RAPL, or one whose
// counters only root may read, gives an error that wraps
// errors.ErrUnsupported and says why and what to do. A sysfsRoot that is
// no directory wraps ErrBadRoot. Anything else that goes wrong is a real
// error: a malformed value, a range of 0, and an attribute that is not a
// small regular file (a FIFO, a device, /dev/zero behind a symlink: the
// kernel never serves those, so the tree is broken or forged, and falling
// back quietly to another meter would hide it).
func OpenRAPL(sysfsRoot string) (*RAPL, error) {
	return raplOpen(sysfsRoot, raplReadAttr)
}

// raplReadAttr reads one sysfs attribute: never blocking at the open (a
// FIFO), refusing what is not a regular file and anything over one page.
func raplReadAttr(path string) ([]byte, error) {
	return infile.Read(path, infile.MaxSysfsAttr)
}

// raplMaxEntries bounds the entries of a powercap or zone directory: a
// real one has tens (a zone directory about 30, class/powercap a few per
// socket), so thousands mean a tree that is not sysfs.
const raplMaxEntries = 4096

// raplReadDir returns the names in dir, sorted. The open does not block
// (a FIFO in place of a directory), fails on anything but a directory,
// and a directory of more than raplMaxEntries is refused.
func raplReadDir(dir string) ([]string, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	for {
		batch, err := f.Readdirnames(256)
		names = append(names, batch...)
		if len(names) > raplMaxEntries {
			return nil, fmt.Errorf("%s: more than %d entries: not a powercap directory", dir, raplMaxEntries)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	slices.Sort(names)
	return names, nil
}

// raplMaxPower is, for each kind of RAPL domain, a power that no shipping
// part's domain can draw, so that range ÷ power is a time in which its
// counter cannot wrap. It must err high: too low a power lets a gap that
// hid a wrap pass; too high only shortens the allowed gap, and even at
// these figures the shortest (AMD's 65.5 kJ range at 1.5 kW) is 43 s,
// hundreds of times the sampling interval, so no honest run is refused.
//
//   - package, core, uncore: 1.5 kW, three times the largest CPU TDPs
//     (500 W: AMD EPYC 9965, Intel Xeon 6980P; server PL2 is typically
//     1.2 × TDP, 600 W) and about twice the up-to-760 W of the AMD Instinct
//     MI300A APU, whose package holds GPU as well as CPU cores. Core and
//     uncore lie inside their package and cannot draw more.
//   - dram: 1 kW. The largest DRAM domain is one socket's DIMMs: 16 DDR5
//     RDIMMs (8 channels × 2, Xeon 6700) or 12 MRDIMMs (Xeon 6900) at
//     some 20–25 W each under stress is under 500 W.
//   - psys: 3 kW. PSys is the whole platform of a client system (laptop,
//     desktop) as its power delivery sees it; no such platform's supply
//     comes near.
//
// A zone's constraint_*_max_power_uw can only raise its figure, never lower
// it: for the long_term constraint the kernel reports the part's TDP
// (thermal spec power), which the package exceeds under PL2 and PL4, and a
// forged tree must not lengthen the gap by claiming a tiny power.
var raplMaxPower = map[Kind]metrics.Power{
	KindPackage: 1500 * metrics.Watt,
	KindCore:    1500 * metrics.Watt,
	KindUncore:  1500 * metrics.Watt,
	KindDRAM:    1000 * metrics.Watt,
	KindPsys:    3000 * metrics.Watt,
}

// raplSaneMaxPower bounds a constraint_*_max_power_uw worth believing: the
// kernel reports the firmware's MAX_POWER field, up to 4 kW in 1/8 W units
// (doubled for peak_power); a value above this is firmware garbage or a
// forgery, and is noted and ignored.
const raplSaneMaxPower = 10000 * metrics.Watt

// raplZone is one powercap zone that belongs to RAPL.
type raplZone struct {
	dir     string // directory name, e.g. "intel-rapl:0:1"
	control string // raplControlMSR or raplControlMMIO
	ids     []int  // [package] or [package, subzone], from dir
	name    string // the kernel's name for it, e.g. "package-0", "dram"
	kind    Kind
	path    string
	wrap    metrics.Energy
	power   metrics.Power // the most it can draw: raplMaxPower or a constraint
}

func raplOpen(sysfsRoot string, readFile func(string) ([]byte, error)) (*RAPL, error) {
	if sysfsRoot == "" {
		sysfsRoot = DefaultSysfsRoot
	}
	if err := checkRoot("sysfs", "--sysfs-root", sysfsRoot, DefaultSysfsRoot); err != nil {
		return nil, fmt.Errorf("rapl: %w", err)
	}
	r := &RAPL{dir: filepath.Join(sysfsRoot, "class", "powercap"), readFile: readFile}
	// The zones are read here rather than with procfs's
	// sysfs.GetRaplZones: that reads every zone's name and range with
	// unbounded reads that block on a FIFO, and requires a range even in
	// zones that are not RAPL (dtpm).
	dirs, err := raplReadDir(r.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, r.noZones(nil)
		}
		return nil, fmt.Errorf("rapl: list zones under %s: %w", r.dir, err)
	}

	var zones []raplZone
	for _, dir := range dirs {
		control, ids, ok := raplParseZoneDir(dir)
		if control != raplControlMSR && control != raplControlMMIO {
			continue // another control type (dtpm, ...) is not RAPL
		}
		if !ok {
			// The bare control type ("intel-rapl", no index) is the
			// control's own directory, not a zone.
			if strings.Contains(dir, ":") {
				r.notes = append(r.notes, fmt.Sprintf("left out zone %s: RAPL zones are a package and its subzones, not deeper", dir))
			}
			continue
		}
		z, keep, err := r.readZone(dir, control, ids)
		if err != nil {
			return nil, err
		}
		if keep {
			zones = append(zones, z)
		}
	}
	if len(zones) == 0 {
		return nil, r.noZones(nil)
	}
	slices.SortFunc(zones, func(a, b raplZone) int {
		if a.control != b.control {
			return raplControlRank(a.control) - raplControlRank(b.control)
		}
		return slices.Compare(a.ids, b.ids)
	})
	r.build(zones)
	r.gap = minWrapTime(r.domains, r.powers)
	r.noteGap()

	// One trial read of every zone. A malformed or missing counter stops
	// at once; permission denied is collected so that the fix names every
	// file that needs it.
	var denied []int
	var firstDenied error
	for i := range r.files {
		_, err := r.readRaw(i)
		if errors.Is(err, fs.ErrPermission) {
			if firstDenied == nil {
				firstDenied = err
			}
			denied = append(denied, i)
			continue
		}
		if err != nil {
			return nil, r.readError(i, err)
		}
	}
	if len(denied) > 0 {
		return nil, r.permissionError(denied[0], firstDenied, denied)
	}
	return r, nil
}

// readZone reads a RAPL zone's name, range and power bound. keep is false
// for a zone joulebench does not know, which is left out with a note.
func (r *RAPL) readZone(dir, control string, ids []int) (z raplZone, keep bool, err error) {
	z = raplZone{dir: dir, control: control, ids: ids, path: filepath.Join(r.dir, dir)}
	b, err := r.readFile(filepath.Join(z.path, "name"))
	if err != nil {
		return z, false, raplZoneError(dir, "name", err)
	}
	// The kernel's own name is what users see in sysfs and what tells a
	// die ("package-0-die-1") or a second psys apart.
	z.name = strings.TrimSpace(string(b))
	if !raplValidName(z.name) {
		return z, false, fmt.Errorf("rapl: zone %s: %s holds %.40q, which is not a zone name",
			dir, filepath.Join(z.path, "name"), z.name)
	}
	var ok bool
	if z.kind, ok = raplKindOf(z.name); !ok {
		r.notes = append(r.notes, fmt.Sprintf("left out zone %s named %q: not a RAPL domain joulebench knows", dir, z.name))
		return z, false, nil
	}

	// Without its range a counter cannot be unwrapped. A range of 0 would
	// read as Domain.Wrap 0, "does not wrap": the harness would take the
	// counter's first wrap for a huge step backwards, and the meter could
	// declare no gap limit.
	rangeFile := filepath.Join(z.path, "max_energy_range_uj")
	b, err = r.readFile(rangeFile)
	if errors.Is(err, fs.ErrNotExist) {
		return z, false, fmt.Errorf("rapl: zone %s: %w: a counter without a range cannot be unwrapped", dir, err)
	}
	if err != nil {
		return z, false, raplZoneError(dir, "max_energy_range_uj", err)
	}
	if z.wrap, err = raplParseEnergy(b); err != nil {
		return z, false, fmt.Errorf("rapl: zone %s: %s: %w", dir, rangeFile, err)
	}
	if z.wrap == 0 {
		return z, false, fmt.Errorf("rapl: zone %s: %s is 0: a counter without a range cannot be unwrapped", dir, rangeFile)
	}

	z.power, err = r.zonePower(z)
	return z, err == nil, err
}

// zonePower is the most zone z can draw: raplMaxPower for its kind, or a
// higher figure its constraint_*_max_power_uw files give.
func (r *RAPL) zonePower(z raplZone) (metrics.Power, error) {
	power := raplMaxPower[z.kind]
	names, err := raplReadDir(z.path)
	if err != nil {
		return 0, fmt.Errorf("rapl: zone %s: %w", z.dir, err)
	}
	for _, n := range names {
		if !raplIsMaxPowerFile(n) {
			continue
		}
		path := filepath.Join(z.path, n)
		b, err := r.readFile(path)
		if errors.Is(err, infile.ErrNotRegular) || errors.Is(err, infile.ErrTooLarge) {
			return 0, raplZoneError(z.dir, n, err)
		}
		if err != nil {
			// The kernel answers EIO or ENODATA where the firmware gives
			// no figure (DRAM and psys often): no bound, not a fault.
			continue
		}
		v, err := raplParseEnergy(b) // the same plain decimal, in µW
		switch {
		case err != nil:
			r.notes = append(r.notes, fmt.Sprintf("zone %s: ignored %s: %v", z.dir, n, err))
		case v == 0:
			// The firmware leaves the field 0 where it does not say.
		case metrics.Power(v) > raplSaneMaxPower:
			r.notes = append(r.notes, fmt.Sprintf("zone %s: ignored %s: %d µW is more than any RAPL domain draws", z.dir, n, v))
		case metrics.Power(v) > power:
			r.notes = append(r.notes, fmt.Sprintf("zone %s: %s says up to %.4g W, above the %.4g W assumed for a %s domain; its wrap time uses the higher",
				z.dir, n, metrics.Power(v).Watts(), raplMaxPower[z.kind].Watts(), z.kind))
			power = metrics.Power(v)
		}
	}
	return power, nil
}

// raplIsMaxPowerFile reports whether name is a constraint_N_max_power_uw.
func raplIsMaxPowerFile(name string) bool {
	n, ok := strings.CutPrefix(name, "constraint_")
	if !ok {
		return false
	}
	n, ok = strings.CutSuffix(n, "_max_power_uw")
	if !ok || n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// raplValidName reports whether a zone's name looks like one the kernel
// writes ("package-0", "dram", "package-0-die-1", "psys"): it becomes a
// domain name in records and reports, so a forged tree may not put
// newlines, markup or a kilobyte of text there.
func raplValidName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// raplZoneError explains a failed read of file in zone dir.
func raplZoneError(dir, file string, err error) error {
	return fmt.Errorf("rapl: zone %s: read %s: %w%s", dir, file, err, raplForgedHint(err))
}

// raplForgedHint adds, to an error about a file that is no small regular
// file, why that cannot be a real sysfs.
func raplForgedHint(err error) string {
	if errors.Is(err, infile.ErrNotRegular) || errors.Is(err, infile.ErrTooLarge) {
		return " (the kernel serves powercap attributes as regular files of at most one page: this tree is broken or forged)"
	}
	return ""
}

// noteGap says how far apart readings may come, and which domain sets it.
func (r *RAPL) noteGap() {
	for i, d := range r.domains {
		if t, ok := wrapTime(d.Wrap, r.powers[i]); ok && t == r.gap {
			r.notes = append(r.notes, fmt.Sprintf("readings must come less than %s apart: %s can wrap that soon (range %v at up to %.4g W); a longer gap could hide a wrap",
				r.gap.Round(time.Millisecond), d.Name, d.Wrap, r.powers[i].Watts()))
			return
		}
	}
}

// build turns the sorted zones into domains, one each, in the same order,
// and writes the notes that explain the total.
func (r *RAPL) build(zones []raplZone) {
	type key struct {
		control string
		pkg     int
	}
	top := map[key]int{}
	for i, z := range zones {
		if len(z.ids) == 1 {
			top[key{z.control, z.ids[0]}] = i
		}
	}

	parent := make([]int, len(zones))
	count := map[string]int{}
	var orphans []string
	for i, z := range zones {
		parent[i] = -1
		d := Domain{Kind: z.kind, Wrap: z.wrap, InTotal: z.kind == KindPackage || z.kind == KindDRAM}
		// A subzone takes its package's number: "dram-0", or "dram-0-die-1"
		// under "package-0-die-1", so two sockets never share a name.
		suffix := strconv.Itoa(z.ids[0])
		if len(z.ids) == 2 {
			if p, ok := top[key{z.control, z.ids[0]}]; ok {
				parent[i] = p
				if s, ok := strings.CutPrefix(zones[p].name, "package-"); ok {
					suffix = s
				}
			} else {
				orphans = append(orphans, z.dir)
			}
		}
		switch z.kind {
		case KindPackage, KindPsys:
			d.Name = z.name
		default:
			d.Name = z.name + "-" + suffix
		}
		if z.control == raplControlMMIO {
			d.Name += "-mmio"
		}
		count[d.Name]++
		r.domains = append(r.domains, d)
		r.files = append(r.files, filepath.Join(z.path, "energy_uj"))
		r.powers = append(r.powers, z.power)
		if !slices.Contains(r.controls, z.control) {
			r.controls = append(r.controls, z.control)
		}
	}

	// Zones the kernel named alike keep both, told apart by directory,
	// rather than one silently replacing the other.
	var renamed []string
	for i := range r.domains {
		if d := &r.domains[i]; count[d.Name] > 1 {
			d.Name += "@" + zones[i].dir
			renamed = append(renamed, d.Name)
		}
	}
	for i, p := range parent {
		if p >= 0 {
			r.domains[i].Parent = r.domains[p].Name
		}
	}

	// An MMIO zone reads the same counter as the MSR zone of the same
	// name; adding both would count the package twice.
	msr := map[string]bool{}
	for i, z := range zones {
		if z.control == raplControlMSR {
			msr[r.domains[i].Name] = true
		}
	}
	var inside, dram, psys, mmioDup, mmioOnly []string
	for i, z := range zones {
		d := &r.domains[i]
		if z.control == raplControlMMIO && d.InTotal {
			if msr[strings.TrimSuffix(d.Name, "-mmio")] {
				d.InTotal = false
				mmioDup = append(mmioDup, d.Name)
				continue
			}
			mmioOnly = append(mmioOnly, d.Name)
		}
		switch d.Kind {
		case KindCore, KindUncore:
			inside = append(inside, d.Name)
		case KindDRAM:
			dram = append(dram, d.Name)
		case KindPsys:
			psys = append(psys, d.Name)
		}
	}

	list := func(names []string) string { return strings.Join(names, ", ") }
	if len(psys) > 0 {
		r.notes = append(r.notes, list(psys)+": the platform as RAPL sees it, which overlaps the packages and DRAM; reported, not added to the total")
	}
	if len(mmioDup) > 0 {
		r.notes = append(r.notes, list(mmioDup)+": the same counter as the MSR zone, read through MMIO (intel-rapl-mmio); reported, not added to the total")
	}
	if len(mmioOnly) > 0 {
		r.notes = append(r.notes, list(mmioOnly)+": read through MMIO only, as no MSR zone covers it; added to the total")
	}
	if len(inside) > 0 {
		r.notes = append(r.notes, list(inside)+": inside their package; reported, not added to the total")
	}
	if len(dram) > 0 {
		r.notes = append(r.notes, list(dram)+": DRAM lies outside the package although powercap lists it as a subzone; added to the total")
	} else {
		r.notes = append(r.notes, "no DRAM zone (usual on AMD and client CPUs): memory energy is not measured")
	}
	if len(orphans) > 0 {
		r.notes = append(r.notes, "subzones without a package zone, reported on their own: "+list(orphans))
	}
	if len(renamed) > 0 {
		r.notes = append(r.notes, "zones the kernel named alike are told apart by directory: "+list(renamed))
	}
}

func (r *RAPL) noZones(cause error) error {
	return &unsupportedError{
		msg: fmt.Sprintf("rapl: no powercap RAPL zones under %s: the kernel has no RAPL driver loaded "+
			"(intel_rapl_msr serves Intel and AMD: try `sudo modprobe intel_rapl_msr`), or this is a VM that hides RAPL", r.dir),
		cause: cause,
	}
}

// readRaw reads domain i's counter as the kernel reports it.
func (r *RAPL) readRaw(i int) (metrics.Energy, error) {
	b, err := r.readFile(r.files[i])
	if err != nil {
		return 0, err
	}
	v, err := raplParseEnergy(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", r.files[i], err)
	}
	// A value past the range would make the harness's wrap correction
	// produce negative energy; it means the tree is not what it claims.
	if w := r.domains[i].Wrap; w > 0 && v > w {
		return 0, fmt.Errorf("%s: %d exceeds max_energy_range_uj %d", r.files[i], v, w)
	}
	return v, nil
}

// readError explains a failed read of domain i.
func (r *RAPL) readError(i int, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return r.permissionError(i, err, []int{i})
	}
	return fmt.Errorf("rapl: read %s energy: %w%s", r.domains[i].Name, err, raplForgedHint(err))
}

// permissionError says that the counters are root-only and how to open
// them: a chmod of the one file, or of every zone of the control types
// involved.
func (r *RAPL) permissionError(first int, err error, denied []int) error {
	target := r.files[first]
	if len(denied) > 1 {
		var globs []string
		for _, i := range denied {
			c, _, _ := strings.Cut(filepath.Base(filepath.Dir(r.files[i])), ":")
			g := filepath.Join(r.dir, c+":*", "energy_uj")
			if !slices.Contains(globs, g) {
				globs = append(globs, g)
			}
		}
		target = strings.Join(globs, " ")
	}
	return &unsupportedError{
		msg: fmt.Sprintf("rapl: read %s energy: %v; energy_uj is readable only by root on kernels since 2020 "+
			"(CVE-2020-8694, \"Platypus\"): run as root or `sudo chmod a+r %s` (lasts until reboot)",
			r.domains[first].Name, err, target),
		cause: err,
	}
}

// raplParseZoneDir splits a zone directory name such as "intel-rapl:0:1"
// into its control type and indices. ok is false for other control types
// and for nesting RAPL does not have.
func raplParseZoneDir(dir string) (control string, ids []int, ok bool) {
	parts := strings.Split(dir, ":")
	control = parts[0]
	if control != raplControlMSR && control != raplControlMMIO {
		return control, nil, false
	}
	if len(parts) < 2 || len(parts) > 3 {
		return control, nil, false
	}
	for _, p := range parts[1:] {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return control, nil, false
		}
		ids = append(ids, n)
	}
	return control, ids, true
}

func raplControlRank(control string) int {
	if control == raplControlMSR {
		return 0
	}
	return 1
}

// raplKindOf maps the kernel's zone name to a kind: "package-0",
// "package-0-die-1", "psys", "psys-1", "core", "uncore", "dram".
func raplKindOf(name string) (Kind, bool) {
	base, _, _ := strings.Cut(name, "-")
	switch base {
	case "package":
		return KindPackage, true
	case "psys":
		return KindPsys, true
	case "core":
		return KindCore, true
	case "uncore":
		return KindUncore, true
	case "dram":
		return KindDRAM, true
	}
	return "", false
}

// raplParseEnergy parses an energy_uj value: a decimal count of
// microjoules, as the kernel prints it with a trailing newline. Signs,
// other bases and values past what metrics.Energy holds are errors.
func raplParseEnergy(b []byte) (metrics.Energy, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, errors.New("empty value")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("value %.40q is not a decimal number", s)
		}
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("value %.40q is out of range", s)
	}
	return metrics.Energy(v), nil
}

// Name implements Meter.
func (r *RAPL) Name() string { return "rapl" }

// Method implements Meter.
func (r *RAPL) Method() Method { return Counter }

// Domains implements Meter. The slice is a copy.
func (r *RAPL) Domains() []Domain { return slices.Clone(r.domains) }

// Read implements Meter: the raw counter of every domain, unwrapped.
func (r *RAPL) Read(ctx context.Context) (Reading, error) {
	if err := ctx.Err(); err != nil {
		return Reading{}, err
	}
	e := make([]metrics.Energy, len(r.files))
	start := time.Now()
	for i := range r.files {
		// A sysfs read cannot be interrupted once started, but a
		// cancelled run need not start the next one.
		if err := ctx.Err(); err != nil {
			return Reading{}, err
		}
		v, err := r.readRaw(i)
		if err != nil {
			return Reading{}, r.readError(i, err)
		}
		e[i] = v
	}
	// Each read can cost an interrupt to the package's CPU, so the reads
	// spread over some microseconds; the middle is the best single time.
	end := time.Now()
	return Reading{Time: start.Add(end.Sub(start) / 2), Energy: e}, nil
}

// MaxGap implements GapLimiter: the shortest time in which a domain's
// counter can wrap, its range divided by the most it can draw
// (raplMaxPower, or a higher constraint_*_max_power_uw).
func (r *RAPL) MaxGap() time.Duration { return r.gap }

// Source implements Describer.
func (r *RAPL) Source() string {
	return "powercap " + strings.Join(r.controls, " and ") + " under " + r.dir
}

// Notes implements Describer.
func (r *RAPL) Notes() []string { return slices.Clone(r.notes) }

// Close implements Meter. The counters are read file by file, so there is
// nothing to release.
func (r *RAPL) Close() error { return nil }
