package main

import (
	"flag"
	"strings"
	"time"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// carbonFlags are the carbon choices shared by run and report.
type carbonFlags struct {
	region, intensityFile, pue, embodied string
	embodiedKg, embodiedYears, share     float64
}

func (c *carbonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.region, "region", "", "grid region for carbon: a country (DE), US eGRID subregion (US-EGRID-CAMX), province (CA-QC) or cloud region (aws:eu-west-1); 'joulebench carbon --list' shows all (default: the world average)")
	fs.StringVar(&c.intensityFile, "intensity-file", "", "CSV or JSON time series of grid intensity (timestamp, gCO2e/kWh; Electricity Maps and UK Carbon Intensity exports work) that covers the run")
	fs.StringVar(&c.pue, "pue", "", "power usage effectiveness of the data centre, 1.0–3.0 (default 1.0: no facility overhead; hyperscale ≈1.1, industry average ≈1.56)")
	fs.StringVar(&c.embodied, "embodied", "", "embodied carbon of the machine from the cited defaults: "+strings.Join(carbon.EmbodiedKinds(), ", ")+" (default: not included, and said so)")
	fs.Float64Var(&c.embodiedKg, "embodied-kg", 0, "embodied carbon of the machine in kgCO2e, instead of --embodied (with --embodied-years)")
	fs.Float64Var(&c.embodiedYears, "embodied-years", 0, "service life the embodied carbon is spread over, in years (with --embodied-kg)")
	fs.Float64Var(&c.share, "embodied-share", 1, "share of the machine the run used, 0–1 (e.g. 0.25 for a VM with a quarter of the host)")
}

func (c *carbonFlags) set() bool {
	return c.region != "" || c.intensityFile != "" || c.pue != "" || c.embodied != "" || c.embodiedKg != 0
}

// recordOptions are the carbon options a record was accounted with, so
// that report changes only what its flags name (--pue alone keeps the
// record's region).
func recordOptions(rec *results.Record) carbon.Options {
	var o carbon.Options
	c := rec.Carbon
	if c == nil {
		return o
	}
	switch c.Method {
	case results.CarbonAnnual:
		o.Region = c.Region
	case results.CarbonSeries:
		if s, err := carbon.SeriesFromRecord(c); err == nil {
			s.Name, s.Notes = c.Source, c.Notes
			o.Series = s
		}
	}
	o.PUE = c.PUE
	if e := c.Embodied; e != nil {
		o.Embodied = &carbon.Embodied{KgCO2e: e.KgCO2e, LifetimeYears: e.LifetimeYears, Source: e.Source}
		o.Device, o.Share = e.Device, e.Share
	}
	return o
}

// options checks the flags and applies them over base (a record's own
// options, or none for a run). Every problem is bad input, found before
// anything is measured.
func (c *carbonFlags) options(base carbon.Options) (carbon.Options, error) {
	o := base
	if c.region != "" && c.intensityFile != "" {
		return o, usagef("give --region or --intensity-file, not both")
	}
	if c.region != "" {
		if _, err := carbon.Lookup(c.region); err != nil {
			return o, usagef("--region: %w", err)
		}
		o.Region, o.Series = c.region, nil
	}
	if c.intensityFile != "" {
		data, err := infile.Read(c.intensityFile, infile.MaxIntensity)
		if err != nil {
			return o, usagef("--intensity-file: %w", err)
		}
		s, err := carbon.ParseSeries(data, c.intensityFile)
		if err != nil {
			return o, usageError{err}
		}
		o.Series, o.Region = s, ""
	}
	if c.pue != "" {
		p, err := carbon.ParsePUE(c.pue)
		if err != nil {
			return o, usageError{err}
		}
		o.PUE = p
	}
	switch {
	case c.embodied != "" && c.embodiedKg != 0:
		return o, usagef("give --embodied KIND or --embodied-kg with --embodied-years, not both")
	case c.embodied != "":
		e, ok := carbon.EmbodiedDefault(c.embodied)
		if !ok {
			return o, usagef("--embodied %q: not a known kind (%s); or give --embodied-kg and --embodied-years", c.embodied, strings.Join(carbon.EmbodiedKinds(), ", "))
		}
		o.Embodied, o.Device = &e, c.embodied
	case c.embodiedKg != 0 || c.embodiedYears != 0:
		e := carbon.Embodied{KgCO2e: c.embodiedKg, LifetimeYears: c.embodiedYears, Source: "given on the command line (--embodied-kg, --embodied-years)"}
		if err := e.Validate(); err != nil {
			return o, usagef("--embodied-kg/--embodied-years: %w", err)
		}
		o.Embodied, o.Device = &e, "the machine"
	}
	if c.share <= 0 || c.share > 1 {
		return o, usagef("--embodied-share %g: must be more than 0 and at most 1", c.share)
	}
	if c.share != 1 || o.Share == 0 {
		o.Share = c.share
	}
	return o, nil
}

// account fills the record's carbon section. A series that does not cover
// the run is a failure of the carbon figures, not of the measurement: the
// record keeps its joules and says why it has no carbon.
func account(rec *results.Record, o carbon.Options) error {
	end := rec.FinishedAt
	if end.IsZero() {
		end = time.Now()
	}
	c, err := carbon.Account(o, rec.StartedAt, end, metrics.TotalDomains(rec))
	if err != nil {
		rec.Notes = append(rec.Notes, "no carbon figures: "+err.Error())
		return err
	}
	if c.Method == results.CarbonSeries {
		// The headline figure is what the energy met, weighted by when it
		// was spent — not a plain mean of the series' points.
		eff, err := carbon.EffectiveIntensity(rec, c)
		if err != nil {
			rec.Notes = append(rec.Notes, "no carbon figures: "+err.Error())
			return err
		}
		c.GramsPerKWh = eff
	}
	rec.Carbon = c
	return nil
}

// defaultCarbon is the carbon accounting of a record that has none: the
// world average, saying so.
func defaultCarbon() carbon.Options { return carbon.Options{} }
