//go:build linux && cgo

package meter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh200"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// mockGPU is what one mocked GPU answers. Tests change it between reads;
// the fields are atomic so that a test may also read the meter from
// another goroutine.
type mockGPU struct {
	energyMJ  atomic.Uint64
	energyRet atomic.Int32 // an nvml.Return
	powerMW   atomic.Uint32
	powerRet  atomic.Int32
	reasons   atomic.Uint64
	tempRet   atomic.Int32
	smRet     atomic.Int32
	procUtRet atomic.Int32
	// procTS are the lastSeenTimeStamp arguments the driver was given.
	mu     sync.Mutex
	procTS []uint64
	// throttleCalls counts calls of the pre-R535 throttle query.
	throttleCalls atomic.Int32
}

func ret(r *atomic.Int32) nvml.Return { return nvml.Return(r.Load()) }

// mockMachine returns dgxh200.New() (8 H200s) with every query the NVML
// meter makes answered from a mockGPU each: 700 W power limit, counters
// starting at 1000 mJ × (index+1), 350 W, two processes.
func mockMachine(t *testing.T) (*server.Server, []*mockGPU) {
	t.Helper()
	return mockMachineOf(t, dgxh200.New())
}

func mockMachineOf(t *testing.T, s *server.Server) (*server.Server, []*mockGPU) {
	t.Helper()
	var states []*mockGPU
	for i, d := range s.Devices {
		dev := d.(*server.Device)
		st := &mockGPU{}
		st.energyMJ.Store(uint64(1000 * (i + 1)))
		st.powerMW.Store(350000)
		states = append(states, st)
		dev.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return st.energyMJ.Load(), ret(&st.energyRet) }
		dev.GetPowerUsageFunc = func() (uint32, nvml.Return) { return st.powerMW.Load(), ret(&st.powerRet) }
		dev.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 700000, nvml.SUCCESS }
		dev.GetPowerManagementLimitFunc = func() (uint32, nvml.Return) { return 700000, nvml.SUCCESS }
		dev.GetClockInfoFunc = func(c nvml.ClockType) (uint32, nvml.Return) {
			switch c {
			case nvml.CLOCK_SM:
				return 1980, ret(&st.smRet)
			case nvml.CLOCK_MEM:
				return 3201, nvml.SUCCESS
			}
			return 0, nvml.ERROR_INVALID_ARGUMENT
		}
		dev.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 61, ret(&st.tempRet) }
		dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: 97, Memory: 41}, nvml.SUCCESS
		}
		dev.GetCurrentClocksEventReasonsFunc = func() (uint64, nvml.Return) { return st.reasons.Load(), nvml.SUCCESS }
		dev.GetCurrentClocksThrottleReasonsFunc = func() (uint64, nvml.Return) {
			st.throttleCalls.Add(1)
			return st.reasons.Load(), nvml.SUCCESS
		}
		dev.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			return []nvml.ProcessInfo{
				{Pid: 4242, UsedGpuMemory: 80 << 30},
				{Pid: 77, UsedGpuMemory: math.MaxUint64}, // NVML_VALUE_NOT_AVAILABLE
			}, nvml.SUCCESS
		}
		dev.GetProcessUtilizationFunc = func(last uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
			st.mu.Lock()
			st.procTS = append(st.procTS, last)
			st.mu.Unlock()
			if r := ret(&st.procUtRet); r != nvml.SUCCESS {
				return nil, r
			}
			// Two samples of 4242 (the newer one counts) and one of a
			// process that has already left the compute list.
			return []nvml.ProcessUtilizationSample{
				{Pid: 4242, TimeStamp: last + 10, SmUtil: 50, MemUtil: 20},
				{Pid: 4242, TimeStamp: last + 20, SmUtil: 90, MemUtil: 30},
				{Pid: 9, TimeStamp: last + 15, SmUtil: 5, MemUtil: 1},
			}, nvml.SUCCESS
		}
	}
	return s, states
}

// clock is a settable time for NVMLOptions.Now.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

func mustRead(t *testing.T, m *NVML) Reading {
	t.Helper()
	r, err := m.Read(context.Background())
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return r
}

