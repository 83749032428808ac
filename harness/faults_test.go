package harness

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
)

// faultyMeter is a meter that fails as a test says: each read asks fail,
// given the read's number (from 1); a nil answer reads the fake meter
// under it. block, if set, makes reads from that number on hang until the
// test ends, as a read of a wedged sysfs file would.
type faultyMeter struct {
	*meter.Fake
	calls   atomic.Int64
	fail    func(call int64) error
	blockAt int64
	release chan struct{}
	maxGap  time.Duration
}

func (f *faultyMeter) Read(ctx context.Context) (meter.Reading, error) {
	n := f.calls.Add(1)
	if f.blockAt > 0 && n >= f.blockAt {
		<-f.release
		return meter.Reading{}, errors.New("released")
	}
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return meter.Reading{}, err
		}
	}
	return f.Fake.Read(ctx)
}

func (f *faultyMeter) MaxGap() time.Duration { return f.maxGap }

// fastWrapFake draws 50 W from a package counter whose range is 20 J, so
// that it wraps every 0.4 s: a gap of more than 0.4 s between readings
// loses whole wraps.
func fastWrapFake() *meter.Fake {
	return meter.NewFake(nil, meter.FakeDomain{
		Domain: meter.Domain{Name: "package-0", Kind: meter.KindPackage, Wrap: 20 * metrics.Joule, InTotal: true},
		Power:  50 * metrics.Watt, Start: 5 * metrics.Joule,
	})
}

var errInjected = errors.New("injected read failure")

// The cheat of item 8: a meter that fails its periodic reads for longer than
// its counter takes to wrap, while the edges still read. Before the fix the
// repetition came out at about 35 W instead of 50 W with complete=true and
// valid=true; now it is marked, and invalid with the reason.
func TestTickFaultsDuringWrapInvalidate(t *testing.T) {
	var failing atomic.Bool
	m := &faultyMeter{Fake: fastWrapFake(), maxGap: 400 * time.Millisecond}
	m.fail = func(int64) error {
		if failing.Load() {
			return errInjected
		}
		return nil
	}
	cfg := Config{Interval: 10 * time.Millisecond, Warmup: 10 * time.Millisecond, MinTime: 1200 * time.Millisecond, Reps: 2}
	var wg sync.WaitGroup
	cfg.Progress = func(e Event) {
		if e.Phase == "rep" && e.Rep == 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(150 * time.Millisecond)
				failing.Store(true)
				time.Sleep(900 * time.Millisecond)
				failing.Store(false)
			}()
		}
	}
	w := &sleepWork{name: "sleep-wrap", per: 2 * time.Millisecond, flops: 1}
	rec := &results.Record{}
	err := Run(context.Background(), cfg, []meter.Meter{m}, []workloads.Workload{w}, rec)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Complete {
		t.Fatalf("tick failures alone must not end the run: %s", rec.IncompleteReason)
	}
	if rec.Meters[0].MaxGapS != 0.4 {
		t.Errorf("meter's max gap not recorded: %v", rec.Meters[0].MaxGapS)
	}
	reps := rec.Workloads[0].Reps
	if len(reps) != 2 || len(reps[0].MeterFaults) != 0 || len(reps[1].MeterFaults) == 0 {
		t.Fatalf("want faults in repetition 2 only, got %v / %v", reps[0].MeterFaults, reps[len(reps)-1].MeterFaults)
	}
	if !strings.Contains(reps[1].MeterFaults[0], "injected read failure") || !strings.Contains(reps[1].MeterFaults[0], "periodic reading") {
		t.Errorf("fault not described: %q", reps[1].MeterFaults[0])
	}
	// The repetition lost wraps: its power is well under 50 W.
	p := reps[1].EnergyJ["package-0"] / reps[1].DurationS
	if p > 45 {
		t.Errorf("repetition 2 counted %.1f W; the test meant it to lose a wrap", p)
	}
	if p0 := reps[0].EnergyJ["package-0"] / reps[0].DurationS; p0 < 49 || p0 > 51 {
		t.Errorf("repetition 1 counted %.1f W, want 50", p0)
	}
	s := metrics.Summarize(rec)[0]
	failed := strings.Join(s.Validity.Failed(), "\n")
	if s.Validity.Valid || !strings.Contains(failed, "meter reads: a meter read failed during repetition 2") ||
		!strings.Contains(failed, "reading gaps: repetition 2: meter fake went") {
		t.Errorf("repetition 2 must make the workload invalid, saying why; got valid=%v:\n%s", s.Validity.Valid, failed)
	}
}

