package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
	"github.com/joulebench/joulebench/results/report/plot"
)

// side is one workload of one record, and its per-repetition figures.
type side struct {
	workload  string
	label     string
	idx       int // which record (or, with --base/--other, which workload): 0 is the base
	rec       *results.Record
	jPerItem  []float64
	gPerItem  []float64
	estimated bool
	synthetic bool
	boundary  report.Boundary
}

func loadSide(rec *results.Record, path, workload string) (side, error) {
	s := side{workload: workload, label: workload + " (" + path + ")", rec: rec, estimated: metrics.Estimated(rec), synthetic: metrics.Synthetic(rec),
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
	plotOut := fs.String("plot", "", "with two or more records: also draw the comparison to FILE (.svg or .png)")
	plotWorkload := fs.String("workload", "", "with --plot: the workload to draw (default: the first one compared)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	var pairs [][2]side
	// warnings say how the two records' energy boundaries differ: they
	// hold for every workload the two share.
	var warnings, notes, notCompared, legend []string
	var allRecs []*results.Record
	pairWarn := map[int][]string{} // per compared record, how its totals differ from the base's
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
		o.idx = 1
		legend = []string{*base + " in " + pos[0], *other + " in " + pos[0]}
		pairs = append(pairs, [2]side{b, o})
	case len(pos) >= 2 && *base == "" && *other == "":
		recs := make([]*results.Record, len(pos))
		for i, p := range pos {
			if recs[i], err = readRecord(p); err != nil {
				return err
			}
		}
		// Every record is compared with the first, workload by workload,
		// where the two ran the same work: the same workload version and
		// content hash (parameters). The rest is listed with the reason.
		for k := 1; k < len(recs); k++ {
			bb, ob := report.RecordBoundary(recs[0]), report.RecordBoundary(recs[k])
			bw := report.BoundaryWarnings(pos[0], bb, pos[k], ob)
			if report.KindsDiffer(bb, ob) {
				// Totals of different things are not compared at all.
				notCompared = append(notCompared, fmt.Sprintf("%s against %s: %s", pos[k], pos[0], bw[0]))
				continue
			}
			pairWarn[k] = bw
			warnings = append(warnings, bw...)
			for _, w := range recs[0].Workloads {
				ow, ok := findWorkload(recs[k], w.Name)
				switch {
				case !ok:
					notCompared = append(notCompared, fmt.Sprintf("%s: not in %s", w.Name, pos[k]))
					continue
				case ow.Version != w.Version:
					notCompared = append(notCompared, fmt.Sprintf("%s: version %q in %s, %q in %s: the work differs", w.Name, w.Version, pos[0], ow.Version, pos[k]))
					continue
				case ow.ContentHash != w.ContentHash:
					notCompared = append(notCompared, fmt.Sprintf("%s: its parameters (content hash) differ between %s and %s", w.Name, pos[0], pos[k]))
					continue
				}
				b, err := loadSide(recs[0], pos[0], w.Name)
				if err != nil {
					notCompared = append(notCompared, err.Error())
					continue
				}
				o, err := loadSide(recs[k], pos[k], w.Name)
				if err != nil {
					notCompared = append(notCompared, err.Error())
					continue
				}
				o.idx = k
				pairs = append(pairs, [2]side{b, o})
			}
			for _, w := range recs[k].Workloads {
				if _, ok := findWorkload(recs[0], w.Name); !ok {
					notCompared = append(notCompared, fmt.Sprintf("%s: not in %s", w.Name, pos[0]))
				}
			}
			if recs[0].Config.Suite != recs[k].Config.Suite || recs[0].Config.SuiteVersion != recs[k].Config.SuiteVersion {
				notes = append(notes, fmt.Sprintf("suites differ: %s v%s in %s, %s v%s in %s; workloads are compared where their own version and parameters match",
					recs[0].Config.Suite, recs[0].Config.SuiteVersion, pos[0], recs[k].Config.Suite, recs[k].Config.SuiteVersion, pos[k]))
			}
			if cw := report.CarbonWarning(pos[0], recs[0].Carbon, pos[k], recs[k].Carbon); cw != "" && carbonWarning == "" {
				carbonWarning = cw
			}
		}
		legend = pos
		allRecs = recs
		if len(pairs) == 0 {
			return usagef("%s share no workload that ran without failing with the same version and parameters: %s", strings.Join(pos, ", "), strings.Join(notCompared, "; "))
		}
	default:
		return usagef("compare takes two or more records (each compared with the first), or one RECORD with --base WORKLOAD --other WORKLOAD")
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
		workload      string
		otherIdx      int
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
			case len(pairWarn[p[1].idx]) > 0:
				st += " (but see the WARNING above: the two records' totals are not alike)"
			case carbonWarning != "" && metric == "gCO2e/item":
				st += " (but see the WARNING above: the two used different carbon accounting)"
			}
			rows = append(rows, row{p[0].label, p[1].label, metric, metrics.Median(b), metrics.Median(o), s, est, syn,
				p[0].boundary, p[1].boundary, rowWarnings(pairWarn[p[1].idx], carbonWarning), st, rowName(p), p[1].idx})
		}
		add("J/item", "energy per item", p[0].jPerItem, p[1].jPerItem)
		add("gCO2e/item", "carbon per item", p[0].gPerItem, p[1].gPerItem)
	}
	if *plotOut != "" {
		if allRecs == nil {
			return usagef("--plot draws a comparison of two or more records")
		}
		w := *plotWorkload
		if w == "" {
			w = pairs[0][0].workload
		}
		// Only the records compared on w are drawn: the base, and each
		// record whose w passed the same checks as the table's.
		names, recs := []string{legend[0]}, []*results.Record{allRecs[0]}
		for _, p := range pairs {
			if p[0].workload == w && p[1].workload == w {
				names, recs = append(names, legend[p[1].idx]), append(recs, allRecs[p[1].idx])
			}
		}
		if len(recs) < 2 {
			return usagef("--plot: %s is compared in no record but the first (see \"not compared\")", w)
		}
		if err := writeComparePlot(*plotOut, names, recs, w); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "plot: %s\n", *plotOut)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	for _, msg := range warnings {
		fmt.Fprintln(stdout, "WARNING: "+msg)
	}
	for _, msg := range notes {
		fmt.Fprintln(stdout, "note: "+msg)
	}
	// Side by side: one column per record (A is the base), one per
	// comparison with A.
	letter := func(i int) string { return string(rune('A' + i)) }
	for i, l := range legend {
		fmt.Fprintf(stdout, "%s = %s\n", letter(i), l)
	}
	head := []string{"workload", "metric", "A"}
	left := []bool{true, true, false}
	for k := 1; k < len(legend); k++ {
		head, left = append(head, letter(k)), append(left, false)
	}
	for k := 1; k < len(legend); k++ {
		head, left = append(head, letter(k)+" vs A (95% CI)"), append(left, false)
	}
	type key struct{ workload, metric string }
	var order []key
	cells := map[key][]string{}
	for _, r := range rows {
		m := r.Metric
		switch {
		case r.Synthetic:
			m += " (synthetic)"
		case r.Estimated:
			m += " (est.)"
		}
		k := key{r.workload, m}
		c, ok := cells[k]
		if !ok {
			c = make([]string, 2+2*(len(legend)-1)+1)
			for i := range c {
				c[i] = "-"
			}
			c[0], c[1] = r.workload, m
			order = append(order, k)
		}
		c[2] = fmt.Sprintf("%.4g", r.BaseMedian)
		c[2+r.otherIdx] = fmt.Sprintf("%.4g", r.OtherMedian)
		c[2+len(legend)-1+r.otherIdx] = fmt.Sprintf("%+.1f%% [%+.1f, %+.1f]", -100*r.Saving.Saving, -100*r.Saving.CIHigh, -100*r.Saving.CILow)
		cells[k] = c
	}
	var table [][]string
	for _, k := range order {
		table = append(table, cells[k])
	}
	tbl, err := report.RenderTable(head, left, table)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, tbl)
	fmt.Fprintln(stdout, "X vs A: the change in the median against A, with its 95% bootstrap interval (-20% uses 20% less)")
	for _, r := range rows {
		if !math.IsNaN(r.Saving.Saving) {
			fmt.Fprintln(stdout, r.Statement)
		}
	}
	for _, msg := range notCompared {
		fmt.Fprintln(stdout, "not compared: "+msg)
	}
	return nil
}

