package plot

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	stdfnt "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// The Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008),
// which stays distinct under the common colour-vision deficiencies.
var (
	okBlack     = color.RGBA{0x00, 0x00, 0x00, 0xff}
	okOrange    = color.RGBA{0xe6, 0x9f, 0x00, 0xff}
	okSkyBlue   = color.RGBA{0x56, 0xb4, 0xe9, 0xff}
	okBlue      = color.RGBA{0x00, 0x72, 0xb2, 0xff}
	okVermilion = color.RGBA{0xd5, 0x5e, 0x00, 0xff}
	okPurple    = color.RGBA{0xcc, 0x79, 0xa7, 0xff} // reddish purple

	grey = color.RGBA{0x99, 0x99, 0x99, 0xff}
)

// series is the order in which lines and markers take colours. The
// palette's bluish green (#009E73) is left out so that no chart pairs it
// with vermilion (a red/green pair), and its yellow (#F0E442) is too
// light for a line on white: it only tints the warm-up shading.
var series = []color.RGBA{okBlue, okOrange, okSkyBlue, okPurple, okBlack, okVermilion}

// dashes give each series a line pattern as well as a colour, so that a
// chart printed in grey still tells its lines apart.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(2), vg.Points(2)},
	{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
	{vg.Points(12), vg.Points(4)},
	{vg.Points(4), vg.Points(2), vg.Points(1), vg.Points(2), vg.Points(1), vg.Points(2)},
}

// filled and hollow are marker shapes that pair up: series i is drawn
// with filled[i] when it counts and hollow[i] when it does not.
var (
	filled = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.PlusGlyph{}}
	hollow = []draw.GlyphDrawer{draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}
)

func seriesColor(i int) color.RGBA       { return series[i%len(series)] }
func seriesDash(i int) []vg.Length       { return dashes[i%len(dashes)] }
func filledShape(i int) draw.GlyphDrawer { return filled[i%len(filled)] }
func hollowShape(i int) draw.GlyphDrawer { return hollow[i%len(hollow)] }
func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}
func sansBold(size vg.Length) font.Font { f := sans(size); f.Weight = stdfnt.WeightBold; return f }
func textStyle(size vg.Length) text.Style {
	return text.Style{Color: okBlack, Font: sans(size), Handler: plot.DefaultTextHandler}
}
func lineStyle(i int, w vg.Length) draw.LineStyle {
	return draw.LineStyle{Color: seriesColor(i), Width: w, Dashes: seriesDash(i)}
}

// newPlot is plot.New in the house style: a sans-serif face throughout
// (Liberation Sans has Arial's metrics, so an SVG viewed without it
// keeps its layout), the title carrying the record's warning, and a
// watermark of the same warning behind the data.
func newPlot(title, xLabel, yLabel, badge string) *plot.Plot {
	p := plot.New()
	if badge != "" {
		title += " — " + badge
	}
	p.Title.Text = title
	p.Title.TextStyle.Font = sansBold(12)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11)
		a.Tick.Label.Font = sans(9)
	}
	p.Legend.TextStyle.Font = sans(9)
	p.Legend.Top = true
	p.Legend.Padding = vg.Points(2)
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), -vg.Points(4)
	return p
}

// stamp adds the watermark of badge, if any, to p: call it after the
// plotters that fill the background and before the data.
func stamp(p *plot.Plot, badge string) {
	if badge != "" {
		p.Add(watermark{text: badge})
	}
}

// Badge is the warning a record's charts must carry, "" for none:
// "ESTIMATED" when its energy is modelled, "SYNTHETIC (fake meter)"
// when it comes from the fake meter.
func Badge(rec *results.Record) string {
	var b []string
	if metrics.Estimated(rec) {
		b = append(b, "ESTIMATED")
	}
	if metrics.Synthetic(rec) {
		b = append(b, "SYNTHETIC (fake meter)")
	}
	return strings.Join(b, " + ")
}

// watermark draws its text large, light and tilted across the data area. The colour is opaque: vgsvg drops the alpha of text.
type watermark struct{ text string }

func (w watermark) Plot(c draw.Canvas, _ *plot.Plot) {
	sty := text.Style{
		Color: color.RGBA{0xf2, 0xd4, 0xbf, 0xff}, // a pale vermilion
		Font:  sansBold(10), Handler: plot.DefaultTextHandler,
		XAlign: draw.XCenter, YAlign: draw.YCenter, Rotation: math.Pi / 12,
	}
	width := c.Max.X - c.Min.X
	if tw := sty.Width(w.text); tw > 0 {
		size := 10 * 0.8 * width / tw
		size = min(size, (c.Max.Y-c.Min.Y)/3)
		sty.Font = sansBold(size)
	}
	c.FillText(sty, c.Center(), w.text)
}

// logAxis puts a on a log scale with ticks labelled often enough to read
// a value off it, whatever the range: powers of ten over many decades,
// 1-2-5 or every digit over a few.
func logAxis(a *plot.Axis) {
	a.Scale = plot.LogScale{}
	a.Tick.Marker = plot.TickerFunc(logTicks)
}

func logTicks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	k0, k1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	// Over many decades, label every other one so the labels do not touch.
	every := 1
	if k1-k0 > 5 {
		every = 2
	}
	for _, labelled := range [][]int{{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		var ticks []plot.Tick
		n := 0
		for k := k0; k <= k1; k++ {
			if len(labelled) == 1 && k%every != 0 {
				for d := 1; d <= 9; d++ {
					if v := float64(d) * math.Pow10(k); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
						ticks = append(ticks, plot.Tick{Value: v})
					}
				}
				continue
			}
			for d := 1; d <= 9; d++ {
				v := float64(d) * math.Pow10(k)
				if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
					continue
				}
				t := plot.Tick{Value: v}
				for _, l := range labelled {
					if d == l {
						t.Label = formatTick(v)
						n++
					}
				}
				ticks = append(ticks, t)
			}
		}
		if n >= 2 {
			return ticks
		}
	}
	return []plot.Tick{{Value: lo, Label: formatTick(lo)}, {Value: hi, Label: formatTick(hi)}}
}

// formatTick writes 1e-4 rather than 0.0001, which is wider than the
// space a decade gets on a log axis.
func formatTick(v float64) string {
	if a := math.Abs(v); a != 0 && (a < 1e-2 || a >= 1e4) {
		s := strconv.FormatFloat(v, 'e', -1, 64)
		s = strings.Replace(s, "e-0", "e-", 1)
		s = strings.Replace(s, "e+0", "e", 1)
		return strings.Replace(s, "e+", "e", 1)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// logRange widens [lo, hi] by a margin in log space so that no marker sits
// on the frame.
func logRange(lo, hi float64) (float64, float64) {
	if lo == hi {
		return lo / 2, hi * 2
	}
	m := math.Pow(hi/lo, 0.06)
	return lo / m, hi * m
}

// spread is hi/lo of the positive finite values of v; 1 for fewer than two.
func spread(v []float64) (lo, hi, ratio float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if x > 0 && !math.IsInf(x, 0) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if hi < lo {
		return math.NaN(), math.NaN(), 1
	}
	return lo, hi, hi / lo
}

// finite reports whether every x is a finite number.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
