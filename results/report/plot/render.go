package plot

import (
	"bytes"
	"errors"
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/joulebench/joulebench/results"
)

// DPI is the resolution of PNG output.
const DPI = 150

// Render draws p at w×h in format "svg" or "png". The SVG is
// self-contained: it links to nothing, and it names its font with
// fallbacks (Liberation Sans has the metrics of Arial and Helvetica) rather
// than embedding it, which would add some 400 KB to each chart.
func Render(p *plot.Plot, w, h vg.Length, format string) ([]byte, error) {
	if p == nil {
		return nil, errors.New("plot: render: no plot")
	}
	var buf bytes.Buffer
	switch format {
	case "svg":
		c := vgsvg.New(w, h)
		p.Draw(margin(draw.New(c)))
		if _, err := c.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("plot: render svg: %w", err)
		}
		return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
			[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")), nil
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
		p.Draw(margin(draw.New(c)))
		if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("plot: render png: %w", err)
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("plot: render: unknown format %q (want svg or png)", format)
}

// margin keeps a little white round the chart: gonum/plot draws the
// longest tick label right up to the edge.
func margin(c draw.Canvas) draw.Canvas {
	m := vg.Points(6)
	return draw.Crop(c, m, -m, m/2, -m/2)
}

// Named is a chart with the name a report files it under.
type Named struct {
	Name string
	Plot *plot.Plot
}

// All draws every chart that applies to rec, in a fixed order: "power",
// "efficiency", "pareto", "transfer", "transfer-curves". The errors of charts that fail are
// joined; the others are still returned.
func All(rec *results.Record) ([]Named, error) {
	var out []Named
	var errs []error
	for _, c := range []struct {
		name string
		f    func(*results.Record) (*plot.Plot, error)
	}{{"power", Power}, {"efficiency", Efficiency}, {"pareto", Pareto}, {"transfer", Transfer}, {"transfer-curves", TransferCurves}} {
		p, err := c.f(rec)
		if err != nil {
			errs = append(errs, fmt.Errorf("plot: %s: %w", c.name, err))
			continue
		}
		if p != nil {
			out = append(out, Named{c.name, p})
		}
	}
	return out, errors.Join(errs...)
}
