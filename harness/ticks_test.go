package harness

import (
	"context"
	"testing"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
)

// Both tick sources tick, and stop ends a wait at once even when the next
// tick is an hour away.
func TestTicks(t *testing.T) {
	for name, mk := range map[string]func(time.Duration) ticks{
		"native": newTicks,
		"go":     func(d time.Duration) ticks { return newGoTicks(d) },
	} {
		t.Run(name, func(t *testing.T) {
			tk := mk(5 * time.Millisecond)
			t0 := time.Now()
			for range 4 {
				if !tk.wait() {
					t.Fatal("wait returned false before stop")
				}
			}
			if d := time.Since(t0); d < 15*time.Millisecond {
				t.Errorf("4 ticks of 5 ms took %v: not waiting", d)
			}
			tk.stop()
			tk.stop() // twice is fine
			if tk.wait() {
				t.Error("wait after stop returned true")
			}

			tk = mk(time.Hour)
			got := make(chan bool)
			go func() { got <- tk.wait() }()
			time.Sleep(10 * time.Millisecond)
			t1 := time.Now()
			tk.stop()
			select {
			case ok := <-got:
				if ok {
					t.Error("stopped wait returned true")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("stop did not end a wait")
			}
			t.Logf("stop ended the wait in %v", time.Since(t1))
		})
	}
}

// Cancelling the sampler's context stops the periodic reads; edges taken
// after stop fail rather than record out of order. (Run keeps the sampler's
// context alive past an interrupt, so that its last edges are read.)
func TestSamplerStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := startSampler(ctx, []meter.Meter{meter.DefaultFake()}, 2*time.Millisecond, 0)
	if _, err := s.edge("a"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	cancel()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("cancel did not stop the sampler")
	}
	series, labels, faults := s.snapshot()
	if len(faults) > 0 {
		t.Fatal(faults[0].err)
	}
	if len(series[0]) < 3 || labels[0][0] != "a" {
		t.Errorf("want the edge and some ticks, got %d readings, labels %q", len(series[0]), labels[0])
	}
	s.stop()
	s.stop()
	if _, err := s.edge("late"); err == nil {
		t.Error("edge after stop succeeded")
	}
	for i := 1; i < len(series[0]); i++ {
		if series[0][i].Time.Before(series[0][i-1].Time) {
			t.Fatalf("readings out of order at %d", i)
		}
	}
}