// edgesOnly reads only at phase edges, so read number n is a known edge:
// 1 idle-start, 2 idle-end, 3 warmup-start, 4 warmup-end, 5 rep-0-start,
// 6 rep-0-end, 7 rep-1-start, 8 rep-1-end, ...
func edgesOnly() Config {
	return Config{Idle: 20 * time.Millisecond, Warmup: 5 * time.Millisecond, MinTime: 20 * time.Millisecond, Reps: 3}
}

// A meter that fails at an edge ends the run there: the phase's energy
// cannot be known. The record says the meter failed, keeps the finished
// repetition, and does not blame the workload.
func TestEdgeFaultIsAMeterFailure(t *testing.T) {
	cases := map[string]func(int64) error{
		"at one edge": func(n int64) error {
			if n == 8 {
				return errInjected
			}
			return nil
		},
		"permanently": func(n int64) error {
			if n >= 7 {
				return errInjected
			}
			return nil
		},
	}
	for name, fail := range cases {
		t.Run(name, func(t *testing.T) {
			m := &faultyMeter{Fake: meter.DefaultFake(), fail: fail}
			rec := &results.Record{}
			err := Run(context.Background(), edgesOnly(), []meter.Meter{m}, []workloads.Workload{&sleepWork{name: "w", per: time.Millisecond}}, rec)
			if err == nil || errors.Is(err, ErrWorkloadFailed) || !errors.Is(err, errInjected) {
				t.Fatalf("want a meter failure, got %v", err)
			}
			if rec.Complete || !strings.Contains(rec.IncompleteReason, "meter failed") || !strings.Contains(rec.IncompleteReason, "read meter fake") {
				t.Errorf("incomplete reason must name the meter: complete=%v %q", rec.Complete, rec.IncompleteReason)
			}
			if len(rec.Workloads) != 1 || rec.Workloads[0].Error != "" {
				t.Fatalf("the workload did not fail; got %+v", rec.Workloads)
			}
			if n := len(rec.Workloads[0].Reps); n != 1 {
				t.Errorf("want the finished repetition kept, got %d", n)
			}
			for _, r := range rec.Workloads[0].Reps {
				if msg := metrics.CheckRep(rec, r); msg != "" {
					t.Errorf("kept repetition disagrees with its readings: %s", msg)
				}
			}
		})
	}
}

// runHung runs a workload under m, which hangs at its read blockAt, and
// requires the run to end within 20 s, marked as a hung meter.
func runHung(t *testing.T, m *faultyMeter, cfg Config) {
	t.Helper()
	rec := &results.Record{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), cfg, []meter.Meter{m}, []workloads.Workload{&sleepWork{name: "w", per: time.Millisecond}}, rec)
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrMeterHung) {
			t.Fatalf("want ErrMeterHung, got %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a hung meter read hung the run")
	}
	if rec.Complete || !strings.Contains(rec.IncompleteReason, "did not return in time") {
		t.Errorf("record must say the meter hung: %q", rec.IncompleteReason)
	}
}

// A read that never returns (a FIFO or a wedged file under --sysfs-root)
// cannot hang the run: after the read timeout the meter is declared hung,
// never read again, and the run ends, marked.
func TestHungMeterCannotHangTheRun(t *testing.T) {
	m := &faultyMeter{Fake: meter.DefaultFake(), blockAt: 7, release: make(chan struct{})}
	defer close(m.release)
	cfg := edgesOnly()
	cfg.ReadTimeout = 100 * time.Millisecond
	runHung(t, m, cfg)
	if got := m.calls.Load(); got != 7 {
		t.Errorf("a hung meter was read again: %d reads", got)
	}
}

