package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// WriteStats prints, for every workload, each figure's statistics over the
// repetitions: n, median, mean, standard deviation, coefficient of
// variation and the 95% bootstrap confidence interval of the median.
func WriteStats(w io.Writer, rec *results.Record) error {
	est := kindWord(metrics.Estimated(rec), metrics.Synthetic(rec))
	csum, hasCarbon, _ := carbon.Summarize(rec)
	type fig struct {
		name, key string
		scale     float64
		energy    bool
	}
	figs := []fig{
		{"GFLOP/s", metrics.FigFLOPS, 1e-9, false},
		{"power W", metrics.FigPowerW, 1, true},
		{"J/item", metrics.FigJPerItem, 1, true},
		{"net J/item", metrics.FigNetJPerItem, 1, true},
		{"GFLOPS/W", metrics.FigFLOPsPerJ, 1e-9, true},
		{"net GFLOPS/W", metrics.FigNetFLOPsPerJ, 1e-9, true},
	}
	if !hasBaseline(rec) {
		// Without a baseline the idle power is taken as zero and "net"
		// would be gross under another name.
		figs = slices.DeleteFunc(figs, func(f fig) bool { return strings.HasPrefix(f.name, "net ") })
		fmt.Fprintf(w, "\nnet: %s, so only gross figures are shown\n", noBaseline(rec))
	}
	for i, s := range metrics.Summarize(rec) {
		fmt.Fprintf(w, "\n%s: statistics over %d repetitions (95%% CI: smoothed bootstrap of the median, fixed seed)\n", s.Name, len(s.Reps))
		t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignRight))
		t.Header("figure", "n", "median", "mean", "sd", "cv", "95% CI")
		row := func(name string, st metrics.Stats, scale float64) {
			t.Append(name, fmt.Sprint(st.N), g(st.Median*scale), g(st.Mean*scale), g(st.SD*scale), g(st.CV),
				fmt.Sprintf("%s – %s", g(st.CILow*scale), g(st.CIHigh*scale)))
		}
		for _, f := range figs {
			name := f.name
			if f.energy {
				name += est
			}
			row(name, s.Stats[f.key], f.scale)
		}
		if hasCarbon {
			row("gCO2e/item"+est, csum[i].Stats[carbon.FigGramsPerItem], 1)
			row("gCO2e/GFLOP"+est, csum[i].Stats[carbon.FigGramsPerGFLOP], 1)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return nil
}

func g(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.4g", v)
}
