package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// Boundary is what a record's energy total counts: the kinds of the
// domains added to it and how their energy was had. Two records compare
// like for like only when their boundaries match: a run that leaves DRAM
// out of its total looks cheaper than one that counts it, on the same
// machine doing the same work.
type Boundary struct {
	// Kinds are the kinds of the domains in the total (package, dram,
	// gpu, node, ...), package first, then dram, gpu, node, then any
	// other in alphabetical order.
	Kinds []string `json:"kinds"`
	// Methods are the methods of the meters of those domains (counter,
	// sampled_power, external, model, synthetic), in the record's order.
	Methods []string `json:"methods"`
	// Class sums the methods up: "measured", "estimated", "partly
	// estimated" (a measured total with a modelled part) or "synthetic"
	// (a fake meter's made-up figures, whatever else is counted).
	Class string `json:"class"`
}

var kindOrder = []string{"package", "dram", "gpu", "node"}

// RecordBoundary is the boundary of rec's energy total.
func RecordBoundary(rec *results.Record) Boundary {
	var b Boundary
	measured, modelled := false, false
	for _, m := range rec.Meters {
		in := false
		for _, d := range m.Domains {
			if !d.InTotal {
				continue
			}
			in = true
			if !slices.Contains(b.Kinds, d.Kind) {
				b.Kinds = append(b.Kinds, d.Kind)
			}
		}
		if !in {
			continue
		}
		if !slices.Contains(b.Methods, m.Method) {
			b.Methods = append(b.Methods, m.Method)
		}
		switch {
		case m.Method == results.MethodSynthetic:
			b.Class = "synthetic"
		case m.Estimated || m.Method == results.MethodModel:
			modelled = true
		default:
			measured = true
		}
	}
	slices.SortFunc(b.Kinds, func(x, y string) int {
		ix, iy := slices.Index(kindOrder, x), slices.Index(kindOrder, y)
		switch {
		case ix >= 0 && iy >= 0:
			return ix - iy
		case ix >= 0:
			return -1
		case iy >= 0:
			return 1
		}
		return strings.Compare(x, y)
	})
	if b.Class == "" {
		switch {
		case modelled && measured:
			b.Class = "partly estimated"
		case modelled:
			b.Class = "estimated"
		default:
			b.Class = "measured"
		}
	}
	return b
}

// Counts says what the total counts, as a person reads it: "package+dram"
// or "package only".
func (b Boundary) Counts() string {
	switch len(b.Kinds) {
	case 0:
		return "nothing"
	case 1:
		return b.Kinds[0] + " only"
	}
	return strings.Join(b.Kinds, "+")
}

// String is the boundary in a few words: "package+dram, measured (counter)".
func (b Boundary) String() string {
	return fmt.Sprintf("%s, %s (%s)", b.Counts(), b.Class, b.methodWords())
}

// methodWords are the methods, the fake meter's by name.
func (b Boundary) methodWords() string {
	words := make([]string, len(b.Methods))
	for i, m := range b.Methods {
		words[i] = m
		if m == results.MethodSynthetic {
			words[i] = "fake meter"
		}
	}
	return strings.Join(words, ", ")
}

// BoundaryWarnings says how the boundaries of two records that are being
// compared differ, naming each side, and what that does to the
// comparison; none when they count the same kinds by the same class of
// method.
func BoundaryWarnings(baseName string, base Boundary, otherName string, other Boundary) []string {
	var out []string
	lackB, lackO := missing(base.Kinds, other.Kinds), missing(other.Kinds, base.Kinds)
	// A node meter counts the whole machine, packages and DRAM with it:
	// only the other side can leave something out.
	if slices.Contains(base.Kinds, "node") {
		lackB = nil
	}
	if slices.Contains(other.Kinds, "node") {
		lackO = nil
	}
	if len(lackB) > 0 || len(lackO) > 0 {
		msg := fmt.Sprintf("%s counts %s, %s counts %s: ", baseName, base.Counts(), otherName, other.Counts())
		switch {
		case len(lackB) == 0:
			msg += fmt.Sprintf("%s's energy leaves out %s, so the comparison favours %s", otherName, kindList(lackO), otherName)
		case len(lackO) == 0:
			msg += fmt.Sprintf("%s's energy leaves out %s, so the comparison favours %s", baseName, kindList(lackB), baseName)
		default:
			msg += fmt.Sprintf("%s's energy leaves out %s and %s's leaves out %s, so the two totals are not of the same thing",
				baseName, kindList(lackB), otherName, kindList(lackO))
		}
		out = append(out, msg)
	}
	if base.Class != other.Class {
		msg := fmt.Sprintf("%s is %s (%s), %s is %s (%s): ", baseName, base.Class, base.methodWords(), otherName, other.Class, other.methodWords())
		switch {
		case base.Class == "synthetic" || other.Class == "synthetic":
			msg += "a fake meter's figures are made up, so the comparison says nothing about either"
		default:
			msg += "an estimate is compared with a measurement, so the difference may be the model's error rather than the work's"
		}
		out = append(out, msg)
	}
	return out
}

