package meter

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/joulebench/joulebench/metrics"
)

func TestWrapTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap metrics.Energy
		p    metrics.Power
		want time.Duration
		ok   bool
	}{
		// Intel's package range at 50 W: 262143.32885 J ÷ 50 W.
		{"intel package at 50 W", 262143328850, 50 * metrics.Watt, 5242866577000, true},
		// AMD's range at 1.5 kW: 43.688407324666… s, rounded down.
		{"amd package at 1.5 kW", 65532610987, 1500 * metrics.Watt, 43688407324, true},
		{"1 J at 1 W", metrics.Joule, metrics.Watt, time.Second, true},
		{"1 J at 3 W", metrics.Joule, 3 * metrics.Watt, 333333333, true},
		// Rounding down never reaches 0 = no limit.
		{"1 µJ at 1 GW", 1, 1e15, 1, true},
		// Past what a Duration holds: the longest one, still a limit.
		{"huge range at 1 µW", math.MaxInt64, 1, math.MaxInt64, true},
		{"10^10 J at 1 µW", 1e16, 1, math.MaxInt64, true},
		{"no range", 0, metrics.Watt, 0, false},
		{"no power", metrics.Joule, 0, 0, false},
		{"negative range", -1, metrics.Watt, 0, false},
		{"negative power", metrics.Joule, -metrics.Watt, 0, false},
	} {
		got, ok := wrapTime(tc.wrap, tc.p)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: wrapTime(%d µJ, %d µW) = %d ns, %v; want %d ns, %v", tc.name, tc.wrap, tc.p, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMinWrapTime(t *testing.T) {
	ds := []Domain{{Wrap: 10 * metrics.Joule}, {Wrap: 0}, {Wrap: 6 * metrics.Joule}, {Wrap: metrics.Joule}}
	ps := []metrics.Power{metrics.Watt, metrics.Watt, 2 * metrics.Watt, 0}
	// 10 s, never (no range), 3 s, never (no power): 3 s.
	if got := minWrapTime(ds, ps); got != 3*time.Second {
		t.Errorf("minWrapTime = %v, want 3s", got)
	}
	if got := minWrapTime(ds[1:2], ps[1:2]); got != 0 {
		t.Errorf("no domain wraps: %v, want 0 (no limit)", got)
	}
}

// The fake meter draws exactly its power, so its limit is exact: the
// default package wraps every 262143.32885 J ÷ 50 W = 5242.866577 s, before
// its DRAM (65712.999613 J ÷ 5 W = 13142.6 s).
func TestFakeMaxGap(t *testing.T) {
	f := DefaultFake()
	if got, want := f.MaxGap(), 5242866577*time.Microsecond; got != want {
		t.Errorf("DefaultFake MaxGap = %v, want %v", got, want)
	}
	// A gap just under the limit keeps the energy: the counter has not
	// come round. (The harness refuses longer ones.)
	now := time.Unix(0, 0)
	small := NewFake(func() time.Time { return now },
		FakeDomain{Domain: Domain{Name: "p", Wrap: 10 * metrics.Joule}, Power: 4 * metrics.Watt},
		FakeDomain{Domain: Domain{Name: "still", Wrap: metrics.Joule}},         // no power: never wraps
		FakeDomain{Domain: Domain{Name: "nowrap"}, Power: 1000 * metrics.Watt}, // no range
	)
	if got := small.MaxGap(); got != 2500*time.Millisecond {
		t.Fatalf("MaxGap = %v, want 2.5s", got)
	}
	a, _ := small.Read(context.Background())
	now = now.Add(small.MaxGap() - time.Millisecond)
	b, _ := small.Read(context.Background())
	if d, want := b.Energy[0]-a.Energy[0], 9996*metrics.Millijoule; d != want {
		t.Errorf("energy over a gap under the limit = %d µJ, want %d", d, want)
	}
	if MaxGapOf(small) != small.MaxGap() {
		t.Error("MaxGapOf disagrees")
	}
}

// noGapMeter is a meter that declares no gap limit.
type noGapMeter struct{}

func (noGapMeter) Name() string                          { return "nogap" }
func (noGapMeter) Method() Method                        { return External }
func (noGapMeter) Domains() []Domain                     { return nil }
func (noGapMeter) Read(context.Context) (Reading, error) { return Reading{}, nil }
func (noGapMeter) Close() error                          { return nil }

func TestMaxGapOfUndeclared(t *testing.T) {
	if got := MaxGapOf(noGapMeter{}); got != 0 {
		t.Errorf("MaxGapOf a meter without a limit = %v, want 0", got)
	}
}
