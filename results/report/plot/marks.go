package plot

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ciPoint is a median with its 95% interval: the interval runs along X
// when the points are horizontal, along Y otherwise.
type ciPoint struct {
	X, Y   float64
	Lo, Hi float64 // the interval along the value axis; NaN for none
	Glyph  draw.GlyphStyle
	Line   draw.LineStyle
}

// ciPoints draws medians with interval bars. Unlike plotter.XErrorBars it
// copes with a log axis and an interval reaching zero (the bar is cut at
// the frame) and gives each point its own style.
type ciPoints struct {
	pts        []ciPoint
	horizontal bool
	cap        vg.Length
}

func (p ciPoints) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	ax := &plt.Y
	if p.horizontal {
		ax = &plt.X
	}
	clamp := func(v float64) float64 { return math.Min(math.Max(v, ax.Min), ax.Max) }
	for _, q := range p.pts {
		if finite(q.Lo, q.Hi) && q.Line.Width > 0 {
			lo, hi := clamp(q.Lo), clamp(q.Hi)
			if p.horizontal {
				y := trY(q.Y)
				x0, x1 := trX(lo), trX(hi)
				c.StrokeLine2(q.Line, x0, y, x1, y)
				if lo == q.Lo {
					c.StrokeLine2(q.Line, x0, y-p.cap/2, x0, y+p.cap/2)
				}
				if hi == q.Hi {
					c.StrokeLine2(q.Line, x1, y-p.cap/2, x1, y+p.cap/2)
				}
			} else {
				x := trX(q.X)
				y0, y1 := trY(lo), trY(hi)
				c.StrokeLine2(q.Line, x, y0, x, y1)
				if lo == q.Lo {
					c.StrokeLine2(q.Line, x-p.cap/2, y0, x+p.cap/2, y0)
				}
				if hi == q.Hi {
					c.StrokeLine2(q.Line, x-p.cap/2, y1, x+p.cap/2, y1)
				}
			}
		}
		if q.Glyph.Shape != nil && q.Glyph.Radius > 0 {
			c.DrawGlyph(q.Glyph, vg.Point{X: trX(q.X), Y: trY(q.Y)})
		}
	}
}

// DataRange covers the medians and the intervals' positive ends, so
// that a log axis never meets a zero.
func (p ciPoints) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, q := range p.pts {
		xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
		ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
	}
	return
}

func (p ciPoints) GlyphBoxes(plt *plot.Plot) []plot.GlyphBox {
	var bs []plot.GlyphBox
	for _, q := range p.pts {
		if q.Glyph.Shape == nil {
			continue
		}
		bs = append(bs, plot.GlyphBox{X: plt.X.Norm(q.X), Y: plt.Y.Norm(q.Y), Rectangle: q.Glyph.Rectangle()})
	}
	return bs
}

// glyphThumb is a legend entry showing a marker.
type glyphThumb draw.GlyphStyle

func (g glyphThumb) Thumbnail(c *draw.Canvas) { c.DrawGlyph(draw.GlyphStyle(g), c.Center()) }

// fillThumb is a legend entry showing a filled box.
type fillThumb struct{ color.Color }

func (f fillThumb) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(f.Color, []vg.Point{c.Min, {X: c.Min.X, Y: c.Max.Y}, c.Max, {X: c.Max.X, Y: c.Min.Y}})
}

// lineThumb is a legend entry showing a line style.
type lineThumb draw.LineStyle

func (l lineThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(draw.LineStyle(l), c.Min.X, y, c.Max.X, y)
}

// band is a stretch of the X axis shaded over the whole height of the
// data area.
type band struct {
	X0, X1 float64
	Color  color.Color
}

type bands []band

func (bs bands) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	for _, b := range bs {
		x0, x1 := trX(b.X0), trX(b.X1)
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1 <= x0 {
			continue
		}
		c.FillPolygon(b.Color, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x0, Y: c.Max.Y}, {X: x1, Y: c.Max.Y}, {X: x1, Y: c.Min.Y}})
	}
}

// hline is a horizontal line across the data area at a value of Y.
type hline struct {
	Y    float64
	Line draw.LineStyle
}

func (h hline) Plot(c draw.Canvas, plt *plot.Plot) {
	_, trY := plt.Transforms(&c)
	y := trY(h.Y)
	c.StrokeLine2(h.Line, c.Min.X, y, c.Max.X, y)
}
