package meter

import (
	"errors"
	"fmt"
	"strings"
)

// Options say where backends find their hardware.
type Options struct {
	SysfsRoot string  // default /sys
	ProcRoot  string  // default /proc
	TDPWatts  float64 // estimate: override the TDP table
}

func (o Options) withDefaults() Options {
	if o.SysfsRoot == "" {
		o.SysfsRoot = "/sys"
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	return o
}

// Backends lists every --meter name, hardware first, in the order auto
// tries them.
var Backends = []string{"rapl", "hwmon", "nvml", "redfish", "estimate", "fake"}

// autoOrder is what --meter auto tries before falling back to the estimate.
var autoOrder = []string{"rapl", "hwmon", "nvml"}

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
// machine lacks is errors.ErrUnsupported wrapped with the reason and fix.
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
	case "hwmon", "nvml":
		return nil, fmt.Errorf("%s: %w", backend, ErrNotBuilt)
	case "redfish":
		if arg == "" {
			return nil, fmt.Errorf("redfish: give the BMC as redfish=URL")
		}
		return nil, fmt.Errorf("redfish: %w", ErrNotBuilt)
	}
	return nil, fmt.Errorf("%w %q (choose from auto, %s)", ErrUnknown, name, strings.Join(Backends, ", "))
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
// named backend that cannot open is an error.
func Select(spec string, opts Options) (*Selection, error) {
	sel := &Selection{}
	if spec == "" || spec == "auto" {
		var why []error
		for _, b := range autoOrder {
			m, err := Open(b, opts)
			if err != nil {
				if !errors.Is(err, errors.ErrUnsupported) {
					sel.Close()
					return nil, fmt.Errorf("meter %s is present but broken: %w", b, err)
				}
				if !errors.Is(err, ErrNotBuilt) {
					why = append(why, err)
				}
				continue
			}
			sel.Meters = append(sel.Meters, m)
		}
		if len(sel.Meters) > 0 {
			return sel, nil
		}
		m, err := Open("estimate", opts)
		if err != nil {
			return nil, fmt.Errorf("no meter can be used here: %w", errors.Join(append(why, err)...))
		}
		sel.Meters = append(sel.Meters, m)
		sel.Notes = append(sel.Notes, "no hardware energy meter is readable here, so every figure is ESTIMATED from CPU utilisation and TDP")
		for _, e := range why {
			sel.Notes = append(sel.Notes, "  "+e.Error())
		}
		return sel, nil
	}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		m, err := Open(name, opts)
		if err != nil {
			sel.Close()
			return nil, fmt.Errorf("--meter %s: %w", name, err)
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
	// Err is why the backend cannot be used; errors.ErrUnsupported when the
	// machine lacks it, anything else when it is there but broken.
	Err error
}

// Probe tries every backend and reports what each can measure here, or why
// not. It keeps nothing open.
func Probe(opts Options) []Status {
	var out []Status
	for _, b := range Backends {
		st := Status{Backend: b}
		if b == "redfish" {
			st.Err = fmt.Errorf("redfish: %w", ErrNotBuilt)
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
		m.Close()
		out = append(out, st)
	}
	return out
}
