package certify

import (
	"strings"
	"testing"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// redfishMeter is the meter as harness/meter's Redfish writes it.
func redfishMeter() results.Meter {
	return results.Meter{Name: "redfish", Method: results.MethodExternal,
		Source:  "Redfish https://bmc.example/redfish/v1/Chassis/1/EnvironmentMetrics EnvironmentMetrics EnergyJoules (sensor /redfish/v1/Chassis/1/Sensors/EnergyJ)",
		Domains: []results.Domain{{Name: "node-0", Kind: "node", InTotal: true}},
		Notes:   []string{"the BMC updates this reading every 15s (SensingInterval)"},
		MinRepS: 45, MinPhaseS: 45}
}

// redfishRecord is the certify test record metered by a BMC alone: every
// phase's energy is the whole node's (package and DRAM plus the rest).
func redfishRecord() *results.Record {
	rec := evalTestRecord()
	rec.Meters = []results.Meter{redfishMeter()}
	rec.Carbon.Boundary = "the metered domains node-0"
	node := func(e map[string]float64) map[string]float64 {
		return map[string]float64{"node-0": 1.6*e["package-0"] + e["dram-0"]}
	}
	rec.Idle.EnergyJ = node(rec.Idle.EnergyJ)
	for i := range rec.Workloads {
		w := &rec.Workloads[i]
		w.Warmup.EnergyJ = node(w.Warmup.EnergyJ)
		for j := range w.Reps {
			w.Reps[j].EnergyJ = node(w.Reps[j].EnergyJ)
		}
	}
	return rec
}

// A record whose total is a Redfish node domain covering every
// repetition, at the certify profile's durations, earns level 3.
func TestRedfishLevel3(t *testing.T) {
	c := evalDefault(t, redfishRecord(), EvalOptions{})
	if c.Level.Level != 3 || !strings.Contains(c.Level.Reason, "node-0") {
		t.Errorf("%s: %s", c.Level, c.Level.Reason)
	}
	if !c.Valid {
		for _, r := range c.Rules {
			if !r.Pass {
				t.Errorf("rule %s failed: %s", r.Name, r.Reason)
			}
		}
		t.Error("the record is not valid")
	}
	if r := forgeryRule(t, c, "", "meter methods"); !r.Pass {
		t.Errorf("meter methods: %s", r.Reason)
	}
}

// What must not reach level 3 with a Redfish meter, each beside the
// honest record it mirrors.
func TestRedfishNotLevel3(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(r *results.Record)
		max     int
		invalid bool
		rule    string // a failed rule, "" for none
	}{
		{"repetitions shorter than the certify profile's", func(r *results.Record) {
			for i := range r.Workloads {
				for j := range r.Workloads[i].Reps {
					r.Workloads[i].Reps[j].DurationS = 50
				}
			}
		}, 1, true, ""},
		{"repetitions shorter than the BMC's min_rep_s", func(r *results.Record) {
			r.Meters[0].MinRepS = 90
		}, 1, false, ""},
		{"a redfish domain claimed as a CPU package", func(r *results.Record) {
			r.Meters[0].Domains[0].Kind = "package"
		}, 1, true, "meter methods"},
		{"redfish recorded as a counter", func(r *results.Record) {
			r.Meters[0].Method = results.MethodCounter
		}, 3, true, "meter methods"},
		{"redfish domain left out of the total", func(r *results.Record) {
			r.Meters[0].Domains[0].InTotal = false
		}, 0, true, "meter methods"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := redfishRecord()
			tc.edit(rec)
			c := evalDefault(t, rec, EvalOptions{AllowEstimated: true})
			if c.Level.Level > tc.max {
				t.Errorf("%s: %s", c.Level, c.Level.Reason)
			}
			if tc.invalid && c.Valid {
				t.Error("valid")
			}
			if tc.rule != "" && forgeryRule(t, c, "", tc.rule).Pass {
				t.Errorf("rule %s passed", tc.rule)
			}
		})
	}
}

// The BMC's min_rep_s: a repetition shorter than a few of its update
// intervals cannot earn level 3, with that reason.
func TestRedfishMinRepNotLevel3(t *testing.T) {
	rec := redfishRecord()
	rec.Meters[0].MinRepS = 90
	c := evalDefault(t, rec, EvalOptions{})
	if c.Level.Level == 3 || !strings.Contains(c.Level.Reason, "meter redfish needs to follow the load") {
		t.Errorf("%s: %s", c.Level, c.Level.Reason)
	}
	// And the certificate is not valid: the workload fails a hard rule.
	failed := false
	for _, r := range c.Rules {
		if r.Name == "meter update interval" && r.Hard && !r.Pass {
			failed = true
		}
	}
	if !failed || c.Valid {
		t.Errorf("repetitions shorter than the BMC's min_rep_s: valid %v, rule failed %v", c.Valid, failed)
	}
}

// metrics' validity rules (what report shows) make a repetition shorter
// than the BMC's min_rep_s invalid, with that reason; the same record
// with long enough repetitions passes the rule.
func TestRedfishMinRepValidity(t *testing.T) {
	for _, tc := range []struct {
		minRep float64
		valid  bool
	}{{45, true}, {90, false}} {
		rec := redfishRecord()
		rec.Meters[0].MinRepS = tc.minRep
		evalSyncReadings(rec)
		found := false
		for _, s := range metrics.Summarize(rec) {
			for _, r := range s.Validity.Rules {
				if r.Name == "meter update interval" {
					found = true
					if r.Pass != tc.valid || (!tc.valid && !strings.Contains(r.Reason, "meter redfish needs")) {
						t.Errorf("min_rep_s %g: %+v", tc.minRep, r)
					}
				}
			}
		}
		if !found {
			t.Errorf("min_rep_s %g: no meter update interval rule", tc.minRep)
		}
	}
}

// A redfish meter whose min_rep_s was removed or lowered (to escape the
// update-interval rule) fails the meter rule: no certificate is issued.
func TestRedfishMinRepCannotBeDropped(t *testing.T) {
	for _, v := range []float64{0, 1} {
		rec := redfishRecord()
		rec.Meters[0].MinRepS = v
		if r := evalMeterRule(rec); r.Pass || !strings.Contains(r.Reason, "min_rep_s") {
			t.Errorf("min_rep_s %g: %+v", v, r)
		}
		// The meter rule is hard: no certificate is issued.
		if c := evalDefault(t, rec, EvalOptions{}); c.Valid {
			t.Errorf("min_rep_s %g: %s, valid %v", v, c.Level, c.Valid)
		}
	}
}

// Readings of a BMC whose TLS certificate was not verified earn no level
// 3: anyone on the path could have answered.
func TestRedfishInsecureNotLevel3(t *testing.T) {
	rec := redfishRecord()
	rec.Meters[0].TLSInsecure = true
	if c := evalDefault(t, rec, EvalOptions{}); c.Level.Level == 3 || !strings.Contains(c.Level.Reason, "did not verify its BMC's TLS certificate") {
		t.Errorf("%s: %s", c.Level, c.Level.Reason)
	}
}
