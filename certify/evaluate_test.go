package certify

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"

	// The GEMM workloads register themselves: the work rule asks the
	// registry what each workload of a record is.
	_ "github.com/joulebench/joulebench/workloads/gemm"
)

var evalTestNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// evalRAPL is a RAPL-like counter meter: two packages' worth of domains
// cut down to one package, its DRAM, and a core zone that is not in the
// total.
func evalRAPL(dram bool) results.Meter {
	m := results.Meter{Name: "rapl", Method: results.MethodCounter, Source: "/sys/class/powercap/intel-rapl:0",
		Domains: []results.Domain{
			{Name: "package-0", Kind: "package", MaxEnergyUJ: 262143328850, InTotal: true},
			{Name: "core-0", Kind: "core", Parent: "package-0", MaxEnergyUJ: 262143328850},
		}}
	if dram {
		m.Domains = append(m.Domains, results.Domain{Name: "dram-0", Kind: "dram", Parent: "package-0", MaxEnergyUJ: 65712999613, InTotal: true})
	}
	return m
}

// evalTestRecord is a hand-built certify-suite record of a one-socket
// server with RAPL package and DRAM counters: deterministic, with fixed
// times, so that its certificate is a golden file.
func evalTestRecord() *results.Record {
	start := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	rec := &results.Record{
		SchemaVersion: results.SchemaVersion,
		RunID:         "20261127T093000Z-c0ffee",
		Complete:      true,
		StartedAt:     start,
		Tool:          results.Tool{Name: "joulebench", Version: "0.4.0", Commit: "6227334", GoVersion: "go1.26.8"},
		Host: results.Host{Hostname: "bench-1", CPUModel: "AMD EPYC 9654 96-Core Processor", CPUVendor: "AuthenticAMD",
			Sockets: 1, Cores: 96, LogicalCPUs: 192, MemoryBytes: 412316860416, Kernel: "6.8.0", OS: "linux", Arch: "amd64",
			CPUFlags: []string{"avx", "avx2", "avx512f", "fma"}, MaxMHz: 3709},
		Config: results.Config{Suite: "certify", SuiteVersion: "1", Workloads: []string{"gemm-fp64-2048", "gemm-fp32-2048"},
			MeterSelection: "auto", IntervalS: 0.1, IdleS: 30, WarmupS: 10, MinTimeS: 60, Reps: 5, MinReadings: 10, MaxCV: 0.05,
			BLAS: "openblas", Threads: 96, CheckSeed: "5eed5eed5eed5eed",
			Args: []string{"run", "--suite", "certify", "--region", "DE", "--pue", "1.2"}},
		Meters: []results.Meter{evalRAPL(true)},
		Carbon: &results.Carbon{Method: results.CarbonAnnual, Region: "DE", GramsPerKWh: 344, Year: 2024,
			Source: "DE (Germany), 2024: test figure", TableVersion: "2026.1", PUE: 1.2,
			Boundary: "the metered domains package-0, dram-0"},
		Idle: &results.Phase{Edge: "idle", StartS: 0.5, DurationS: 30.02, Readings: 301,
			EnergyJ: map[string]float64{"package-0": 1351.2, "core-0": 300.4, "dram-0": 240.3}},
	}
	t := 31.0
	for wi, w := range []struct {
		name  string
		iters int
		pkgW  float64
		durs  []float64
	}{
		{"gemm-fp64-2048", 4400, 262, []float64{63.1, 62.8, 63.4, 62.9, 63.0}},
		{"gemm-fp32-2048", 8800, 268, []float64{62.2, 62.6, 61.9, 62.4, 62.3}},
	} {
		spec, err := workloads.SpecOf(w.name)
		if err != nil {
			panic(err)
		}
		wl := results.Workload{Name: w.name, Version: spec.Version, ContentHash: spec.Hash, WorkUnit: spec.WorkUnit,
			Params: spec.Params,
			Info:   map[string]string{"provider": "openblas", "version": "0.3.26", "threads": "96", "corename": "Zen"},
			Warmup: &results.Phase{Edge: w.name + "/warmup", StartS: t, DurationS: 10, Readings: 101,
				EnergyJ: map[string]float64{"package-0": 10 * w.pkgW, "core-0": 8 * w.pkgW, "dram-0": 10 * (24 + float64(wi))}},
		}
		t += 10 // warm-up
		jitter := []float64{1.000, 1.012, 0.991, 1.006, 0.996}
		for i, d := range w.durs {
			pkg := w.pkgW * jitter[i] * d
			wl.Reps = append(wl.Reps, results.Rep{
				Index: i, Edge: w.name + "-rep" + string(rune('1'+i)), Attempts: 1, Iters: w.iters, StartS: t, DurationS: d,
				EnergyJ:  map[string]float64{"package-0": pkg, "core-0": 0.8 * pkg, "dram-0": (24 + float64(wi)) * d},
				Work:     results.Work{FLOPs: float64(w.iters) * spec.FLOPsPerItem, Items: int64(w.iters)},
				Readings: int(d*10) + 1,
				Check:    &results.Check{Name: "freivalds", Value: 3e-15 * float64(1+i), Limit: 1e-10, OK: true},
			})
			t += d
		}
		rec.Workloads = append(rec.Workloads, wl)
	}
	rec.FinishedAt = start.Add(time.Duration(t * float64(time.Second)))
	return rec
}

