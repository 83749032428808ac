package main

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
)

func cmdReport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	asJSON := fs.Bool("json", false, "print the record as JSON")
	benchfmt := fs.Bool("benchfmt", false, "print Go benchmark lines (J/op, flops/J, gCO2e/op) for benchstat")
	emissions := fs.String("emissions-csv", "", "append the record to FILE in CodeCarbon's emissions.csv columns")
	wide := fs.Bool("wide", false, "show every column of the table (s/rep, W, net-of-idle figures, BLAS per workload), however wide; the default fits 120 columns")
	stats := fs.Bool("stats", false, "after the table, every figure's n, median, mean, sd, cv and 95% CI")
	var cf carbonFlags
	cf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("report takes one RECORD (a record.json or its run directory)")
	}
	rec, err := results.ReadFile(pos[0])
	if err != nil {
		return usageError{fmt.Errorf("%w (give a record.json, or the run directory that holds one, e.g. results/RUN-ID)", err)}
	}
	// Carbon flags recompute the carbon figures from the same joules (what
	// if this ran in another region?); the record file is not changed.
	if cf.set() || rec.Carbon == nil {
		o, err := cf.options(recordOptions(rec))
		if err != nil {
			return err
		}
		if err := account(rec, o); err != nil {
			return usageError{err}
		}
	}
	var tbl bytes.Buffer
	if err := report.WriteTableOptions(&tbl, rec, report.TableOptions{Wide: *wide}); err != nil {
		return err
	}
	if err := output(stdout, rec, *asJSON, *benchfmt, tbl.Bytes()); err != nil {
		return err
	}
	if *stats && !*asJSON && !*benchfmt {
		if err := report.WriteStats(stdout, rec); err != nil {
			return err
		}
	}
	if *emissions != "" {
		if err := report.AppendCodeCarbonCSV(*emissions, rec); err != nil {
			return usageError{err}
		}
	}
	return nil
}
