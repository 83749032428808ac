package carbon

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// Options are a user's carbon choices for a run.
type Options struct {
	// Region is a table code; "" means the world average. Ignored when
	// Series is set.
	Region string
	// Series, if set, weights each part of the run's energy by the
	// intensity at its time.
	Series *Series
	// PUE is the data centre's power usage effectiveness; 0 means 1.0.
	PUE float64
	// Embodied is the device's embodied carbon, nil when unknown. Device
	// names it and Share is the fraction of the device the run used.
	Embodied *Embodied
	Device   string
	Share    float64
}

// Account builds the record's carbon section for a run that took place
// from start to end and measured the given domains. A time series must
// cover the whole run: joulebench does not extrapolate intensity.
func Account(opts Options, start, end time.Time, domains []string) (*results.Carbon, error) {
	pue := opts.PUE
	if pue == 0 {
		pue = DefaultPUE
	}
	c := &results.Carbon{
		PUE:      pue,
		Boundary: Boundary(domains),
	}
	if opts.Series != nil {
		s := opts.Series
		if _, ok := s.At(start); !ok || end.After(s.End()) {
			return nil, fmt.Errorf("carbon: intensity file %s covers %s to %s, but the run went from %s to %s; give a file that covers the run, or --region",
				s.Name, s.Points[0].Time.UTC().Format(time.RFC3339), s.End().UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
		}
		c.Method = results.CarbonSeries
		c.Source = s.Describe()
		c.Notes = append(c.Notes, s.Notes...)
		c.SeriesStepS = s.Step.Seconds()
		sum, n := 0.0, 0
		for i, p := range s.Points {
			next := s.End()
			if i+1 < len(s.Points) {
				next = s.Points[i+1].Time
			}
			if next.After(start) && !p.Time.After(end) {
				c.Series = append(c.Series, results.IntensityPoint{T: p.Time, GramsPerKWh: p.GramsPerKWh})
				sum += p.GramsPerKWh
				n++
			}
		}
		// A placeholder until the caller knows the repetitions' energy:
		// EffectiveIntensity replaces it with the energy-weighted figure.
		c.GramsPerKWh = sum / float64(n)
	} else {
		code := opts.Region
		if code == "" {
			code = DefaultRegion
			c.Notes = append(c.Notes, "no --region given: the world average is used, which says nothing about where this machine is")
		}
		in, err := Lookup(code)
		if err != nil {
			return nil, err
		}
		c.Method, c.Region, c.GramsPerKWh, c.Year = results.CarbonAnnual, in.Code, in.GramsPerKWh, in.Year
		if in.Basis() == BasisDirect {
			c.Notes = append(c.Notes, DirectNote)
		}
		c.Source = fmt.Sprintf("%s (%s), %d: %s", in.Code, in.Name, in.Year, in.Source)
		c.TableVersion = TableVersion()
	}
	if opts.Embodied != nil && opts.Embodied.Known() {
		share := opts.Share
		if share == 0 {
			share = 1
		}
		c.Embodied = &results.EmbodiedCarbon{Device: opts.Device, KgCO2e: opts.Embodied.KgCO2e,
			LifetimeYears: opts.Embodied.LifetimeYears, Share: share, Source: opts.Embodied.Source}
	}
	return c, nil
}

// EffectiveIntensity is the intensity the repetitions' energy actually met
// under c: their operational grams over their kWh (before PUE). For an
// annual average it is that average; for a time series it is the series
// weighted by when the energy was spent, which a plain mean of the points
// is not.
func EffectiveIntensity(rec *results.Record, c *results.Carbon) (float64, error) {
	domains := metrics.TotalDomains(rec)
	edges := metrics.IndexEdges(rec)
	var grams, kwh float64
	for _, w := range rec.Workloads {
		for _, r := range w.Reps {
			rc, err := repCarbon(rec, edges, c, r)
			if err != nil {
				return 0, err
			}
			grams += rc.Operational / c.PUE
			kwh += metrics.Total(r.EnergyJ, domains).KWh()
		}
	}
	if kwh <= 0 {
		return c.GramsPerKWh, nil
	}
	return grams / kwh, nil
}

// Boundary states what the energy covers, for the SCI's software boundary.
func Boundary(domains []string) string {
	if len(domains) == 0 {
		return "no metered domain"
	}
	gpu, cpu := false, false
	for _, d := range domains {
		// NVML names its domains gpu-N.
		if strings.HasPrefix(d, "gpu-") {
			gpu = true
		} else {
			cpu = true
		}
	}
	what, other := "CPU packages and their DRAM", "other devices"
	switch {
	case gpu && cpu:
		what, other = "CPU packages, their DRAM and GPUs", "devices not listed"
	case gpu:
		what, other = "GPUs", "the CPUs, their memory, other devices"
	}
	return "the metered domains " + strings.Join(domains, ", ") +
		" (" + what + " as the meters see them), times PUE; not included: " + other + ", network, storage, and the rest of the node unless a node meter is used"
}

// RepCarbon is the carbon of one repetition, in grams of CO2e.
type RepCarbon struct {
	// Operational is E × PUE × I: the energy's emissions at the grid.
	Operational float64
	// Embodied is the repetition's share of the device's embodied carbon;
	// NaN when not included.
	Embodied float64
	// Total is Operational plus Embodied when known, else Operational.
	Total float64
	// PerItem is Total per functional unit (a GEMM call, an inference):
	// the SCI score of ISO/IEC 21031, (E·I + M) / R.
	PerItem float64
	// PerGFLOP is Total per 10⁹ FLOPs: the SCI with R = one GFLOP.
	PerGFLOP float64
}

// Grams converts an energy to operational grams CO2e at an intensity and
// PUE: kWh × PUE × gCO2e/kWh.
func Grams(e metrics.Energy, gPerKWh, pue float64) float64 {
	return e.KWh() * pue * gPerKWh
}

// SCI is the Software Carbon Intensity of ISO/IEC 21031: operational
// emissions plus embodied, per functional unit, (E·I + M) / R, with E in
// kWh, I in gCO2e/kWh, M in grams, and R the count of units.
func SCI(kWh, gPerKWh, embodiedGrams, units float64) float64 {
	return (kWh*gPerKWh + embodiedGrams) / units
}

// Rep computes the carbon of one repetition from the record, with the
// record's own accounting c. For a time series, the repetition's energy is
// split reading by reading and each part weighted by the intensity at its
// time; that needs the repetition's edge readings.
func Rep(rec *results.Record, c *results.Carbon, r results.Rep) (RepCarbon, error) {
	return repCarbon(rec, metrics.IndexEdges(rec), c, r)
}

// repCarbon is Rep over an index of the record's edges, so that many
// repetitions cost one pass over the readings.
func repCarbon(rec *results.Record, edges *metrics.Edges, c *results.Carbon, r results.Rep) (RepCarbon, error) {
	domains := metrics.TotalDomains(rec)
	gross := metrics.Total(r.EnergyJ, domains)
	var out RepCarbon
	switch c.Method {
	case results.CarbonAnnual:
		out.Operational = Grams(gross, c.GramsPerKWh, c.PUE)
	case results.CarbonSeries:
		segs, err := repSegments(rec, edges, r)
		if err != nil {
			return RepCarbon{}, err
		}
		s, err := SeriesFromRecord(c)
		if err != nil {
			return RepCarbon{}, err
		}
		g, err := s.Carbon(segs)
		if err != nil {
			return RepCarbon{}, err
		}
		out.Operational = g * c.PUE
	default:
		return RepCarbon{}, fmt.Errorf("carbon: unknown method %q in the record", c.Method)
	}
	out.Embodied = math.NaN()
	out.Total = out.Operational
	if e := c.Embodied; e != nil {
		emb := Embodied{KgCO2e: e.KgCO2e, LifetimeYears: e.LifetimeYears, Source: e.Source}
		out.Embodied = emb.Share(metrics.Seconds(r.DurationS), e.Share)
		if !math.IsNaN(out.Embodied) {
			out.Total += out.Embodied
		}
	}
	out.PerItem, out.PerGFLOP = math.NaN(), math.NaN()
	if gross <= 0 {
		// Nothing was metered: grams per item would be the embodied share
		// alone, or zero, and read as a result.
		return out, nil
	}
	if r.Work.Items > 0 {
		out.PerItem = out.Total / float64(r.Work.Items)
	}
	if r.Work.FLOPs > 0 {
		out.PerGFLOP = out.Total / (r.Work.FLOPs / 1e9)
	}
	return out, nil
}

// Figure names, the keys of Summary.Stats.
const (
	FigGramsPerItem  = "gco2e_per_item"
	FigGramsPerGFLOP = "gco2e_per_gflop"
	FigGrams         = "gco2e"
)

// Summary is a workload's carbon: per repetition, and the statistics of
// each figure over the repetitions.
type Summary struct {
	Name  string
	Reps  []RepCarbon
	Stats map[string]metrics.Stats
}

// Summarize computes every workload's carbon from the record. A record
// without a carbon section has none: ok is false.
func Summarize(rec *results.Record) (out []Summary, ok bool, err error) {
	if rec.Carbon == nil {
		return nil, false, nil
	}
	edges := metrics.IndexEdges(rec)
	for _, w := range rec.Workloads {
		s := Summary{Name: w.Name}
		var per, gf, tot []float64
		for _, r := range w.Reps {
			rc, err := repCarbon(rec, edges, rec.Carbon, r)
			if err != nil {
				return nil, true, fmt.Errorf("%s repetition %d: %w", w.Name, r.Index+1, err)
			}
			s.Reps = append(s.Reps, rc)
			per, gf, tot = append(per, rc.PerItem), append(gf, rc.PerGFLOP), append(tot, rc.Total)
		}
		s.Stats = map[string]metrics.Stats{
			FigGramsPerItem:  metrics.DescribeNonNegative(per),
			FigGramsPerGFLOP: metrics.DescribeNonNegative(gf),
			FigGrams:         metrics.DescribeNonNegative(tot),
		}
		out = append(out, s)
	}
	return out, true, nil
}

// SeriesFromRecord rebuilds the intensity series kept in a record.
func SeriesFromRecord(c *results.Carbon) (*Series, error) {
	if len(c.Series) == 0 || c.SeriesStepS <= 0 {
		return nil, errors.New("carbon: the record's time series is empty")
	}
	s := &Series{Name: "the record's series", Format: "record", Step: time.Duration(c.SeriesStepS * float64(time.Second))}
	for _, p := range c.Series {
		s.Points = append(s.Points, Point{Time: p.T, GramsPerKWh: p.GramsPerKWh})
	}
	return s, nil
}

// repSegments splits a repetition's energy at every reading of every
// meter between its edges: each segment is the energy of the domains in
// the total between two consecutive readings, spent evenly over that time.
func repSegments(rec *results.Record, edges *metrics.Edges, r results.Rep) ([]Segment, error) {
	if r.Edge == "" {
		return nil, errors.New("carbon: the repetition names no edge readings, so its energy cannot be placed in time")
	}
	start, end := r.Edge+"-start", r.Edge+"-end"
	in := map[string]bool{}
	for _, d := range metrics.TotalDomains(rec) {
		in[d] = true
	}
	from, ok := edges.First(start)
	if !ok {
		from = len(rec.Readings)
	}
	var segs []Segment
	for _, m := range rec.Meters {
		var prev *results.Reading
		done := false
		for i := from; i < len(rec.Readings) && !done; i++ {
			rd := &rec.Readings[i]
			if rd.Meter != m.Name || len(rd.EnergyUJ) != len(m.Domains) {
				continue
			}
			if prev == nil {
				if rd.Edge == start {
					prev = rd
				}
				continue
			}
			var e metrics.Energy
			for d, dom := range m.Domains {
				if in[dom.Name] {
					e += metrics.CounterDelta(metrics.Energy(prev.EnergyUJ[d]), metrics.Energy(rd.EnergyUJ[d]), metrics.Energy(dom.MaxEnergyUJ))
				}
			}
			segs = append(segs, Segment{Start: at(rec, prev.TS), End: at(rec, rd.TS), Energy: e})
			prev = rd
			done = rd.Edge == end
		}
		if prev == nil {
			return nil, fmt.Errorf("carbon: meter %s has no reading %s", m.Name, start)
		}
		if !done {
			return nil, fmt.Errorf("carbon: meter %s has no reading %s", m.Name, end)
		}
	}
	return segs, nil
}

func at(rec *results.Record, ts float64) time.Time {
	return rec.StartedAt.Add(metrics.Seconds(ts))
}
