package plot

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// TransferCurves draws energy-to-accuracy curves: for each fine-tuning
// job (one line per strategy and seed), its held-out accuracy at each
// evaluation against the gross energy the meters had counted since the
// job began, and the target as a dashed line. The energy at an
// evaluation is read from the raw readings (the cumulative counters,
// wraps followed, interpolated between readings). It returns nil, nil
// when no job recorded its evaluations.
func TransferCurves(rec *results.Record) (*plot.Plot, error) {
	cum := cumulative(rec)
	badge := Badge(rec)
	p := newPlot("Energy to accuracy", "gross energy since the job began (J, log scale)", "held-out accuracy (%)", badge)
	stamp(p, badge)
	target, lines, strategy := 0.0, 0, -1
	for _, w := range rec.Workloads {
		st := w.Params[results.ParamStrategy]
		if st == "" || st == "pretrain" {
			continue
		}
		strategy++
		for k, r := range w.Reps {
			pts := curveOf(r.Work.Quality)
			if len(pts) == 0 {
				continue
			}
			target = math.Max(target, r.Work.Quality[results.QTarget])
			e0 := cum(r.StartS)
			xy := make(plotter.XYs, 0, len(pts))
			for _, q := range pts {
				if e := cum(r.StartS+q.s) - e0; e > 0 {
					xy = append(xy, plotter.XY{X: e, Y: 100 * q.acc})
				}
			}
			if len(xy) == 0 {
				continue
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, err
			}
			l.LineStyle = lineStyle(strategy, vg.Points(1))
			p.Add(l)
			if k == 0 {
				p.Legend.Add(fmt.Sprintf("%s (one line per seed)", st), l)
			}
			lines++
		}
	}
	if lines == 0 {
		return nil, nil
	}
	if target > 0 {
		t := hline{Y: 100 * target, Line: lineStyle(7, vg.Points(0.8))}
		t.Line.Color, t.Line.Dashes = okBlack, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(t)
		p.Legend.Add(fmt.Sprintf("target %.1f%%", 100*target), lineThumb(t.Line))
	}
	p.Legend.Top, p.Legend.Left = false, false
	logAxis(&p.X)
	return p, nil
}

type curvePoint struct{ s, acc float64 }

// curveOf reads a job's evaluations from its quality measures, in order.
func curveOf(q map[string]float64) []curvePoint {
	var idx []string
	for k := range q {
		if strings.HasPrefix(k, results.QCurvePrefix) && strings.HasSuffix(k, "_s") {
			idx = append(idx, strings.TrimSuffix(strings.TrimPrefix(k, results.QCurvePrefix), "_s"))
		}
	}
	sort.Strings(idx)
	var out []curvePoint
	for _, i := range idx {
		s, okS := q[results.QCurvePrefix+i+"_s"]
		a, okA := q[results.QCurvePrefix+i+"_acc"]
		if okS && okA && s >= 0 && a >= 0 && a <= 1 {
			out = append(out, curvePoint{s, a})
		}
	}
	return out
}

// cumulative returns the gross energy, in joules, of the total's domains
// counted from the first reading up to time t (seconds on the record's
// clock), summed over the meters, interpolated between readings.
func cumulative(rec *results.Record) func(t float64) float64 {
	in := map[string]bool{}
	for _, d := range metrics.TotalDomains(rec) {
		in[d] = true
	}
	type pt struct{ t, j float64 }
	var series [][]pt
	for _, m := range rec.Meters {
		var s []pt
		var prev []int64
		total := 0.0
		for _, r := range rec.Readings {
			if r.Meter != m.Name || len(r.EnergyUJ) != len(m.Domains) {
				continue
			}
			if prev != nil {
				for i, d := range m.Domains {
					if in[d.Name] {
						total += metrics.CounterDelta(metrics.Energy(prev[i]), metrics.Energy(r.EnergyUJ[i]), metrics.Energy(d.MaxEnergyUJ)).Joules()
					}
				}
			}
			prev = r.EnergyUJ
			s = append(s, pt{r.TS, total})
		}
		sort.SliceStable(s, func(a, b int) bool { return s[a].t < s[b].t })
		series = append(series, s)
	}
	return func(t float64) float64 {
		sum := 0.0
		for _, s := range series {
			if len(s) == 0 {
				continue
			}
			i := sort.Search(len(s), func(i int) bool { return s[i].t >= t })
			switch {
			case i == 0:
				sum += s[0].j
			case i == len(s):
				sum += s[len(s)-1].j
			default:
				a, b := s[i-1], s[i]
				sum += a.j + (b.j-a.j)*(t-a.t)/(b.t-a.t)
			}
		}
		return sum
	}
}
