package report

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

func record(method string, estimated bool) *results.Record {
	return &results.Record{
		RunID: "r", Complete: true,
		Config: results.Config{Suite: "quick", SuiteVersion: "1", IdleS: 1},
		Meters: []results.Meter{{Name: "m", Method: method, Estimated: estimated, Domains: []results.Domain{
			{Name: "package-0", Kind: "package", InTotal: true},
			{Name: "core-0", Kind: "core", Parent: "package-0"},
		}}},
		Idle: &results.Phase{DurationS: 1, EnergyJ: map[string]float64{"package-0": 10}},
		Workloads: []results.Workload{{Name: "gemm-fp64-64", Info: map[string]string{"provider": "gonum", "threads": "2", "warning": "pure-Go gonum BLAS: not the hardware"},
			Reps: []results.Rep{{DurationS: 2, Iters: 4, EnergyJ: map[string]float64{"package-0": 40, "core-0": 30}, Work: results.Work{FLOPs: 80e9, Items: 4}}}}},
	}
}

func table(t *testing.T, rec *results.Record, wide bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTableOptions(&b, rec, TableOptions{Wide: wide}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// headerLine is the table's header: the line above its rule.
func headerLine(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "──") && i > 0 {
			return lines[i-1]
		}
	}
	t.Fatalf("no table in:\n%s", out)
	return ""
}

