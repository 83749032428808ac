package certify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// Domain kinds as the record names them (harness/meter's Kind values;
// certify does not import harness).
const (
	evalKindPackage = "package"
	evalKindCore    = "core"
	evalKindUncore  = "uncore"
	evalKindDRAM    = "dram"
	evalKindPsys    = "psys"
	evalKindGPU     = "gpu"
	evalKindNode    = "node"
)

var evalKinds = []string{evalKindPackage, evalKindCore, evalKindUncore, evalKindDRAM, evalKindPsys, evalKindGPU, evalKindNode}

// meterSpec is what a meter of joulebench is, by name: how it measures,
// whether it estimates, which domain kinds it has and which of them count
// in the total. A record says all of this about its meters; certify
// believes none of it that this table can check.
type meterSpec struct {
	// methods are the methods the meter can have; the first is the one
	// levels assume when the record states another.
	methods   []string
	estimated bool
	// kinds are the domain kinds it can have; nil means any known kind.
	kinds []string
	// domains, when set, are exactly the meter's domains (the fake meter).
	domains []results.Domain
	// kindOf, when set, gives a domain's kind from its name (RAPL names
	// its zones after what they are).
	kindOf func(name string) (string, bool)
	// inTotal, when set, says whether a domain must count in the total.
	inTotal func(m results.Meter, d results.Domain) (bool, string)
	// minRepS, when set, is the least min_rep_s the meter can state: a
	// record that leaves it out, or lowers it below what the meter ever
	// gives, would escape the rule that its repetitions be long enough.
	minRepS float64
}

// meterTable lists every meter joulebench has (fake, estimate, rapl,
// redfish) and the names reserved for the ones it will have (nvml,
// hwmon), from harness/meter: fake.go, estimate.go, rapl_linux.go,
// redfish.go.
var meterTable = map[string]meterSpec{
	// The fake meter makes up constant power for a package and its DRAM.
	"fake": {methods: []string{results.MethodSynthetic},
		domains: []results.Domain{
			{Name: "package-0", Kind: evalKindPackage, InTotal: true},
			{Name: "dram-0", Kind: evalKindDRAM, InTotal: true},
		}},
	// The estimate meter models the CPU from TDP × utilisation.
	"estimate": {methods: []string{results.MethodModel}, estimated: true},
	// RAPL reads the CPU's energy counters through powercap.
	"rapl": {methods: []string{results.MethodCounter},
		kinds:   []string{evalKindPackage, evalKindCore, evalKindUncore, evalKindDRAM, evalKindPsys},
		kindOf:  meterRAPLKind,
		inTotal: meterRAPLInTotal},
	// Reserved: NVML's total energy counter or its power readings.
	"nvml": {methods: []string{results.MethodCounter, results.MethodSampledPower}, kinds: []string{evalKindGPU}},
	// Reserved: hwmon's power or energy sensors.
	"hwmon": {methods: []string{results.MethodSampledPower, results.MethodCounter}},
	// A BMC's whole-node energy or power through Redfish
	// (harness/meter/redfish.go): one domain, the node, in the total.
	// The BMC's min_rep_s is 3 update intervals, at least 3 × the 1 s
	// poll (harness/meter/redfish.go, redfishMinRepIntervals).
	"redfish": {methods: []string{results.MethodExternal},
		domains: []results.Domain{{Name: "node-0", Kind: evalKindNode, InTotal: true}}, minRepS: 3},
}

// meterRAPLKind is the kind RAPL gives a zone by its name, as
// harness/meter's raplKindOf does: "package-0", "package-0-die-1",
// "dram-0", "core-0", "uncore-0", "psys", with "-mmio" for a zone read
// through MMIO and "@DIR" when two zones had one name.
func meterRAPLKind(name string) (string, bool) {
	name, _, _ = strings.Cut(name, "@")
	base, _, _ := strings.Cut(name, "-")
	switch base {
	case "package":
		return evalKindPackage, true
	case "psys":
		return evalKindPsys, true
	case "core":
		return evalKindCore, true
	case "uncore":
		return evalKindUncore, true
	case "dram":
		return evalKindDRAM, true
	}
	return "", false
}

