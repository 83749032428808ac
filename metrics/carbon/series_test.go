package carbon

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/metrics"
)

func seriesTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func seriesFixture(t *testing.T, name string) *Series {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "series", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSeries(data, name)
	if err != nil {
		t.Fatalf("ParseSeries(%s): %v", name, err)
	}
	return s
}

// Each fixture is in the shape its source publishes (see series.go for the
// formats and where their shapes come from).
func TestSeriesFormats(t *testing.T) {
	for _, c := range []struct {
		file        string
		format      string
		n           int
		first, last float64
		step        time.Duration
		notes       []string
	}{
		{"plain.csv", FormatPlainCSV, 4, 100, 180, time.Hour, nil},
		{"electricitymaps_DE_2024_hourly.csv", FormatElectricityMapsCSV, 12, 296.85, 311.42, time.Hour,
			[]string{`life-cycle intensity, column "Carbon intensity gCO₂eq/kWh (Life cycle)"`, "zone DE", "2 of 12 values estimated by Electricity Maps"}},
		{"electricitymaps_FR_2022_hourly.csv", FormatElectricityMapsCSV, 6, 64.1, 59.9, time.Hour,
			[]string{`life-cycle intensity, column "Carbon Intensity gCO₂eq/kWh (LCA)"`, "zone FR"}},
		{"electricitymaps_history.json", FormatElectricityMapsJSON, 8, 322, 356, time.Hour,
			[]string{"emissionFactorType lifecycle", "zone DE", "1 of 8 values estimated by Electricity Maps"}},
		{"electricitymaps_past_range.json", FormatElectricityMapsJSON, 6, 121, 129, 15 * time.Minute,
			[]string{"emissionFactorType direct", "zone FR"}},
		{"carbonintensity_uk.json", FormatCarbonIntensityUK, 8, 151, 141, 30 * time.Minute,
			[]string{"intensity.actual for 6 periods, intensity.forecast for 2 where actual was null"}},
		{"carbonintensity_uk_regional.json", FormatCarbonIntensityUK, 4, 187, 199, 30 * time.Minute,
			[]string{"region London", "intensity.forecast throughout (no actual values in the file)"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			s := seriesFixture(t, c.file)
			if s.Format != c.format || len(s.Points) != c.n || s.Step != c.step || s.Name != c.file {
				t.Errorf("got %s, %d points, step %s, name %q; want %s, %d, %s, %q", s.Format, len(s.Points), s.Step, s.Name, c.format, c.n, c.step, c.file)
			}
			if got := s.Points[0].GramsPerKWh; got != c.first {
				t.Errorf("first value %v, want %v", got, c.first)
			}
			if got := s.Points[len(s.Points)-1].GramsPerKWh; got != c.last {
				t.Errorf("last value %v, want %v", got, c.last)
			}
			if strings.Join(s.Notes, "|") != strings.Join(c.notes, "|") {
				t.Errorf("notes %q, want %q", s.Notes, c.notes)
			}
			for _, p := range s.Points {
				if p.Time.Location() != time.UTC {
					t.Errorf("point time %v not in UTC", p.Time)
				}
			}
		})
	}
}

func TestSeriesDescribe(t *testing.T) {
	s := seriesFixture(t, "electricitymaps_history.json")
	want := "electricitymaps-json file electricitymaps_history.json, 8 points 2026-11-28T00:00Z..2026-11-28T07:00Z, step 1h0m0s; emissionFactorType lifecycle; zone DE; 1 of 8 values estimated by Electricity Maps"
	if got := s.Describe(); got != want {
		t.Errorf("Describe:\n got %s\nwant %s", got, want)
	}
	s = seriesFixture(t, "carbonintensity_uk.json")
	want = "carbonintensity-uk-json file carbonintensity_uk.json, 8 points 2026-11-28T09:30Z..2026-11-28T13:00Z, step 30m0s; intensity.actual for 6 periods, intensity.forecast for 2 where actual was null"
	if got := s.Describe(); got != want {
		t.Errorf("Describe:\n got %s\nwant %s", got, want)
	}
}

