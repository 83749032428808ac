package plot

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// job is one transfer-learning job: its gross energy and whether it
// reached its target.
type job struct {
	energy    float64
	converged bool
}

// jobs lists each job of a transfer workload (one a repetition) by the
// rule of metrics.TransferRows: pretraining has no target, and a
// fine-tuning job counts only when it says it converged and the accuracy
// it stopped at bears that out. The test checks the count against
// TransferRows, so the two cannot drift apart unseen.
func jobs(w results.Workload, s metrics.Summary) []job {
	st := w.Params[results.ParamStrategy]
	var out []job
	for k, r := range w.Reps {
		if k >= len(s.Reps) {
			break
		}
		q := r.Work.Quality
		done := st == "pretrain" || q[results.QConverged] == 1
		if at, ok := q[results.QAccuracy+"_at_stop"]; done && st != "pretrain" && (!ok || at < q[results.QTarget]) {
			done = false
		}
		out = append(out, job{s.Reps[k].Gross.Joules(), done})
	}
	return out
}

// Transfer draws, per transfer-learning strategy, each job's gross energy
// to the target accuracy as a point, and the median over the jobs that
// reached it as a bar. Jobs that did not reach the target have no energy
// to target: they are drawn as crosses in a strip at the top marked
// "did not converge". It returns nil, nil when the record has no
// transfer-learning workload.
func Transfer(rec *results.Record) (*plot.Plot, error) {
	sums := metrics.Summarize(rec)
	rows := metrics.TransferRows(rec, sums)
	if len(rows) == 0 {
		return nil, nil
	}
	byName := map[string]int{}
	for i, w := range rec.Workloads {
		byName[w.Name] = i
	}
	target := math.NaN()
	var names []string
	var all [][]job
	var vals []float64
	failed := false
	for _, r := range rows {
		i := byName[r.Name]
		js := jobs(rec.Workloads[i], sums[i])
		all = append(all, js)
		names = append(names, fmt.Sprintf("%s (%d/%d)", r.Strategy, r.Converged, r.Jobs))
		for _, j := range js {
			if j.converged && j.energy > 0 {
				vals = append(vals, j.energy)
			}
			failed = failed || !j.converged
		}
		if r.Target > 0 && r.Strategy != "pretrain" {
			target = r.Target
		}
	}
	title := "Transfer learning: energy to target accuracy"
	if !math.IsNaN(target) {
		title = fmt.Sprintf("Transfer learning: energy to %.1f%% accuracy", 100*target)
	}
	badge := Badge(rec)
	p := newPlot(title, "strategy (jobs that reached the target / jobs)", "gross energy per job (J)", badge)
	stamp(p, badge)
	lo, hi, ratio := spread(vals)
	useLog := ratio > LogSpread
	var top float64
	switch {
	case math.IsNaN(lo):
		lo, hi, top = 0, 1, 1.15
		p.Y.Min = 0
	case useLog:
		logAxis(&p.Y)
		p.Y.Min, p.Y.Max = logRange(lo, hi)
		top = p.Y.Max * math.Pow(p.Y.Max/p.Y.Min, 0.1)
	default:
		p.Y.Min, p.Y.Max = 0, hi*1.1
		top = hi * 1.2
	}
	if failed {
		p.Add(hline{Y: top, Line: draw.LineStyle{Color: grey, Width: vg.Points(0.5), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}})
	}
	var medians []ciPoint
	for si, js := range all {
		var pts []ciPoint
		sty := draw.GlyphStyle{Color: seriesColor(si), Radius: vg.Points(3), Shape: filledShape(si)}
		for k, j := range js {
			// Spread a strategy's jobs a little sideways, by job index
			// (not at random: the chart must be the same every time).
			x := float64(si) + 0.25*(float64(k)-float64(len(js)-1)/2)/math.Max(1, float64(len(js)-1))
			q := ciPoint{X: x, Y: j.energy, Lo: math.NaN(), Hi: math.NaN(), Glyph: sty}
			if !j.converged || !(j.energy > 0) {
				q.Y = top
				q.Glyph = draw.GlyphStyle{Color: seriesColor(si), Radius: vg.Points(4), Shape: draw.CrossGlyph{}}
			}
			pts = append(pts, q)
		}
		p.Add(ciPoints{pts: pts})
		r := rows[si]
		if r.Energy.N > 0 && finite(r.Energy.Median) {
			medians = append(medians, ciPoint{X: float64(si), Y: r.Energy.Median, Lo: r.Energy.CILow, Hi: r.Energy.CIHigh,
				Line: draw.LineStyle{Color: okBlack, Width: vg.Points(0.8)}})
		}
	}
	p.Add(ciPoints{pts: medians, cap: vg.Points(4)}, medianTicks(medians))
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(rows))-0.4
	if failed {
		// The strip is not an energy: no tick labels up there.
		inner, limit := p.Y.Tick.Marker, math.Sqrt(hi*top)
		if !useLog {
			limit = hi + 0.5*(top-hi)
		}
		p.Y.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
			var out []plot.Tick
			for _, t := range inner.Ticks(lo, hi) {
				if t.Value <= limit {
					out = append(out, t)
				}
			}
			return out
		})
		// Headroom above the strip for the legend.
		if useLog {
			p.Y.Max = top * math.Pow(top/p.Y.Min, 0.2)
		} else {
			p.Y.Max = top + 0.2*(top-p.Y.Min)
		}
		sty := textStyle(8)
		sty.Color = grey
		sty.XAlign, sty.YAlign = draw.XRight, draw.YBottom
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: p.X.Max, Y: top}}, Labels: []string{"did not converge"}})
		if err != nil {
			return nil, err
		}
		l.TextStyle[0] = sty
		l.Offset = vg.Point{X: -vg.Points(3), Y: vg.Points(2)}
		p.Add(l)
		p.Legend.Add("did not converge", glyphThumb{Color: okBlack, Radius: vg.Points(4), Shape: draw.CrossGlyph{}})
	}
	p.Legend.Add("median of converged jobs, 95% CI", lineThumb{Color: okBlack, Width: vg.Points(2)})
	p.Legend.Left = true
	return p, nil
}

// medianTicks marks each median with a short thick horizontal bar.
type medianTicks []ciPoint

func (m medianTicks) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	sty := draw.LineStyle{Color: okBlack, Width: vg.Points(2)}
	for _, q := range m {
		x, y := trX(q.X), trY(q.Y)
		c.StrokeLine2(sty, x-vg.Points(14), y, x+vg.Points(14), y)
	}
}