func evalDefault(t *testing.T, rec *results.Record, opts EvalOptions) *Certificate {
	t.Helper()
	evalSyncReadings(rec)
	s, raw := DefaultSpec()
	if opts.Now.IsZero() {
		opts.Now = evalTestNow
	}
	c, err := Evaluate(rec, s, SpecDigest(raw), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEvalValidRecord(t *testing.T) {
	c := evalDefault(t, evalTestRecord(), EvalOptions{})
	if !c.Valid {
		t.Errorf("not valid: %v", c.Refusal(false))
	}
	if err := c.Refusal(false); err != nil {
		t.Errorf("refused: %v", err)
	}
	if c.Profile != "certify" || c.Level.Level != 2 || c.Level.Name != "node" || c.Estimated {
		t.Errorf("profile %s, %s (%s), estimated %t", c.Profile, c.Level, c.Level.Reason, c.Estimated)
	}
	for _, w := range c.Workloads {
		for _, m := range []string{"flops_per_j", "j_per_item", "power_w", "flops_per_s", "gco2e_per_item"} {
			if f, ok := w.Figures[m]; !ok || f.N != 5 || !(f.CILow <= f.Median && f.Median <= f.CIHigh) {
				t.Errorf("%s %s: %+v, %t", w.Name, m, f, ok)
			}
		}
		if w.Rating == "" || w.RatingShown != w.Rating || w.RatingBasis == nil || len(w.RatingBasis.Edges) != 7 {
			t.Errorf("%s: rating %q shown %q basis %+v", w.Name, w.Rating, w.RatingShown, w.RatingBasis)
		}
	}
	if c.Carbon == nil || c.Carbon.Embodied != "embodied not included" {
		t.Errorf("carbon %+v", c.Carbon)
	}
}

func TestEvalDeterministic(t *testing.T) {
	a, _ := json.Marshal(evalDefault(t, evalTestRecord(), EvalOptions{}))
	b, _ := json.Marshal(evalDefault(t, evalTestRecord(), EvalOptions{}))
	if !bytes.Equal(a, b) {
		t.Fatal("two evaluations of one record differ")
	}
	s, raw := DefaultSpec()
	if _, err := Evaluate(evalTestRecord(), s, SpecDigest(raw), EvalOptions{}); err == nil {
		t.Error("Evaluate without Now read a clock instead of failing")
	}
	if _, err := Evaluate(evalTestRecord(), s, SpecDigest(raw), EvalOptions{Now: evalTestNow, Profile: "nope"}); err == nil {
		t.Error("unknown profile accepted")
	}
}

func TestEvalLevels(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(r *results.Record)
		level int
		label string
		in    string // in the reason
	}{
		{"rapl package, dram, idle, certify durations", func(r *results.Record) {}, 2, "level 2 (node)", "package-0"},
		{"rapl package only", func(r *results.Record) {
			r.Meters = []results.Meter{evalRAPL(false)}
		}, 1, "level 1 (component)", "no DRAM domain"},
		{"rapl with dram, short repetitions", func(r *results.Record) {
			for i := range r.Workloads {
				for j := range r.Workloads[i].Reps {
					r.Workloads[i].Reps[j].DurationS = 2.1
				}
			}
		}, 1, "level 1 (component)", "shortest repetition of 2.1 s"},
		{"rapl with dram, no idle", func(r *results.Record) { r.Idle = nil }, 1, "level 1 (component)", "no idle baseline"},
		{"synthetic", func(r *results.Record) {
			r.Meters = []results.Meter{{Name: "fake", Method: results.MethodSynthetic, Domains: []results.Domain{
				{Name: "package-0", Kind: "package", InTotal: true}, {Name: "dram-0", Kind: "dram", InTotal: true}}}}
		}, 0, "level 0 (synthetic: fake meter)", "fake meter"},
		{"model", func(r *results.Record) {
			r.Meters = []results.Meter{{Name: "estimate", Method: results.MethodModel, Estimated: true, Domains: []results.Domain{
				{Name: "package-0", Kind: "package", InTotal: true}}}}
		}, 0, "level 0 (estimated)", "model"},
		{"external node meter", func(r *results.Record) {
			r.Meters = []results.Meter{{Name: "redfish", Method: results.MethodExternal, Domains: []results.Domain{
				{Name: "package-0", Kind: "node", InTotal: true}}}}
		}, 3, "level 3 (system)", "whole node"},
		{"no meter on the CPU", func(r *results.Record) {
			r.Meters = []results.Meter{{Name: "rapl", Method: results.MethodCounter, Domains: []results.Domain{
				{Name: "dram-0", Kind: "dram", InTotal: true}}}}
		}, 0, "level 0 (estimated)", "no measuring meter counts the CPU"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := evalTestRecord()
			tc.edit(rec)
			c := evalDefault(t, rec, EvalOptions{})
			if c.Level.Level != tc.level || c.Level.String() != tc.label || !strings.Contains(c.Level.Reason, tc.in) {
				t.Errorf("%s: %s; want %s with %q", c.Level, c.Level.Reason, tc.label, tc.in)
			}
			if tc.level == 0 {
				if !strings.HasPrefix(c.Workloads[0].RatingShown, tc.label+": ") || c.Workloads[0].Rating == "" {
					t.Errorf("level 0 rating shown as %q", c.Workloads[0].RatingShown)
				}
				err := c.Refusal(false)
				if err == nil || !strings.Contains(err.Error(), "--allow-estimated") {
					t.Errorf("level 0 not refused: %v", err)
				}
				if tc.name != "no meter on the CPU" {
					if err := c.Refusal(true); err != nil {
						t.Errorf("level 0 refused with allowEstimated: %v", err)
					}
				}
			} else if c.Workloads[0].RatingShown != c.Workloads[0].Rating {
				t.Errorf("rating shown %q at %s", c.Workloads[0].RatingShown, c.Level)
			}
		})
	}
}

