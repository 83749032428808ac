package plot

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// Compare draws one workload's efficiency in each of recs as a bar with
// its 95% interval, labelled by names (a host and run id, say): GFLOPS/W
// when the workload counts FLOPs in every record that ran it, otherwise
// gross joules per item. A record that did not run the workload, or has
// no figure for it, keeps its place with no bar. The warning of any
// estimated or synthetic record goes on the chart, and that record's
// label says which. It returns nil, nil when no record has a figure.
func Compare(names []string, recs []*results.Record, workload string) (*plot.Plot, error) {
	if len(names) != len(recs) {
		return nil, fmt.Errorf("plot: compare: %d names for %d records", len(names), len(recs))
	}
	stats := make([]map[string]metrics.Stats, len(recs))
	flopsAll, found := true, false
	unit := "item"
	badges := map[string]bool{}
	var badge string
	labels := make([]string, len(recs))
	for i, rec := range recs {
		labels[i] = names[i]
		if rec == nil {
			labels[i] += " (no record)"
			continue
		}
		for wi, s := range metrics.Summarize(rec) {
			if s.Name != workload {
				continue
			}
			fpj, jpi := s.Stats[metrics.FigFLOPsPerJ], s.Stats[metrics.FigJPerItem]
			if jpi.N == 0 && fpj.N == 0 {
				break
			}
			stats[i] = s.Stats
			if fpj.N == 0 || !finite(fpj.Median) {
				flopsAll = false
			}
			if u := rec.Workloads[wi].WorkUnit; u != "" {
				unit = u
			}
			found = true
			break
		}
		if stats[i] == nil {
			labels[i] += " (not run)"
			continue
		}
		if b := Badge(rec); b != "" {
			labels[i] += "\n" + b
			if !badges[b] {
				badges[b] = true
				if badge != "" {
					badge += " + "
				}
				badge += b
			}
		}
	}
	if !found {
		return nil, nil
	}
	fig, scale, yLabel := metrics.FigJPerItem, 1.0, "gross energy per "+unit+" (J)"
	if flopsAll {
		fig, scale, yLabel = metrics.FigFLOPsPerJ, 1e-9, "GFLOPS/W (gross)"
	}
	vals := make(plotter.Values, len(recs))
	var cis []ciPoint
	for i := range recs {
		if stats[i] == nil {
			continue
		}
		st := stats[i][fig]
		if !finite(st.Median) {
			continue
		}
		vals[i] = st.Median * scale
		cis = append(cis, ciPoint{X: float64(i), Y: vals[i], Lo: st.CILow * scale, Hi: st.CIHigh * scale,
			Line: draw.LineStyle{Color: okBlack, Width: vg.Points(1)}})
	}
	p := newPlot(workload+" by record (median, 95% CI)", "", yLabel, badge)
	stamp(p, badge)
	bars, err := plotter.NewBarChart(vals, vg.Points(40))
	if err != nil {
		return nil, err
	}
	bars.Color = okSkyBlue
	bars.LineStyle = draw.LineStyle{Color: okBlue, Width: vg.Points(0.8)}
	p.Add(bars, ciPoints{pts: cis, cap: vg.Points(8)})
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.6, float64(len(recs))-0.4
	p.Y.Min = 0
	p.Y.Max *= 1.1
	return p, nil
}
