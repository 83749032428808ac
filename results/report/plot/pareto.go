package plot

import (
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// Pareto draws each model workload's accuracy against its median gross
// energy per inference (log axis, with the 95% interval), one marker shape
// and colour per scenario. The ranked rows that no other row of their
// scenario beats on both are joined by a line: the Pareto front. Rows not
// ranked (below the 99% accuracy gate, not valid, or at odds with the
// fp32 reference) are drawn hollow and grey and labelled with why. It
// returns nil, nil when the record has no model workload with both
// figures.
func Pareto(rec *results.Record) (*plot.Plot, error) {
	rows := metrics.ModelRows(rec, metrics.Summarize(rec))
	scen := metrics.SortedScenarios(rows)
	badge := Badge(rec)
	p := newPlot("Accuracy against energy per inference", "gross energy per inference (J, log scale)", "accuracy (%)", badge)
	stamp(p, badge)
	var vals []float64
	// With more than one model (MLP and CNN), the points of all but the
	// commonest are labelled with their model too.
	count := map[string]int{}
	main := ""
	for _, r := range rows {
		count[r.Model]++
		if count[r.Model] > count[main] {
			main = r.Model
		}
	}
	var labels plotter.XYLabels
	var unranked []ciPoint
	drawn := 0
	for si, sc := range scen {
		var pts []ciPoint
		var front plotter.XYs
		for _, r := range rows {
			if r.Scenario != sc || !r.Gate.Known || !(r.JPerInf.Median > 0) || !finite(r.JPerInf.Median) {
				continue
			}
			q := ciPoint{
				X: r.JPerInf.Median, Y: 100 * r.Gate.Accuracy, Lo: r.JPerInf.CILow, Hi: r.JPerInf.CIHigh,
				Glyph: draw.GlyphStyle{Color: seriesColor(si), Radius: vg.Points(4), Shape: filledShape(si)},
				Line:  draw.LineStyle{Color: seriesColor(si), Width: vg.Points(1)},
			}
			label := r.Variant
			if r.Model != main {
				label = strings.TrimPrefix(r.Model, "mnist-") + " " + r.Variant
			}
			if label == "" || label == " " {
				label = r.Name
			}
			if !r.Ranked {
				q.Glyph.Color, q.Glyph.Shape, q.Line.Color = grey, hollowShape(si), grey
				if len(scen) == 1 {
					label += " (not ranked: " + notRanked(r) + ")"
				} else {
					label += " (not ranked)"
				}
				unranked = append(unranked, q)
			} else {
				pts = append(pts, q)
				if r.DominatedBy == "" {
					front = append(front, plotter.XY{X: q.X, Y: q.Y})
				}
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: q.X, Y: q.Y})
			labels.Labels = append(labels.Labels, label)
			vals = append(vals, q.X, q.Lo, q.Hi)
			drawn++
		}
		if len(front) > 1 {
			sort.Slice(front, func(i, j int) bool { return front[i].X < front[j].X })
			l, err := plotter.NewLine(front)
			if err != nil {
				return nil, err
			}
			l.LineStyle = lineStyle(si, vg.Points(1.2))
			p.Add(l)
			p.Legend.Add(sc+" Pareto front", l)
		}
		p.Add(ciPoints{pts: pts, cap: vg.Points(4), horizontal: true})
		p.Legend.Add(sc, glyphThumb{Color: seriesColor(si), Radius: vg.Points(4), Shape: filledShape(si)})
	}
	if drawn == 0 {
		return nil, nil
	}
	if len(unranked) > 0 {
		p.Add(ciPoints{pts: unranked, cap: vg.Points(4), horizontal: true})
		p.Legend.Add("not ranked", glyphThumb(unranked[0].Glyph))
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i] = textStyle(8)
		l.TextStyle[i].YAlign = draw.YBottom
	}
	l.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(4)}
	p.Add(l)
	lo, hi, _ := spread(vals)
	logAxis(&p.X)
	p.X.Min, p.X.Max = logRange(lo, hi)
	p.X.Max *= 1.6 // room for the labels right of the last markers
	span := p.Y.Max - p.Y.Min
	if span < 0.5 {
		span = 0.5
	}
	p.Y.Min, p.Y.Max = p.Y.Min-0.15*span, p.Y.Max+0.3*span
	p.Legend.Left = true
	return p, nil
}

func notRanked(r metrics.ModelRow) string {
	switch {
	case r.ReferenceMismatch != "":
		return "reference mismatch"
	case !r.Gate.Pass():
		return "below 99% gate"
	case !r.Valid:
		return "not valid"
	}
	return "no accuracy"
}