// A record that fails several hard rules is refused with every one of
// them listed, in one error.
func TestEvalRefusalListsEveryHardRule(t *testing.T) {
	rec := evalTestRecord()
	rec.Complete, rec.IncompleteReason = false, "interrupted (SIGINT)"
	rec.Idle = nil
	rec.Config.IntervalS = 2
	rec.Config.Overrides = []string{"reps"}
	w := &rec.Workloads[0]
	w.Reps = w.Reps[:3]
	w.Reps[1].DurationS = 12
	w.Reps[2].Readings = 4
	w.Reps[0].EnergyJ["package-0"] *= 1.5 // CV of J/item far above 0.05
	w.Reps[2].Check.OK, w.Reps[2].Check.Value, w.Reps[2].Check.Verdict = false, 0.3, "wrong"
	rec.Workloads[1].Error = "blas: out of memory"
	rec.Workloads[1].Info["warning"] = "gonum's pure-Go BLAS did the work"

	c := evalDefault(t, rec, EvalOptions{})
	if c.Valid {
		t.Fatal("valid")
	}
	err := c.Refusal(true)
	var re *RefusalError
	if !errors.As(err, &re) {
		t.Fatalf("Refusal = %v", err)
	}
	want := []string{
		"record complete: the run did not finish: interrupted (SIGINT)",
		"idle baseline: the record has none",
		"sampling interval: 2 s, maximum 1 s",
		"gemm-fp64-2048: answer checked: workloads[0].reps[2].check: repetition 3's answer is wrong: freivalds 0.3",
		"gemm-fp64-2048: repetitions: 3 of the 5 required",
		"gemm-fp64-2048: duration: shortest repetition 12 s, minimum 60 s",
		"gemm-fp64-2048: readings: fewest readings in a repetition 4, minimum 10",
		"gemm-fp64-2048: variation: CV of energy per item",
		// 4 readings over a 63 s repetition: 21 s between readings.
		"gemm-fp64-2048: reading gaps: longest time between two readings in a repetition 21.133 s, maximum 1 s",
		"gemm-fp32-2048: completed: the workload failed: blas: out of memory",
	}
	if len(re.Reasons) != len(want) {
		t.Errorf("%d reasons, want %d:\n%v", len(re.Reasons), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("refusal does not list %q:\n%v", w, err)
		}
	}
	// Soft rules are on the certificate, failed, but do not refuse it.
	soft := 0
	for _, r := range c.Rules {
		if !r.Hard && !r.Pass {
			soft++
			if strings.Contains(err.Error(), r.Reason) {
				t.Errorf("soft rule %s in the refusal", r)
			}
		}
	}
	if soft != 2 {
		t.Errorf("%d soft rules failed, want 2 (suite as published, warnings)", soft)
	}
}