// meterRAPLInTotal is whether a RAPL domain counts in the total: the
// packages and their DRAM do; the cores and uncore lie inside their
// package and psys overlaps everything, so they never do; nor does a zone
// read through MMIO whose MSR twin (the same name without "-mmio") is in
// the record, since it is the same counter.
func meterRAPLInTotal(m results.Meter, d results.Domain) (bool, string) {
	kind, _ := meterRAPLKind(d.Name)
	switch kind {
	case evalKindCore, evalKindUncore:
		return false, "it lies inside its package"
	case evalKindPsys:
		return false, "it overlaps the packages and DRAM"
	}
	if twin, ok := strings.CutSuffix(d.Name, "-mmio"); ok {
		for _, o := range m.Domains {
			if o.Name == twin {
				return false, "it is the same counter as " + twin + ", read through MMIO"
			}
		}
	}
	return true, "it is a CPU package or its DRAM"
}

// meterMethod is the method a meter's figures are judged by for its level:
// the recorded one when the meter can have it, else what the meter is (the
// table's first method), whatever the record says; "" for a meter
// joulebench does not have. So the fake meter is synthetic and the
// estimate a model even when the method field says "counter", and no
// edited field raises a level.
func meterMethod(m results.Meter) string {
	spec, ok := meterTable[m.Name]
	switch {
	case !ok:
		return ""
	case slices.Contains(spec.methods, m.Method):
		return m.Method
	}
	return spec.methods[0]
}

// meterNotMeasured reports whether a meter's figures describe no
// measurement: the fake meter's and the estimate meter's, or a meter whose
// record calls it a model or estimated.
func meterNotMeasured(m results.Meter) bool {
	switch meterMethod(m) {
	case results.MethodSynthetic, results.MethodModel:
		return true
	}
	return m.Estimated || m.Method == results.MethodModel || m.Method == results.MethodSynthetic
}

// evalMeterRule checks what the record says about its meters against what
// those meters are (meterTable): method, estimated flag, domain kinds and
// which domains count in the total; and that no meter or domain name is
// used twice, since energies are kept by domain name.
func evalMeterRule(rec *results.Record) Rule {
	r := Rule{Name: "meter methods", Hard: true}
	var bad []string
	fail := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	if len(rec.Meters) == 0 {
		fail("meters: the record names no meter")
	}
	meterAt := map[string]int{}
	domainAt := map[string]string{}
	var names []string
	for i, m := range rec.Meters {
		f := fmt.Sprintf("meters[%d]", i)
		if j, dup := meterAt[m.Name]; dup {
			fail("%s.name: meter %q is also meters[%d]", f, m.Name, j)
			continue
		}
		meterAt[m.Name] = i
		names = append(names, fmt.Sprintf("%s (%s)", m.Name, m.Method))
		for k, d := range m.Domains {
			df := fmt.Sprintf("%s.domains[%d]", f, k)
			if prev, dup := domainAt[d.Name]; dup {
				fail("%s.name: domain %q is also %s; energies are kept by domain name, so one would hide the other", df, d.Name, prev)
			}
			domainAt[d.Name] = df
		}
		spec, known := meterTable[m.Name]
		if !known {
			fail("%s.name: %q is not a meter joulebench has (%s), so its method cannot be checked", f, m.Name, strings.Join(specSortedKeys(meterTable), ", "))
			continue
		}
		if !slices.Contains(spec.methods, m.Method) {
			fail("%s.method is %q, but meter %s's method is %s", f, m.Method, m.Name, strings.Join(spec.methods, " or "))
		}
		if m.Estimated != spec.estimated {
			fail("%s.estimated is %t, but meter %s's figures %s estimates", f, m.Estimated, m.Name, map[bool]string{true: "are", false: "are not"}[spec.estimated])
		}
		if spec.minRepS > 0 && !(m.MinRepS >= spec.minRepS) {
			fail("%s.min_rep_s is %g, but meter %s always states at least %g s (three of its update intervals)", f, m.MinRepS, m.Name, spec.minRepS)
		}
		if spec.domains != nil {
			if !meterSameDomains(m.Domains, spec.domains) {
				var want []string
				for _, d := range spec.domains {
					want = append(want, fmt.Sprintf("%s (%s, in_total %t)", d.Name, d.Kind, d.InTotal))
				}
				fail("%s.domains: meter %s has exactly %s", f, m.Name, strings.Join(want, " and "))
			}
			continue
		}
		if len(m.Domains) == 0 {
			fail("%s.domains: meter %s measures nothing", f, m.Name)
		}
		for k, d := range m.Domains {
			df := fmt.Sprintf("%s.domains[%d]", f, k)
			switch {
			case !slices.Contains(evalKinds, d.Kind):
				fail("%s.kind is %q, not a kind of domain (%s)", df, d.Kind, strings.Join(evalKinds, ", "))
				continue
			case spec.kinds != nil && !slices.Contains(spec.kinds, d.Kind):
				fail("%s.kind is %q, but meter %s measures %s only", df, d.Kind, m.Name, strings.Join(spec.kinds, ", "))
				continue
			}
			if spec.kindOf != nil {
				if want, ok := spec.kindOf(d.Name); !ok || want != d.Kind {
					fail("%s.kind is %q, but meter %s's domain %q is %s", df, d.Kind, m.Name, d.Name, meterOr(want, "no domain it has"))
					continue
				}
			}
			if spec.inTotal != nil {
				if want, why := spec.inTotal(m, d); want != d.InTotal {
					fail("%s.in_total is %t, but %s %s count in the total: %s", df, d.InTotal, d.Name, map[bool]string{true: "does", false: "does not"}[want], why)
				}
			}
		}
	}
	if len(bad) == 0 {
		r.Pass = true
		r.Reason = "every meter's method, estimated flag, domain kinds and total are what that meter is: " + strings.Join(names, ", ")
		return r
	}
	r.Reason = evalFirstOf(bad)
	return r
}

func meterOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func meterSameDomains(got, want []results.Domain) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Kind != w.Kind || g.InTotal != w.InTotal || g.Parent != w.Parent {
			return false
		}
	}
	return true
}

// evalReadingsRule checks the raw readings themselves: each names a meter
// of the record, has one counter value per domain of that meter, none
// negative or past the counter's range, and each meter's readings go
// forward in time. Every energy is recomputed from these, so a reading a
// meter could not have produced is refused rather than integrated.
func evalReadingsRule(rec *results.Record) Rule {
	r := Rule{Name: "meter readings", Hard: true}
	meters := map[string]*results.Meter{}
	for i := range rec.Meters {
		if _, dup := meters[rec.Meters[i].Name]; !dup {
			meters[rec.Meters[i].Name] = &rec.Meters[i]
		}
	}
	last := map[string]float64{}
	var bad []string
	fail := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	for i, rd := range rec.Readings {
		f := fmt.Sprintf("readings[%d]", i)
		m := meters[rd.Meter]
		if m == nil {
			fail("%s.meter is %q, not a meter of the record", f, rd.Meter)
			continue
		}
		if len(rd.EnergyUJ) != len(m.Domains) {
			fail("%s.energy_uj has %d values, but meter %s has %d domains", f, len(rd.EnergyUJ), m.Name, len(m.Domains))
			continue
		}
		for d, v := range rd.EnergyUJ {
			switch lim := m.Domains[d].MaxEnergyUJ; {
			case v < 0:
				fail("%s.energy_uj[%d] is %d: a cumulative counter is never negative", f, d, v)
			case lim > 0 && uint64(v) > lim:
				fail("%s.energy_uj[%d] is %d, past the %d µJ at which %s's counter wraps (max_energy_uj)", f, d, v, lim, m.Domains[d].Name)
			}
		}
		if t, seen := last[m.Name]; seen && rd.TS < t {
			fail("%s.t_s is %g, before the previous reading of meter %s (%g)", f, rd.TS, m.Name, t)
		}
		last[m.Name] = rd.TS
	}
	if len(bad) == 0 {
		r.Pass = true
		r.Reason = fmt.Sprintf("all %d readings name a meter of the record, have one value per domain within its counter's range, and go forward in time", len(rec.Readings))
		return r
	}
	r.Reason = evalFirstOf(bad)
	return r
}

// evalFirstOf is the first of several failures, with how many more there
// are: enough to find and fix them, without a reason a page long.
func evalFirstOf(bad []string) string {
	if len(bad) == 1 {
		return bad[0]
	}
	return fmt.Sprintf("%s (and %d more)", bad[0], len(bad)-1)
}
