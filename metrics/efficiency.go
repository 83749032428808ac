package metrics

import (
	"math"
	"sort"
	"time"

	"github.com/joulebench/joulebench/results"
)

// FLOPsPerJoule is work per unit of energy. One FLOP per joule is one FLOP/s
// per watt, so FLOPsPerJoule(f, e)/1e9 is the GFLOPS/W of a run.
// It is NaN when e is not positive.
func FLOPsPerJoule(flops float64, e Energy) float64 {
	if e <= 0 {
		return math.NaN()
	}
	return flops / e.Joules()
}

// FLOPsPerSecond is throughput; NaN when d is not positive.
func FLOPsPerSecond(flops float64, d time.Duration) float64 {
	if d <= 0 {
		return math.NaN()
	}
	return flops / d.Seconds()
}

// JoulesPerItem is the energy of one unit of work; NaN when items is zero.
func JoulesPerItem(e Energy, items int64) float64 {
	if items <= 0 {
		return math.NaN()
	}
	return e.Joules() / float64(items)
}

// NetOfIdle is the energy above the idle baseline: gross minus what the
// idle power would have drawn over the same time. It can be negative when
// a workload draws less than idle did, and is reported beside gross, never
// instead of it.
func NetOfIdle(gross Energy, idle Power, d time.Duration) Energy {
	return gross - idle.Over(d)
}

// grossPerItem is JoulesPerItem of a gross energy, NaN when the meters
// counted none: zero joules per item would read as a perfect result,
// where the truth is that nothing was measured. (Net energy may be zero
// or negative and still mean something: less than idle.)
func grossPerItem(gross Energy, items int64) float64 {
	if gross <= 0 {
		return math.NaN()
	}
	return JoulesPerItem(gross, items)
}

// Seconds converts a duration in seconds, as records keep them, to a Duration.
func Seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// TotalDomains returns the names of the domains that add up to the node
// total: those marked in_total, so that a subzone inside its package (core,
// uncore) or an overlapping view (psys, a second MMIO view of a package) is
// never counted twice.
func TotalDomains(rec *results.Record) []string {
	var out []string
	for _, m := range rec.Meters {
		for _, d := range m.Domains {
			if d.InTotal {
				out = append(out, d.Name)
			}
		}
	}
	return out
}

// Total sums the energy of the named domains; a domain missing from
// byDomain counts as zero.
func Total(byDomain map[string]float64, domains []string) Energy {
	var e Energy
	for _, d := range domains {
		e += FromJoules(byDomain[d])
	}
	return e
}

// Estimated reports whether any domain that counts in the total comes from
// a modelled meter; every figure derived from the record is then an
// estimate and must say so.
func Estimated(rec *results.Record) bool {
	for _, m := range rec.Meters {
		if m.Method != results.MethodModel && !m.Estimated {
			continue
		}
		for _, d := range m.Domains {
			if d.InTotal {
				return true
			}
		}
	}
	return false
}

// Synthetic reports whether any meter of the record is synthetic (the fake
// meter): its figures describe no hardware.
func Synthetic(rec *results.Record) bool {
	for _, m := range rec.Meters {
		if m.Method == results.MethodSynthetic {
			return true
		}
	}
	return false
}

// IdlePower is the average total power of the idle baseline, zero when the
// record has none.
func IdlePower(rec *results.Record) Power {
	if rec.Idle == nil || rec.Idle.DurationS <= 0 {
		return 0
	}
	return AveragePower(Total(rec.Idle.EnergyJ, TotalDomains(rec)), Seconds(rec.Idle.DurationS))
}

// RepFigures are the figures of one repetition, all from the node total.
type RepFigures struct {
	Duration time.Duration
	Gross    Energy // everything the total domains counted
	Net      Energy // gross minus the idle baseline over the same time
	Power    Power  // average gross power
	FLOPS    float64
	// FLOPsPerJ is gross FLOPs per joule; NetFLOPsPerJ uses net energy.
	FLOPsPerJ    float64
	NetFLOPsPerJ float64
	JPerItem     float64
	NetJPerItem  float64
}

// Rep computes the figures of one repetition.
func Rep(r results.Rep, domains []string, idle Power) RepFigures {
	d := Seconds(r.DurationS)
	gross := Total(r.EnergyJ, domains)
	net := NetOfIdle(gross, idle, d)
	f := RepFigures{
		Duration:     d,
		Gross:        gross,
		Net:          net,
		Power:        AveragePower(gross, d),
		FLOPS:        FLOPsPerSecond(r.Work.FLOPs, d),
		FLOPsPerJ:    FLOPsPerJoule(r.Work.FLOPs, gross),
		NetFLOPsPerJ: FLOPsPerJoule(r.Work.FLOPs, net),
		JPerItem:     grossPerItem(gross, r.Work.Items),
		NetJPerItem:  JoulesPerItem(net, r.Work.Items),
	}
	if r.Work.FLOPs == 0 {
		// A workload that counts no FLOPs (a training job to a target)
		// has no FLOP figures; 0 FLOP/s would read as measured.
		nan := math.NaN()
		f.FLOPS, f.FLOPsPerJ, f.NetFLOPsPerJ = nan, nan, nan
	}
	return f
}

