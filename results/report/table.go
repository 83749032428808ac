package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// WriteTable prints a run: what measured it, then one row per workload
// with the median of its repetitions, then any warnings.
func WriteTable(w io.Writer, rec *results.Record) error {
	est := metrics.Estimated(rec)
	fmt.Fprintf(w, "run %s  suite %s v%s  %s\n", rec.RunID, rec.Config.Suite, rec.Config.SuiteVersion, hostLine(rec.Host))
	for _, m := range rec.Meters {
		var doms []string
		for _, d := range m.Domains {
			s := d.Name
			if !d.InTotal {
				s += " (not in total)"
			}
			doms = append(doms, s)
		}
		label := m.Method
		switch {
		case m.Estimated:
			label = "ESTIMATED (model)"
		case m.Method == results.MethodSynthetic:
			label = "SYNTHETIC (fake meter: made-up figures, not a measurement)"
		}
		fmt.Fprintf(w, "meter %s: %s; %s\n", m.Name, label, strings.Join(doms, ", "))
	}
	if est {
		fmt.Fprintln(w, "ESTIMATE: energy is modelled from CPU utilisation and TDP, not measured.")
	}
	if metrics.Synthetic(rec) {
		fmt.Fprintln(w, "FAKE METER: the energy figures are synthetic, for tests and demos; they describe no hardware.")
	}
	if len(rec.Config.Overrides) > 0 {
		fmt.Fprintf(w, "suite rules overridden: %s\n", strings.Join(rec.Config.Overrides, ", "))
	}
	if rec.Idle != nil {
		fmt.Fprintf(w, "idle baseline: %s over %.1f s%s\n", metrics.IdlePower(rec), rec.Idle.DurationS, estWord(est))
	}

	csum, hasCarbon, cerr := carbon.Summarize(rec)
	if c := rec.Carbon; c != nil {
		how := "annual average"
		if c.Method == results.CarbonSeries {
			how = "time series, weighted by when the repetitions' energy was spent"
		}
		emb := carbon.EmbodiedNotIncluded
		if c.Embodied != nil {
			emb = fmt.Sprintf("embodied %g kgCO2e over %g years × share %g (%s)", c.Embodied.KgCO2e, c.Embodied.LifetimeYears, c.Embodied.Share, c.Embodied.Source)
		}
		fmt.Fprintf(w, "carbon: %.4g gCO2e/kWh (%s) from %s; PUE %g; %s\n", c.GramsPerKWh, how, c.Source, c.PUE, emb)
		fmt.Fprintf(w, "  gCO2e/call is the SCI (ISO/IEC 21031) per GEMM call: (E·PUE·I + M) / calls, E gross over %s\n", c.Boundary)
		for _, n := range c.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
	e := ""
	switch {
	case est:
		e = " (est.)"
	case metrics.Synthetic(rec):
		e = " (synthetic)"
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignRight))
	head := []any{"workload", "reps", "s/rep", "GFLOP/s ±95% CI", "power W" + e + " ±95% CI", "J/call" + e + " ±95% CI", "GFLOPS/W" + e + " ±95% CI", "net GFLOPS/W" + e + " ±95% CI"}
	if hasCarbon && cerr == nil {
		head = append(head, "gCO2e/call"+e+" ±95% CI")
	}
	t.Header(append(head, "valid", "BLAS")...)
	var warnings []string
	if cerr != nil {
		warnings = append(warnings, "no carbon figures: "+cerr.Error())
	}
	for i, s := range metrics.Summarize(rec) {
		wl := rec.Workloads[i]
		m := s.Median
		for _, r := range s.Validity.Failed() {
			warnings = append(warnings, wl.Name+": INVALID: "+r)
		}
		for _, r := range wl.Reps {
			if msg := metrics.CheckRep(rec, r); msg != "" {
				warnings = append(warnings, fmt.Sprintf("%s repetition %d: %s", wl.Name, r.Index+1, msg))
			}
		}
		blas := wl.Info["provider"]
		if k := wl.Info["corename"]; k != "" {
			blas += " " + k
		}
		if wl.Info["threads"] != "" {
			blas += " ×" + wl.Info["threads"]
		}
		if msg := wl.Info["warning"]; msg != "" {
			warnings = append(warnings, wl.Name+": "+msg)
		}
		if wl.Error != "" {
			warnings = append(warnings, wl.Name+": FAILED: "+wl.Error)
		}
		valid := "yes"
		if !s.Validity.Valid {
			valid = "NO"
		}
		if wl.Error != "" {
			// A failed workload's figures describe a wrong or partial
			// answer: they are not shown as results.
			row := []any{s.Name, fmt.Sprint(len(s.Reps)), "FAILED", "-", "-", "-", "-", "-"}
			if hasCarbon && cerr == nil {
				row = append(row, "-")
			}
			t.Append(append(row, "NO", blas)...)
			continue
		}
		row := []any{s.Name, fmt.Sprint(len(s.Reps)), num(m.Duration.Seconds(), 2), pm(s.Stats[metrics.FigFLOPS], 1e-9, 1),
			pm(s.Stats[metrics.FigPowerW], 1, 1), pm(s.Stats[metrics.FigJPerItem], 1, 3), pm(s.Stats[metrics.FigFLOPsPerJ], 1e-9, 3),
			pm(s.Stats[metrics.FigNetFLOPsPerJ], 1e-9, 3)}
		if hasCarbon && cerr == nil {
			row = append(row, pmg(csum[i].Stats[carbon.FigGramsPerItem]))
		}
		t.Append(append(row, valid, blas)...)
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, msg := range warnings {
		fmt.Fprintln(w, "WARNING: "+msg)
	}
	for _, n := range rec.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	if !rec.Complete {
		fmt.Fprintln(w, "INCOMPLETE: "+rec.IncompleteReason)
	}
	return nil
}

// pmg formats a small carbon figure as "median ±half-width" in three
// significant digits.
func pmg(st metrics.Stats) string {
	if st.N == 0 || math.IsNaN(st.Median) {
		return "-"
	}
	return fmt.Sprintf("%.3g ±%.2g", st.Median, st.HalfWidth())
}

// pm formats a statistic as "median ±half-width" of its 95% CI, scaled.
func pm(st metrics.Stats, scale float64, prec int) string {
	if st.N == 0 || math.IsNaN(st.Median) {
		return "-"
	}
	return fmt.Sprintf("%.*f ±%.*f", prec, st.Median*scale, prec, st.HalfWidth()*scale)
}

func estWord(est bool) string {
	if est {
		return " (estimated)"
	}
	return ""
}

func hostLine(h results.Host) string {
	s := h.CPUModel
	if s == "" {
		s = "unknown CPU"
	}
	s += fmt.Sprintf(", %d logical CPUs", h.LogicalCPUs)
	if h.Virtualized {
		s += ", virtual machine"
	}
	return s
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}