// A periodic read that never returns blocks the sampling goroutine; the
// next edge finds the meter still busy after the read timeout, declares it
// hung, and the run ends, marked; stopping the sampler does not wait for
// the blocked goroutine for ever.
func TestHungTickCannotHangTheRun(t *testing.T) {
	m := &faultyMeter{Fake: meter.DefaultFake(), blockAt: 25, release: make(chan struct{})}
	defer close(m.release)
	cfg := edgesOnly()
	cfg.Interval, cfg.MinTime, cfg.ReadTimeout = 5*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
	runHung(t, m, cfg)
}

// Every repetition's answer is checked, and the warm-up's, each after its
// calls; a check that fails in repetition 2 is kept with that repetition
// and ends the workload.
func TestEveryRepetitionChecked(t *testing.T) {
	w := &countingCheck{sleepWork: sleepWork{name: "w", per: time.Millisecond}, failAt: 3}
	rec := &results.Record{}
	err := Run(context.Background(), edgesOnly(), []meter.Meter{meter.DefaultFake()}, []workloads.Workload{w}, rec)
	if !errors.Is(err, ErrWorkloadFailed) {
		t.Fatalf("want a failed workload, got %v", err)
	}
	wl := rec.Workloads[0]
	if len(wl.Reps) != 2 || wl.Reps[0].Check == nil || !wl.Reps[0].Check.OK || wl.Reps[1].Check == nil || wl.Reps[1].Check.OK {
		t.Fatalf("want repetition 1 checked OK and repetition 2 failed, got %+v", wl.Reps)
	}
	if wl.Reps[1].Check.Verdict != workloads.VerdictWrong || wl.Check == nil || wl.Check.OK {
		t.Errorf("the failed check must be the workload's, with a verdict: %+v %+v", wl.Reps[1].Check, wl.Check)
	}
	if !strings.Contains(wl.Error, "repetition 2: check") {
		t.Errorf("workload error %q", wl.Error)
	}
	// The warm-up was checked first: three checks for two repetitions.
	if w.checks != 3 {
		t.Errorf("want 3 checks (warm-up, rep 1, rep 2), got %d", w.checks)
	}
}

type countingCheck struct {
	sleepWork
	checks int
	failAt int
}

func (w *countingCheck) Check(context.Context) (workloads.Check, error) {
	w.checks++
	if w.checks == w.failAt {
		return workloads.Check{Name: "count", Value: 1, Limit: 0}, nil
	}
	return workloads.Check{Name: "count", OK: true}, nil
}

// The record is handed out as the run goes: after the meters are known,
// after the idle baseline and warm-up, and after every repetition, each
// copy marked in progress and consistent with its own readings.
func TestCheckpoints(t *testing.T) {
	var snaps []*results.Record
	cfg := edgesOnly()
	cfg.Interval = 5 * time.Millisecond
	cfg.Checkpoint = func(r *results.Record) error {
		b, err := results.Marshal(r)
		if err != nil {
			return err
		}
		c, err := results.Decode(b)
		if err != nil {
			t.Errorf("checkpoint does not decode: %v", err)
			return err
		}
		snaps = append(snaps, c)
		return nil
	}
	rec := &results.Record{SchemaVersion: results.SchemaVersion}
	if err := Run(context.Background(), cfg, []meter.Meter{meter.DefaultFake()}, []workloads.Workload{&sleepWork{name: "w", per: time.Millisecond}}, rec); err != nil {
		t.Fatal(err)
	}
	// start, idle, warm-up, 3 repetitions
	if len(snaps) != 6 {
		t.Fatalf("want 6 checkpoints, got %d", len(snaps))
	}
	for i, s := range snaps {
		if s.Complete || s.IncompleteReason != InProgressReason {
			t.Errorf("checkpoint %d not marked in progress", i)
		}
		reps := 0
		for _, w := range s.Workloads {
			reps += len(w.Reps)
			for _, r := range w.Reps {
				if msg := metrics.CheckRep(s, r); msg != "" {
					t.Errorf("checkpoint %d: %s", i, msg)
				}
			}
		}
		if want := max(0, i-2); reps != want {
			t.Errorf("checkpoint %d has %d repetitions, want %d", i, reps, want)
		}
	}
	if !rec.Complete {
		t.Error("the run itself must end complete")
	}
}