// missing lists the kinds of want that have lacks.
func missing(have, want []string) []string {
	var out []string
	for _, k := range want {
		if !slices.Contains(have, k) {
			out = append(out, k)
		}
	}
	return out
}

func kindList(kinds []string) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		switch k {
		case "dram":
			names[i] = "DRAM"
		case "gpu":
			names[i] = "the GPU"
		case "node":
			names[i] = "the rest of the node"
		default:
			names[i] = "the " + k
		}
	}
	if len(names) <= 2 {
		return strings.Join(names, " and ")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// CarbonWarning says how two records' carbon accounting differs — method,
// region, grid intensity, PUE or embodied carbon — and what that does to a
// comparison of their gCO2e; "" when they account alike. Two runs of the
// same machine in two grids differ in carbon by the grids, not the work.
func CarbonWarning(baseName string, base *results.Carbon, otherName string, other *results.Carbon) string {
	if base == nil || other == nil {
		return ""
	}
	desc := func(c *results.Carbon) string {
		s := fmt.Sprintf("%.4g gCO2e/kWh", c.GramsPerKWh)
		if c.Region != "" {
			s += " (" + c.Region + ")"
		}
		if c.Method == results.CarbonSeries {
			s += " from a time series"
		}
		s += fmt.Sprintf(", PUE %g", c.PUE)
		if c.Embodied != nil {
			s += fmt.Sprintf(", embodied %g kgCO2e over %g years × %g", c.Embodied.KgCO2e, c.Embodied.LifetimeYears, c.Embodied.Share)
		} else {
			s += ", no embodied"
		}
		return s
	}
	same := base.Method == other.Method && base.Region == other.Region && base.GramsPerKWh == other.GramsPerKWh &&
		base.PUE == other.PUE && (base.Embodied == nil) == (other.Embodied == nil) &&
		(base.Embodied == nil || *base.Embodied == *other.Embodied)
	if same {
		return ""
	}
	return fmt.Sprintf("%s is accounted at %s, %s at %s: their gCO2e differ by the accounting as well as by the work, so compare joules to compare the machines",
		baseName, desc(base), otherName, desc(other))
}

// KindsDiffer reports whether two totals count different kinds of domain
// (one counts DRAM, the other does not), so that their figures are not of
// the same thing. A node meter counts everything the other side can.
func KindsDiffer(base, other Boundary) bool {
	lackB, lackO := missing(base.Kinds, other.Kinds), missing(other.Kinds, base.Kinds)
	if slices.Contains(base.Kinds, "node") {
		lackB = nil
	}
	if slices.Contains(other.Kinds, "node") {
		lackO = nil
	}
	return len(lackB) > 0 || len(lackO) > 0
}

// Uncovered says, when no domain in rec's total counts the device a
// workload runs on, that its energy is not in the figures: a CPU GEMM
// metered by NVML alone, a GPU GEMM metered by RAPL alone. "" when the
// device is covered, or when the workload names no device (a command).
// The device comes from the workload's params ("device": "gpu"; the
// others run on the CPU). certify's meter coverage rule refuses such a
// record; the report warns.
func Uncovered(rec *results.Record, w results.Workload) string {
	if w.Name == "command" {
		return ""
	}
	device, kinds := "CPU", []string{"package", "node"}
	if w.Params["device"] == "gpu" {
		device, kinds = "GPU", []string{"gpu", "node"}
	}
	for _, m := range rec.Meters {
		for _, d := range m.Domains {
			if d.InTotal && slices.Contains(kinds, d.Kind) {
				return ""
			}
		}
	}
	return fmt.Sprintf("it runs on the %s, but no domain in the total counts the %s (the total's kinds: %s): its energy is not in these figures; meter the %s (--meter auto adds every meter this machine has)",
		device, device, strings.Join(RecordBoundary(rec).Kinds, ", "), device)
}
