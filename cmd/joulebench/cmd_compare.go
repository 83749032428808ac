package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
)

// side is one workload of one record, and its per-repetition figures.
type side struct {
	label     string
	rec       *results.Record
	jPerItem  []float64
	gPerItem  []float64
	estimated bool
	synthetic bool
	boundary  report.Boundary
}

func loadSide(rec *results.Record, path, workload string) (side, error) {
	s := side{label: workload + " (" + path + ")", rec: rec, estimated: metrics.Estimated(rec), synthetic: metrics.Synthetic(rec),
		boundary: report.RecordBoundary(rec)}
	sums := metrics.Summarize(rec)
	csum, hasCarbon, err := carbon.Summarize(rec)
	if err != nil {
		return s, err
	}
	for i, sm := range sums {
		if sm.Name != workload {
			continue
		}
		if rec.Workloads[i].Error != "" {
			return s, fmt.Errorf("%s: workload %s failed (%s): no figures to compare", path, workload, rec.Workloads[i].Error)
		}
		for j, r := range sm.Reps {
			s.jPerItem = append(s.jPerItem, r.JPerItem)
			if hasCarbon {
				s.gPerItem = append(s.gPerItem, csum[i].Reps[j].PerItem)
			}
		}
		return s, nil
	}
	return s, fmt.Errorf("%s has no workload %s", path, workload)
}

// cmdCompare states savings with their confidence intervals: one run
// against another (machine B vs machine A), or one workload against
// another in a run (compressed vs full).
func cmdCompare(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", stderr)
	base := fs.String("base", "", "with one RECORD: the baseline workload")
	other := fs.String("other", "", "with one RECORD: the workload compared with it")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	var pairs [][2]side
	// warnings say how the two records' energy boundaries differ: they
	// hold for every workload the two share.
	var warnings []string
	carbonWarning := ""
	switch {
	case len(pos) == 1 && *base != "" && *other != "":
		rec, err := readRecord(pos[0])
		if err != nil {
			return err
		}
		b, err := loadSide(rec, pos[0], *base)
		if err != nil {
			return usageError{err}
		}
		o, err := loadSide(rec, pos[0], *other)
		if err != nil {
			return usageError{err}
		}
		pairs = append(pairs, [2]side{b, o})
	case len(pos) == 2 && *base == "" && *other == "":
		br, err := readRecord(pos[0])
		if err != nil {
			return err
		}
		or, err := readRecord(pos[1])
		if err != nil {
			return err
		}
		for _, w := range br.Workloads {
			b, err := loadSide(br, pos[0], w.Name)
			if err != nil {
				continue
			}
			o, err := loadSide(or, pos[1], w.Name)
			if err != nil {
				continue
			}
			pairs = append(pairs, [2]side{b, o})
		}
		if len(pairs) == 0 {
			return usagef("%s and %s share no workload that ran without failing", pos[0], pos[1])
		}
		warnings = report.BoundaryWarnings(pos[0], report.RecordBoundary(br), pos[1], report.RecordBoundary(or))
		carbonWarning = report.CarbonWarning(pos[0], br.Carbon, pos[1], or.Carbon)
	default:
		return usagef("compare takes BASE OTHER (two records), or one RECORD with --base WORKLOAD --other WORKLOAD")
	}

	// Estimated and Synthetic say whether a side's energy is modelled or
	// made up by the fake meter; BaseBoundary and OtherBoundary what each
	// side's total counts, and Warnings how they differ.
	type row struct {
		Base, Other   string
		Metric        string
		BaseMedian    float64
		OtherMedian   float64
		Saving        metrics.Saving
		Estimated     bool
		Synthetic     bool
		BaseBoundary  report.Boundary
		OtherBoundary report.Boundary
		Warnings      []string `json:",omitempty"`
		Statement     string
	}
	var rows []row
	if carbonWarning != "" {
		warnings = append(warnings, carbonWarning)
	}
	for _, p := range pairs {
		est := p[0].estimated || p[1].estimated
		syn := p[0].synthetic || p[1].synthetic
		add := func(metric, what string, b, o []float64) {
			if len(b) == 0 || len(o) == 0 {
				return
			}
			s := metrics.Compare(b, o)
			st := p[1].label + " " + s.Describe(what) + " than " + p[0].label
			switch {
			case syn:
				st += " (the energy of at least one side is synthetic: made up by the fake meter, not measured)"
			case est:
				st += " (the energy of at least one side is estimated, not measured)"
			}
			switch {
			case len(warnings) > 0 && (carbonWarning == "" || len(warnings) > 1):
				st += " (but see the WARNING above: the two records' totals are not alike)"
			case carbonWarning != "" && metric == "gCO2e/item":
				st += " (but see the WARNING above: the two used different carbon accounting)"
			}
			rows = append(rows, row{p[0].label, p[1].label, metric, metrics.Median(b), metrics.Median(o), s, est, syn,
				p[0].boundary, p[1].boundary, warnings, st})
		}
		add("J/item", "energy per item", p[0].jPerItem, p[1].jPerItem)
		add("gCO2e/item", "carbon per item", p[0].gPerItem, p[1].gPerItem)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	for _, msg := range warnings {
		fmt.Fprintln(stdout, "WARNING: "+msg)
	}
	t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("base", "other", "metric", "base median", "other median", "saving (95% CI)")
	for _, r := range rows {
		m := r.Metric
		switch {
		case r.Synthetic:
			m += " (synthetic)"
		case r.Estimated:
			m += " (est.)"
		}
		t.Append(r.Base, r.Other, m, fmt.Sprintf("%.4g", r.BaseMedian), fmt.Sprintf("%.4g", r.OtherMedian),
			fmt.Sprintf("%+.1f%% (%+.1f%% to %+.1f%%)", 100*r.Saving.Saving, 100*r.Saving.CILow, 100*r.Saving.CIHigh))
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, r := range rows {
		if !math.IsNaN(r.Saving.Saving) {
			fmt.Fprintln(stdout, r.Statement)
		}
	}
	return nil
}

func readRecord(path string) (*results.Record, error) {
	rec, err := results.ReadFile(path)
	if err != nil {
		return nil, usageError{fmt.Errorf("%w (give a record.json, or the run directory that holds one)", err)}
	}
	if rec.Carbon == nil {
		if err := account(rec, defaultCarbon()); err != nil {
			return nil, err
		}
	}
	return rec, nil
}