func TestEvalMeterCoverage(t *testing.T) {
	rec := evalTestRecord()
	rec.Meters = []results.Meter{{Name: "rapl", Method: results.MethodCounter, Domains: []results.Domain{
		{Name: "dram-0", Kind: "dram", InTotal: true}, {Name: "package-0", Kind: "package"}}}}
	c := evalDefault(t, rec, EvalOptions{})
	err := c.Refusal(true)
	if err == nil || !strings.Contains(err.Error(), "meter coverage: the CPU does the work but the total counts no CPU package") {
		t.Errorf("refusal: %v", err)
	}
}

// The certificate as JSON: snake_case field names, and a certificate read
// back from its JSON is the same certificate, so verify can compare what
// it recomputes with what was signed.
func TestPredicateJSON(t *testing.T) {
	c := evalDefault(t, evalTestRecord(), EvalOptions{})
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "spec", "profile", "issued_at", "record", "host", "meters", "level", "rules",
		"valid", "estimated", "workloads", "carbon"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("no field %q", k)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var back Certificate
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Error("the certificate read back from JSON differs")
	}
	if d := CompareSummaries(&back, c); len(d) != 0 {
		t.Errorf("diffs after a JSON round trip: %+v", d)
	}
}

func TestEvalCompareSummaries(t *testing.T) {
	a := evalDefault(t, evalTestRecord(), EvalOptions{})
	if d := CompareSummaries(a, evalDefault(t, evalTestRecord(), EvalOptions{})); len(d) != 0 {
		t.Fatalf("diffs between two evaluations: %+v", d)
	}
	rec := evalTestRecord()
	rec.Workloads[1].Reps[3].EnergyJ["package-0"] += 0.001 // one millijoule in one repetition
	b := evalDefault(t, rec, EvalOptions{})
	d := CompareSummaries(a, b)
	if len(d) == 0 {
		t.Fatal("a changed repetition went unnoticed")
	}
	for _, x := range d {
		if x.Workload != "gemm-fp32-2048" {
			t.Errorf("diff in %s: %+v", x.Workload, x)
		}
	}
	found := false
	for _, x := range d {
		found = found || (x.Metric == "j_per_item" && x.Certified != x.Recomputed)
	}
	if !found {
		t.Errorf("no j_per_item diff in %+v", d)
	}
	b.Workloads = b.Workloads[:1]
	b.Level.Level = 1
	d = CompareSummaries(a, b)
	var ms []string
	for _, x := range d {
		ms = append(ms, x.Metric)
	}
	if got := strings.Join(ms, ","); !strings.Contains(got, "level") || !strings.Contains(got, "workload") {
		t.Errorf("diffs %s", got)
	}
}

// evalScaled is the test record with every energy multiplied by f: a rerun
// that drew f times the power.
func evalScaled(f float64) *results.Record {
	rec := evalTestRecord()
	for i := range rec.Workloads {
		for j := range rec.Workloads[i].Reps {
			for d, e := range rec.Workloads[i].Reps[j].EnergyJ {
				rec.Workloads[i].Reps[j].EnergyJ[d] = e * f
			}
		}
	}
	rec.RunID = "20261128T080000Z-rerun"
	return rec
}