// Figure names, the keys of Summary.Stats.
const (
	FigFLOPS        = "flops_per_s"
	FigFLOPsPerJ    = "flops_per_j"
	FigNetFLOPsPerJ = "net_flops_per_j"
	FigJPerItem     = "j_per_item"
	FigNetJPerItem  = "net_j_per_item"
	FigPowerW       = "power_w"
)

// Summary is a workload's figures: per repetition, their medians, and the
// statistics of each over the repetitions.
type Summary struct {
	Name      string
	Reps      []RepFigures
	Median    RepFigures
	Stats     map[string]Stats
	Validity  Validity
	Estimated bool
	Error     string
}

// Summarize computes every workload's figures from the record's raw
// numbers.
func Summarize(rec *results.Record) []Summary {
	domains := TotalDomains(rec)
	idle := IdlePower(rec)
	est := Estimated(rec)
	out := make([]Summary, 0, len(rec.Workloads))
	for _, w := range rec.Workloads {
		s := Summary{Name: w.Name, Estimated: est, Error: w.Error}
		for _, r := range w.Reps {
			s.Reps = append(s.Reps, Rep(r, domains, idle))
		}
		s.Median = medianFigures(s.Reps)
		s.Stats = repStats(s.Reps)
		s.Validity = Validate(rec, w, s.Stats[FigJPerItem])
		out = append(out, s)
	}
	return out
}

func medianFigures(reps []RepFigures) RepFigures {
	if len(reps) == 0 {
		nan := math.NaN()
		return RepFigures{FLOPS: nan, FLOPsPerJ: nan, NetFLOPsPerJ: nan, JPerItem: nan, NetJPerItem: nan}
	}
	f := func(get func(RepFigures) float64) float64 {
		v := make([]float64, len(reps))
		for i, r := range reps {
			v[i] = get(r)
		}
		return Median(v)
	}
	return RepFigures{
		Duration:     time.Duration(f(func(r RepFigures) float64 { return float64(r.Duration) })),
		Gross:        Energy(f(func(r RepFigures) float64 { return float64(r.Gross) })),
		Net:          Energy(f(func(r RepFigures) float64 { return float64(r.Net) })),
		Power:        Power(f(func(r RepFigures) float64 { return float64(r.Power) })),
		FLOPS:        f(func(r RepFigures) float64 { return r.FLOPS }),
		FLOPsPerJ:    f(func(r RepFigures) float64 { return r.FLOPsPerJ }),
		NetFLOPsPerJ: f(func(r RepFigures) float64 { return r.NetFLOPsPerJ }),
		JPerItem:     f(func(r RepFigures) float64 { return r.JPerItem }),
		NetJPerItem:  f(func(r RepFigures) float64 { return r.NetJPerItem }),
	}
}

// Median is the middle value of v (the mean of the two middle values for an
// even count), ignoring NaNs as Describe does; NaN for no values. v is not
// modified.
func Median(v []float64) float64 {
	s := finite(v)
	if len(s) == 0 {
		return math.NaN()
	}
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func repStats(reps []RepFigures) map[string]Stats {
	values := func(get func(RepFigures) float64) []float64 {
		v := make([]float64, len(reps))
		for i, r := range reps {
			v[i] = get(r)
		}
		return v
	}
	// Gross figures cannot be negative; net ones can (less than idle).
	col := func(get func(RepFigures) float64) Stats { return DescribeNonNegative(values(get)) }
	signed := func(get func(RepFigures) float64) Stats { return Describe(values(get)) }
	return map[string]Stats{
		FigFLOPS:        col(func(r RepFigures) float64 { return r.FLOPS }),
		FigFLOPsPerJ:    col(func(r RepFigures) float64 { return r.FLOPsPerJ }),
		FigNetFLOPsPerJ: signed(func(r RepFigures) float64 { return r.NetFLOPsPerJ }),
		FigJPerItem:     col(func(r RepFigures) float64 { return r.JPerItem }),
		FigNetJPerItem:  signed(func(r RepFigures) float64 { return r.NetJPerItem }),
		FigPowerW: col(func(r RepFigures) float64 {
			// A repetition whose meters counted nothing has no power
			// figure: 0 W would read as measured.
			if r.Gross <= 0 {
				return math.NaN()
			}
			return r.Power.Watts()
		}),
	}
}
