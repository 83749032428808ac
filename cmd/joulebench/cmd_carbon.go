package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/metrics/carbon"
)

// cmdCarbon is the quick calculator for people without a run: kWh to
// gCO2e with the same table and formula as a run.
func cmdCarbon(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("carbon", stderr)
	kwh := fs.Float64("kwh", -1, "energy in kWh")
	region := fs.String("region", "", "grid region (default: the world average); --list shows all")
	pue := fs.String("pue", "", "power usage effectiveness, 1.0–3.0 (default 1.0)")
	list := fs.Bool("list", false, "list every region with its figure, year and source")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("carbon takes no arguments, got %q", pos)
	}
	if *list {
		rs := carbon.Regions()
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rs)
		}
		fmt.Fprintf(stdout, "grid carbon intensity table %s (annual averages, gCO2e/kWh)\n", carbon.TableVersion())
		t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAutoWrap(tw.WrapNone))
		t.Header("code", "name", "gCO2e/kWh", "year", "basis", "grid")
		for _, r := range rs {
			t.Append(r.Code, r.Name, fmt.Sprintf("%.0f", r.GramsPerKWh), fmt.Sprint(r.Year), r.Basis(), r.Grid)
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "basis: lifecycle counts upstream emissions too; direct (EPA eGRID) counts the power stations' own only, so it reads lower for the same grid")
		fmt.Fprintln(stdout, "sources: 'joulebench carbon --region CODE --kwh 1' names each row's source")
		return nil
	}
	if *kwh < 0 || math.IsNaN(*kwh) || math.IsInf(*kwh, 0) {
		return usagef("carbon needs --kwh N (a non-negative number of kWh), or --list")
	}
	code := *region
	if code == "" {
		code = carbon.DefaultRegion
	}
	in, err := carbon.Lookup(code)
	if err != nil {
		return usagef("--region: %w", err)
	}
	p := carbon.DefaultPUE
	if *pue != "" {
		if p, err = carbon.ParsePUE(*pue); err != nil {
			return usageError{err}
		}
	}
	// In float64: a calculator's kWh can be far beyond what the µJ
	// counters of a run hold (2.5 GWh overflows them).
	g := *kwh * p * in.GramsPerKWh
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"kwh": *kwh, "region": in.Code, "g_per_kwh": in.GramsPerKWh, "year": in.Year,
			"source": in.Source, "basis": in.Basis(), "pue": p, "gco2e": g, "embodied": carbon.EmbodiedNotIncluded})
	}
	fmt.Fprintf(stdout, "%.6g kWh × PUE %g × %.4g gCO2e/kWh = %.6g gCO2e (%.4g kgCO2e)\n", *kwh, p, in.GramsPerKWh, g, g/1000)
	fmt.Fprintf(stdout, "  region: %s (%s), %d annual average, %s emissions\n  source: %s\n  %s\n", in.Code, in.Name, in.Year, in.Basis(), in.Source, carbon.EmbodiedNotIncluded)
	if in.Basis() == carbon.BasisDirect {
		fmt.Fprintf(stdout, "  note: %s\n", carbon.DirectNote)
	}
	if *region == "" {
		fmt.Fprintln(stdout, "  no --region given: this is the world average, which says nothing about where the energy was used")
	}
	return nil
}