func TestEvalReproduce(t *testing.T) {
	s, _ := DefaultSpec()
	orig := evalDefault(t, evalTestRecord(), EvalOptions{})

	r := Reproduce(orig, evalDefault(t, evalScaled(1.04), EvalOptions{}), s)
	if !r.SameHardware || !r.Holds || r.Verdict != VerdictReproduced {
		t.Errorf("4%% more energy: %+v", r)
	}
	if len(r.Checks) != 2*5 {
		t.Errorf("%d checks, want 10", len(r.Checks))
	}
	for _, c := range r.Checks {
		if c.Skipped {
			t.Errorf("skipped: %+v", c)
		}
		if c.Metric == "flops_per_j" && !(c.RelDiff < -0.03 && c.RelDiff > -0.05) {
			t.Errorf("flops_per_j rel diff %g, want about -0.038", c.RelDiff)
		}
	}

	r = Reproduce(orig, evalDefault(t, evalScaled(1.2), EvalOptions{}), s)
	if r.Holds || !strings.HasPrefix(r.Verdict, VerdictNotReproduced+": ") ||
		!strings.Contains(r.Verdict, "gemm-fp64-2048 flops_per_j") || !strings.Contains(r.Verdict, "tolerance ±10%") {
		t.Errorf("20%% more energy: %s", r.Verdict)
	}
	for _, c := range r.Checks {
		if c.Metric == "flops_per_s" && !c.Holds {
			t.Errorf("throughput did not change but failed: %+v", c)
		}
	}

	other := evalScaled(1.0)
	other.Host.CPUModel = "Intel(R) Xeon(R) Platinum 8480+"
	other.Host.LogicalCPUs = 224
	r = Reproduce(orig, evalDefault(t, other, EvalOptions{}), s)
	if r.SameHardware || r.Verdict != VerdictDifferentHardware || len(r.HardwareDiffs) != 2 {
		t.Errorf("different hardware: %+v", r)
	}

	// Another grid is another claim: the carbon figure is not compared.
	grid := evalScaled(1.0)
	grid.Carbon.Region, grid.Carbon.GramsPerKWh = "FR", 33
	r = Reproduce(orig, evalDefault(t, grid, EvalOptions{}), s)
	if r.Verdict != VerdictReproduced {
		t.Errorf("other grid: %s", r.Verdict)
	}
	for _, c := range r.Checks {
		if c.Metric == "gco2e_per_item" && (!c.Skipped || c.Holds) {
			t.Errorf("carbon on another grid: %+v", c)
		}
	}

	// A different workload version is not a rerun of the same workload.
	ver := evalScaled(1.0)
	ver.Workloads[0].Version = "0"
	r = Reproduce(orig, evalDefault(t, ver, EvalOptions{}), s)
	if r.Holds || !strings.Contains(r.Verdict, "a different workload") {
		t.Errorf("other version: %s", r.Verdict)
	}
}

// The certificate of a hand-built record, evaluated at a fixed time, is
// the golden file byte for byte: any change to what a certificate says
// shows up here.
func TestGoldenCertificate(t *testing.T) {
	c := evalDefault(t, evalTestRecord(), EvalOptions{})
	got, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join("testdata", "golden", "certificate.json")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gotFile := file + ".got"
		if err := os.WriteFile(gotFile, got, 0o644); err != nil {
			t.Log(err)
		}
		t.Errorf("certificate differs from %s; see %s (run with -update if the change is intended)", file, gotFile)
	}
}

// A reason never shows a failing value rounded onto its limit.
func TestEvalSecondsShown(t *testing.T) {
	for _, tc := range []struct {
		v, limit float64
		vs, ls   string
	}{
		{62.8, 60, "62.8", "60"}, {30.02, 30, "30.02", "30"}, {0.1, 1, "0.1", "1"},
		{59.9996, 60, "59.9996", "60"}, {1234.5678, 60, "1234.568", "60"},
	} {
		if vs, ls := evalVs(tc.v, tc.limit); vs != tc.vs || ls != tc.ls {
			t.Errorf("evalVs(%g, %g) = %s, %s; want %s, %s", tc.v, tc.limit, vs, ls, tc.vs, tc.ls)
		}
	}
}

