package plot

import (
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// MaxPoints is the most points Power draws per line. A certify record
// (5 repetitions of 60 s at 100 ms per workload) has thousands of readings
// per meter; past a couple of thousand a line shows nothing more at report
// size, and the SVG only grows.
const MaxPoints = 2000

// Phase shades: light enough for the lines to read over them, and told
// apart by lightness as well as hue.
var (
	idleShade   = color.RGBA{0xd9, 0xd9, 0xd9, 0xff}
	warmShade   = color.RGBA{0xfb, 0xf3, 0xb5, 0xff} // pale Okabe–Ito yellow
	repShades   = []color.RGBA{{0xd4, 0xea, 0xf7, 0xff}, {0xb9, 0xdd, 0xf3, 0xff}}
	wkEdgeStyle = draw.LineStyle{Color: grey, Width: vg.Points(0.5), Dashes: []vg.Length{vg.Points(1), vg.Points(2)}}
)

// powerStep is the average power over one interval between readings.
type powerStep struct{ t0, t1, w float64 }

// domainPower is the power of each in-total domain over time: from each
// pair of consecutive readings of its meter, the energy between them
// (through metrics.CounterDelta, so a counter wrap is not a spike) over
// the time between them.
func domainPower(rec *results.Record) (names []string, steps [][]powerStep) {
	type dom struct{ meter, col int }
	var doms []dom
	for mi, m := range rec.Meters {
		for di, d := range m.Domains {
			if d.InTotal {
				doms = append(doms, dom{mi, di})
				names = append(names, d.Name)
			}
		}
	}
	steps = make([][]powerStep, len(doms))
	byMeter := map[string]int{}
	for i, m := range rec.Meters {
		byMeter[m.Name] = i
	}
	prev := make([]*results.Reading, len(rec.Meters))
	for ri := range rec.Readings {
		r := &rec.Readings[ri]
		mi, ok := byMeter[r.Meter]
		if !ok || len(r.EnergyUJ) != len(rec.Meters[mi].Domains) {
			continue
		}
		p := prev[mi]
		prev[mi] = r
		if p == nil || !(r.TS > p.TS) {
			continue
		}
		dt := r.TS - p.TS
		for k, d := range doms {
			if d.meter != mi {
				continue
			}
			max := metrics.Energy(rec.Meters[mi].Domains[d.col].MaxEnergyUJ)
			e := metrics.CounterDelta(metrics.Energy(p.EnergyUJ[d.col]), metrics.Energy(r.EnergyUJ[d.col]), max)
			steps[k] = append(steps[k], powerStep{p.TS, r.TS, e.Joules() / dt})
		}
	}
	return names, steps
}

// decimate merges runs of consecutive steps into one so that at most n
// remain. A merged step's power is its energy over its time, so the area
// under the line, the energy, is kept exactly; a spike shorter than a
// merged step is averaged away, which at report size it would be anyway.
func decimate(s []powerStep, n int) []powerStep {
	if len(s) <= n || n <= 0 {
		return s
	}
	k := (len(s) + n - 1) / n
	out := make([]powerStep, 0, (len(s)+k-1)/k)
	for i := 0; i < len(s); i += k {
		j := min(i+k, len(s))
		var e, dt float64
		for _, q := range s[i:j] {
			e += q.w * (q.t1 - q.t0)
			dt += q.t1 - q.t0
		}
		w := s[i].w
		if dt > 0 {
			w = e / dt
		}
		out = append(out, powerStep{s[i].t0, s[j-1].t1, w})
	}
	return out
}

// totalPower sums domains' power step functions, which may come from
// meters read at different times, at every time any of them changes.
func totalPower(steps [][]powerStep) []powerStep {
	var ts []float64
	for _, s := range steps {
		for _, q := range s {
			ts = append(ts, q.t0, q.t1)
		}
	}
	if len(ts) == 0 {
		return nil
	}
	sort.Float64s(ts)
	uniq := ts[:1]
	for _, t := range ts[1:] {
		if t > uniq[len(uniq)-1] {
			uniq = append(uniq, t)
		}
	}
	pos := make([]int, len(steps))
	var out []powerStep
	for i := 0; i+1 < len(uniq); i++ {
		t0, t1 := uniq[i], uniq[i+1]
		mid := (t0 + t1) / 2
		var w float64
		covered := false
		for k, s := range steps {
			for pos[k] < len(s) && s[pos[k]].t1 <= mid {
				pos[k]++
			}
			if pos[k] < len(s) && s[pos[k]].t0 <= mid {
				w += s[pos[k]].w
				covered = true
			}
		}
		if covered {
			out = append(out, powerStep{t0, t1, w})
		}
	}
	return out
}

func stepXYs(s []powerStep) plotter.XYs {
	xy := make(plotter.XYs, len(s))
	for i, q := range s {
		xy[i] = plotter.XY{X: (q.t0 + q.t1) / 2, Y: q.w}
	}
	return xy
}

// Power draws the power of each domain in the node total over the run,
// with their sum when there are several, over shading that marks the idle
// baseline, each warm-up and each repetition. It returns nil, nil for a
// record with fewer than two readings of any total domain.
func Power(rec *results.Record) (*plot.Plot, error) {
	names, steps := domainPower(rec)
	has := false
	for _, s := range steps {
		has = has || len(s) > 0
	}
	if !has {
		return nil, nil
	}
	badge := Badge(rec)
	p := newPlot("Power over time", "time since start of run (s)", "power (W)", badge)
	var bs bands
	var edges []float64
	if rec.Idle != nil && rec.Idle.DurationS > 0 {
		bs = append(bs, band{rec.Idle.StartS, rec.Idle.StartS + rec.Idle.DurationS, idleShade})
	}
	for _, w := range rec.Workloads {
		first := math.Inf(1)
		if w.Warmup != nil && w.Warmup.DurationS > 0 {
			bs = append(bs, band{w.Warmup.StartS, w.Warmup.StartS + w.Warmup.DurationS, warmShade})
			first = w.Warmup.StartS
		}
		for i, r := range w.Reps {
			bs = append(bs, band{r.StartS, r.StartS + r.DurationS, repShades[i%len(repShades)]})
			first = math.Min(first, r.StartS)
		}
		if !math.IsInf(first, 0) {
			edges = append(edges, first)
		}
	}
	p.Add(bs)
	stamp(p, badge)
	for _, e := range edges {
		p.Add(vline{X: e, Line: wkEdgeStyle})
	}
	p.Add(labelsOnTop(rec))
	multi := len(steps) > 1
	for i, s := range steps {
		if len(s) == 0 {
			continue
		}
		l, err := plotter.NewLine(stepXYs(decimate(s, MaxPoints)))
		if err != nil {
			return nil, err
		}
		c := i + 1
		if !multi {
			c = 0
		}
		l.LineStyle = lineStyle(c, vg.Points(1))
		p.Add(l)
		p.Legend.Add(names[i], l)
	}
	if multi {
		tot := totalPower(steps)
		l, err := plotter.NewLine(stepXYs(decimate(tot, MaxPoints)))
		if err != nil {
			return nil, err
		}
		l.LineStyle = lineStyle(0, vg.Points(1.5))
		p.Add(l)
		p.Legend.Add("total", l)
	}
	if rec.Idle != nil {
		p.Legend.Add("idle", fillThumb{idleShade})
	}
	p.Legend.Add("warm-up", fillThumb{warmShade})
	p.Legend.Add("repetitions", fillThumb{repShades[0]}, fillThumb{repShades[1]})
	p.Y.Min = 0
	p.Y.Max *= 1.5 // room for the legend
	return p, nil
}

// vline is a vertical line over the data area at a value of X.
type vline struct {
	X    float64
	Line draw.LineStyle
}

func (v vline) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	x := trX(v.X)
	if c.ContainsX(x) {
		c.StrokeLine2(v.Line, x, c.Min.Y, x, c.Max.Y)
	}
}

// wkLabels writes each workload's name, turned upright, at the bottom
// left of its span, when the span is wide enough for a line of text.
type wkLabels struct {
	at    []float64
	names []string
}

func labelsOnTop(rec *results.Record) wkLabels {
	var l wkLabels
	for _, w := range rec.Workloads {
		t := math.Inf(1)
		if w.Warmup != nil {
			t = w.Warmup.StartS
		}
		for _, r := range w.Reps {
			t = math.Min(t, r.StartS)
		}
		if !math.IsInf(t, 0) {
			l.at = append(l.at, t)
			l.names = append(l.names, w.Name)
		}
	}
	return l
}

func (l wkLabels) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	sty := textStyle(7)
	sty.Color = color.RGBA{0x55, 0x55, 0x55, 0xff}
	sty.Rotation = math.Pi / 2
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	h := sty.Height("M")
	lastX := vg.Length(math.Inf(-1))
	for i, t := range l.at {
		x := trX(t)
		if !c.ContainsX(x) || x-lastX < h*1.2 {
			continue
		}
		lastX = x
		c.FillText(sty, vg.Point{X: x + vg.Points(1), Y: c.Min.Y + vg.Points(3)}, l.names[i])
	}
}
