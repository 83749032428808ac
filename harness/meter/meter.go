package meter

import (
	"context"
	"math"
	"math/bits"
	"time"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// Method says how a meter obtains energy.
type Method string

// The methods, strongest first. Their string values are the record's.
const (
	Counter      Method = results.MethodCounter
	SampledPower Method = results.MethodSampledPower
	External     Method = results.MethodExternal
	Model        Method = results.MethodModel
	// Synthetic is the fake meter's: numbers made up for tests and demos.
	// DESIGN.md lists four methods; a fifth keeps a fake figure from ever
	// passing as a counter reading in a record or a certificate.
	Synthetic Method = results.MethodSynthetic
)

// Estimated reports whether figures from this method are estimates.
func (m Method) Estimated() bool { return m == Model }

// Kind is what a domain covers.
type Kind string

// Domain kinds.
const (
	KindPackage Kind = "package" // a CPU socket
	KindCore    Kind = "core"    // the cores of a package (inside it)
	KindUncore  Kind = "uncore"  // the package's uncore or integrated GPU (inside it)
	KindDRAM    Kind = "dram"    // memory attached to a package (outside it)
	KindPsys    Kind = "psys"    // the whole platform as RAPL sees it (overlaps package)
	KindGPU     Kind = "gpu"
	KindNode    Kind = "node" // a whole machine
)

// Domain is one thing a meter measures.
type Domain struct {
	// Name is unique within a run, e.g. "package-0", "dram-1".
	Name string
	Kind Kind
	// Parent is the domain this one lies inside, "" for none.
	Parent string
	// Wrap is the counter's range (RAPL's max_energy_range_uj): past it
	// the counter starts again from zero. Zero means it does not wrap.
	Wrap metrics.Energy
	// InTotal says whether the domain is added to the node total. A domain
	// inside another (core in package) or overlapping one (psys) is not.
	InTotal bool
}

// Reading is the cumulative energy of each domain, in Domains() order, at
// one instant. Counter values are raw: they may have wrapped.
type Reading struct {
	Time   time.Time
	Energy []metrics.Energy
}

// Meter reads cumulative energy. Implementations need not be safe for
// concurrent use: the harness reads each meter from one goroutine.
type Meter interface {
	Name() string
	Method() Method
	Domains() []Domain
	Read(ctx context.Context) (Reading, error)
	Close() error
}

// Describer is implemented by meters that can say where their figures come
// from (a sysfs path, a TDP table row) and what to keep in mind.
type Describer interface {
	Source() string
	Notes() []string
}

// GapLimiter is implemented by meters whose readings lose energy when they
// are taken too far apart. MaxGap is the longest time that may pass
// between two readings without a counter wrap hiding in it: the minimum,
// over the domains that wrap, of the domain's range divided by the highest
// power it can draw. Zero means no limit. The harness refuses a
// repetition whose readings leave a longer gap (a meter that failed its
// reads while the counter wrapped would otherwise undercount, silently).
type GapLimiter interface {
	MaxGap() time.Duration
}

// MaxGapOf returns m's MaxGap, or 0 (no limit) when m declares none.
func MaxGapOf(m Meter) time.Duration {
	if g, ok := m.(GapLimiter); ok {
		return g.MaxGap()
	}
	return 0
}

// wrapTime is how long a counter of range wrap takes to come round at
// power p: wrap ÷ p, in exact integer arithmetic (µJ ÷ µW = s), rounded
// down to the nanosecond so that the limit is never later than the wrap.
// It is at least 1 ns, so that it cannot read as 0 = no limit, and at most
// the longest time.Duration. ok is false when the counter never wraps: no
// range, or no power.
func wrapTime(wrap metrics.Energy, p metrics.Power) (d time.Duration, ok bool) {
	if wrap <= 0 || p <= 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(wrap), uint64(time.Second))
	if hi >= uint64(p) { // the quotient needs more than 64 bits
		return math.MaxInt64, true
	}
	q, _ := bits.Div64(hi, lo, uint64(p))
	switch {
	case q > math.MaxInt64:
		return math.MaxInt64, true
	case q == 0:
		return 1, true
	}
	return time.Duration(q), true
}

// minWrapTime is the MaxGap of domains that draw at most powers[i]: the
// shortest wrapTime among them, 0 when none wraps.
func minWrapTime(domains []Domain, powers []metrics.Power) time.Duration {
	var gap time.Duration
	for i, d := range domains {
		if t, ok := wrapTime(d.Wrap, powers[i]); ok && (gap == 0 || t < gap) {
			gap = t
		}
	}
	return gap
}

// TraceSample is one telemetry sample a meter took besides energy, at
// Time; the harness stores it in the record's trace.
type TraceSample struct {
	Time time.Time
	results.TraceSample
}

// Tracer is implemented by meters that report telemetry besides energy (a
// GPU's power, clocks, temperature, utilisation, throttle reasons and
// processes). Trace returns the samples taken since its last call, in time
// order, and forgets them. It may be called while a Read is in progress.
type Tracer interface {
	Trace() []TraceSample
}

// DeviceDescriber is implemented by meters that read devices worth
// describing one by one in the record (a GPU's name, UUID, driver, power
// limit and blind spots).
type DeviceDescriber interface {
	Devices() []results.Device
}

// MinPhaser is implemented by meters that cannot measure short phases
// well: MinPhase is the shortest phase whose energy they give to within a
// few percent (a counter updated every 100 ms, power averaged over 1 s).
// Shorter phases are flagged in the record's notes, not refused.
type MinPhaser interface {
	MinPhase() time.Duration
}

// MinPhaseOf returns m's MinPhase, or 0 when m declares none.
func MinPhaseOf(m Meter) time.Duration {
	if p, ok := m.(MinPhaser); ok {
		return p.MinPhase()
	}
	return 0
}

// MinReper is implemented by meters that cannot measure a short
// repetition at all, not merely less well: a BMC that updates its reading
// every 30 to 60 s, and lags a change of load, gives a repetition shorter
// than a few update intervals the energy of some other time. MinRep is
// the shortest repetition it can measure; the record keeps it (min_rep_s)
// and shorter repetitions are invalid.
type MinReper interface {
	MinRep() time.Duration
}

// MinRepOf returns m's MinRep, or 0 when m declares none.
func MinRepOf(m Meter) time.Duration {
	if p, ok := m.(MinReper); ok {
		return p.MinRep()
	}
	return 0
}

// Insecurer is implemented by meters that reach their device over TLS and
// may have been told not to verify it (--redfish-insecure): the record
// says so, and certify grants such readings no level 3.
type Insecurer interface {
	Insecure() bool
}