// The UK API's periods are written without seconds ("2026-11-28T09:30Z");
// Electricity Maps' CSV times are zone-less but UTC by their header.
func TestSeriesTimestamps(t *testing.T) {
	uk := seriesFixture(t, "carbonintensity_uk.json")
	if got, want := uk.Points[1].Time, seriesTime(t, "2026-11-28T10:00:00Z"); !got.Equal(want) {
		t.Errorf("UK point 1 at %v, want %v", got, want)
	}
	em := seriesFixture(t, "electricitymaps_DE_2024_hourly.csv")
	if got, want := em.Points[3].Time, seriesTime(t, "2024-01-01T03:00:00Z"); !got.Equal(want) {
		t.Errorf("EM point 3 at %v, want %v", got, want)
	}
	for _, ts := range []string{
		"2026-11-28T10:00:00Z", "2026-11-28T11:00:00+01:00", "2026-11-28T10:00:00.000Z",
		"2026-11-28T10:00Z", "2026-11-28 10:00:00+00:00", "2026-11-28 10:00:00",
		"2026-11-28T10:00:00", "2026-11-28T10:00", "2026-11-28 10:00",
	} {
		s, err := ParseSeries(fmt.Appendf(nil, "timestamp,g_per_kwh\n%s,100\n2026-11-28T11:00:00Z,200\n", ts), "t.csv")
		if err != nil {
			t.Errorf("%q: %v", ts, err)
			continue
		}
		if want := seriesTime(t, "2026-11-28T10:00:00Z"); !s.Points[0].Time.Equal(want) {
			t.Errorf("%q read as %v, want %v", ts, s.Points[0].Time, want)
		}
		naive := !strings.ContainsAny(ts[10:], "Z+")
		if got := strings.Contains(strings.Join(s.Notes, ";"), "read as UTC"); got != naive {
			t.Errorf("%q: UTC note %v, want %v", ts, got, naive)
		}
	}
}

