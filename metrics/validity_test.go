package metrics

import (
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

func TestValidate(t *testing.T) {
	cfg := results.Config{Reps: 3, MinTimeS: 2, MinReadings: 10, MaxCV: 0.05}
	rep := func(d float64, n int) results.Rep {
		return results.Rep{DurationS: d, Readings: n, EnergyJ: map[string]float64{"package-0": 10 * d}}
	}
	meters := []results.Meter{{Name: "m", Method: results.MethodCounter, Domains: []results.Domain{{Name: "package-0", Kind: "package", InTotal: true}}}}
	good := results.Workload{Reps: []results.Rep{rep(2.1, 21), rep(2.0, 20), rep(2.2, 22)}, Check: &results.Check{Name: "residual", OK: true}}
	if v := Validate(&results.Record{Config: cfg, Meters: meters}, good, Stats{N: 3, CV: 0.01}); !v.Valid {
		t.Errorf("want valid, got %v", v.Failed())
	}
	bad := results.Workload{Reps: []results.Rep{rep(1.5, 21), rep(2.0, 4)}, Check: &results.Check{Name: "residual", Value: 1, Limit: 1e-9}}
	v := Validate(&results.Record{Config: cfg, Meters: meters}, bad, Stats{N: 2, CV: 0.2})
	if v.Valid {
		t.Fatal("want invalid")
	}
	failed := strings.Join(v.Failed(), "\n")
	for _, want := range []string{"answer checked", "repetitions: 2 of the 3", "duration: shortest repetition 1.5 s", "readings: fewest readings in a repetition 4", "variation: CV of energy per item 0.2"} {
		if !strings.Contains(failed, want) {
			t.Errorf("reasons lack %q:\n%s", want, failed)
		}
	}
}

// A repetition whose total counted nothing has no J/call; it must not
// vanish from the figures and leave the workload valid.
func TestValidateNoEnergy(t *testing.T) {
	cfg := results.Config{Reps: 2}
	meters := []results.Meter{{Name: "m", Method: results.MethodCounter, Domains: []results.Domain{{Name: "package-0", Kind: "package", InTotal: true}}}}
	w := results.Workload{Reps: []results.Rep{{Index: 0, EnergyJ: map[string]float64{"package-0": 5}}, {Index: 1, EnergyJ: map[string]float64{"package-0": 0}}}}
	v := Validate(&results.Record{Config: cfg, Meters: meters}, w, Stats{N: 1})
	if v.Valid || !strings.Contains(strings.Join(v.Failed(), "\n"), "energy: repetition 2 counted no energy") {
		t.Errorf("want repetition 2 named, got %v", v.Failed())
	}
}
