//go:build linux && cgo

package harness

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh200"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
)

// liveGPU is a mocked GPU whose energy counter runs at 700 W in real time.
// lost makes its energy query fail as a GPU that fell off the bus does;
// reset restarts its counter from zero, as a driver reload does.
type liveGPU struct {
	start time.Time
	base  atomic.Uint64 // mJ subtracted since the last reset
	lost  atomic.Bool
}

func (g *liveGPU) raw() uint64 { return uint64(time.Since(g.start).Microseconds()) * 7 / 10 } // 700 W = 0.7 mJ/µs

func (g *liveGPU) energy() (uint64, nvml.Return) {
	if g.lost.Load() {
		return 0, nvml.ERROR_GPU_IS_LOST
	}
	return g.raw() - g.base.Load(), nvml.SUCCESS
}

func (g *liveGPU) reset() { g.base.Store(g.raw()) }

// liveH200s is dgxh200.New() (8 H200s) under the NVML meter, every query
// answered: energy from a liveGPU each, fixed telemetry otherwise.
func liveH200s(t *testing.T) (*meter.NVML, []*liveGPU) {
	t.Helper()
	s := dgxh200.New()
	var gs []*liveGPU
	for _, d := range s.Devices {
		dev := d.(*server.Device)
		g := &liveGPU{start: time.Now().Add(-time.Hour)}
		gs = append(gs, g)
		dev.GetTotalEnergyConsumptionFunc = g.energy
		dev.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 700000, nvml.SUCCESS }
		dev.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 700000, nvml.SUCCESS }
		dev.GetClockInfoFunc = func(nvml.ClockType) (uint32, nvml.Return) { return 1980, nvml.SUCCESS }
		dev.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
		dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) { return nvml.Utilization{Gpu: 100, Memory: 50}, nvml.SUCCESS }
		dev.GetCurrentClocksEventReasonsFunc = func() (uint64, nvml.Return) { return nvml.ClocksEventReasonSwPowerCap, nvml.SUCCESS }
		dev.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			return []nvml.ProcessInfo{{Pid: 4242, UsedGpuMemory: 1 << 30}}, nvml.SUCCESS
		}
		dev.GetProcessUtilizationFunc = func(uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) { return nil, nvml.ERROR_NOT_FOUND }
	}
	m, err := meter.NewNVML(s, meter.NVMLOptions{TraceInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, gs
}

func nvmlConfig() Config {
	return Config{Interval: 10 * time.Millisecond, Warmup: 10 * time.Millisecond, MinTime: 200 * time.Millisecond, Reps: 3}
}

// during runs f 40 ms into repetition rep, well inside it: the next read
// after that is a periodic one, not an edge. wait waits for it.
func during(cfg *Config, rep int, f func()) (wait func()) {
	var wg sync.WaitGroup
	cfg.Progress = func(e Event) {
		if e.Phase == "rep" && e.Rep == rep {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(40 * time.Millisecond)
				f()
			}()
		}
	}
	return wg.Wait
}

// A GPU lost in the middle of repetition 2 ends the run as a meter
// failure that names the GPU: the record is kept, with repetition 1, and
// the workload is not blamed.
func TestNVMLGPULostMidRun(t *testing.T) {
	m, gs := liveH200s(t)
	cfg := nvmlConfig()
	wait := during(&cfg, 2, func() { gs[1].lost.Store(true) })
	rec := &results.Record{}
	err := Run(context.Background(), cfg, []meter.Meter{m}, []workloads.Workload{&sleepWork{name: "gpu-lost", per: 2 * time.Millisecond}}, rec)
	wait()
	if err == nil || !errors.Is(err, nvml.ERROR_GPU_IS_LOST) || errors.Is(err, ErrWorkloadFailed) {
		t.Fatalf("want a meter failure wrapping GPU_IS_LOST, got %v", err)
	}
	if rec.Complete || !strings.Contains(rec.IncompleteReason, "meter failed") || !strings.Contains(rec.IncompleteReason, "gpu-1 (") {
		t.Fatalf("the record must say the meter failed on gpu-1: complete=%v %q", rec.Complete, rec.IncompleteReason)
	}
	if len(rec.Workloads) != 1 || rec.Workloads[0].Error != "" || len(rec.Workloads[0].Reps) != 1 {
		t.Fatalf("want the workload kept, unblamed, with repetition 1: %+v", rec.Workloads)
	}
	for _, r := range rec.Workloads[0].Reps {
		if msg := metrics.CheckRep(rec, r); msg != "" {
			t.Errorf("kept repetition disagrees with its readings: %s", msg)
		}
	}
	if len(rec.Meters) != 1 || len(rec.Meters[0].Devices) != 8 || rec.Meters[0].MinPhaseS != 5 {
		t.Fatalf("meter not described: %+v", rec.Meters)
	}
}