// Each class of bad file is refused with an error naming the file, the line
// or element, and what is wrong.
func TestSeriesBadFiles(t *testing.T) {
	const h = "timestamp,g_per_kwh\n"
	emHeader := "Datetime (UTC),Country,Zone name,Zone id,Carbon intensity gCO₂eq/kWh (direct),Carbon intensity gCO₂eq/kWh (Life cycle),Data estimated\n"
	for _, c := range []struct {
		name  string
		data  string
		where string
		want  string
	}{
		{"empty", "  \n", "", "empty file"},
		{"header only", h, "", "no data points"},
		{"one point", h + "2026-11-28T10:00:00Z,100\n", "line 2", "only one point"},
		{"bad timestamp", h + "2026-11-28T10:00:00Z,100\n2026/11/28 11:00,200\n", "line 3", `"2026/11/28 11:00" is not a timestamp joulebench reads: use RFC 3339`},
		{"no timestamp", h + "2026-11-28T10:00:00Z,100\n,200\n", "line 3", "no timestamp"},
		{"implausible year", h + "1900-01-01T10:00:00Z,100\n1900-01-01T11:00:00Z,100\n", "line 2", "year 1900 is outside 1970–2200"},
		{"unsorted", h + "2026-11-28T10:00:00Z,100\n2026-11-28T12:00:00Z,200\n2026-11-28T11:00:00Z,300\n", "line 4",
			"timestamp 2026-11-28T11:00Z is before line 3's 2026-11-28T12:00Z: times must strictly increase; sort the file by time"},
		{"duplicate", h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,200\n2026-11-28T11:00:00Z,200\n", "line 4", "repeats line 3's"},
		{"gap", h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,200\n2026-11-28T12:00:00Z,200\n2026-11-28T17:00:00Z,200\n", "lines 4 and 5",
			"gap of 5h0m0s between 2026-11-28T12:00Z and 2026-11-28T17:00Z, more than 2× the series' 1h0m0s step"},
		{"negative", h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,-5\n", "line 3", "negative intensity -5"},
		{"NaN", h + "2026-11-28T10:00:00Z,NaN\n2026-11-28T11:00:00Z,5\n", "line 2", "not a finite number"},
		{"Inf", h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,+Inf\n", "line 3", "not a finite number"},
		{"too large", h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,4500\n", "line 3", "4500 gCO2e/kWh is above 2000"},
		{"missing value", h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,\n", "line 3", "no intensity value"},
		{"not a number", h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,abc\n", "line 3", `"abc" is not a number`},
		{"hex", h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,0x10\n", "line 3", `"0x10" is not a number`},
		{"field count", h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,100,7\n", "line 3", "3 fields where the header has 2"},
		{"comments count as lines", "# source: hand-made\n" + h + "2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,-1\n", "line 4", "negative"},
		{"lbs/MWh", "timestamp,lbs_co2_per_mwh\n2026-11-28T10:00:00Z,900\n", "line 1", `"lbs_co2_per_mwh" is in lbs/MWh, but joulebench needs gCO2e/kWh and does not convert silently: multiply by 0.45359237`},
		{"marginal lbs", "time,marginal CO2 (lbs/MWh)\n2026-11-28T10:00:00Z,900\n", "line 1", "is in lbs/MWh"},
		{"kg/kWh", "timestamp,kgCO2e/kWh\n2026-11-28T10:00:00Z,0.3\n", "line 1", "is in kg/kWh, but joulebench needs gCO2e/kWh and does not convert silently: multiply by 1000"},
		{"g/MWh", "timestamp,g_per_mwh\n2026-11-28T10:00:00Z,300000\n", "line 1", "is in g/MWh, but joulebench needs gCO2e/kWh and does not convert silently: divide by 1000"},
		{"no unit", "timestamp,intensity\n2026-11-28T10:00:00Z,300\n", "line 1", `"intensity" names no unit`},
		{"no header", "2026-11-28T10:00:00Z,300\n2026-11-28T11:00:00Z,300\n", "line 1", "no header"},
		{"three columns", "timestamp,g_per_kwh,zone\n2026-11-28T10:00:00Z,300,DE\n", "line 1", "3 columns"},
		{"bad quote", h + "2026-11-28T10:00:00Z,\"100\n", "line 2", "quote"},
		{"watttime csv", "point_time,value,version\n2026-11-28T10:00:00+00:00,900,3.2\n", "line 1", "WattTime values are lbs CO2/MWh"},
		{"em two zones", emHeader + "2024-01-01 00:00:00,Germany,Germany,DE,239,296,false\n2024-01-01 01:00:00,France,France,FR,30,60,false\n", "line 3", `zone "FR" differs from "DE" on line 2`},
		{"em missing value", emHeader + "2024-01-01 00:00:00,Germany,Germany,DE,239,296,false\n2024-01-01 01:00:00,Germany,Germany,DE,239,,true\n", "line 3", "no intensity value"},
		{"em bad time", emHeader + "2024-01-01 00:00:00,Germany,Germany,DE,239,296,false\n01/01/2024 01:00,Germany,Germany,DE,239,296,false\n", "line 3", `Datetime (UTC) "01/01/2024 01:00" is not a timestamp`},
		{"em json null", `{"zone":"DE","history":[{"datetime":"2026-11-28T00:00:00.000Z","carbonIntensity":300},{"datetime":"2026-11-28T01:00:00.000Z","carbonIntensity":310},{"datetime":"2026-11-28T02:00:00.000Z","carbonIntensity":null}]}`,
			"history[2]", "carbonIntensity is null or missing: Electricity Maps has no value for 2026-11-28T02:00Z"},
		{"em json unsorted", `{"history":[{"datetime":"2026-11-28T01:00:00Z","carbonIntensity":300},{"datetime":"2026-11-28T00:00:00Z","carbonIntensity":310}]}`,
			"history[1]", "is before history[0]'s"},
		{"em json gap", `{"history":[{"datetime":"2026-11-28T00:00:00Z","carbonIntensity":300},{"datetime":"2026-11-28T01:00:00Z","carbonIntensity":310},{"datetime":"2026-11-28T09:00:00Z","carbonIntensity":310}]}`,
			"history[1] and history[2]", "gap of 8h0m0s"},
		{"em json too large", `{"history":[{"datetime":"2026-11-28T00:00:00Z","carbonIntensity":300},{"datetime":"2026-11-28T01:00:00Z","carbonIntensity":3100}]}`,
			"history[1]", "above 2000"},
		{"em json string value", `{"history":[{"datetime":"2026-11-28T00:00:00Z","carbonIntensity":300},{"datetime":"2026-11-28T01:00:00Z","carbonIntensity":"310"}]}`,
			"history[1]", "not a reading"},
		{"em json two factors", `{"history":[{"datetime":"2026-11-28T00:00:00Z","carbonIntensity":300,"emissionFactorType":"lifecycle"},{"datetime":"2026-11-28T01:00:00Z","carbonIntensity":310,"emissionFactorType":"direct"}]}`,
			"history", "mixes emission factor types [direct lifecycle]"},
		{"em json single reading", `{"zone":"DE","carbonIntensity":302,"datetime":"2026-11-28T00:00:00.000Z"}`, "", "a single Electricity Maps reading"},
		{"em json empty", `{"zone":"DE","history":[]}`, "history", "empty: no data points"},
		{"uk neither", `{"data":[{"from":"2026-11-28T10:00Z","to":"2026-11-28T10:30Z","intensity":{"forecast":100,"actual":90}},{"from":"2026-11-28T10:30Z","to":"2026-11-28T11:00Z","intensity":{"forecast":null,"actual":null,"index":"low"}}]}`,
			"data[1]", "neither actual nor forecast"},
		{"uk to before from", `{"data":[{"from":"2026-11-28T10:00Z","to":"2026-11-28T09:30Z","intensity":{"forecast":100}}]}`, "data[0]", "to 2026-11-28T09:30Z is not after from"},
		{"uk all regions", `{"data":[{"from":"2026-11-28T10:00Z","to":"2026-11-28T10:30Z","regions":[{"regionid":1,"intensity":{"forecast":10}}]}]}`, "data[0]", "every GB region at once"},
		{"watttime lbs", `{"data":[{"point_time":"2026-11-28T10:00:00+00:00","value":900}],"meta":{"units":"lbs_co2_per_mwh","signal_type":"co2_moer"}}`,
			"meta.units", `"lbs_co2_per_mwh" is in lbs/MWh`},
		{"watttime no units", `{"data":[{"point_time":"2026-11-28T10:00:00+00:00","value":900}]}`, "meta.units", "missing"},
		{"invalid json", "{\"history\": [\n  {\"datetime\": \"2026-11-28T00:00Z\",\n  \"carbonIntensity\": 3x0}\n]}", "line 3", "not valid JSON"},
		{"unknown json", `{"readings":[1,2,3]}`, "", "unrecognised JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSeries([]byte(c.data), "grid.csv")
			if err == nil {
				t.Fatalf("accepted: %s", s.Describe())
			}
			var se *SeriesError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *SeriesError", err, err)
			}
			if se.Where != c.where || se.Name != "grid.csv" {
				t.Errorf("error at %q in %q, want %q in grid.csv: %v", se.Where, se.Name, c.where, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\ndoes not say %q", err, c.want)
			}
			prefix := "carbon: intensity file grid.csv: "
			if c.where != "" {
				prefix += c.where + ": "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start %q", err, prefix)
			}
		})
	}
}

func TestSeriesWattTimeFixtureRefused(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "series", "watttime_moer.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseSeries(data, "watttime_moer.json")
	want := `carbon: intensity file watttime_moer.json: meta.units: "lbs_co2_per_mwh" is in lbs/MWh, but joulebench needs gCO2e/kWh and does not convert silently: multiply by 0.45359237 (1 lb/MWh = 0.45359237 g/kWh) and head the column g_per_kwh`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// kg/MWh is the same number as g/kWh, so it is read, and said so; a
// WattTime file already in such a unit is read too.
func TestSeriesUnitsAccepted(t *testing.T) {
	for _, c := range []struct{ data, note string }{
		{"timestamp,kgCO2e/MWh\n2026-11-28T10:00:00Z,300\n2026-11-28T11:00:00Z,310\n", `"kgCO2e/MWh" read as gCO2e/kWh (1 kg/MWh = 1 g/kWh)`},
		{"time,Carbon intensity (gCO₂eq/kWh)\n2026-11-28T10:00:00Z,300\n2026-11-28T11:00:00Z,310\n", ""},
		{"time,gco2_per_kwh\n2026-11-28T10:00:00Z,300\n2026-11-28T11:00:00Z,310\n", ""},
		{`{"data":[{"point_time":"2026-11-28T10:00:00+00:00","value":300},{"point_time":"2026-11-28T10:05:00+00:00","value":310}],"meta":{"units":"kg_co2_per_mwh","signal_type":"co2_moer","region":"X"}}`, "marginal emissions rate, not the grid average"},
	} {
		s, err := ParseSeries([]byte(c.data), "u")
		if err != nil {
			t.Errorf("%q: %v", c.data, err)
			continue
		}
		if s.Points[1].GramsPerKWh != 310 {
			t.Errorf("%q: second value %v, want 310", c.data, s.Points[1].GramsPerKWh)
		}
		if c.note != "" && !strings.Contains(strings.Join(s.Notes, "|"), c.note) {
			t.Errorf("%q: notes %q lack %q", c.data, s.Notes, c.note)
		}
	}
}

// The straddle series: 100 g/kWh from 10:00, 300 g/kWh from 11:00 (each
// holding for the 1 h step, so the series covers 10:00..12:00).
func seriesStraddle(t *testing.T) *Series {
	t.Helper()
	s, err := ParseSeries([]byte("timestamp,g_per_kwh\n2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,300\n"), "straddle.csv")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSeriesAt(t *testing.T) {
	s := seriesStraddle(t)
	for _, c := range []struct {
		at   string
		want float64
		ok   bool
	}{
		{"2026-11-28T09:59:59Z", 0, false},
		{"2026-11-28T10:00:00Z", 100, true},
		{"2026-11-28T10:59:59Z", 100, true},
		{"2026-11-28T11:00:00Z", 300, true},
		{"2026-11-28T11:59:59Z", 300, true},
		{"2026-11-28T12:00:00Z", 0, false}, // last point + Step: the end is excluded
	} {
		v, ok := s.At(seriesTime(t, c.at))
		if v != c.want || ok != c.ok {
			t.Errorf("At(%s) = %v, %v; want %v, %v", c.at, v, ok, c.want, c.ok)
		}
	}
	if got, want := s.End(), seriesTime(t, "2026-11-28T12:00:00Z"); !got.Equal(want) {
		t.Errorf("End = %v, want %v", got, want)
	}
}

// A run that straddles the 11:00 step, worked by hand.
//
// Even split: 10:30–11:30 drawing 2 kWh (7.2e12 µJ) at constant power is
// 1 kWh in 10:30–11:00 at 100 g/kWh and 1 kWh in 11:00–11:30 at 300 g/kWh:
// 1×100 + 1×300 = 400 g, exactly.
//
// Uneven split: 10:45–11:30 drawing 2 kWh is 15 of 45 minutes (1/3, so
// 2/3 kWh) at 100 and 30 of 45 (2/3, so 4/3 kWh) at 300:
// 2/3×100 + 4/3×300 = 66.67 + 400 = 466.67 g. The 2 kWh at a flat mean of
// the two steps (200 g/kWh) would have been 400 g: time weighting matters.
func TestSeriesCarbonStraddle(t *testing.T) {
	s := seriesStraddle(t)
	twoKWh := metrics.Energy(7.2e12)
	if twoKWh.KWh() != 2 {
		t.Fatalf("7.2e12 µJ = %v kWh, want 2", twoKWh.KWh())
	}
	g, err := s.Carbon([]Segment{{seriesTime(t, "2026-11-28T10:30:00Z"), seriesTime(t, "2026-11-28T11:30:00Z"), twoKWh}})
	if err != nil || g != 400 {
		t.Errorf("even straddle: %v g, %v; want exactly 400 g", g, err)
	}
	g, err = s.Carbon([]Segment{{seriesTime(t, "2026-11-28T10:45:00Z"), seriesTime(t, "2026-11-28T11:30:00Z"), twoKWh}})
	if want := 2.0/3*100 + 4.0/3*300; err != nil || math.Abs(g-want) > 1e-9 {
		t.Errorf("uneven straddle: %v g, %v; want %v g", g, err, want)
	}
	if want := 466.67; math.Abs(g-want) > 0.005 {
		t.Errorf("uneven straddle: %.2f g, want %.2f g", g, want)
	}
	// The same energy cut into the meter's own intervals gives the same
	// answer: splitting at the step is what matters, not how finely.
	var segs []Segment
	start := seriesTime(t, "2026-11-28T10:45:00Z")
	for i := range 9 {
		segs = append(segs, Segment{start.Add(time.Duration(i) * 5 * time.Minute), start.Add(time.Duration(i+1) * 5 * time.Minute), twoKWh / 9})
	}
	g2, err := s.Carbon(segs)
	if err != nil || math.Abs(g2-g) > 1e-9 {
		t.Errorf("nine 5-minute segments: %v g, %v; want %v g", g2, err, g)
	}
}

// A segment spanning every step of a fixture matches the sum over its
// points done by hand.
func TestSeriesCarbonWholeSpan(t *testing.T) {
	s := seriesFixture(t, "plain.csv") // 100, 300, 250, 180 from 10:00, hourly
	start := seriesTime(t, "2026-11-28T10:00:00Z")
	g, err := s.Carbon([]Segment{{start, s.End(), 4 * 3.6e12}}) // 1 kWh per hour
	if want := 100.0 + 300 + 250 + 180; err != nil || g != want {
		t.Errorf("%v g, %v; want %v g", g, err, want)
	}
}

func TestSeriesCarbonCoverage(t *testing.T) {
	s := seriesStraddle(t) // covers 10:00..12:00
	kwh := metrics.Energy(3.6e12)
	for _, c := range []struct {
		name, start, end, want string
	}{
		{"before", "2026-11-28T09:30:00Z", "2026-11-28T10:30:00Z", "the run at 2026-11-28T09:30Z (segment 0, 2026-11-28T09:30Z..2026-11-28T10:30Z) is outside intensity file straddle.csv, which covers 2026-11-28T10:00Z..2026-11-28T12:00Z"},
		{"runs past the end", "2026-11-28T11:30:00Z", "2026-11-28T12:30:00Z", "the run at 2026-11-28T12:00Z (segment 0"},
		{"after", "2026-11-28T12:00:00Z", "2026-11-28T12:30:00Z", "the run at 2026-11-28T12:00Z"},
		{"long after", "2027-01-01T00:00:00Z", "2027-01-01T00:30:00Z", "the run at 2027-01-01T00:00Z"},
	} {
		_, err := s.Carbon([]Segment{{seriesTime(t, c.start), seriesTime(t, c.end), kwh}})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "does not extrapolate") {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.want)
		}
	}
	// The zero time is not mistaken for "covered".
	if _, err := s.Carbon([]Segment{{time.Time{}, seriesTime(t, "2026-11-28T10:30:00Z"), kwh}}); err == nil {
		t.Error("segment from the zero time accepted")
	}
	// Ending exactly at the end of coverage is inside it.
	if g, err := s.Carbon([]Segment{{seriesTime(t, "2026-11-28T11:30:00Z"), seriesTime(t, "2026-11-28T12:00:00Z"), kwh}}); err != nil || g != 300 {
		t.Errorf("segment ending at the coverage end: %v g, %v; want 300 g", g, err)
	}
}

func TestSeriesCarbonBadSegments(t *testing.T) {
	s := seriesStraddle(t)
	a, b := seriesTime(t, "2026-11-28T10:10:00Z"), seriesTime(t, "2026-11-28T10:20:00Z")
	for _, c := range []struct {
		name string
		seg  Segment
		want string
	}{
		{"negative energy", Segment{a, b, -metrics.Joule}, "negative energy"},
		{"reversed", Segment{b, a, metrics.Joule}, "before it starts"},
		{"no time", Segment{a, a, metrics.Joule}, "spent in no time"},
	} {
		if _, err := s.Carbon([]Segment{c.seg}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if g, err := s.Carbon([]Segment{{a, a, 0}, {a, b, 0}}); err != nil || g != 0 {
		t.Errorf("zero-energy segments: %v g, %v; want 0", g, err)
	}
	if g, err := s.Carbon(nil); err != nil || g != 0 {
		t.Errorf("no segments: %v g, %v; want 0", g, err)
	}
}

// A run from 10:30 to 11:30 drawing 2 kWh at constant power, on a grid at
// 100 gCO2e/kWh until 11:00 and 300 after: half the energy (1 kWh) at each,
// 1×100 + 1×300 = 400 g, where the first hour's value alone would have said
// 200 g.
func ExampleSeries_Carbon() {
	csv := "timestamp,g_per_kwh\n2026-11-28T10:00:00Z,100\n2026-11-28T11:00:00Z,300\n"
	s, err := ParseSeries([]byte(csv), "grid.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2026, 11, 28, 10, 30, 0, 0, time.UTC)
	g, err := s.Carbon([]Segment{{Start: start, End: start.Add(time.Hour), Energy: 2 * 3600 * metrics.Kilojoule}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Describe())
	fmt.Printf("%.0f gCO2e\n", g)
	// Output:
	// plain-csv file grid.csv, 2 points 2026-11-28T10:00Z..2026-11-28T11:00Z, step 1h0m0s
	// 400 gCO2e
}
