package meter

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// Options say where backends find their hardware.
type Options struct {
	SysfsRoot string  // default /sys
	ProcRoot  string  // default /proc
	TDPWatts  float64 // estimate: override the TDP table
	// RedfishInsecure skips verifying the BMC's TLS certificate
	// (--redfish-insecure); the meter's notes say so.
	RedfishInsecure bool
}

// Where sysfs and procfs are mounted unless a flag says otherwise.
const (
	DefaultSysfsRoot = "/sys"
	DefaultProcRoot  = "/proc"
)

func (o Options) withDefaults() Options {
	if o.SysfsRoot == "" {
		o.SysfsRoot = DefaultSysfsRoot
	}
	if o.ProcRoot == "" {
		o.ProcRoot = DefaultProcRoot
	}
	return o
}

// CheckRoots reports, before any meter is opened, whether the sysfs and
// procfs roots are usable directories: an error wrapping ErrBadRoot for
// each that is not (bad input), nil otherwise. A default root the machine
// lacks (no /sys on macOS) is not an error here: the backends say
// errors.ErrUnsupported for it.
func (o Options) CheckRoots() error {
	o = o.withDefaults()
	var errs []error
	for _, err := range []error{
		checkRoot("sysfs", "--sysfs-root", o.SysfsRoot, DefaultSysfsRoot),
		checkRoot("proc", "--proc-root", o.ProcRoot, DefaultProcRoot),
	} {
		// Anything else (no /sys here, permission denied on a parent)
		// is the backends' to explain.
		if errors.Is(err, ErrBadRoot) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ErrBadRoot is wrapped when a --sysfs-root or --proc-root does not name a
// directory: the flag is wrong (bad input, exit status 2), which is not the
// same as a machine without the meter (errors.ErrUnsupported).
var ErrBadRoot = errors.New("root is not a directory")

// rootError is a bad root: errors.Is(err, ErrBadRoot) holds, and the
// message says which root, what is wrong and what to give instead.
type rootError struct {
	msg   string
	cause error
}

func (e *rootError) Error() string { return e.msg }

func (e *rootError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrBadRoot}
	}
	return []error{ErrBadRoot, e.cause}
}

// unsupportedError is a missing meter: errors.Is(err,
// errors.ErrUnsupported) holds, and its message is only the reason, as
// "unsupported operation" would tell the user nothing more.
type unsupportedError struct {
	msg   string
	cause error
}

func (e *unsupportedError) Error() string { return e.msg }

func (e *unsupportedError) Unwrap() []error {
	if e.cause == nil {
		return []error{errors.ErrUnsupported}
	}
	return []error{errors.ErrUnsupported, e.cause}
}

// checkRoot checks a filesystem root given for fsName (sysfs, proc) with
// flag. It returns nil for a directory; an error wrapping ErrBadRoot for a
// path that does not exist or is not a directory; for the default root
// def missing, errors.ErrUnsupported, as that machine has no such
// filesystem (not Linux) and the user gave nothing wrong. Any other
// failure (permission denied on a parent) is returned as it is.
func checkRoot(fsName, flag, root, def string) error {
	fi, err := os.Stat(root)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return &rootError{msg: fmt.Sprintf("%s %s: %s is not a directory: give the directory %s is mounted at (normally %s)", flag, root, root, fsName, def)}
	case errors.Is(err, fs.ErrNotExist) && filepath.Clean(root) == def:
		return &unsupportedError{msg: fmt.Sprintf("no %s filesystem at %s (not Linux?)", fsName, root), cause: err}
	case errors.Is(err, fs.ErrNotExist):
		return &rootError{msg: fmt.Sprintf("%s %s: no such directory: give the directory %s is mounted at (normally %s)", flag, root, fsName, def), cause: err}
	}
	return fmt.Errorf("%s %s: %w", flag, root, err)
}

// Backends lists every --meter name, hardware first, in the order auto
// tries them.
var Backends = []string{"rapl", "hwmon", "nvml", "redfish", "estimate", "fake"}

// cpuAuto are the CPU meters --meter auto tries; when none works it falls
// back to the estimate. gpuAuto are the GPU meters it adds to them: a
// discrete GPU's energy lies outside the CPU package's, so the total adds
// the two without counting anything twice.
var (
	cpuAuto = []string{"rapl", "hwmon"}
	gpuAuto = []string{"nvml"}
)

