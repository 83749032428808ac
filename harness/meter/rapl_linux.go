package meter

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs/sysfs"

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
	files    []string // energy_uj of each domain, in domains order
	notes    []string
	// readFile reads energy_uj; tests replace it to simulate a kernel that
	// refuses the read, which running the tests as root cannot.
	readFile func(string) ([]byte, error)
}

var (
	_ Meter     = (*RAPL)(nil)
	_ Describer = (*RAPL)(nil)
)

// The powercap control types that are RAPL, in order of preference: the
// MSR (or TPMI) view comes first so that an MMIO zone is recognised as its
// duplicate. AMD's RAPL registers as "intel-rapl" too.
const (
	raplControlMSR  = "intel-rapl"
	raplControlMMIO = "intel-rapl-mmio"
)

// OpenRAPL opens the RAPL zones under sysfsRoot (normally "/sys") and reads
// each once, so that a counter the kernel will not let us read fails here
// rather than in the middle of a run. A host without RAPL, or one whose
// counters only root may read, gives an error that wraps
// errors.ErrUnsupported and says why and what to do; anything else that
// goes wrong (a malformed value) is a real error.
func OpenRAPL(sysfsRoot string) (*RAPL, error) {
	return raplOpen(sysfsRoot, os.ReadFile)
}

// raplZone is one powercap zone that belongs to RAPL.
type raplZone struct {
	dir     string // directory name, e.g. "intel-rapl:0:1"
	control string // raplControlMSR or raplControlMMIO
	ids     []int  // [package] or [package, subzone], from dir
	name    string // the kernel's name for it, e.g. "package-0", "dram"
	kind    Kind
	path    string
	wrap    uint64
}

func raplOpen(sysfsRoot string, readFile func(string) ([]byte, error)) (*RAPL, error) {
	r := &RAPL{dir: filepath.Join(sysfsRoot, "class", "powercap"), readFile: readFile}
	sfs, err := sysfs.NewFS(sysfsRoot)
	if err != nil {
		return nil, fmt.Errorf("rapl: sysfs root: %w", err)
	}
	pzones, err := sysfs.GetRaplZones(sfs)
	if err != nil {
		// GetRaplZones wants max_energy_range_uj in every zone of every
		// control type, and zones without an energy counter (dtpm) have
		// none; so its failure only matters where RAPL zones exist.
		if errors.Is(err, fs.ErrNotExist) && !r.anyRAPLDir() {
			return nil, r.noZones(err)
		}
		return nil, fmt.Errorf("rapl: list zones under %s: %w", r.dir, err)
	}

	var zones []raplZone
	for _, pz := range pzones {
		dir := filepath.Base(pz.Path)
		control, ids, ok := raplParseZoneDir(dir)
		if !ok {
			if control == raplControlMSR || control == raplControlMMIO {
				r.notes = append(r.notes, fmt.Sprintf("left out zone %s: RAPL zones are a package and its subzones, not deeper", dir))
			}
			continue // another control type (dtpm, ...) is not RAPL
		}
		// procfs splits "package-0" into a name and an index and numbers
		// repeated names itself; the kernel's own name is what users see
		// in sysfs and what tells a die or a second psys apart.
		b, err := os.ReadFile(filepath.Join(pz.Path, "name"))
		if err != nil {
			return nil, fmt.Errorf("rapl: zone %s: %w", dir, err)
		}
		name := strings.TrimSpace(string(b))
		kind, ok := raplKindOf(name)
		if !ok {
			r.notes = append(r.notes, fmt.Sprintf("left out zone %s named %q: not a RAPL domain joulebench knows", dir, name))
			continue
		}
		if pz.MaxMicrojoules > math.MaxInt64 {
			return nil, fmt.Errorf("rapl: zone %s: max_energy_range_uj %d is out of range", dir, pz.MaxMicrojoules)
		}
		zones = append(zones, raplZone{
			dir: dir, control: control, ids: ids, name: name, kind: kind,
			path: pz.Path, wrap: pz.MaxMicrojoules,
		})
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
		d := Domain{Kind: z.kind, Wrap: metrics.Energy(z.wrap), InTotal: z.kind == KindPackage || z.kind == KindDRAM}
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

// anyRAPLDir reports whether class/powercap holds a RAPL zone directory.
func (r *RAPL) anyRAPLDir() bool {
	ents, err := os.ReadDir(r.dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if c, _, _ := strings.Cut(e.Name(), ":"); c == raplControlMSR || c == raplControlMMIO {
			return true
		}
	}
	return false
}

func (r *RAPL) noZones(cause error) error {
	return &raplUnsupportedError{
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
	return fmt.Errorf("rapl: read %s energy: %w", r.domains[i].Name, err)
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
	return &raplUnsupportedError{
		msg: fmt.Sprintf("rapl: read %s energy: %v; energy_uj is readable only by root on kernels since 2020 "+
			"(CVE-2020-8694, \"Platypus\"): run as root or `sudo chmod a+r %s` (lasts until reboot)",
			r.domains[first].Name, err, target),
		cause: err,
	}
}

// raplUnsupportedError is a missing meter: errors.Is(err,
// errors.ErrUnsupported) holds, and its message is only the reason, as
// "unsupported operation" would tell the user nothing more.
type raplUnsupportedError struct {
	msg   string
	cause error
}

func (e *raplUnsupportedError) Error() string { return e.msg }

func (e *raplUnsupportedError) Unwrap() []error {
	if e.cause == nil {
		return []error{errors.ErrUnsupported}
	}
	return []error{errors.ErrUnsupported, e.cause}
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
		return 0, errors.New("empty counter value")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("counter value %.40q is not a decimal number", s)
		}
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("counter value %.40q is out of range", s)
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

// Source implements Describer.
func (r *RAPL) Source() string {
	return "powercap " + strings.Join(r.controls, " and ") + " under " + r.dir
}

// Notes implements Describer.
func (r *RAPL) Notes() []string { return slices.Clone(r.notes) }

// Close implements Meter. The counters are read file by file, so there is
// nothing to release.
func (r *RAPL) Close() error { return nil }