func TestNVMLCounter(t *testing.T) {
	s, st := mockMachine(t)
	shutdowns := 0
	s.ShutdownFunc = func() nvml.Return { shutdowns++; return nvml.SUCCESS }
	m, err := NewNVML(s, NVMLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "nvml" || m.Method() != Counter || m.MinPhase() != 5*time.Second || MaxGapOf(m) != 0 {
		t.Fatalf("name %q method %q min phase %v max gap %v", m.Name(), m.Method(), m.MinPhase(), MaxGapOf(m))
	}
	doms := m.Domains()
	if len(doms) != 8 {
		t.Fatalf("want 8 domains, got %d", len(doms))
	}
	for i, d := range doms {
		if d != (Domain{Name: fmt.Sprintf("gpu-%d", i), Kind: KindGPU, InTotal: true}) {
			t.Errorf("domain %d: %+v", i, d)
		}
	}
	for step := 0; step < 4; step++ {
		r := mustRead(t, m)
		for i := range st {
			if want := metrics.Energy(st[i].energyMJ.Load()) * 1000; r.Energy[i] != want {
				t.Fatalf("step %d gpu-%d: %d µJ, want %d", step, i, r.Energy[i], want)
			}
			st[i].energyMJ.Add(uint64(70*(i+1) + step))
		}
	}
	devs := m.Devices()
	if len(devs) != 8 {
		t.Fatalf("want 8 devices, got %d", len(devs))
	}
	for i, d := range devs {
		want := results.Device{Domain: fmt.Sprintf("gpu-%d", i), Name: "NVIDIA H200 141GB HBM3e", UUID: s.Devices[i].(*server.Device).UUID,
			Architecture: "Hopper", DriverVersion: "550.54.15", CUDAVersion: "12.4", PowerLimitW: 700, EnergyMethod: results.MethodCounter}
		got := d
		got.Notes, got.Unsupported = nil, nil
		if fmt.Sprint(got) != fmt.Sprint(want) || !strings.HasPrefix(d.UUID, "GPU-") {
			t.Errorf("device %d:\n got %+v\nwant %+v", i, got, want)
		}
		if len(d.Unsupported) != 0 {
			t.Errorf("device %d: unsupported %v", i, d.Unsupported)
		}
		notes := strings.Join(d.Notes, "\n")
		for _, w := range []string{"total energy counter", "100 ms", "SC24", "25%", "did not test NVIDIA H200", "average over the last 1 s"} {
			if !strings.Contains(notes, w) {
				t.Errorf("device %d notes lack %q:\n%s", i, w, notes)
			}
		}
	}
	if src := m.Source(); src != "NVML 12.550.54.15 via libnvidia-ml.so.1, driver 550.54.15" {
		t.Errorf("source %q", src)
	}
	notes := m.Notes()
	if !slices.ContainsFunc(notes, func(n string) bool {
		return strings.HasPrefix(n, "gpu-0, gpu-1, gpu-2, gpu-3, gpu-4, gpu-5, gpu-6, gpu-7: ") && strings.Contains(n, "25%")
	}) {
		t.Errorf("meter notes do not state the shared blind spot once for all GPUs:\n%s", strings.Join(notes, "\n"))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil || shutdowns != 1 {
		t.Fatalf("second Close: %v; Shutdown called %d times, want 1", err, shutdowns)
	}
}

// A GPU without the energy counter is metered by sampling its power: the
// meter's method is the weaker one, each device says its own, and the
// integral of a known power over a known time is exact.
func TestNVMLSampledPower(t *testing.T) {
	s, st := mockMachine(t)
	st[3].energyRet.Store(int32(nvml.ERROR_NOT_SUPPORTED))
	c := newClock()
	m, err := NewNVML(s, NVMLOptions{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if m.Method() != SampledPower || m.MinPhase() != 10*time.Second {
		t.Fatalf("method %q min phase %v; want sampled_power, 10s", m.Method(), m.MinPhase())
	}
	devs := m.Devices()
	if devs[0].EnergyMethod != results.MethodCounter || devs[3].EnergyMethod != results.MethodSampledPower {
		t.Fatalf("energy methods: gpu-0 %q gpu-3 %q", devs[0].EnergyMethod, devs[3].EnergyMethod)
	}
	if !slices.Contains(devs[3].Unsupported, qEnergy) || !strings.Contains(strings.Join(devs[3].Notes, "\n"), "especially uncertain") {
		t.Fatalf("gpu-3 must list the energy counter as unsupported and flag its sampled power: %+v", devs[3])
	}
	steps := []struct {
		dt time.Duration
		mw uint32
		uj metrics.Energy // energy of gpu-3 after the step
	}{
		{0, 350000, 0},                          // the first reading is the origin
		{100 * time.Millisecond, 300000, 30e6},  // 300 W × 0.1 s = 30 J
		{250 * time.Millisecond, 400000, 130e6}, // + 400 W × 0.25 s = 100 J
		{333333 * time.Nanosecond, 3, 130e6},    // + 999 999 mW·ns: under 1 µJ, carried
		{333333 * time.Nanosecond, 3, 130e6 + 1},
		{0, 500000, 130e6 + 1}, // no time passed: nothing added
	}
	for i, s := range steps {
		c.advance(s.dt)
		st[3].powerMW.Store(s.mw)
		r := mustRead(t, m)
		if r.Energy[3] != s.uj {
			t.Fatalf("step %d: gpu-3 %d µJ, want %d", i, r.Energy[3], s.uj)
		}
		if !r.Time.Equal(c.now()) {
			t.Fatalf("step %d: reading time %v, want the injected clock's %v", i, r.Time, c.now())
		}
	}
	// A power reading that fails is an energy failure on this GPU.
	st[3].powerRet.Store(int32(nvml.ERROR_UNKNOWN))
	if _, err := m.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "gpu-3") || !strings.Contains(err.Error(), "read power") {
		t.Fatalf("failed power read: %v", err)
	}

	// Every GPU without a counter: all sampled.
	s2, st2 := mockMachine(t)
	for _, g := range st2 {
		g.energyRet.Store(int32(nvml.ERROR_NOT_SUPPORTED))
	}
	m2, err := NewNVML(s2, NVMLOptions{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, m2)
	c.advance(2 * time.Second)
	r := mustRead(t, m2)
	for i, e := range r.Energy {
		if e != 700*metrics.Joule {
			t.Errorf("gpu-%d: %v after 2 s at 350 W, want 700 J", i, e)
		}
	}
}

// A GPU with neither counter nor power cannot be metered: unsupported,
// naming the GPU.
func TestNVMLNothingToMeter(t *testing.T) {
	s, st := mockMachine(t)
	st[6].energyRet.Store(int32(nvml.ERROR_NOT_SUPPORTED))
	st[6].powerRet.Store(int32(nvml.ERROR_NOT_SUPPORTED))
	shut := 0
	s.ShutdownFunc = func() nvml.Return { shut++; return nvml.SUCCESS }
	_, err := NewNVML(s, NVMLOptions{})
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "gpu-6") || shut != 1 {
		t.Fatalf("want unsupported naming gpu-6 and one shutdown, got %v (%d shutdowns)", err, shut)
	}
}

func TestNVMLUnsupportedTelemetry(t *testing.T) {
	s, st := mockMachine(t)
	st[1].tempRet.Store(int32(nvml.ERROR_NOT_SUPPORTED))
	st[1].procUtRet.Store(int32(nvml.ERROR_NOT_SUPPORTED))
	st[2].smRet.Store(int32(nvml.ERROR_UNKNOWN)) // a real failure: noted, once
	c := newClock()
	m, err := NewNVML(s, NVMLOptions{Now: c.now, TraceInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		mustRead(t, m)
		c.advance(time.Second)
	}
	tr := m.Trace()
	if len(tr) != 3*8 {
		t.Fatalf("want 24 samples, got %d", len(tr))
	}
	for _, s := range tr {
		switch s.Domain {
		case "gpu-1":
			if s.TempC != nil {
				t.Fatalf("gpu-1 temperature is NOT_SUPPORTED, yet reported %v", *s.TempC)
			}
			for _, p := range s.Procs {
				if p.SMUtilPct != nil || p.MemUtilPct != nil {
					t.Fatalf("gpu-1 process utilisation is NOT_SUPPORTED, yet reported: %+v", p)
				}
			}
			if s.PowerW == nil || *s.PowerW != 350 {
				t.Fatalf("gpu-1 power lost: %v", s.PowerW)
			}
		case "gpu-2":
			if s.SMClockMHz != nil || s.MemClockMHz == nil {
				t.Fatalf("gpu-2: SM clock failed, memory clock did not: %v %v", s.SMClockMHz, s.MemClockMHz)
			}
		default:
			if s.TempC == nil || *s.TempC != 61 {
				t.Fatalf("%s temperature: %v", s.Domain, s.TempC)
			}
		}
	}
	devs := m.Devices()
	if want := []string{qProcUtil, qTemp}; !slices.Equal(devs[1].Unsupported, want) {
		t.Errorf("gpu-1 unsupported %v, want %v", devs[1].Unsupported, want)
	}
	if len(devs[0].Unsupported) != 0 || len(devs[2].Unsupported) != 0 {
		t.Errorf("only gpu-1 has unsupported queries: %v %v", devs[0].Unsupported, devs[2].Unsupported)
	}
	n := 0
	for _, note := range m.Notes() {
		if strings.Contains(note, qSMClock) {
			n++
			if !strings.HasPrefix(note, "gpu-2: ") || !strings.Contains(note, "ERROR_UNKNOWN") {
				t.Errorf("note does not name the GPU and error: %q", note)
			}
		}
	}
	if n != 1 {
		t.Errorf("the failing SM clock query must be noted once, got %d times:\n%s", n, strings.Join(m.Notes(), "\n"))
	}
	if !slices.ContainsFunc(devs[2].Notes, func(s string) bool { return strings.Contains(s, qSMClock) }) {
		t.Errorf("gpu-2's device notes lack the failing query: %v", devs[2].Notes)
	}
}

// A GPU lost mid-run fails the read, naming it.
func TestNVMLGPULost(t *testing.T) {
	s, st := mockMachine(t)
	m, err := NewNVML(s, NVMLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		mustRead(t, m)
	}
	st[5].energyRet.Store(int32(nvml.ERROR_GPU_IS_LOST))
	_, err = m.Read(context.Background())
	uuid := s.Devices[5].(*server.Device).UUID
	if err == nil || !errors.Is(err, nvml.ERROR_GPU_IS_LOST) || !strings.Contains(err.Error(), "gpu-5 (") || !strings.Contains(err.Error(), uuid) || !strings.Contains(err.Error(), "Xid") {
		t.Fatalf("want an error naming gpu-5 and its UUID, got %v", err)
	}
	// A cancelled read says so.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
}

// The cheat a reset would be: a counter that starts again from zero. The
// read that finds it fails, naming the GPU, the two values and the cause;
// later readings stay monotone and count the energy after the reset.
func TestNVMLCounterReset(t *testing.T) {
	s, st := mockMachine(t)
	m, err := NewNVML(s, NVMLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st[2].energyMJ.Store(500000)
	r1 := mustRead(t, m)
	st[2].energyMJ.Store(600000)
	r2 := mustRead(t, m)
	st[2].energyMJ.Store(50) // driver reloaded: 50 mJ since
	_, err = m.Read(context.Background())
	if err == nil {
		t.Fatal("a counter that went back must fail the read")
	}
	for _, w := range []string{"gpu-2 (", s.Devices[2].(*server.Device).UUID, "600000 mJ", "50 mJ", "reset", "reloaded", "lost"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("reset error lacks %q: %v", w, err)
		}
	}
	st[2].energyMJ.Store(80)
	r4 := mustRead(t, m)
	st[2].energyMJ.Store(1080)
	r5 := mustRead(t, m)
	if !(r1.Energy[2] < r2.Energy[2] && r2.Energy[2] < r4.Energy[2] && r4.Energy[2] < r5.Energy[2]) {
		t.Fatalf("readings not monotone across the reset: %v %v %v %v", r1.Energy[2], r2.Energy[2], r4.Energy[2], r5.Energy[2])
	}
	// All 80 mJ since the reset are counted; what came between the
	// 600000 mJ reading and the reset is lost.
	if d := r4.Energy[2] - r2.Energy[2]; d != 80*metrics.Millijoule {
		t.Errorf("energy after the reset: %d µJ, want 80000", d)
	}
	if d := r5.Energy[2] - r4.Energy[2]; d != metrics.Joule {
		t.Errorf("energy after rebasing: %d µJ, want 1 J", d)
	}
	// The other GPUs were unaffected.
	if r5.Energy[0] != r1.Energy[0] {
		t.Errorf("gpu-0 moved: %v -> %v", r1.Energy[0], r5.Energy[0])
	}
}

func TestNVMLTrace(t *testing.T) {
	s, st := mockMachine(t)
	for _, g := range st {
		g.reasons.Store(nvml.ClocksEventReasonSwPowerCap | nvml.ClocksThrottleReasonHwSlowdown | 1<<15)
	}
	c := newClock()
	t0 := c.now()
	m, err := NewNVML(s, NVMLOptions{Now: c.now, TraceInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Trace runs while reads go on, as the harness's checkpoints do.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []TraceSample
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			tr := m.Trace()
			mu.Lock()
			got = append(got, tr...)
			mu.Unlock()
			time.Sleep(50 * time.Microsecond)
		}
	}()
	for i := 0; i <= 25; i++ { // 0 to 2.5 s every 100 ms
		mustRead(t, m)
		c.advance(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	got = append(got, m.Trace()...)
	if len(got) != 3*8 {
		t.Fatalf("want one sample per GPU at 0, 1 and 2 s (24), got %d", len(got))
	}
	if tr := m.Trace(); len(tr) != 0 {
		t.Fatalf("Trace must forget what it returned; got %d again", len(tr))
	}
	for i, s := range got {
		want := t0.Add(time.Duration(i/8) * time.Second)
		if !s.Time.Equal(want) || s.Domain != fmt.Sprintf("gpu-%d", i%8) {
			t.Fatalf("sample %d: %v %s, want %v gpu-%d", i, s.Time, s.Domain, want, i%8)
		}
		if s.Meter != "" || s.TS != 0 {
			t.Fatalf("Meter and TS are the harness's to set: %+v", s.TraceSample)
		}
		for name, v := range map[string]*float64{"power": s.PowerW, "sm": s.SMClockMHz, "mem": s.MemClockMHz, "temp": s.TempC, "util": s.UtilPct, "memutil": s.MemUtilPct} {
			if v == nil {
				t.Fatalf("sample %d: %s absent", i, name)
			}
		}
		if *s.PowerW != 350 || *s.SMClockMHz != 1980 || *s.MemClockMHz != 3201 || *s.TempC != 61 || *s.UtilPct != 97 || *s.MemUtilPct != 41 {
			t.Fatalf("sample %d values: %+v", i, s.TraceSample)
		}
		if want := []string{"sw_power_cap", "hw_slowdown", "0x8000"}; !slices.Equal(s.Throttle, want) {
			t.Fatalf("sample %d throttle %v, want %v", i, s.Throttle, want)
		}
		if len(s.Procs) != 3 {
			t.Fatalf("sample %d: want processes 9, 77, 4242; got %+v", i, s.Procs)
		}
		p9, p77, p4242 := s.Procs[0], s.Procs[1], s.Procs[2]
		if p9.PID != 9 || p77.PID != 77 || p4242.PID != 4242 {
			t.Fatalf("sample %d: pids %d %d %d", i, p9.PID, p77.PID, p4242.PID)
		}
		if p4242.UsedMemBytes == nil || *p4242.UsedMemBytes != 80<<30 || p4242.SMUtilPct == nil || *p4242.SMUtilPct != 90 || *p4242.MemUtilPct != 30 {
			t.Fatalf("sample %d: pid 4242 must have its memory and its newest utilisation: %+v", i, p4242)
		}
		if p77.UsedMemBytes != nil || p77.SMUtilPct != nil {
			t.Fatalf("pid 77's memory is not available and it has no utilisation: %+v", p77)
		}
		if p9.UsedMemBytes != nil || p9.SMUtilPct == nil || *p9.SMUtilPct != 5 {
			t.Fatalf("pid 9 has utilisation only: %+v", p9)
		}
	}
	// Each utilisation query asks only for samples newer than the last.
	st[0].mu.Lock()
	ts := slices.Clone(st[0].procTS)
	st[0].mu.Unlock()
	if !slices.Equal(ts, []uint64{0, 20, 40}) {
		t.Errorf("lastSeenTimeStamp arguments %v, want [0 20 40]", ts)
	}
	if n := st[0].throttleCalls.Load(); n != 0 {
		t.Errorf("the deprecated throttle query was called %d times although the event query exists", n)
	}
}

// A driver older than R535 has no nvmlDeviceGetCurrentClocksEventReasons:
// the meter must not call it (go-nvml would end the process), and falls
// back to the throttle query.
func TestNVMLThrottleFallback(t *testing.T) {
	s, st := mockMachine(t)
	s.LookupSymbolFunc = func(name string) error {
		if name == qEventReasons {
			return errors.New("undefined symbol")
		}
		return nil
	}
	for _, d := range s.Devices {
		d.(*server.Device).GetCurrentClocksEventReasonsFunc = nil // calling it would panic
	}
	st[0].reasons.Store(nvml.ClocksEventReasonGpuIdle)
	m, err := NewNVML(s, NVMLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, m)
	tr := m.Trace()
	if !slices.Equal(tr[0].Throttle, []string{"gpu_idle"}) || st[0].throttleCalls.Load() != 1 {
		t.Fatalf("throttle %v, %d fallback calls", tr[0].Throttle, st[0].throttleCalls.Load())
	}
}

func TestThrottleNames(t *testing.T) {
	for _, tc := range []struct {
		mask uint64
		want []string
	}{
		{0, nil},
		{nvml.ClocksEventReasonGpuIdle, []string{"gpu_idle"}},
		{nvml.ClocksEventReasonApplicationsClocksSetting, []string{"applications_clocks_setting"}},
		{nvml.ClocksEventReasonSwPowerCap, []string{"sw_power_cap"}},
		{nvml.ClocksThrottleReasonHwSlowdown, []string{"hw_slowdown"}},
		{nvml.ClocksEventReasonSyncBoost, []string{"sync_boost"}},
		{nvml.ClocksEventReasonSwThermalSlowdown, []string{"sw_thermal_slowdown"}},
		{nvml.ClocksThrottleReasonHwThermalSlowdown, []string{"hw_thermal_slowdown"}},
		{nvml.ClocksThrottleReasonHwPowerBrakeSlowdown, []string{"hw_power_brake_slowdown"}},
		{nvml.ClocksEventReasonDisplayClockSetting, []string{"display_clock_setting"}},
		{nvml.ClocksEventReasonBoardLimit, []string{"board_limit"}},
		{nvml.ClocksEventReasonReliability, []string{"reliability"}},
		{nvml.ClocksEventReasonAll, []string{"gpu_idle", "applications_clocks_setting", "sw_power_cap", "hw_slowdown", "sync_boost",
			"sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown", "display_clock_setting", "board_limit", "reliability"}},
		{1<<40 | 1<<12 | nvml.ClocksEventReasonSwPowerCap, []string{"sw_power_cap", "0x10000001000"}},
	} {
		if got := ThrottleNames(tc.mask); !slices.Equal(got, tc.want) {
			t.Errorf("ThrottleNames(%#x) = %v, want %v", tc.mask, got, tc.want)
		}
	}
}

func ExampleThrottleNames() {
	fmt.Println(ThrottleNames(0x4 | 0x40 | 0x8000))
	// Output: [sw_power_cap hw_thermal_slowdown 0x8000]
}

// The blind spots depend on the part: GA100 and Hopper carry the SC24
// finding, Ampere-and-newer the 1 s average, older parts instantaneous
// power, an unknown one a generic note; the RTX A3000 is not an A30.
func TestNVMLBlindSpots(t *testing.T) {
	a3000 := gpus.A100_PCIE_40GB
	a3000.Name = "NVIDIA RTX A3000 Laptop GPU"
	volta := gpus.A100_PCIE_40GB
	volta.Name, volta.Architecture = "Tesla V100-SXM2-16GB", nvml.DEVICE_ARCH_VOLTA
	unknown := gpus.A100_PCIE_40GB
	unknown.Name, unknown.Architecture = "NVIDIA Future", nvml.DEVICE_ARCH_UNKNOWN
	s, _ := mockMachineOf(t, dgxh200.NewWithGPUs(gpus.A100_SXM4_80GB, gpus.H100_SXM5_80GB, a3000, volta, unknown, gpus.B200_SXM5_180GB))
	m, err := NewNVML(s, NVMLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	devs := m.Devices()
	for i, tc := range []struct {
		arch     string
		has, not []string
	}{
		{"Ampere", []string{"25%", "instantaneous"}, []string{"did not test", "last 1 s"}},
		{"Hopper", []string{"25%", "last 1 s"}, []string{"did not test", "instantaneous"}},
		{"Ampere", []string{"last 1 s"}, []string{"25%", "instantaneous"}},
		{"Volta", []string{"instantaneous"}, []string{"25%", "last 1 s"}},
		{"", []string{"not one joulebench knows"}, []string{"25%", "last 1 s", "instantaneous"}},
		{"Blackwell", []string{"last 1 s"}, []string{"25%", "instantaneous"}},
	} {
		d := devs[i]
		notes := strings.Join(d.Notes, "\n")
		if d.Architecture != tc.arch {
			t.Errorf("%s: architecture %q, want %q", d.Name, d.Architecture, tc.arch)
		}
		for _, w := range tc.has {
			if !strings.Contains(notes, w) {
				t.Errorf("%s: notes lack %q:\n%s", d.Name, w, notes)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(notes, w) {
				t.Errorf("%s: notes must not say %q:\n%s", d.Name, w, notes)
			}
		}
	}
}

// Why NVML cannot be used: each cause its reason and fix; a broken driver
// is a real error, not "unsupported".
func TestNVMLInitErrors(t *testing.T) {
	for _, tc := range []struct {
		ret         nvml.Return
		unsupported bool
		want        string
	}{
		{nvml.ERROR_LIBRARY_NOT_FOUND, true, "libnvidia-ml.so.1 not found (no NVIDIA driver here; install the NVIDIA driver"},
		{nvml.ERROR_DRIVER_NOT_LOADED, true, "kernel driver is not loaded"},
		{nvml.ERROR_NO_PERMISSION, true, "permission denied"},
		{nvml.ERROR_LIB_RM_VERSION_MISMATCH, false, "reboot"},
		{nvml.ERROR_UNKNOWN, false, "nvml: init"},
	} {
		s, _ := mockMachine(t)
		s.InitFunc = func() nvml.Return { return tc.ret }
		_, err := NewNVML(s, NVMLOptions{})
		if err == nil || errors.Is(err, errors.ErrUnsupported) != tc.unsupported || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("init %v: got %v (unsupported=%v), want %q (unsupported=%v)", tc.ret, err, errors.Is(err, errors.ErrUnsupported), tc.want, tc.unsupported)
		}
		if !errors.Is(err, tc.ret) {
			t.Errorf("init %v: the NVML return is not wrapped: %v", tc.ret, err)
		}
	}
	s := dgxh200.NewWithGPUs()
	shut := 0
	s.ShutdownFunc = func() nvml.Return { shut++; return nvml.SUCCESS }
	_, err := NewNVML(s, NVMLOptions{})
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "NVML found no GPU") || shut != 1 {
		t.Fatalf("zero GPUs: %v, %d shutdowns", err, shut)
	}
}

// On this machine, without libnvidia-ml.so.1, OpenNVML says so and does
// not panic. On a machine with an NVIDIA driver it opens the real GPUs:
// then one read and one trace are checked instead.
func TestOpenNVMLHere(t *testing.T) {
	m, err := OpenNVML(NVMLOptions{})
	if err != nil {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("OpenNVML: %v", err)
		}
		if errors.Is(err, nvml.ERROR_LIBRARY_NOT_FOUND) && err.Error() != "NVML not available: libnvidia-ml.so.1 not found (no NVIDIA driver here; install the NVIDIA driver to meter NVIDIA GPUs)" {
			t.Fatalf("message: %q", err)
		}
		t.Logf("no NVML here: %v", err)
		return
	}
	defer m.Close()
	r1 := mustRead(t, m)
	time.Sleep(300 * time.Millisecond)
	r2 := mustRead(t, m)
	for i, d := range m.Domains() {
		if r2.Energy[i] < r1.Energy[i] {
			t.Errorf("%s went back: %v -> %v", d.Name, r1.Energy[i], r2.Energy[i])
		}
	}
	t.Logf("%s; method %s; %d GPUs; notes:\n%s", m.Source(), m.Method(), len(m.Domains()), strings.Join(m.Notes(), "\n"))
	for _, d := range m.Devices() {
		t.Logf("%+v", d)
	}
	for _, s := range m.Trace() {
		t.Logf("%s power %v W procs %d throttle %v", s.Domain, deref(s.PowerW), len(s.Procs), s.Throttle)
	}
}

func deref(p *float64) any {
	if p == nil {
		return "absent"
	}
	return *p
}
