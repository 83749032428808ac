package carbon

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/joulebench/joulebench/metrics"
)

// FuzzParseSeries feeds ParseSeries arbitrary files. It must never panic;
// what it refuses must be a *SeriesError; what it accepts must be a series
// Carbon can use: at least two strictly increasing points, finite values in
// [0, MaxGramsPerKWh], a positive step, no gap beyond seriesMaxGapFactor
// steps, and a finite, non-negative carbon figure over its own span that no
// value in range could exceed.
//
//	go test ./metrics/carbon/ -run '^$' -fuzz FuzzParseSeries -fuzztime 30s
func FuzzParseSeries(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "series", "*"))
	if err != nil || len(fixtures) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, name := range fixtures {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"timestamp,g_per_kwh\n2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,300\n",
		"timestamp,g_per_kwh\n2026-11-28 10:00,100\n2026-11-28T11:00,300\n2026-11-28T13:00Z,5\n",
		"timestamp,lbs_co2_per_mwh\n2026-11-28T10:00:00Z,900\n",
		"timestamp,g_per_kwh\n2026-11-28T10:00:00Z,NaN\n2026-11-28T09:00:00Z,-1\n",
		`[{"datetime":"2026-11-28T00:00Z","carbonIntensity":300},{"datetime":"2026-11-28T00:30Z","carbonIntensity":null}]`,
		`{"data":{"regionid":1,"shortname":"North Scotland","data":[{"from":"2026-11-28T10:00Z","to":"2026-11-28T10:30Z","intensity":{"forecast":20}},{"from":"2026-11-28T10:30Z","intensity":{"actual":25}}]}}`,
		`{"data":[{"point_time":"2026-11-28T10:00:00+00:00","value":300},{"point_time":"2026-11-28T10:05:00+00:00","value":310}],"meta":{"units":"kg_co2_per_mwh"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSeries(data, "fuzz")
		if err != nil {
			var se *SeriesError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *SeriesError", err, err)
			}
			if s != nil {
				t.Fatalf("error %v with a series", err)
			}
			return
		}
		if len(s.Points) < 2 {
			t.Fatalf("accepted %d points", len(s.Points))
		}
		if s.Step <= 0 {
			t.Fatalf("step %v", s.Step)
		}
		for i, p := range s.Points {
			v := p.GramsPerKWh
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > MaxGramsPerKWh {
				t.Fatalf("point %d: value %v out of range", i, v)
			}
			if got, ok := s.At(p.Time); !ok || got != v {
				t.Fatalf("At(point %d) = %v, %v; want %v", i, got, ok, v)
			}
			if i == 0 {
				continue
			}
			gap := p.Time.Sub(s.Points[i-1].Time)
			if gap <= 0 {
				t.Fatalf("point %d at %v not after point %d at %v", i, p.Time, i-1, s.Points[i-1].Time)
			}
			if gap > seriesMaxGapFactor*s.Step {
				t.Fatalf("point %d: gap %v beyond %d× step %v", i, gap, seriesMaxGapFactor, s.Step)
			}
		}
		_ = s.Describe()
		// 1 kWh over the whole span, then again cut at a point inside it.
		const kwh = metrics.Energy(3.6e12)
		start, end := s.Points[0].Time, s.End()
		g, err := s.Carbon([]Segment{{start, end, kwh}})
		if err != nil {
			t.Fatalf("Carbon over the series' own span: %v", err)
		}
		if math.IsNaN(g) || math.IsInf(g, 0) || g < 0 || g > MaxGramsPerKWh*(1+1e-9) {
			t.Fatalf("Carbon of 1 kWh over the span = %v g", g)
		}
		mid := s.Points[len(s.Points)/2].Time
		g2, err := s.Carbon([]Segment{{start, mid, kwh / 2}, {mid, end, kwh / 2}})
		if err != nil || math.IsNaN(g2) || g2 < 0 || g2 > MaxGramsPerKWh*(1+1e-9) {
			t.Fatalf("Carbon of two halves = %v g, %v", g2, err)
		}
		if _, err := s.Carbon([]Segment{{end, end.Add(s.Step), kwh}}); err == nil {
			t.Fatal("Carbon past the series' end accepted")
		}
	})
}
