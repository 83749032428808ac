package certify

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

// forgeryRule returns the rule named name (of workload w, "" for the
// record) on c, failing the test when c has none.
func forgeryRule(t *testing.T, c *Certificate, w, name string) Rule {
	t.Helper()
	for _, r := range c.Rules {
		if r.Name == name && r.Workload == w {
			return r
		}
	}
	t.Fatalf("no rule %q for workload %q", name, w)
	return Rule{}
}

// forgeryFake is the fake meter as harness/meter writes it.
func forgeryFake() results.Meter {
	return results.Meter{Name: "fake", Method: results.MethodSynthetic, Source: "synthetic constant power (not a measurement)",
		Domains: []results.Domain{
			{Name: "package-0", Kind: "package", MaxEnergyUJ: 262143328850, InTotal: true},
			{Name: "dram-0", Kind: "dram", MaxEnergyUJ: 65712999613, InTotal: true}}}
}

// The cheats of issue 7 item 2, each next to the honest record it edits:
// every hard rule that checks the record's description of itself must
// refuse the forged field, and name it.
func TestEvalForgeries(t *testing.T) {
	const w0, w1 = "gemm-fp64-2048", "gemm-fp32-2048"
	honest := evalDefault(t, evalTestRecord(), EvalOptions{})
	for _, tc := range []struct {
		name     string
		edit     func(r *results.Record)
		workload string // of the rule that must fail
		rule     string
		want     []string // in its reason
		noSync   bool     // keep the raw readings the edit wrote
	}{
		// Meter methods: the method, estimated flag, kinds and total are
		// what the meter is.
		{"fake meter calls itself a counter", func(r *results.Record) {
			m := forgeryFake()
			m.Method = results.MethodCounter
			r.Meters = []results.Meter{m}
		}, "", "meter methods", []string{"meters[0].method", `"counter"`, "synthetic"}, false},
		{"estimate calls itself a measured counter", func(r *results.Record) {
			r.Meters = []results.Meter{{Name: "estimate", Method: results.MethodCounter, Domains: []results.Domain{
				{Name: "cpu-estimated", Kind: "package", InTotal: true}}}}
			for i := range r.Workloads {
				for j := range r.Workloads[i].Reps {
					r.Workloads[i].Reps[j].EnergyJ["cpu-estimated"] = r.Workloads[i].Reps[j].EnergyJ["package-0"]
				}
			}
		}, "", "meter methods", []string{"meters[0].method", "model"}, false},
		{"rapl says it estimates", func(r *results.Record) { r.Meters[0].Estimated = true },
			"", "meter methods", []string{"meters[0].estimated is true"}, false},
		{"rapl calls itself external", func(r *results.Record) { r.Meters[0].Method = results.MethodExternal },
			"", "meter methods", []string{"meters[0].method", `"external"`, "counter"}, false},
		{"rapl package calls itself a node", func(r *results.Record) { r.Meters[0].Domains[0].Kind = "node" },
			"", "meter methods", []string{"meters[0].domains[0].kind", `"node"`}, false},
		{"rapl core zone renamed a package", func(r *results.Record) { r.Meters[0].Domains[1].Kind = "package" },
			"", "meter methods", []string{"meters[0].domains[1].kind", `"core-0" is core`}, false},
		{"rapl core zone counted in the total", func(r *results.Record) { r.Meters[0].Domains[1].InTotal = true },
			"", "meter methods", []string{"meters[0].domains[1].in_total is true", "inside its package"}, false},
		{"rapl package left out of the total", func(r *results.Record) { r.Meters[0].Domains[0].InTotal = false },
			"", "meter methods", []string{"meters[0].domains[0].in_total is false", "package-0 does count"}, false},
		{"rapl MMIO twin counted twice", func(r *results.Record) {
			r.Meters[0].Domains = append(r.Meters[0].Domains, results.Domain{Name: "package-0-mmio", Kind: "package", MaxEnergyUJ: 262143328850, InTotal: true})
		}, "", "meter methods", []string{"meters[0].domains[3].in_total is true", "same counter as package-0"}, false},
		{"unknown meter", func(r *results.Record) { r.Meters[0].Name = "wattsup" },
			"", "meter methods", []string{"meters[0].name", `"wattsup"`, "its method cannot be checked"}, false},
		{"a meter twice", func(r *results.Record) {
			m := evalRAPL(false)
			m.Domains = []results.Domain{{Name: "package-1", Kind: "package", InTotal: true}}
			r.Meters = append(r.Meters, m)
		}, "", "meter methods", []string{"meters[1].name", `"rapl" is also meters[0]`}, false},
		{"a domain twice", func(r *results.Record) {
			r.Meters = append(r.Meters, results.Meter{Name: "redfish", Method: results.MethodExternal, Domains: []results.Domain{
				{Name: "package-0", Kind: "node"}}})
		}, "", "meter methods", []string{"meters[1].domains[0].name", `"package-0" is also meters[0].domains[0]`}, false},
		{"fake meter with other domains", func(r *results.Record) {
			m := forgeryFake()
			m.Domains[1].InTotal = false
			r.Meters = []results.Meter{m}
		}, "", "meter methods", []string{"meters[0].domains", "has exactly package-0"}, false},

		// Meter readings: the raw numbers every energy is recomputed from.
		{"a reading with a value missing", func(r *results.Record) {
			evalSyncReadings(r)
			r.Readings[7].EnergyUJ = r.Readings[7].EnergyUJ[:2]
		}, "", "meter readings", []string{"readings[7].energy_uj has 2 values", "3 domains"}, true},
		{"a counter past its range", func(r *results.Record) {
			evalSyncReadings(r)
			r.Readings[9].EnergyUJ[2] = 65712999613 + 1
		}, "", "meter readings", []string{"readings[9].energy_uj[2]", "max_energy_uj"}, true},
		{"a negative counter", func(r *results.Record) {
			evalSyncReadings(r)
			r.Readings[9].EnergyUJ[0] = -5
		}, "", "meter readings", []string{"readings[9].energy_uj[0] is -5"}, true},
		{"a reading of no meter", func(r *results.Record) {
			evalSyncReadings(r)
			r.Readings[3].Meter = "ghost"
		}, "", "meter readings", []string{"readings[3].meter", `"ghost"`}, true},
		{"readings out of order", func(r *results.Record) {
			evalSyncReadings(r)
			r.Readings[5].TS, r.Readings[6].TS = r.Readings[6].TS, r.Readings[5].TS
		}, "", "meter readings", []string{"readings[6].t_s", "before the previous reading"}, true},

		// Work: what each workload did, against the workload's own spec.
		{"FLOPs multiplied by 100", func(r *results.Record) {
			for i := range r.Workloads[0].Reps {
				r.Workloads[0].Reps[i].Work.FLOPs *= 100
			}
		}, w0, "work", []string{"workloads[0].reps[0].work.flops", "4400 items"}, false},
		{"FLOPs off by one part in a million", func(r *results.Record) { r.Workloads[1].Reps[3].Work.FLOPs *= 1 + 1e-6 },
			w1, "work", []string{"workloads[1].reps[3].work.flops"}, false},
		{"iterations and items disagree", func(r *results.Record) { r.Workloads[0].Reps[1].Iters++ },
			w0, "work", []string{"workloads[0].reps[1].iters is 4401 but work.items is 4400"}, false},
		{"no items", func(r *results.Record) { r.Workloads[0].Reps[2].Work.Items = 0 },
			w0, "work", []string{"workloads[0].reps[2].work.items is 0"}, false},
		{"another version", func(r *results.Record) { r.Workloads[0].Version = "0.9" },
			w0, "work", []string{"workloads[0].version", `"0.9"`}, false},
		{"other parameters", func(r *results.Record) { r.Workloads[0].Params = map[string]string{"n": "2048", "precision": "fp32"} },
			w0, "work", []string{"workloads[0].params", `precision="fp32"`}, false},
		{"another content hash", func(r *results.Record) { r.Workloads[1].ContentHash = strings.Repeat("0", 64) },
			w1, "work", []string{"workloads[1].content_hash"}, false},
		{"another work unit", func(r *results.Record) { r.Workloads[1].WorkUnit = "inference" },
			w1, "work", []string{"workloads[1].work_unit"}, false},
		{"a workload joulebench does not have", func(r *results.Record) { r.Workloads[1].Name = "dgemm-turbo" },
			"dgemm-turbo", "work", []string{"workloads[1].name", "its work cannot be checked"}, false},

		// Throughput: no more than the host could do.
		{"items, iterations and FLOPs all multiplied by 100", func(r *results.Record) {
			for i := range r.Workloads[0].Reps {
				rep := &r.Workloads[0].Reps[i]
				rep.Work.FLOPs, rep.Work.Items, rep.Iters = rep.Work.FLOPs*100, rep.Work.Items*100, rep.Iters*100
			}
		}, w0, "throughput ceiling", []string{"workloads[0].reps[0]", "above the 3.809e+13 FLOP/s", "192 CPUs"}, false},
		{"a host smaller than its throughput", func(r *results.Record) {
			r.Host.LogicalCPUs, r.Host.Cores = 4, 2
		}, w0, "throughput ceiling", []string{"workloads[0].reps[0]", "4 CPUs", "6.2 GHz"}, false},
		{"a host without AVX-512", func(r *results.Record) {
			r.Host.LogicalCPUs, r.Host.Cores, r.Host.CPUFlags = 12, 12, []string{"avx2", "fma"}
		}, w0, "throughput ceiling", []string{"16 fp64 FLOPs per cycle (avx2 and fma"}, false},

		// The host the ceiling is computed from: the review's cheat widened
		// the ceiling with logical_cpus 100000 and then multiplied the work.
		{"a host of 100,000 CPUs", func(r *results.Record) {
			r.Host.LogicalCPUs = 100000
			for i := range r.Workloads[0].Reps {
				rep := &r.Workloads[0].Reps[i]
				rep.Work.FLOPs, rep.Work.Items, rep.Iters = rep.Work.FLOPs*100, rep.Work.Items*100, rep.Iters*100
			}
		}, "", "host", []string{"host.logical_cpus is 100000"}, false},
		{"more cores than logical CPUs", func(r *results.Record) { r.Host.Cores = r.Host.LogicalCPUs + 1 }, "", "host", []string{"host.cores"}, false},
		{"a clock of 1 THz", func(r *results.Record) { r.Host.MaxMHz = 1e6 }, "", "host", []string{"host.max_mhz"}, false},

		// Answer checked: every repetition, whole result, this schema.
		{"schema 1 record", func(r *results.Record) { r.SchemaVersion = 1 },
			w0, "answer checked", []string{"schema_version is 1", "64 entries of the last repetition only", "run it again with this joulebench"}, false},
		{"a repetition unchecked", func(r *results.Record) { r.Workloads[1].Reps[4].Check = nil },
			w1, "answer checked", []string{"workloads[1].reps[4].check is missing"}, false},
		{"a repetition's check stripped of all", func(r *results.Record) {
			for i := range r.Workloads[0].Reps {
				r.Workloads[0].Reps[i].Check = nil
			}
		}, w0, "answer checked", []string{"workloads[0].reps[0].check is missing"}, false},
		{"reduced precision", func(r *results.Record) {
			r.Workloads[1].Reps[2].Check = &results.Check{Name: "freivalds", Value: 3e-4, Limit: 1e-5, Verdict: "reduced-precision"}
		}, w1, "answer checked", []string{"workloads[1].reps[2].check", "reduced precision", "TF32 or BF16"}, false},
		{"a wrong answer", func(r *results.Record) {
			r.Workloads[0].Reps[0].Check = &results.Check{Name: "freivalds", Value: 0.9, Limit: 1e-10, Verdict: "wrong"}
		}, w0, "answer checked", []string{"workloads[0].reps[0].check", "is wrong"}, false},

		// Meter faults and gaps.
		{"a meter read failed", func(r *results.Record) {
			r.Workloads[1].Reps[1].MeterFaults = []string{"rapl at 101.300 s: read package-0: EIO"}
		}, w1, "meter faults", []string{"workloads[1].reps[1].meter_faults", "EIO"}, false},
		{"a meter read failed in the warm-up", func(r *results.Record) {
			r.Workloads[1].Warmup.MeterFaults = []string{"rapl at 50.000 s: read package-0: EIO"}
		}, w1, "meter faults", []string{"workloads[1].warmup.meter_faults", "EIO"}, false},
		{"a meter read failed in the idle baseline", func(r *results.Record) {
			r.Idle.MeterFaults = []string{"rapl at 1.000 s: read package-0: EIO"}
		}, "", "idle baseline", []string{"idle.meter_faults", "EIO"}, false},
		{"a gap longer than the meter allows", func(r *results.Record) { r.Meters[0].MaxGapS = 0.05 },
			w0, "reading gaps", []string{"meter rapl went 0.1 s", "max_gap_s of 0.05 s"}, false},

		// Raw readings: the idle baseline and the warm-ups feed the net
		// figures, so they are held to the raw readings too.
		{"idle energy edited", func(r *results.Record) {
			evalSyncReadings(r)
			r.Idle.EnergyJ["package-0"] *= 3
		}, "", "raw readings", []string{"the idle baseline (idle)", "package-0 energy"}, true},
		{"idle without edges", func(r *results.Record) { r.Idle.Edge = "" },
			"", "raw readings", []string{"the idle baseline names no edge readings"}, false},
		{"warm-up energy edited", func(r *results.Record) {
			evalSyncReadings(r)
			r.Workloads[1].Warmup.DurationS += 3
		}, w1, "raw readings", []string{"the warm-up (gemm-fp32-2048/warmup)", "duration"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range honest.Rules {
				if r.Name == tc.rule && !r.Pass {
					t.Fatalf("the honest record fails %s", r)
				}
			}
			rec := evalTestRecord()
			tc.edit(rec)
			var c *Certificate
			if tc.noSync {
				s, raw := DefaultSpec()
				var err error
				if c, err = Evaluate(rec, s, SpecDigest(raw), EvalOptions{Now: evalTestNow}); err != nil {
					t.Fatal(err)
				}
			} else {
				c = evalDefault(t, rec, EvalOptions{})
			}
			r := forgeryRule(t, c, tc.workload, tc.rule)
			if r.Pass || !r.Hard {
				t.Fatalf("%s passed (hard %t): %s", tc.rule, r.Hard, r.Reason)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Reason, w) {
					t.Errorf("reason %q lacks %q", r.Reason, w)
				}
			}
			if c.Valid || c.Refusal(true) == nil {
				t.Error("the forged record is valid")
			}
		})
	}
}

