package carbon

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// 3.6 MJ is 1 kWh: at 400 gCO2e/kWh and a PUE of 1.5 it emits
// 1 × 1.5 × 400 = 600 g. 90 kJ is 0.025 kWh: at 200 g/kWh, PUE 1.1,
// 0.025 × 1.1 × 200 = 5.5 g.
func ExampleGrams() {
	fmt.Printf("%.1f g\n", Grams(3600*metrics.Kilojoule, 400, 1.5))
	fmt.Printf("%.2f g\n", Grams(90*metrics.Kilojoule, 200, 1.1))
	// Output:
	// 600.0 g
	// 5.50 g
}

// SCI = (E·I + M) / R. 0.02 kWh at 400 g/kWh is 8 g; plus 2 g embodied is
// 10 g; over 1000 inferences, 0.01 g per inference.
func ExampleSCI() {
	fmt.Printf("%.3f gCO2e per inference\n", SCI(0.02, 400, 2, 1000))
	// Output:
	// 0.010 gCO2e per inference
}

// straddle builds the record of one repetition from 10:30 to 11:30 that
// drew 2 kWh evenly, with readings every 15 minutes (or only at its edges).
func straddle(everyQuarter bool) *results.Record {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	const kWh = 3_600_000_000_000 // µJ
	rec := &results.Record{
		StartedAt: t0,
		Meters: []results.Meter{{Name: "m", Method: results.MethodCounter, Domains: []results.Domain{
			{Name: "package-0", Kind: "package", InTotal: true},
			{Name: "core-0", Kind: "core", Parent: "package-0"},
		}}},
	}
	add := func(min int, edge string) {
		e := int64(min-30) * 2 * kWh / 60 // 2 kWh an hour from 10:30
		rec.Readings = append(rec.Readings, results.Reading{TS: float64(min * 60), Meter: "m", Edge: edge, EnergyUJ: []int64{e, e / 2}})
	}
	add(30, "w/rep-0-start")
	if everyQuarter {
		add(45, "")
		add(60, "")
		add(75, "")
	}
	add(90, "w/rep-0-end")
	rec.Workloads = []results.Workload{{Name: "w", Reps: []results.Rep{{
		Edge: "w/rep-0", DurationS: 3600, EnergyJ: map[string]float64{"package-0": 7.2e6, "core-0": 3.6e6},
		Work: results.Work{Items: 1000, FLOPs: 2e12},
	}}}}
	return rec
}

// The run straddles a step of the series: 100 g/kWh from 10:00, 300 from
// 11:00. Worked by hand: 1 kWh falls in each hour, so the operational
// carbon is 1 × 100 + 1 × 300 = 400 g; with PUE 1.2, 480 g. The core zone
// is inside the package and adds nothing. Embodied: 1000 kgCO2e over 4
// years (126,230,400 s), one hour of it: 1e6 g × 3600 / 126230400 =
// 28.519 g. Total 508.519 g; per item (1000 items) 0.508519 g; per GFLOP
// (2000 GFLOP) 0.2542595 g.
func TestTimeWeightedStraddle(t *testing.T) {
	series, err := ParseSeries([]byte("timestamp,g_per_kwh\n2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,300\n2026-11-28T12:00:00Z,300\n"), "step.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, every := range []bool{true, false} {
		rec := straddle(every)
		c, err := Account(Options{Series: series, PUE: 1.2, Embodied: &Embodied{KgCO2e: 1000, LifetimeYears: 4, Source: "test"}},
			rec.StartedAt.Add(30*time.Minute), rec.StartedAt.Add(90*time.Minute), metrics.TotalDomains(rec))
		if err != nil {
			t.Fatal(err)
		}
		rec.Carbon = c
		got, err := Rep(rec, c, rec.Workloads[0].Reps[0])
		if err != nil {
			t.Fatal(err)
		}
		// 400 g over 2 kWh: the energy met 200 g/kWh, the mean of the
		// two points by chance; see TestEffectiveIntensityWeighted.
		if eff, err := EffectiveIntensity(rec, c); err != nil || math.Abs(eff-200) > 1e-9 {
			t.Errorf("effective intensity %v (%v), want 200", eff, err)
		}
		for name, pair := range map[string][2]float64{
			"operational": {got.Operational, 480},
			"embodied":    {got.Embodied, 1e6 * 3600 / 126230400},
			"per item":    {got.PerItem, (480 + 1e6*3600/126230400) / 1000},
			"per GFLOP":   {got.PerGFLOP, (480 + 1e6*3600/126230400) / 2000},
		} {
			if math.Abs(pair[0]-pair[1]) > 1e-9*pair[1] {
				t.Errorf("readings every quarter=%v: %s = %.9g, want %.9g", every, name, pair[0], pair[1])
			}
		}
	}
}

func TestAnnualAndDefaults(t *testing.T) {
	rec := straddle(true)
	c, err := Account(Options{Region: "fr"}, time.Time{}, time.Time{}, metrics.TotalDomains(rec))
	if err != nil {
		t.Fatal(err)
	}
	fr, _ := Lookup("FR")
	if c.Method != results.CarbonAnnual || c.Region != "FR" || c.GramsPerKWh != fr.GramsPerKWh || c.PUE != 1 || c.Embodied != nil {
		t.Fatalf("account: %+v", c)
	}
	got, _ := Rep(rec, c, rec.Workloads[0].Reps[0])
	if want := 2 * fr.GramsPerKWh; math.Abs(got.Operational-want) > 1e-9*want || !math.IsNaN(got.Embodied) || got.Total != got.Operational {
		t.Errorf("2 kWh in FR: %+v, want %.6g g and embodied not included", got, want)
	}
	w, err := Account(Options{}, time.Time{}, time.Time{}, nil)
	if err != nil || w.Region != DefaultRegion || !strings.Contains(strings.Join(w.Notes, " "), "world average") {
		t.Errorf("default must be the world average and say so: %+v %v", w, err)
	}
	if _, err := Account(Options{Region: "atlantis"}, time.Time{}, time.Time{}, nil); err == nil {
		t.Error("unknown region must be an error")
	}
}

func TestSeriesMustCoverRun(t *testing.T) {
	series, _ := ParseSeries([]byte("timestamp,g_per_kwh\n2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,300\n"), "short.csv")
	t0 := time.Date(2026, 11, 28, 11, 30, 0, 0, time.UTC)
	_, err := Account(Options{Series: series}, t0, t0.Add(time.Hour), nil)
	if err == nil || !strings.Contains(err.Error(), "short.csv covers") {
		t.Errorf("a series that ends before the run must be refused, got %v", err)
	}
}

// The same 2 kWh from 10:30 to 11:30 over points of 100 (10:00), 300
// (11:00) and 900 (12:00): the energy met 100 and 300 only, 200 g/kWh,
// while the plain mean of the three points would say 433.
func TestEffectiveIntensityWeighted(t *testing.T) {
	series, err := ParseSeries([]byte("timestamp,g_per_kwh\n2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,300\n2026-11-28T12:00:00Z,900\n"), "three.csv")
	if err != nil {
		t.Fatal(err)
	}
	rec := straddle(true)
	c, err := Account(Options{Series: series}, rec.StartedAt, rec.StartedAt.Add(3*time.Hour), metrics.TotalDomains(rec))
	if err != nil {
		t.Fatal(err)
	}
	if eff, err := EffectiveIntensity(rec, c); err != nil || math.Abs(eff-200) > 1e-9 {
		t.Errorf("effective intensity %v (%v), want 200", eff, err)
	}
}