// ErrUnknown is returned for a --meter name that is no backend.
var ErrUnknown = errors.New("unknown meter")

// ErrNotBuilt marks a backend this version of joulebench does not have yet.
// It is errors.ErrUnsupported: the machine may have the meter, we cannot
// read it yet.
var ErrNotBuilt error = notBuilt{}

type notBuilt struct{}

func (notBuilt) Error() string        { return "not implemented in this version of joulebench" }
func (notBuilt) Is(target error) bool { return target == errors.ErrUnsupported }

// Open opens one backend by name. "redfish=URL" names a BMC. A backend the
// machine lacks is errors.ErrUnsupported wrapped with the reason and fix;
// a --sysfs-root or --proc-root that is no directory wraps ErrBadRoot.
func Open(name string, opts Options) (Meter, error) {
	opts = opts.withDefaults()
	backend, arg, _ := strings.Cut(name, "=")
	switch backend {
	case "rapl":
		m, err := OpenRAPL(opts.SysfsRoot)
		if err != nil {
			return nil, err
		}
		return m, nil
	case "estimate":
		m, err := OpenEstimate(EstimateOptions{ProcRoot: opts.ProcRoot, TDPWatts: opts.TDPWatts})
		if err != nil {
			return nil, err
		}
		return m, nil
	case "fake":
		return DefaultFake(), nil
	case "nvml":
		m, err := openNVMLMeter()
		if err != nil {
			return nil, fmt.Errorf("nvml: %w", err)
		}
		return m, nil
	case "hwmon":
		return nil, fmt.Errorf("%s: %w", backend, ErrNotBuilt)
	case "redfish":
		if arg == "" {
			return nil, fmt.Errorf("%w: give the BMC as --meter redfish=https://BMC[/CHASSIS-ID]", ErrRedfishConfig)
		}
		user, password, err := RedfishCredentials(os.Getenv)
		if err != nil {
			return nil, err
		}
		m, err := OpenRedfish(context.Background(), RedfishOptions{URL: arg, Insecure: opts.RedfishInsecure, User: user, Password: password})
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w %q (choose from auto, %s)", ErrUnknown, name, strings.Join(Backends, ", "))
}

// openNVMLMeter opens the NVML meter; tests put a fake GPU meter in its place.
var openNVMLMeter = func() (Meter, error) {
	m, err := OpenNVML(NVMLOptions{})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Selection is the outcome of choosing meters for a run.
type Selection struct {
	Meters []Meter
	// Notes explain the choice, e.g. why auto fell back to the estimate.
	Notes []string
}

// Close closes every selected meter.
func (s *Selection) Close() error {
	var errs []error
	for _, m := range s.Meters {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}

// Select opens the meters a --meter value names: "auto", or a
// comma-separated list of backends. Auto uses every hardware backend that
// works here and, when none does, the estimate — saying why in Notes. A
// named backend that cannot open is an error; a root that is no directory
// (ErrBadRoot) is an error for auto too, never a reason to fall back.
func Select(spec string, opts Options) (*Selection, error) {
	sel := &Selection{}
	if spec == "" || spec == "auto" {
		// Auto may use either root; a wrong one is bad input whichever
		// backend would have read it.
		if err := opts.CheckRoots(); err != nil {
			return nil, err
		}
		var why []error
		try := func(b string) (bool, error) {
			m, err := Open(b, opts)
			if err != nil {
				if !errors.Is(err, errors.ErrUnsupported) {
					sel.Close()
					return false, fmt.Errorf("meter %s is present but broken: %w", b, err)
				}
				if !errors.Is(err, ErrNotBuilt) {
					why = append(why, err)
				}
				return false, nil
			}
			sel.Meters = append(sel.Meters, m)
			return true, nil
		}
		cpu := false
		for _, b := range cpuAuto {
			ok, err := try(b)
			if err != nil {
				return nil, err
			}
			cpu = cpu || ok
		}
		cpuWhy := why
		// A GPU meter that is there but broken (a driver upgraded without
		// a reboot: NVML's library and kernel module disagree) must not
		// stop a CPU run that never needed it: it is left out, loudly, in
		// the notes on stderr and in the record. Asked for by name
		// (--meter nvml), it is an error.
		gpu := false
		var gpuBroken []string
		for _, b := range gpuAuto {
			m, err := Open(b, opts)
			switch {
			case err == nil:
				sel.Meters = append(sel.Meters, m)
				gpu = true
			case errors.Is(err, errors.ErrUnsupported):
				if !errors.Is(err, ErrNotBuilt) {
					why = append(why, err)
				}
			default:
				gpuBroken = append(gpuBroken, fmt.Sprintf("WARNING: meter %s is present but broken, so no GPU is metered in this run: %v", b, err))
			}
		}
		defer func() { sel.Notes = append(sel.Notes, gpuBroken...) }()
		if cpu {
			return sel, nil
		}
		m, err := Open("estimate", opts)
		if err != nil {
			if gpu {
				// The GPUs are metered; the CPU is left out, and said so.
				sel.Notes = append(sel.Notes, "no CPU energy meter is readable here and the estimate cannot run either, so the CPU is not counted: totals are the GPUs' only", "  "+err.Error())
				return sel, nil
			}
			sel.Close()
			return nil, fmt.Errorf("no meter can be used here: %w", errors.Join(append(why, err)...))
		}
		// The estimate goes first, where a CPU meter would have been.
		sel.Meters = append([]Meter{m}, sel.Meters...)
		if gpu {
			sel.Notes = append(sel.Notes, "no CPU energy meter is readable here, so the CPU's figures are ESTIMATED from CPU utilisation and TDP; the GPUs are measured, and a total that adds both is partly estimated")
		} else {
			sel.Notes = append(sel.Notes, "no hardware energy meter is readable here, so every figure is ESTIMATED from CPU utilisation and TDP")
		}
		for _, e := range cpuWhy {
			sel.Notes = append(sel.Notes, "  "+e.Error())
		}
		if !gpu {
			for _, e := range why[len(cpuWhy):] {
				sel.Notes = append(sel.Notes, "  "+e.Error())
			}
		}
		return sel, nil
	}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		m, err := Open(name, opts)
		if err != nil {
			sel.Close()
			return nil, fmt.Errorf("--meter %s: %w", redactSpec(name), err)
		}
		sel.Meters = append(sel.Meters, m)
	}
	return sel, nil
}

// Status is what one backend can do on this machine.
type Status struct {
	Backend string
	Method  Method
	Domains []Domain
	Source  string
	Notes   []string
	// Devices describes the devices the backend reads (GPUs), if it says.
	Devices []results.Device
	// Err is why the backend cannot be used; errors.ErrUnsupported when the
	// machine lacks it, ErrBadRoot when --sysfs-root or --proc-root names
	// no directory, anything else when it is there but broken.
	Err error
}

// Probe tries every backend and reports what each can measure here, or why
// not. It keeps nothing open.
func Probe(opts Options) []Status {
	var out []Status
	for _, b := range Backends {
		st := Status{Backend: b}
		if b == "redfish" {
			// A BMC is named, never found: probing would mean guessing
			// addresses and sending credentials to them.
			st.Err = &unsupportedError{msg: "redfish: not probed: name the BMC with --meter redfish=https://BMC[/CHASSIS-ID] (credentials from " + RedfishUserEnv + " and " + RedfishPasswordEnv + ", or " + RedfishCredentialsEnv + ")"}
			out = append(out, st)
			continue
		}
		m, err := Open(b, opts)
		if err != nil {
			st.Err = err
			out = append(out, st)
			continue
		}
		st.Method, st.Domains = m.Method(), m.Domains()
		if d, ok := m.(Describer); ok {
			st.Source, st.Notes = d.Source(), d.Notes()
		}
		if d, ok := m.(DeviceDescriber); ok {
			st.Devices = d.Devices()
		}
		m.Close()
		out = append(out, st)
	}
	return out
}

// redactSpec is a --meter name fit for a message: a redfish URL's
// password, if one was given, hidden.
func redactSpec(name string) string {
	if b, arg, ok := strings.Cut(name, "="); ok && b == "redfish" {
		return b + "=" + RedactURL(arg)
	}
	return name
}