// A record's description of its meters cannot lift a level: the fake
// meter and the estimate are level 0 whatever their method field says, and
// no reserved meter reaches level 3 unless it is external.
func TestEvalLevelIgnoresForgedMethods(t *testing.T) {
	for _, tc := range []struct {
		name  string
		meter results.Meter
		max   int
	}{
		{"fake as counter", func() results.Meter { m := forgeryFake(); m.Method = results.MethodCounter; return m }(), 0},
		{"fake as external", func() results.Meter { m := forgeryFake(); m.Method = results.MethodExternal; return m }(), 0},
		{"estimate as counter", results.Meter{Name: "estimate", Method: results.MethodCounter, Domains: []results.Domain{
			{Name: "package-0", Kind: "package", InTotal: true}, {Name: "dram-0", Kind: "dram", InTotal: true}}}, 0},
		{"rapl as an external node meter", results.Meter{Name: "rapl", Method: results.MethodExternal, Domains: []results.Domain{
			{Name: "package-0", Kind: "node", InTotal: true}}}, 2},
		{"hwmon as an external node meter", results.Meter{Name: "hwmon", Method: results.MethodExternal, Domains: []results.Domain{
			{Name: "package-0", Kind: "node", InTotal: true}}}, 2},
		{"an unknown meter", results.Meter{Name: "wattsup", Method: results.MethodExternal, Domains: []results.Domain{
			{Name: "package-0", Kind: "node", InTotal: true}}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := evalTestRecord()
			rec.Meters = []results.Meter{tc.meter}
			c := evalDefault(t, rec, EvalOptions{AllowEstimated: true})
			if c.Level.Level > tc.max {
				t.Errorf("%s: %s", c.Level, c.Level.Reason)
			}
			if tc.max == 0 && (!c.Estimated && tc.meter.Name != "wattsup") {
				t.Errorf("estimated = false for %s", tc.name)
			}
			if c.Valid || forgeryRule(t, c, "", "meter methods").Pass {
				t.Error("the forged meter passed")
			}
		})
	}
}

