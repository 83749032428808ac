package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/joulebench/joulebench/harness/meter"
)

func cmdEstimate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("estimate", stderr)
	cpu := fs.String("cpu", "", `CPU model string as /proc/cpuinfo names it, e.g. "AMD EPYC 7763 64-Core Processor" (required)`)
	load := fs.Float64("load", -1, "CPU load from 0 (idle) to 1 (every logical CPU busy)")
	threads := fs.Int("threads", 0, "busy threads instead of --load: load = threads / logical CPUs")
	cpus := fs.Int("cpus", 0, "logical CPUs the machine sees (default: the whole chip); fewer than the chip has means a share of it, as in a VM")
	tdp := fs.Float64("tdp", 0, "TDP in watts instead of the built-in table")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("estimate takes no arguments, got %q (quote the --cpu model string)", pos)
	}
	if *cpu == "" {
		return usagef("estimate needs --cpu MODEL")
	}
	if (*load < 0) == (*threads == 0) {
		return usagef("estimate needs one of --load 0..1 or --threads N")
	}
	if *threads < 0 || *cpus < 0 {
		return usagef("--threads and --cpus must not be negative")
	}
	// --cpus 0 means the whole chip: the table knows its thread count.
	in := meter.EstimateInput{CPUModel: *cpu, Load: max(*load, 0), Threads: *threads, LogicalCPUs: *cpus, TDPWatts: *tdp}
	res, err := meter.EstimateCPU(in)
	if err != nil {
		return usageError{err}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"estimated": true, "watts": res.Power.Watts(), "tdp_w": res.TDPWatts, "tdp_source": res.TDPSource,
			"matched": res.Matched, "share": res.Share, "load": res.Load, "curve_fraction": res.CurveFraction,
			"curve_source": res.CurveSource, "error_bound": res.ErrorBound,
		})
	}
	fmt.Fprintf(stdout, "estimated CPU power: %.1f W (ESTIMATE, not a measurement)\n", res.Power.Watts())
	fmt.Fprintf(stdout, "  TDP:    %.0f W  (%s; source: %s)\n", res.TDPWatts, res.Matched, res.TDPSource)
	fmt.Fprintf(stdout, "  share:  %.3f of the chip\n", res.Share)
	fmt.Fprintf(stdout, "  load:   %.2f -> %.3f of TDP (curve: %s)\n", res.Load, res.CurveFraction, res.CurveSource)
	fmt.Fprintf(stdout, "  error:  %s\n", res.ErrorBound)
	return nil
}
