package harness

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
)

// tracingMeter is a fake GPU meter: each read adds a telemetry sample, it
// describes one device, and it declares a minimum phase.
type tracingMeter struct {
	*meter.Fake
	min time.Duration

	mu      sync.Mutex
	pending []meter.TraceSample
	reads   int
}

func (m *tracingMeter) Read(ctx context.Context) (meter.Reading, error) {
	r, err := m.Fake.Read(ctx)
	m.mu.Lock()
	m.reads++
	w := float64(m.reads)
	m.pending = append(m.pending, meter.TraceSample{Time: r.Time, TraceSample: results.TraceSample{Domain: "gpu-0", PowerW: &w}})
	m.mu.Unlock()
	return r, err
}

func (m *tracingMeter) Trace() []meter.TraceSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.pending
	m.pending = nil
	return out
}

func (m *tracingMeter) Devices() []results.Device {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := results.Device{Domain: "gpu-0", Name: "Fake GPU", EnergyMethod: results.MethodCounter}
	if m.reads > 0 {
		d.Unsupported = []string{"temperature"}
	}
	return []results.Device{d}
}

func (m *tracingMeter) MinPhase() time.Duration { return m.min }

// TestTraceDevicesAndShortPhases: a meter's telemetry reaches the record's
// trace (every sample, in time order, with the meter's name and a time
// from the run's start), also in the checkpoints written as the run goes;
// its devices are described with what was learnt during the run; and
// repetitions shorter than its MinPhase are named in a note.
func TestTraceDevicesAndShortPhases(t *testing.T) {
	m := &tracingMeter{Fake: meter.NewFake(nil, meter.FakeDomain{Domain: meter.Domain{Name: "gpu-0", Kind: meter.KindGPU, InTotal: true}, Power: 300 * metrics.Watt}), min: time.Hour}
	w := &sleepWork{name: "sleep-gpu", per: 2 * time.Millisecond, flops: 1}
	var checkpoints []int
	cfg := testConfig()
	cfg.Checkpoint = func(r *results.Record) error {
		checkpoints = append(checkpoints, len(r.Trace))
		return nil
	}
	rec := &results.Record{}
	if err := Run(context.Background(), cfg, []meter.Meter{m}, []workloads.Workload{w}, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Trace) != m.reads {
		t.Fatalf("trace has %d samples, the meter took %d", len(rec.Trace), m.reads)
	}
	for i, s := range rec.Trace {
		if s.Meter != "fake" || s.Domain != "gpu-0" || s.PowerW == nil || *s.PowerW != float64(i+1) {
			t.Fatalf("sample %d: %+v", i, s)
		}
		if i > 0 && s.TS < rec.Trace[i-1].TS || s.TS < 0 {
			t.Fatalf("sample %d out of order or before the run: %v", i, s.TS)
		}
	}
	grew := false
	for i := 1; i < len(checkpoints); i++ {
		if checkpoints[i] < checkpoints[i-1] {
			t.Fatalf("a checkpoint lost trace samples: %v", checkpoints)
		}
		grew = grew || checkpoints[i] > checkpoints[i-1]
	}
	if !grew {
		t.Fatalf("checkpoints carry no trace: %v", checkpoints)
	}
	if len(rec.Meters) != 1 || rec.Meters[0].MinPhaseS != 3600 || len(rec.Meters[0].Devices) != 1 || len(rec.Meters[0].Devices[0].Unsupported) != 1 {
		t.Fatalf("meter description: %+v", rec.Meters)
	}
	note := strings.Join(rec.Notes, "\n")
	if !strings.Contains(note, "3 repetitions are shorter than the fake meter measures well") || !strings.Contains(note, "sleep-gpu rep 1") {
		t.Fatalf("no short-phase note: %q", note)
	}

	// A meter whose phases are long enough adds no note.
	m2 := &tracingMeter{Fake: meter.NewFake(nil, meter.FakeDomain{Domain: meter.Domain{Name: "gpu-0", Kind: meter.KindGPU, InTotal: true}, Power: 300 * metrics.Watt}), min: time.Millisecond}
	rec2 := &results.Record{}
	if err := Run(context.Background(), testConfig(), []meter.Meter{m2}, []workloads.Workload{&sleepWork{name: "s", per: 2 * time.Millisecond}}, rec2); err != nil {
		t.Fatal(err)
	}
	for _, n := range rec2.Notes {
		if strings.Contains(n, "shorter than") {
			t.Fatalf("note for phases long enough: %q", n)
		}
	}
}

// The first checkpoint is written before any reading is taken: its
// readings are an empty list, as the schema wants, not null.
func TestFirstCheckpointHasReadingsList(t *testing.T) {
	cfg := testConfig()
	first := true
	cfg.Checkpoint = func(r *results.Record) error {
		if first {
			first = false
			b, err := results.Marshal(r)
			if err != nil {
				return err
			}
			if !strings.Contains(string(b), `"readings": []`) {
				t.Errorf("first checkpoint: readings not an empty list:\n%s", b)
			}
		}
		return nil
	}
	rec := &results.Record{}
	if err := Run(context.Background(), cfg, []meter.Meter{meter.DefaultFake()}, []workloads.Workload{&sleepWork{name: "s", per: time.Millisecond}}, rec); err != nil {
		t.Fatal(err)
	}
	if first {
		t.Fatal("no checkpoint")
	}
}