// Every meter joulebench has, as harness/meter writes it, passes the
// meter methods rule: RAPL's zone layouts (fixtures in harness/meter),
// the fake meter and the estimate.
func TestEvalMeterTableHonest(t *testing.T) {
	d := func(name, kind, parent string, in bool) results.Domain {
		return results.Domain{Name: name, Kind: kind, Parent: parent, MaxEnergyUJ: 262143328850, InTotal: in}
	}
	for _, tc := range []struct {
		name string
		m    results.Meter
	}{
		{"rapl two sockets", results.Meter{Name: "rapl", Method: "counter", Domains: []results.Domain{
			d("package-0", "package", "", true), d("dram-0", "dram", "package-0", true), d("core-0", "core", "package-0", false),
			d("uncore-0", "uncore", "package-0", false), d("package-1", "package", "", true), d("dram-1", "dram", "package-1", true),
			d("psys", "psys", "", false)}}},
		{"rapl MMIO twin", results.Meter{Name: "rapl", Method: "counter", Domains: []results.Domain{
			d("package-0", "package", "", true), d("package-0-mmio", "package", "", false)}}},
		{"rapl MMIO only", results.Meter{Name: "rapl", Method: "counter", Domains: []results.Domain{
			d("package-0-mmio", "package", "", true)}}},
		{"rapl multi-die, alike names", results.Meter{Name: "rapl", Method: "counter", Domains: []results.Domain{
			d("package-0-die-0", "package", "", true), d("dram-0-die-0", "dram", "package-0-die-0", true),
			d("psys@intel-rapl:11", "psys", "", false), d("psys@intel-rapl:12", "psys", "", false)}}},
		{"fake", forgeryFake()},
		{"estimate", results.Meter{Name: "estimate", Method: "model", Estimated: true, Domains: []results.Domain{
			{Name: "cpu-estimated", Kind: "package", InTotal: true}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := evalMeterRule(&results.Record{Meters: []results.Meter{tc.m}})
			if !r.Pass {
				t.Errorf("%s", r.Reason)
			}
		})
	}
}

// The ceiling is above what real machines can do at their published peak:
// it must never refuse an honest run.
func TestEvalCeilingAbovePublishedPeaks(t *testing.T) {
	for _, tc := range []struct {
		what      string
		host      results.Host
		precision string
		peak      float64
	}{
		// 56 cores × 3.8 GHz × 2 AVX-512 FMA units × 8 lanes × 2.
		{"Xeon Platinum 8480+, fp64", results.Host{LogicalCPUs: 112, Cores: 56, Arch: "amd64", CPUFlags: []string{"avx2", "avx512f", "fma", "amx_tile"}}, "fp64", 56 * 3.8e9 * 32},
		// Fujitsu: 3.38 TFLOPS fp64 at 2.2 GHz (48 cores, 2 × 512-bit SVE).
		{"A64FX, fp64", results.Host{LogicalCPUs: 48, Cores: 48, Arch: "arm64", CPUFlags: []string{"asimd", "sve"}}, "fp64", 3.38e12},
		// NVIDIA: 7.1 TFLOPS fp64 for the 144-core Grace CPU Superchip.
		{"Grace Superchip, fp64", results.Host{LogicalCPUs: 144, Cores: 144, Arch: "arm64", CPUFlags: []string{"asimd", "sve", "sve2"}}, "fp64", 7.1e12},
		// 8 P-cores at 6.2 GHz × 2 × 256-bit FMA, 16 E-cores at 4.5 GHz × 2 × 128-bit.
		{"Core i9-14900KS, fp32", results.Host{LogicalCPUs: 32, Cores: 24, Arch: "amd64", CPUFlags: []string{"avx2", "fma"}, MaxMHz: 6200}, "fp32", 8*6.2e9*32 + 16*4.5e9*16},
		// An overclock past 6.2 GHz is held to its own max_mhz.
		{"overclocked to 9 GHz, fp64", results.Host{LogicalCPUs: 2, Cores: 1, Arch: "amd64", CPUFlags: []string{"avx2", "fma"}, MaxMHz: 9000}, "fp64", 1 * 9e9 * 16},
		// A 2-vCPU VM with AVX-512 at 3.5 GHz.
		{"2-vCPU VM, fp64", results.Host{LogicalCPUs: 2, Arch: "amd64", CPUFlags: []string{"avx2", "avx512f", "fma"}}, "fp64", 2 * 3.5e9 * 32},
		// macOS lists no CPU flags; an M4's SME unit reaches about 2 TFLOPS fp32.
		{"Apple M4 under macOS, fp32", results.Host{LogicalCPUs: 10, Arch: "arm64"}, "fp32", 2e12},
	} {
		c := evalCeiling(tc.host, tc.precision)
		if !(c.FLOPS >= tc.peak) {
			t.Errorf("%s: ceiling %.4g below the published peak %.4g (%s)", tc.what, c.FLOPS, tc.peak, c.Basis)
		}
		if !strings.Contains(c.Basis, fmt.Sprintf("%.4g FLOP/s", c.FLOPS)) {
			t.Errorf("%s: basis %q does not state the ceiling", tc.what, c.Basis)
		}
	}
}

// The certificate states each CPU workload's ceiling, and a certificate
// whose ceiling was edited does not match its recomputation.
func TestEvalCeilingOnCertificate(t *testing.T) {
	c := evalDefault(t, evalTestRecord(), EvalOptions{})
	for _, w := range c.Workloads {
		if w.Ceiling == nil || w.Ceiling.FLOPS <= 0 || !strings.Contains(w.Ceiling.Basis, "192 CPUs") {
			t.Fatalf("%s: ceiling %+v", w.Name, w.Ceiling)
		}
	}
	if c.Workloads[1].Ceiling.FLOPS != 2*c.Workloads[0].Ceiling.FLOPS {
		t.Errorf("fp32 ceiling %g, fp64 %g: want twice", c.Workloads[1].Ceiling.FLOPS, c.Workloads[0].Ceiling.FLOPS)
	}
	a, _ := json.Marshal(c)
	forged := *c
	forged.Workloads = append([]WorkloadResult(nil), c.Workloads...)
	ceil := *forged.Workloads[0].Ceiling
	ceil.FLOPS *= 10
	forged.Workloads[0].Ceiling = &ceil
	b, _ := json.Marshal(&forged)
	if string(a) == string(b) {
		t.Error("an edited ceiling encodes the same")
	}
}

// FuzzEvaluateForged edits the fields a forger would, in any combination,
// and holds the rules to what they promise: when meter methods passes, the
// meters are meters joulebench has, with a method and estimated flag they
// can have; no level above 0 comes from the fake meter or the estimate;
// when work and throughput ceiling pass, no repetition claims other FLOPs
// than its items give or is faster than the ceiling. (It calls the rules
// themselves: Evaluate's bootstrap would make it too slow to fuzz.)
func FuzzEvaluateForged(f *testing.F) {
	f.Add("rapl", "counter", "package", true, false, 1.0, int64(0), 192, 0.0, "avx512f", 2)
	f.Add("fake", "counter", "package", true, false, 1.0, int64(0), 192, 0.0, "", 2)
	f.Add("estimate", "external", "node", true, false, 100.0, int64(4400*99), 4, 9000.0, "avx2,fma", 2)
	f.Add("rapl", "counter", "core", true, true, 1.0, int64(0), 2, 0.0, "sme", 1)
	rec0 := evalTestRecord()
	evalSyncReadings(rec0)
	rec0.Readings = nil // the rules fuzzed here do not read them
	base, err := json.Marshal(rec0)
	if err != nil {
		f.Fatal(err)
	}
	s, _ := DefaultSpec()
	codes := []workCode{evalWorkCode(rec0.Workloads[0].Name), evalWorkCode(rec0.Workloads[1].Name)}
	f.Fuzz(func(t *testing.T, name, method, kind string, inTotal, estimated bool, flopsScale float64, itemsDelta int64, cpus int, maxMHz float64, flags string, schema int) {
		var rec results.Record
		if err := json.Unmarshal(base, &rec); err != nil {
			t.Fatal(err)
		}
		m := &rec.Meters[0]
		m.Name, m.Method, m.Estimated = name, method, estimated
		m.Domains[0].Kind, m.Domains[0].InTotal = kind, inTotal
		rep := &rec.Workloads[0].Reps[0]
		rep.Work.FLOPs *= flopsScale
		rep.Work.Items += itemsDelta
		rep.Iters += int(itemsDelta)
		rec.Host.LogicalCPUs, rec.Host.MaxMHz = cpus, maxMHz
		rec.Host.CPUFlags = strings.Split(flags, ",")
		rec.SchemaVersion = schema

		level := evalLevel(&rec, s, s.Profiles[DefaultProfile], map[string]bool{"cpu": true})
		if (name == "fake" || name == "estimate") && (level.Level != 0 || !evalEstimated(&rec)) {
			t.Fatalf("meter %s (method %q) at %s, estimated %t", name, method, level, evalEstimated(&rec))
		}
		if evalMeterRule(&rec).Pass {
			spec, ok := meterTable[name]
			if !ok || !slicesContains(spec.methods, method) || estimated != spec.estimated {
				t.Fatalf("meter methods passed meter %q method %q estimated %t", name, method, estimated)
			}
		}
		for i, w := range rec.Workloads {
			ceil := evalCeiling(rec.Host, codes[i].spec.Params["precision"])
			work, fast := evalWorkRule(i, w, codes[i]).Pass, evalCeilingRule(i, w, ceil).Pass
			for _, r := range w.Reps {
				if fast && r.Work.FLOPs/r.DurationS > ceil.FLOPS {
					t.Fatalf("throughput ceiling passed %g FLOP/s, ceiling %+v", r.Work.FLOPs/r.DurationS, ceil)
				}
				if work && (r.Work.Items < 1 || int64(r.Iters) != r.Work.Items || !(math.Abs(r.Work.FLOPs-codes[i].spec.FLOPsPerItem*float64(r.Work.Items)) <= workFLOPsTolerance*codes[i].spec.FLOPsPerItem*float64(r.Work.Items))) {
					t.Fatalf("work passed %d items, %d iterations, %g FLOPs", r.Work.Items, r.Iters, r.Work.FLOPs)
				}
			}
		}
	})
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