func TestTableMeasured(t *testing.T) {
	rec := record(results.MethodCounter, false)
	out := table(t, rec, false)
	// 80 GFLOP over 2 s is 40 GFLOP/s; 40 J is 20 W, 10 J a call, 2 GFLOPS/W
	// gross. The core zone is not added. One repetition: no interval.
	for _, want := range []string{" 40.0 ", " 20.0 ", " 10.0 ", " 2.00 ", "core-0 (not in total)", "WARNING: gemm-fp64-64: pure-Go gonum BLAS",
		"BLAS: gonum ×2 (every workload)", "--wide adds: net J/call, net GFLOPS/W", "from one repetition: it has no confidence interval"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(strings.ToLower(out), "estimate") {
		t.Errorf("a measured run must not say estimate:\n%s", out)
	}
	// Net of the 10 W idle, 20 J: 4 GFLOPS/W, in the wide table only.
	if h := headerLine(t, out); strings.Contains(h, "net") {
		t.Errorf("the default table has a net column: %s", h)
	}
	wide := table(t, rec, true)
	if !strings.Contains(wide, " 4.00 ") || !strings.Contains(headerLine(t, wide), "net GFLOPS/W") || !strings.Contains(wide, " gonum ×2") {
		t.Errorf("the wide table lacks net GFLOPS/W 4.00 or the BLAS column:\n%s", wide)
	}
}

func TestTableEstimated(t *testing.T) {
	rec := record(results.MethodModel, true)
	rec.Complete, rec.IncompleteReason = false, "interrupted: context canceled"
	out := table(t, rec, false)
	for _, want := range []string{"ESTIMATED (model)", "ESTIMATE:", "energy figures (W, J/call, GFLOPS/W) (est.): ESTIMATED, not measured; gross", "idle baseline: 10.00 W over 1.0 s (estimated)", "INCOMPLETE: interrupted"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// Item 11: with no idle baseline the idle power is taken as zero, so a
// "net" figure is the gross one under another name. No table, wide or
// not, and no statistics may show one; they say why instead.
func TestNoBaselineNoNet(t *testing.T) {
	rec := record(results.MethodCounter, false)
	rec.Idle, rec.Config.IdleS = nil, 0
	const why = "net: no idle baseline was taken (--idle 0), so only gross figures are shown"
	for _, wide := range []bool{false, true} {
		out := table(t, rec, wide)
		if h := headerLine(t, out); strings.Contains(h, "net") {
			t.Errorf("wide=%v: a net column without an idle baseline: %s", wide, h)
		}
		if !strings.Contains(out, why) || strings.Contains(out, "--wide adds: net") {
			t.Errorf("wide=%v: the table must say there is no baseline, and offer no net figures:\n%s", wide, out)
		}
	}
	var b bytes.Buffer
	if err := WriteStats(&b, rec); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "net J/item") || strings.Contains(s, "net GFLOPS/W") || !strings.Contains(s, why) {
		t.Errorf("statistics without a baseline:\n%s", s)
	}
	// A record that asked for a baseline but has none says so differently.
	rec.Config.IdleS = 5
	if out := table(t, rec, false); !strings.Contains(out, "net: the record has no idle baseline, so only gross figures are shown") {
		t.Errorf("an idle baseline asked for but absent:\n%s", out)
	}
}

// fiveReps is a run of five repetitions of one workload with the given
// package energies (joules) over 2 s each, 10 calls of 8 GFLOP.
func fiveReps(energy ...float64) *results.Record {
	rec := record(results.MethodCounter, false)
	rec.Config.Reps = 5
	var reps []results.Rep
	for i, e := range energy {
		reps = append(reps, results.Rep{Index: i, DurationS: 2, Iters: 10, Readings: 20,
			EnergyJ: map[string]float64{"package-0": e}, Work: results.Work{FLOPs: 80e9, Items: 10}})
	}
	rec.Workloads[0].Reps = reps
	return rec
}

// Item 11: when a figure is undefined in some repetitions, the reps column
// says how many the figures used and a note says which figure and why.
func TestRepsUsed(t *testing.T) {
	rec := fiveReps(40, 41, 0, 40.5, 39.5) // the third repetition's counter did not move
	out := table(t, rec, false)
	for _, want := range []string{" 5 (4 with energy) ", "reps: gemm-fp64-64 GFLOPS/W is from 4 of 5 repetitions; undefined in repetition 3: no energy counted"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Every repetition gave every figure: the column is the plain count.
	if out := table(t, fiveReps(40, 41, 42, 40.5, 39.5), false); strings.Contains(out, "used") {
		t.Errorf("no figure was undefined, yet:\n%s", out)
	}
}

func TestCICell(t *testing.T) {
	st := func(n int, med, lo, hi float64) metrics.Stats {
		return metrics.Stats{N: n, Median: med, CILow: lo, CIHigh: hi}
	}
	nan := math.NaN()
	for _, c := range []struct {
		st    metrics.Stats
		scale float64
		want  string
	}{
		{st(5, 10, 9, 11), 1, "10.0 ±1.0"},
		// The arms 0.86 and 0.94 both print 0.9: symmetric to the precision shown.
		{st(5, 15.47, 14.61, 16.41), 1, "15.5 ±0.9"},
		// Median 10, CI [9.9, 12]: "10 ±1.05" would hide that 12 is
		// plausible and claim 8.95 is; the interval is shown as it is.
		{st(5, 10, 9.9, 12), 1, "10.00 [9.90, 12.00]"},
		{st(5, 80e9, 75.9e9, 85.1e9), 1e-9, "80 [76, 85]"},
		{st(5, 80e9, 76.5e9, 83.5e9), 1e-9, "80.0 ±3.5"},
		// PDG rounding: arm 0.139 → two digits (0.14), 0.4 → one digit.
		{st(5, 0.5, 0.361, 0.639), 1, "0.50 ±0.14"},
		{st(5, 3.2, 2.8, 3.6), 1, "3.2 ±0.4"},
		// An interval of zero width prints as one, to three digits.
		{st(3, 55, 55, 55), 1, "55.0 ±0.0"},
		// Microjoule rounding is not a figure: four significant digits at most.
		{st(3, 5.1750000, 5.1749987, 5.1750006), 1, "5.175 ±0.000"},
		{st(1, 2.5, 2.5, 2.5), 1, "2.50"},
		{st(0, nan, nan, nan), 1, "-"},
		{st(4, -0.00001, -0.00004, 0.00002), 1, "-0.000010 ±0.000030"},
	} {
		if got := ciCell(c.st, c.scale, 0); got != c.want {
			t.Errorf("ciCell(%+v, %g) = %q, want %q", c.st, c.scale, got, c.want)
		}
	}
}

// Item 11: an asymmetric interval is printed [low, high], and the header
// does not claim ± for cells that are not.
func TestTableAsymmetricCI(t *testing.T) {
	rec := fiveReps(40, 40.2, 39.9, 46, 47) // skewed: the CI reaches far above the median
	out := table(t, rec, false)
	h := headerLine(t, out)
	if strings.Contains(h, "±") || strings.Contains(h, "CI") {
		t.Errorf("the header claims an interval form: %s", h)
	}
	st := metrics.Summarize(rec)[0].Stats[metrics.FigJPerItem]
	if up, down := st.CIHigh-st.Median, st.Median-st.CILow; up < 2*down {
		t.Fatalf("fixture not skewed: median %g, CI [%g, %g]", st.Median, st.CILow, st.CIHigh)
	}
	want := ciCell(st, 1, 0)
	if !strings.Contains(want, "[") || !strings.Contains(out, want) {
		t.Errorf("J/call cell %q (median %g, CI [%g, %g]) not shown as an interval:\n%s", want, st.Median, st.CILow, st.CIHigh, out)
	}
	if !strings.Contains(out, "cells: median and 95% CI (±half-width, or [low, high] when asymmetric)") {
		t.Errorf("no legend for the cells:\n%s", out)
	}
}

// Item 11: a fake meter's figures are synthetic, not estimated, wherever
// they go.
func TestSyntheticLabels(t *testing.T) {
	rec := record(results.MethodSynthetic, false)
	out := table(t, rec, false)
	if !strings.Contains(out, "energy figures (W, J/call, GFLOPS/W) (synthetic)") || !strings.Contains(out, "idle baseline: 10.00 W over 1.0 s (synthetic)") ||
		strings.Contains(out, "est.") || strings.Contains(strings.ToLower(out), "estimate") {
		t.Errorf("a fake meter's table:\n%s", out)
	}
	var b bytes.Buffer
	if err := WriteBenchfmt(&b, rec); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); !strings.Contains(s, " synthetic-J/op ") || !strings.Contains(s, " flops/synthetic-J") || strings.Contains(s, "est-") {
		t.Errorf("benchfmt of a fake meter's record:\n%s", s)
	}
	est := record(results.MethodModel, true)
	b.Reset()
	if err := WriteBenchfmt(&b, est); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); !strings.Contains(s, " est-J/op ") || !strings.Contains(s, " flops/est-J") {
		t.Errorf("benchfmt of an estimate:\n%s", s)
	}
	for _, tc := range []struct {
		name string
		rec  *results.Record
	}{{"fake-carbon", mustRead(t, "testdata/fake-carbon.json")}, {"fake and estimate", fakeAndEstimate(t)}} {
		b.Reset()
		if err := WriteBenchfmt(&b, tc.rec); err != nil {
			t.Fatal(err)
		}
		if s := b.String(); !strings.Contains(s, " synthetic-gCO2e/op") || strings.Contains(s, "est-") {
			t.Errorf("%s: benchfmt:\n%s", tc.name, s)
		}
		rows, err := CodeCarbonRows(tc.rec)
		if err != nil {
			t.Fatal(err)
		}
		mode := slices.Index(codeCarbonColumns, "tracking_mode")
		for _, r := range rows {
			if !strings.HasPrefix(r[mode], "synthetic") {
				t.Errorf("%s: emissions.csv tracking_mode %q, want synthetic", tc.name, r[mode])
			}
		}
	}
}

func mustRead(t *testing.T, path string) *results.Record {
	t.Helper()
	rec, err := results.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// fakeAndEstimate is a record whose total adds a fake meter's DRAM to a
// modelled package: made up and estimated at once. Made up wins.
func fakeAndEstimate(t *testing.T) *results.Record {
	rec := record(results.MethodModel, true)
	rec.Meters = append(rec.Meters, results.Meter{Name: "fake", Method: results.MethodSynthetic, Domains: []results.Domain{{Name: "dram-0", Kind: "dram", InTotal: true}}})
	rec.Workloads[0].Reps[0].EnergyJ["dram-0"] = 5
	c, err := carbon.Account(carbon.Options{Region: "DE"}, time.Unix(0, 0), time.Unix(60, 0), metrics.TotalDomains(rec))
	if err != nil {
		t.Fatal(err)
	}
	rec.Carbon = c
	return rec
}

// worstCase is a record built to be wide: four 24-character workload
// names, GPU-sized throughput and power with skewed intervals, a
// repetition whose counters did not move, a failed workload, four BLAS,
// carbon with embodied, and an idle baseline.
func worstCase(t *testing.T) *results.Record {
	rec := &results.Record{RunID: "20261128T120000Z-w1de00", Complete: true,
		Host:   results.Host{CPUModel: "AMD EPYC 9654 96-Core Processor", LogicalCPUs: 384},
		Config: results.Config{Suite: "standard", SuiteVersion: "1", Reps: 5, MinTimeS: 2, MinReadings: 10, MaxCV: 0.05, IdleS: 5},
		Meters: []results.Meter{
			{Name: "rapl", Method: results.MethodCounter, Domains: []results.Domain{{Name: "package-0", Kind: "package", InTotal: true}, {Name: "dram-0", Kind: "dram", InTotal: true}}},
			{Name: "nvml", Method: results.MethodSampledPower, Domains: []results.Domain{{Name: "gpu-0", Kind: "gpu", InTotal: true}}},
		},
		Idle: &results.Phase{DurationS: 5, EnergyJ: map[string]float64{"package-0": 900, "dram-0": 100, "gpu-0": 400}},
	}
	names := []string{"gemm-fp64-16384-gpu-tc-8", "gemm-fp32-16384-batch-16", "gemm-bf16-16384-tensor-c", "gemm-fp64-8192-gonum-ref"}
	blas := []string{"cublas", "openblas", "blis", "gonum"}
	for k, name := range names {
		w := results.Workload{Name: name, Info: map[string]string{"provider": blas[k], "corename": "Zen4-very-long-kernel-name", "threads": "384"}}
		for i := range 5 {
			skew := []float64{1, 1.002, 0.999, 1.13, 1.17}[i]
			e := 2400.0 * skew
			if k == 1 && i == 2 {
				e = 0
			}
			w.Reps = append(w.Reps, results.Rep{Index: i, DurationS: 2.5 * skew, Iters: 3000, Readings: 25,
				EnergyJ: map[string]float64{"package-0": e * 0.3, "dram-0": e * 0.05, "gpu-0": e * 0.65},
				Work:    results.Work{FLOPs: 3000 * 2 * 16384.0 * 16384 * 16384 / 60, Items: 3000}})
		}
		if k == 3 {
			w.Error = "answer check failed: freivalds 0.42 (limit 1e-10): the answer is wrong"
		}
		rec.Workloads = append(rec.Workloads, w)
	}
	c, err := carbon.Account(carbon.Options{Region: "US-EGRID-CAMX", Embodied: &carbon.Embodied{KgCO2e: 3700, LifetimeYears: 4, Source: "test"}, Share: 1},
		time.Unix(0, 0), time.Unix(60, 0), metrics.TotalDomains(rec))
	if err != nil {
		t.Fatal(err)
	}
	rec.Carbon = c
	return rec
}

// Item 12: the default table fits a 120-column terminal, every line of
// it, for realistic records and a record built to be wide; the wide
// table shows every column.
func TestTableFits120(t *testing.T) {
	recs := map[string]*results.Record{"worst case": worstCase(t), "measured": record(results.MethodCounter, false)}
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range paths {
		recs[filepath.Base(p)] = mustRead(t, p)
	}
	for name, rec := range recs {
		out := table(t, rec, false)
		for i, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			if w := DisplayWidth(l); w > TableWidth {
				t.Errorf("%s: line %d is %d columns wide, over %d:\n%s", name, i+1, w, TableWidth, l)
			}
		}
	}
	// The worst case cannot show every column in 120: it names those it
	// leaves out, and --wide shows them all.
	rec := worstCase(t)
	out := table(t, rec, false)
	if !strings.Contains(out, "(left out to fit 120 columns)") {
		t.Errorf("the worst case does not say what it left out:\n%s", out)
	}
	wide := table(t, rec, true)
	h := headerLine(t, wide)
	for _, col := range []string{"workload", "reps", "s/rep", "GFLOP/s", " W ", " mJ/call", "net mJ/call", " GFLOPS/W", "net GFLOPS/W", "gCO2e/call", "valid", "BLAS"} {
		if !strings.Contains(h+" ", col) {
			t.Errorf("the wide header lacks %q: %s", col, h)
		}
	}
	if maxWidth(wide) <= TableWidth {
		t.Errorf("the worst case's wide table fits %d columns: the test does not test the narrowing", TableWidth)
	}
	for _, b := range []string{"cublas Zen4-very-long-kernel-name ×384", "BLAS of gemm-fp32-16384-batch-16: openblas"} {
		if !strings.Contains(wide+out, b) {
			t.Errorf("BLAS %q not shown (per row in --wide, under the table otherwise)", b)
		}
	}
}

func TestDisplayWidth(t *testing.T) {
	for s, want := range map[string]int{"±≤µ─": 4, "5 (4 used)": 10, "10.0 ±1.0": 9, "×384": 4} {
		if got := DisplayWidth(s); got != want {
			t.Errorf("DisplayWidth(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestWrap(t *testing.T) {
	long := "WARNING: " + strings.Repeat("word ", 40) + "end"
	lines := wrap(long, 50)
	if len(lines) < 4 || !strings.HasPrefix(lines[1], "  word") || strings.Join(strings.Fields(strings.Join(lines, " ")), " ") != strings.Join(strings.Fields(long), " ") {
		t.Errorf("wrap:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if DisplayWidth(l) > 50 {
			t.Errorf("line over 50: %q", l)
		}
	}
	if got := wrap("  note: short", 50); len(got) != 1 || got[0] != "  note: short" {
		t.Errorf("a short line is kept as is: %q", got)
	}
	// A word longer than a line is cut, never left to overflow, and
	// nothing is lost.
	in := "read /tmp/" + strings.Repeat("µx", 20) + "/energy_uj: permission denied"
	got := Wrap(in, 12)
	for _, l := range got {
		if DisplayWidth(l) > 12 {
			t.Errorf("Wrap line over 12: %q", l)
		}
	}
	if strings.ReplaceAll(strings.Join(got, ""), " ", "") != strings.ReplaceAll(in, " ", "") {
		t.Errorf("Wrap lost text: %q", got)
	}
}

func ExampleBoundaryWarnings() {
	base := Boundary{Kinds: []string{"package", "dram"}, Methods: []string{"counter"}, Class: "measured"}
	other := Boundary{Kinds: []string{"package"}, Methods: []string{"counter"}, Class: "measured"}
	for _, w := range BoundaryWarnings("BASE", base, "OTHER", other) {
		fmt.Println(w)
	}
	// Output:
	// BASE counts package+dram, OTHER counts package only: OTHER's energy leaves out DRAM, so the comparison favours OTHER
}

// Item 11: what each record's total counts, for compare.
func TestBoundaryWarnings(t *testing.T) {
	rapl := mustRead(t, "testdata/rapl-asym.json") // packages and DRAM, counters
	est := mustRead(t, "testdata/estimate-noidle.json")
	fake := mustRead(t, "testdata/fake-carbon.json")
	pkgOnly := mustRead(t, "testdata/rapl-asym.json")
	for i := range pkgOnly.Meters[0].Domains {
		if d := &pkgOnly.Meters[0].Domains[i]; d.Kind == "dram" {
			d.InTotal = false
		}
	}
	node := record(results.MethodExternal, false)
	node.Meters[0].Domains = []results.Domain{{Name: "wall", Kind: "node", InTotal: true}}
	for _, c := range []struct {
		name        string
		base, other *results.Record
		want        []string
	}{
		{"same", rapl, rapl, nil},
		{"other leaves out DRAM", rapl, pkgOnly, []string{"BASE counts package+dram, OTHER counts package only: OTHER's energy leaves out DRAM, so the comparison favours OTHER"}},
		{"base leaves out DRAM", pkgOnly, rapl, []string{"BASE counts package only, OTHER counts package+dram: BASE's energy leaves out DRAM, so the comparison favours BASE"}},
		{"estimate", rapl, est, []string{
			"BASE counts package+dram, OTHER counts package only: OTHER's energy leaves out DRAM, so the comparison favours OTHER",
			"BASE is measured (counter), OTHER is estimated (model): an estimate is compared with a measurement, so the difference may be the model's error rather than the work's"}},
		{"fake", fake, rapl, []string{"BASE is synthetic (fake meter), OTHER is measured (counter): a fake meter's figures are made up, so the comparison says nothing about either"}},
		// A wall meter counts everything; two measuring methods are one class.
		{"node", node, rapl, []string{"BASE counts node only, OTHER counts package+dram: OTHER's energy leaves out the rest of the node, so the comparison favours OTHER"}},
	} {
		got := BoundaryWarnings("BASE", RecordBoundary(c.base), "OTHER", RecordBoundary(c.other))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	if got := RecordBoundary(rapl).String(); got != "package+dram, measured (counter)" {
		t.Errorf("boundary of a RAPL record: %q", got)
	}
}