// A counter reset (a driver reload) in the middle of repetition 2: the
// read that finds it is listed in that repetition's MeterFaults, which
// makes it invalid (the energy between the last good reading and the
// reset is lost); the run goes on, and repetition 3 measures 700 W again.
func TestNVMLCounterResetMidRun(t *testing.T) {
	m, gs := liveH200s(t)
	cfg := nvmlConfig()
	wait := during(&cfg, 2, gs[4].reset)
	rec := &results.Record{}
	err := Run(context.Background(), cfg, []meter.Meter{m}, []workloads.Workload{&sleepWork{name: "gpu-reset", per: 2 * time.Millisecond, flops: 1}}, rec)
	wait()
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Complete {
		t.Fatalf("one failed periodic read must not end the run: %s", rec.IncompleteReason)
	}
	reps := rec.Workloads[0].Reps
	if len(reps) != 3 || len(reps[0].MeterFaults) != 0 || len(reps[1].MeterFaults) != 1 || len(reps[2].MeterFaults) != 0 {
		t.Fatalf("want one fault, in repetition 2: %v / %v / %v", reps[0].MeterFaults, reps[1].MeterFaults, reps[2].MeterFaults)
	}
	if f := reps[1].MeterFaults[0]; !strings.Contains(f, "gpu-4 (") || !strings.Contains(f, "went back") || !strings.Contains(f, "periodic reading") {
		t.Errorf("fault not described: %q", f)
	}
	for _, i := range []int{0, 2} {
		for d, e := range reps[i].EnergyJ {
			if p := e / reps[i].DurationS; math.Abs(p-700)/700 > 0.02 {
				t.Errorf("repetition %d %s: %.1f W, want 700 W", i+1, d, p)
			}
		}
	}
	// Readings stay monotone across the reset: the harness sees no wrap.
	for i := 1; i < len(rec.Readings); i++ {
		for d := range rec.Readings[i].EnergyUJ {
			if rec.Readings[i].EnergyUJ[d] < rec.Readings[i-1].EnergyUJ[d] {
				t.Fatalf("reading %d, domain %d went back", i, d)
			}
		}
	}
	s := metrics.Summarize(rec)[0]
	if s.Validity.Valid || !strings.Contains(strings.Join(s.Validity.Failed(), "\n"), "repetition 2") {
		t.Errorf("repetition 2 must make the workload invalid, saying why; valid=%v %v", s.Validity.Valid, s.Validity.Failed())
	}
	// The trace reached the record, the unsupported temperature with it.
	if len(rec.Trace) == 0 || rec.Trace[0].Meter != "nvml" || rec.Trace[0].TempC != nil || rec.Trace[0].PowerW == nil {
		t.Fatalf("trace: %d samples, first %+v", len(rec.Trace), rec.Trace)
	}
	if u := rec.Meters[0].Devices[4].Unsupported; len(u) != 1 || !strings.Contains(u[0], "Temperature") {
		t.Errorf("gpu-4 unsupported: %v", u)
	}
}
