package report

import (
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

func f(v float64) *float64 { return &v }

// The trace is summarised per workload and busy device, from the samples
// inside its repetitions only; an idle GPU beside a busy one is left out;
// NOT_SUPPORTED fields (absent) are not shown as zeros.
func TestDeviceUses(t *testing.T) {
	rec := &results.Record{
		Workloads: []results.Workload{{Name: "gpu-gemm-bf16-8192", Reps: []results.Rep{{StartS: 10, DurationS: 5}, {StartS: 20, DurationS: 5}}}},
		Trace: []results.TraceSample{
			{TS: 9, Domain: "gpu-0", PowerW: f(90), UtilPct: f(0)}, // warm-up: not in a repetition
			{TS: 11, Domain: "gpu-0", PowerW: f(600), SMClockMHz: f(1800), TempC: f(55), UtilPct: f(100), Throttle: []string{"sw_power_cap"}},
			{TS: 11, Domain: "gpu-1", PowerW: f(80), UtilPct: f(0), Throttle: []string{"gpu_idle"}},
			{TS: 21, Domain: "gpu-0", PowerW: f(700), SMClockMHz: f(1600), TempC: f(61), UtilPct: f(98)},
			{TS: 22, Domain: "gpu-0", PowerW: f(650), UtilPct: f(99)}, // no clock or temperature reported
		},
	}
	uses := DeviceUses(rec)
	if len(uses) != 1 {
		t.Fatalf("uses: %+v", uses)
	}
	got := uses[0].Line()
	want := "gpu-gemm-bf16-8192 on gpu-0 (3 samples): 99% busy, 650 W (the driver's figure), SM 1700 MHz, 61 °C max, clocks held back: sw_power_cap 33% of samples"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if DeviceUses(&results.Record{Workloads: rec.Workloads}) != nil {
		t.Error("a record without a trace has device uses")
	}
	var b strings.Builder
	if err := WriteTableOptions(&b, rec, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "device telemetry while the repetitions ran") || !strings.Contains(b.String(), "sw_power_cap 33%") {
		t.Errorf("table without the telemetry:\n%s", b.String())
	}
}

// A GPU metered by NVML beside a CPU only the estimate covers: the table
// and the statement say which part is modelled and which measured, and
// never call the NVML part modelled.
func TestPartlyEstimated(t *testing.T) {
	rec := &results.Record{
		Complete: true,
		Meters: []results.Meter{
			{Name: "estimate", Method: results.MethodModel, Estimated: true, Domains: []results.Domain{{Name: "cpu-estimated", Kind: "package", InTotal: true}}},
			{Name: "nvml", Method: results.MethodCounter, Domains: []results.Domain{{Name: "gpu-0", Kind: "gpu", InTotal: true}}},
		},
		Workloads: []results.Workload{{Name: "gpu-gemm-bf16-8192", WorkUnit: "GEMM call", Reps: []results.Rep{
			{DurationS: 5, EnergyJ: map[string]float64{"cpu-estimated": 50, "gpu-0": 3000}, Work: results.Work{FLOPs: 3e15, Items: 2700}, Readings: 50},
		}}},
	}
	var b strings.Builder
	if err := WriteTableOptions(&b, rec, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "PARTLY ESTIMATED: cpu-estimated modelled from CPU utilisation and TDP, gpu-0 (counter) measured") {
		t.Errorf("table:\n%s", b.String())
	}
	st, err := Statement(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st, "PARTLY ESTIMATED: the nvml meter (energy counter: gpu-0) measured; the estimate meter") || strings.Contains(st, "nvml meter (energy counter: gpu-0), modelled") {
		t.Errorf("statement: %s", st)
	}
}

// Work done on a device no domain of the total counts is flagged: a CPU
// GEMM under NVML alone, a GPU GEMM under RAPL alone.
func TestUncovered(t *testing.T) {
	nvml := results.Meter{Name: "nvml", Method: results.MethodCounter, Domains: []results.Domain{{Name: "gpu-0", Kind: "gpu", InTotal: true}}}
	rapl := results.Meter{Name: "rapl", Method: results.MethodCounter, Domains: []results.Domain{{Name: "package-0", Kind: "package", InTotal: true}}}
	cpuW := results.Workload{Name: "gemm-fp64-1024"}
	gpuW := results.Workload{Name: "gpu-gemm-bf16-8192", Params: map[string]string{"device": "gpu"}}
	for _, tc := range []struct {
		meters []results.Meter
		w      results.Workload
		warn   bool
	}{
		{[]results.Meter{nvml}, cpuW, true},
		{[]results.Meter{rapl}, gpuW, true},
		{[]results.Meter{rapl}, cpuW, false},
		{[]results.Meter{nvml}, gpuW, false},
		{[]results.Meter{rapl, nvml}, gpuW, false},
		{[]results.Meter{nvml}, results.Workload{Name: "command"}, false},
	} {
		got := Uncovered(&results.Record{Meters: tc.meters}, tc.w)
		if (got != "") != tc.warn {
			t.Errorf("%s under %d meters: %q", tc.w.Name, len(tc.meters), got)
		}
	}
}
