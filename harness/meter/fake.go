package meter

import (
	"context"
	"time"

	"github.com/joulebench/joulebench/metrics"
)

// Fake is a deterministic meter for tests and demos: each domain's counter
// advances at a fixed power, in step with a clock that the caller may
// replace, and wraps at its range like a real counter.
type Fake struct {
	domains []Domain
	powers  []metrics.Power
	now     func() time.Time
	start   time.Time
	base    []metrics.Energy
}

var (
	_ Meter      = (*Fake)(nil)
	_ GapLimiter = (*Fake)(nil)
)

// FakeDomain is one fake domain and the constant power it draws.
type FakeDomain struct {
	Domain
	Power metrics.Power
	// Start is the counter value at time zero.
	Start metrics.Energy
}

// NewFake returns a fake meter. now may be nil for the wall clock.
func NewFake(now func() time.Time, domains ...FakeDomain) *Fake {
	if now == nil {
		now = time.Now
	}
	f := &Fake{now: now, start: now()}
	for _, d := range domains {
		f.domains = append(f.domains, d.Domain)
		f.powers = append(f.powers, d.Power)
		f.base = append(f.base, d.Start)
	}
	return f
}

// DefaultFake is the meter behind --meter fake: one package at 50 W and its
// DRAM at 5 W, with a counter range small enough to wrap within a run.
func DefaultFake() *Fake {
	return NewFake(nil,
		FakeDomain{Domain: Domain{Name: "package-0", Kind: KindPackage, Wrap: 262143328850, InTotal: true}, Power: 50 * metrics.Watt, Start: 262143328850 - 30*metrics.Joule},
		FakeDomain{Domain: Domain{Name: "dram-0", Kind: KindDRAM, Wrap: 65712999613, InTotal: true}, Power: 5 * metrics.Watt},
	)
}

// Name implements Meter.
func (f *Fake) Name() string { return "fake" }

// Method implements Meter.
func (f *Fake) Method() Method { return Synthetic }

// Domains implements Meter.
func (f *Fake) Domains() []Domain { return f.domains }

// Read implements Meter.
func (f *Fake) Read(ctx context.Context) (Reading, error) {
	if err := ctx.Err(); err != nil {
		return Reading{}, err
	}
	t := f.now()
	el := t.Sub(f.start)
	r := Reading{Time: t, Energy: make([]metrics.Energy, len(f.domains))}
	for i, d := range f.domains {
		v := f.base[i] + f.powers[i].Over(el)
		if d.Wrap > 0 {
			v %= d.Wrap
		}
		r.Energy[i] = v
	}
	return r, nil
}

// MaxGap implements GapLimiter. A fake domain draws exactly its power, so
// its counter wraps exactly every Wrap ÷ Power: the shortest of these is
// the limit (0 when no domain both wraps and draws power).
func (f *Fake) MaxGap() time.Duration { return minWrapTime(f.domains, f.powers) }

// Source implements Describer.
func (f *Fake) Source() string { return "synthetic constant power (not a measurement)" }

// Notes implements Describer.
func (f *Fake) Notes() []string {
	return []string{"fake meter: figures are synthetic, for tests and demos only"}
}

// Close implements Meter.
func (f *Fake) Close() error { return nil }