// evalSyncReadings writes the raw readings each phase's stated energy,
// duration and reading count imply — the idle baseline, then each
// workload's warm-up and repetitions, evenly spaced, each domain's counter
// climbing linearly from zero — so that a hand-built record passes the
// raw-readings rules whatever a test changed in its phases.
func evalSyncReadings(rec *results.Record) {
	rec.Readings = nil
	measured := map[string]bool{}
	for _, m := range rec.Meters {
		for _, d := range m.Domains {
			measured[d.Name] = true
		}
	}
	phase := func(edge string, startS, durationS float64, energyJ map[string]float64, readings int) {
		// A test that swapped the meters keeps the energies of the
		// domains the new meters have, as a real run would record.
		for dom := range energyJ {
			if !measured[dom] {
				delete(energyJ, dom)
			}
		}
		n := max(readings, 2)
		for k := 0; k < n; k++ {
			f := float64(k) / float64(n-1)
			label := ""
			switch k {
			case 0:
				label = edge + "-start"
			case n - 1:
				label = edge + "-end"
			}
			for _, m := range rec.Meters {
				e := make([]int64, len(m.Domains))
				for d, dom := range m.Domains {
					e[d] = int64(math.Round(f * energyJ[dom.Name] * 1e6))
				}
				rec.Readings = append(rec.Readings, results.Reading{TS: startS + f*durationS, Meter: m.Name, Edge: label, EnergyUJ: e})
			}
		}
	}
	if p := rec.Idle; p != nil {
		phase(p.Edge, p.StartS, p.DurationS, p.EnergyJ, p.Readings)
	}
	for _, w := range rec.Workloads {
		if p := w.Warmup; p != nil {
			phase(p.Edge, p.StartS, p.DurationS, p.EnergyJ, p.Readings)
		}
		for _, r := range w.Reps {
			phase(r.Edge, r.StartS, r.DurationS, r.EnergyJ, r.Readings)
		}
	}
}

// A record whose stated energy was changed after the run fails the
// raw-readings rule, so it can neither be certified nor keep a certificate.
func TestEvalRawReadings(t *testing.T) {
	rec := evalTestRecord()
	evalSyncReadings(rec)
	s, raw := DefaultSpec()
	c, err := Evaluate(rec, s, SpecDigest(raw), EvalOptions{Now: evalTestNow})
	if err != nil || !c.Valid {
		t.Fatalf("synced record: %v, valid %v", err, c.Valid)
	}
	for i := range rec.Workloads[0].Reps {
		rec.Workloads[0].Reps[i].EnergyJ["package-0"] /= 4
	}
	c, err = Evaluate(rec, s, SpecDigest(raw), EvalOptions{Now: evalTestNow})
	if err != nil {
		t.Fatal(err)
	}
	if c.Valid || !strings.Contains(c.Refusal(true).Error(), "raw readings: repetition 1: package-0 energy") {
		t.Errorf("a record edited after the run must be refused: valid=%v %v", c.Valid, c.Refusal(true))
	}
}

// The golden certificate, signed with the fixed test key over a fixed
// subject, is byte-for-byte the golden envelope (Ed25519 is deterministic),
// and its predicate decodes back to the same certificate.
func TestGoldenCertificateEnvelope(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "golden", "certificate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c Certificate
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	pub, priv := keyTest()
	subject := Subject{Name: "record.json", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
	env, err := Sign(subject, PredicateCertificate, &c, priv)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden", "certificate.dsse.json")
	if *update {
		os.WriteFile(golden, env, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(env, want) {
		os.WriteFile(golden+".got", env, 0o644)
		t.Fatalf("signed certificate differs from %s; see %s.got (run with -update if the change is intended)", golden, golden)
	}
	v, err := Verify(want, pub)
	if err != nil {
		t.Fatal(err)
	}
	var back Certificate
	if err := json.Unmarshal(v.Statement.Predicate, &back); err != nil {
		t.Fatal(err)
	}
	if diffs := CompareSummaries(&c, &back); len(diffs) > 0 {
		t.Errorf("predicate changed in signing: %+v", diffs)
	}
	a, _ := json.Marshal(&c)
	b, _ := json.Marshal(&back)
	if !bytes.Equal(a, b) {
		t.Errorf("the signed predicate does not decode to the certificate:\n%s\n%s", a, b)
	}
}
