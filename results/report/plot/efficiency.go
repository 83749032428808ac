package plot

import (
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// LogSpread is the ratio of the largest to the smallest value past which
// a value axis turns logarithmic: below it a linear axis from zero shows
// the differences more honestly.
const LogSpread = 100

// Efficiency draws each workload's median gross energy per item with its
// 95% interval, one row per workload in record order, its work unit in
// its label. A workload that is not a valid measurement is drawn hollow
// and grey and says so; one with no figure is listed without a point.
// It returns nil, nil when no workload has a figure.
func Efficiency(rec *results.Record) (*plot.Plot, error) {
	sums := metrics.Summarize(rec)
	n := len(sums)
	var pts []ciPoint
	var vals []float64
	names := make([]string, n)
	for i, s := range sums {
		st := s.Stats[metrics.FigJPerItem]
		unit := rec.Workloads[i].WorkUnit
		if k := strings.Index(unit, " ("); k > 0 {
			unit = unit[:k] // "GEMM call (2N³ FLOPs)": the FLOPs are not the unit
		}
		if unit == "" {
			unit = "item"
		}
		names[n-1-i] = s.Name + " (J/" + unit + ")"
		if st.N == 0 || !(st.Median > 0) || !finite(st.Median) {
			names[n-1-i] = s.Name + ": no figure"
			continue
		}
		q := ciPoint{
			X: st.Median, Y: float64(n - 1 - i), Lo: st.CILow, Hi: st.CIHigh,
			Glyph: draw.GlyphStyle{Color: okBlue, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}},
			Line:  draw.LineStyle{Color: okBlue, Width: vg.Points(1.2)},
		}
		if !s.Validity.Valid {
			q.Glyph = draw.GlyphStyle{Color: grey, Radius: vg.Points(3.5), Shape: draw.RingGlyph{}}
			q.Line.Color = grey
			q.Line.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
			names[n-1-i] = s.Name + " (J/" + unit + ", not valid)"
		}
		pts = append(pts, q)
		vals = append(vals, st.Median, st.CILow, st.CIHigh)
	}
	if len(pts) == 0 {
		return nil, nil
	}
	badge := Badge(rec)
	p := newPlot("Energy per item (median, 95% CI)", "gross energy per item (J)", "", badge)
	stamp(p, badge)
	p.Add(ciPoints{pts: pts, horizontal: true, cap: vg.Points(5)})
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(n)+0.2 // room for the legend
	lo, hi, ratio := spread(vals)
	if ratio > LogSpread {
		logAxis(&p.X)
		p.X.Min, p.X.Max = logRange(lo, hi)
	} else {
		p.X.Min, p.X.Max = 0, hi*1.08
	}
	p.Legend.Add("median, 95% CI", glyphThumb{Color: okBlue, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}})
	for _, q := range pts {
		if q.Glyph.Color == grey {
			p.Legend.Add("not a valid measurement", glyphThumb(q.Glyph))
			break
		}
	}
	if math.IsNaN(lo) {
		return nil, nil
	}
	return p, nil
}
