package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/metrics"
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
		if m.Estimated {
			label = "ESTIMATED (model)"
		}
		fmt.Fprintf(w, "meter %s: %s; %s\n", m.Name, label, strings.Join(doms, ", "))
	}
	if est {
		fmt.Fprintln(w, "ESTIMATE: no hardware meter was read; energy is modelled from CPU utilisation and TDP, not measured.")
	}
	if rec.Idle != nil {
		fmt.Fprintf(w, "idle baseline: %s over %.1f s%s\n", metrics.IdlePower(rec), rec.Idle.DurationS, estWord(est))
	}

	e := ""
	if est {
		e = " (est.)"
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignRight))
	t.Header("workload", "reps", "s/rep", "GFLOP/s", "power W"+e, "J/call"+e, "GFLOPS/W"+e, "net GFLOPS/W"+e, "BLAS")
	var warnings []string
	for i, s := range metrics.Summarize(rec) {
		wl := rec.Workloads[i]
		m := s.Median
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
		t.Append(s.Name, fmt.Sprint(len(s.Reps)), num(m.Duration.Seconds(), 2), num(m.FLOPS/1e9, 1),
			num(m.Power.Watts(), 1), num(m.JPerItem, 3), num(m.FLOPsPerJ/1e9, 3), num(m.NetFLOPsPerJ/1e9, 3), blas)
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