func findWorkload(rec *results.Record, name string) (results.Workload, bool) {
	for _, w := range rec.Workloads {
		if w.Name == name {
			return w, true
		}
	}
	return results.Workload{}, false
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

// rowName is a comparison's workload: its name, or "base / other" when one
// record's two workloads are compared.
func rowName(p [2]side) string {
	if p[0].workload == p[1].workload {
		return p[0].workload
	}
	return p[0].workload + " / " + p[1].workload
}

// writeComparePlot draws workload in every record, bars with their 95%
// intervals, to file as SVG or PNG by its extension.
func writeComparePlot(file string, names []string, recs []*results.Record, workload string) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	if format != "svg" && format != "png" {
		return usagef("--plot %s: the file must end in .svg or .png", file)
	}
	p, err := plot.Compare(names, recs, workload)
	if err != nil {
		return usageError{err}
	}
	if p == nil {
		return usagef("--plot: no record has %s to draw", workload)
	}
	img, err := plot.Render(p, 8*vg.Inch, 4.5*vg.Inch, format)
	if err != nil {
		return err
	}
	return results.WriteFileAtomic(file, img, 0o644)
}

// rowWarnings are the warnings that hold for one comparison: how its two
// records' totals differ, and their carbon accounting.
func rowWarnings(boundary []string, carbon string) []string {
	out := append([]string(nil), boundary...)
	if carbon != "" {
		out = append(out, carbon)
	}
	return out
}
