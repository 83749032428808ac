package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// WriteBenchfmt prints the record in the Go benchmark format, one line per
// repetition, so that benchstat compares two runs or two machines:
//
//	BenchmarkJoulebench/gemm-fp64-1024 36 55555555 ns/op 0.14 J/op 1.5e10 flops/J 1.8e-05 gCO2e/op
//
// An op is one work item (a GEMM call). Energy is gross: benchfmt carries
// no net-of-idle figure. When the record's energy is not measured, the
// units say so: modelled energy is est-J/op, flops/est-J, est-gCO2e/op;
// the fake meter's made-up energy is synthetic-J/op, flops/synthetic-J,
// synthetic-gCO2e/op. benchstat compares only lines of the same unit, so
// it then never sets an estimate or a made-up figure beside a measurement
// as if they were the same quantity, nor a made-up figure beside an
// estimate.
func WriteBenchfmt(w io.Writer, rec *results.Record) error {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\n", osName(rec.Host.OS), rec.Host.Arch)
	if rec.Host.CPUModel != "" {
		fmt.Fprintf(w, "cpu: %s\n", rec.Host.CPUModel)
	}
	fmt.Fprintf(w, "joulebench-run: %s\njoulebench-suite: %s v%s\n", rec.RunID, rec.Config.Suite, rec.Config.SuiteVersion)
	var meters []string
	for _, m := range rec.Meters {
		meters = append(meters, m.Name+"="+m.Method)
	}
	fmt.Fprintf(w, "joulebench-meters: %s\n", strings.Join(meters, ","))
	if rec.Carbon != nil {
		fmt.Fprintf(w, "joulebench-carbon: %s %s %.4g g/kWh pue %.3g\n", rec.Carbon.Method, rec.Carbon.Region, rec.Carbon.GramsPerKWh, rec.Carbon.PUE)
	}
	jUnit, fUnit, gUnit := benchUnits(rec)
	csum, hasCarbon, err := carbon.Summarize(rec)
	if err != nil {
		return err
	}
	for i, s := range metrics.Summarize(rec) {
		wl := rec.Workloads[i]
		if wl.Error != "" {
			continue // a failed workload's figures are not results
		}
		for j, r := range s.Reps {
			rep := wl.Reps[j]
			if math.IsNaN(r.JPerItem) {
				// No energy counted (or no items): a line would say NaN
				// J/op, which benchstat would average in.
				continue
			}
			items := max(rep.Work.Items, 1)
			line := fmt.Sprintf("BenchmarkJoulebench/%s %d %.0f ns/op %.6g %s", wl.Name, items, float64(r.Duration.Nanoseconds())/float64(items), r.JPerItem, jUnit)
			if !math.IsNaN(r.FLOPsPerJ) && rep.Work.FLOPs > 0 {
				line += fmt.Sprintf(" %.6g %s", r.FLOPsPerJ, fUnit)
			}
			if hasCarbon && !math.IsNaN(csum[i].Reps[j].PerItem) {
				line += fmt.Sprintf(" %.6g %s", csum[i].Reps[j].PerItem, gUnit)
			}
			fmt.Fprintln(w, line)
		}
	}
	return nil
}

// benchUnits are the units of a record's energy, J/op, flops/J and
// gCO2e/op, marked "synthetic-" when a fake meter made them up (whatever
// else the record has: a made-up figure taints a total) or "est-" when a
// model estimated them.
func benchUnits(rec *results.Record) (j, flops, grams string) {
	k := ""
	switch {
	case metrics.Synthetic(rec):
		k = "synthetic-"
	case metrics.Estimated(rec):
		k = "est-"
	}
	return k + "J/op", "flops/" + k + "J", k + "gCO2e/op"
}

// osName reduces "linux (Debian GNU/Linux 12)" to "linux" for goos.
func osName(s string) string {
	name, _, _ := strings.Cut(s, " ")
	return name
}
