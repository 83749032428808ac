package carbon

// This file reads a grid's carbon intensity over time (--intensity-file) and
// weights a run's energy by the intensity at the time it was spent. The
// formats and the unit policy are documented on ParseSeries.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/joulebench/joulebench/metrics"
)

// Series format names, as Series.Format reports them.
const (
	FormatPlainCSV            = "plain-csv"
	FormatElectricityMapsCSV  = "electricitymaps-csv"
	FormatElectricityMapsJSON = "electricitymaps-json"
	FormatCarbonIntensityUK   = "carbonintensity-uk-json"
	FormatWattTimeJSON        = "watttime-json"
)

// MaxGramsPerKWh is the largest intensity a series may hold. The dirtiest
// lignite plants emit about 1,100–1,200 gCO2e/kWh, so a value above 2,000 is
// almost surely a unit mistake (lbs/MWh, g/MWh) rather than a real grid.
const MaxGramsPerKWh = 2000

// seriesMaxGapFactor is how many median steps two points may lie apart.
// Up to twice the step is tolerated (one missing point, or an irregular
// source); beyond that the earlier value would be stretched over a hole and
// joulebench would be inventing intensities the source never published.
const seriesMaxGapFactor = 2

// Timestamps outside these years are refused: no grid published hourly
// intensities before 1970, and keeping a series within 230 years keeps every
// difference of two of its times inside time.Duration's ±292 years.
const (
	seriesMinYear = 1970
	seriesMaxYear = 2200
)

// Point is one value of a step-function series: the intensity GramsPerKWh
// (gCO2e/kWh) holds from Time until the next point's Time. The last point
// holds for the series' Step.
type Point struct {
	Time        time.Time
	GramsPerKWh float64
}

// Series is a grid's carbon intensity over time, as read by ParseSeries.
// Points are strictly increasing in time, with no gap wider than twice Step;
// each value holds until the next point, and the last for Step, so the
// series covers [Points[0].Time, last.Time+Step).
type Series struct {
	Points []Point
	// Format names the file's format, one of the Format constants.
	Format string
	// Name is the file's name, as given to ParseSeries.
	Name string
	// Step is the median spacing of the points: how long the last point
	// holds, and the yardstick for gaps.
	Step time.Duration
	// Notes say how the values were chosen from the file (which column,
	// actual or forecast, estimated values, zone), for the record.
	Notes []string
}

// SeriesError is a problem with an intensity file: which file, where in it
// (a CSV line, "line 7", or a JSON element, "history[12]") and what is wrong,
// with what to do about it. ParseSeries's errors are all *SeriesError, so a
// caller can tell bad input (exit 2) from a failure.
type SeriesError struct {
	Name    string // the file, as given to ParseSeries
	Where   string // "line 7", "lines 9 and 10", "history[12]"; empty for the whole file
	Problem string // what is wrong and what to do
}

// Error says "carbon: intensity file NAME: WHERE: PROBLEM".
func (e *SeriesError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("carbon: intensity file %s: %s", e.Name, e.Problem)
	}
	return fmt.Sprintf("carbon: intensity file %s: %s: %s", e.Name, e.Where, e.Problem)
}

// seriesRaw is a point before validation, with where it came from so that
// every later check can name the line or element.
type seriesRaw struct {
	t     time.Time
	v     float64
	where string
}

// seriesParse is the state of one ParseSeries call.
type seriesParse struct {
	name   string
	format string
	notes  []string
	// naive counts timestamps without a zone, read as UTC.
	naive int
}

func (p *seriesParse) errf(where, format string, args ...any) error {
	return &SeriesError{Name: p.name, Where: where, Problem: fmt.Sprintf(format, args...)}
}

// ParseSeries reads an intensity file, detecting its format from the
// content, never from the file name; name is the file's name, for errors and
// the record. The formats:
//
//   - plain-csv: a header and two columns, time then intensity, the second
//     header naming its unit: "timestamp,g_per_kwh". Lines starting with '#'
//     are comments, so a hand-made file can cite its source.
//   - electricitymaps-csv: the Electricity Maps data portal's export,
//     "Datetime (UTC),Country,Zone name,Zone id,Carbon intensity gCO₂eq/kWh
//     (direct),Carbon intensity gCO₂eq/kWh (Life cycle),..." and the older
//     "...,Zone Name,Zone Id,...(direct),...(LCA),..." header. The life-cycle
//     column is used when there is one: it is Electricity Maps' default and
//     counts the emissions of building and fuelling plants, as the embedded
//     table's Ember country figures do; Notes say which column was read. To use the
//     direct column, cut the file to timestamp,g_per_kwh.
//   - electricitymaps-json: the v3 API's carbon-intensity responses, whose
//     "history", "data" (past-range) or "forecast" array holds
//     {"datetime", "carbonIntensity"}; or that array alone.
//   - carbonintensity-uk-json: the GB Carbon Intensity API (National Grid
//     ESO), {"data":[{"from","to","intensity":{"forecast","actual"}}]}, and
//     its one-region responses. "actual" is used, "forecast" where actual is
//     null, and Notes count each.
//   - watttime-json: WattTime v3, {"meta":{"units"},"data":[{"point_time",
//     "value"}]}, read only when meta.units is gCO2e/kWh.
//
// Units: a series must be in gCO2e/kWh (kg/MWh, the same number, is read and
// noted). lbs/MWh, kg/kWh and g/MWh are refused, not converted: the error
// names the unit found and the factor, so that whoever made the file converts
// it once and owns the figure, rather than joulebench rescaling a file behind
// their back. lbs/MWh mostly means WattTime's marginal rate, which is also a
// different quantity from the grid average the rest of the record uses.
//
// It refuses, with an error naming the line or element and what to
// do: an empty file or fewer than two points (the step would be unknown),
// timestamps it cannot read, timestamps that do not strictly increase
// (unsorted or duplicated), gaps wider than twice the median step, values
// that are missing, negative, not finite or above MaxGramsPerKWh, and units
// other than gCO2e/kWh.
//
// Accepted timestamps: RFC 3339 ("2026-11-28T10:00:00Z", with any offset or
// fraction), RFC 3339 without seconds ("2026-11-28T10:00Z", as the UK API
// writes), and "2026-11-28 10:00:00", "2026-11-28T10:00:00",
// "2026-11-28T10:00" or "2026-11-28 10:00" without a zone, read as UTC (as
// Electricity Maps' "Datetime (UTC)" is); a plain CSV with such times says so
// in Notes.
func ParseSeries(data []byte, name string) (*Series, error) {
	p := &seriesParse{name: name}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // spreadsheet exports often start with a BOM
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, p.errf("", "empty file: expected a CSV (timestamp,g_per_kwh or an Electricity Maps export) or JSON (Electricity Maps API, UK Carbon Intensity API)")
	}
	var raws []seriesRaw
	var err error
	if trimmed[0] == '{' || trimmed[0] == '[' {
		raws, err = p.json(trimmed)
	} else {
		raws, err = p.csv(data)
	}
	if err != nil {
		return nil, err
	}
	if p.naive > 0 && p.format == FormatPlainCSV {
		p.notes = append(p.notes, "timestamps without a zone read as UTC")
	}
	return p.finish(raws)
}

// finish checks the order, spacing and values of the points and builds the
// Series.
func (p *seriesParse) finish(raws []seriesRaw) (*Series, error) {
	if len(raws) == 0 {
		return nil, p.errf("", "no data points (a header alone?): the file must hold at least two timestamped values")
	}
	if len(raws) == 1 {
		return nil, p.errf(raws[0].where, "only one point: at least two are needed to know how long each value holds")
	}
	for i := 1; i < len(raws); i++ {
		a, b := raws[i-1], raws[i]
		switch {
		case b.t.Equal(a.t):
			return nil, p.errf(b.where, "timestamp %s repeats %s's: remove duplicate rows (one value per time; one zone per file)", seriesFmtTime(b.t), a.where)
		case b.t.Before(a.t):
			return nil, p.errf(b.where, "timestamp %s is before %s's %s: times must strictly increase; sort the file by time", seriesFmtTime(b.t), a.where, seriesFmtTime(a.t))
		}
	}
	gaps := make([]time.Duration, len(raws)-1)
	for i := range gaps {
		gaps[i] = raws[i+1].t.Sub(raws[i].t)
	}
	sorted := slices.Clone(gaps)
	slices.Sort(sorted)
	// The lower median: with few points it is the stricter yardstick, so a
	// hole in a short series is still caught.
	step := sorted[(len(sorted)-1)/2]
	for i, g := range gaps {
		if g > seriesMaxGapFactor*step {
			a, b := raws[i], raws[i+1]
			return nil, p.errf(seriesPair(a.where, b.where),
				"gap of %s between %s and %s, more than %d× the series' %s step: the source has no values there, and joulebench will not stretch one over the hole; fill it from the source or use a file that covers the run without holes",
				g, seriesFmtTime(a.t), seriesFmtTime(b.t), seriesMaxGapFactor, step)
		}
	}
	s := &Series{Points: make([]Point, len(raws)), Format: p.format, Name: p.name, Step: step, Notes: p.notes}
	for i, r := range raws {
		s.Points[i] = Point{Time: r.t.UTC(), GramsPerKWh: r.v}
	}
	return s, nil
}

// seriesPair names two places: "lines 4 and 5", "history[3] and history[4]".
func seriesPair(a, b string) string {
	if x, ok := strings.CutPrefix(a, "line "); ok {
		if y, ok := strings.CutPrefix(b, "line "); ok {
			return "lines " + x + " and " + y
		}
	}
	return a + " and " + b
}

// seriesLayouts are the timestamp layouts ParseSeries accepts, zoned first.
var seriesLayouts = []struct {
	layout string
	naive  bool
}{
	{time.RFC3339, false}, // also takes fractional seconds
	{"2006-01-02T15:04Z07:00", false},
	{"2006-01-02 15:04:05Z07:00", false}, // pandas' to_csv of zoned times
	{"2006-01-02 15:04:05", true},
	{"2006-01-02T15:04:05", true},
	{"2006-01-02T15:04", true},
	{"2006-01-02 15:04", true},
}

// seriesAccepted is said in every timestamp error.
const seriesAccepted = `use RFC 3339 ("2026-11-28T10:00:00Z"), "2026-11-28T10:00Z", or "2026-11-28 10:00:00" / "2026-11-28T10:00" read as UTC`

// obj decodes one element of a JSON series, what it is ("reading") for the
// error.
func (p *seriesParse) obj(where string, e json.RawMessage, what string) (seriesObj, error) {
	var o seriesObj
	if err := json.Unmarshal(e, &o); err != nil {
		return o, p.errf(where, "not a %s: %v", what, err)
	}
	return o, nil
}

// reqTime parses a time field that must be present.
func (p *seriesParse) reqTime(where, field string, s *string) (time.Time, error) {
	if s == nil {
		return time.Time{}, p.errf(where, "no %s", field)
	}
	return p.time(where, field, *s)
}

// time parses one timestamp.
func (p *seriesParse) time(where, field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, p.errf(where, "no %s: every row needs a timestamp", field)
	}
	for _, l := range seriesLayouts {
		t, err := time.Parse(l.layout, s)
		if err != nil {
			continue
		}
		if y := t.UTC().Year(); y < seriesMinYear || y > seriesMaxYear {
			return time.Time{}, p.errf(where, "%s %q: year %d is outside %d–%d; is the column right?", field, s, y, seriesMinYear, seriesMaxYear)
		}
		if l.naive {
			p.naive++
		}
		return t.UTC(), nil
	}
	return time.Time{}, p.errf(where, "%s %q is not a timestamp joulebench reads: %s", field, s, seriesAccepted)
}

// value checks one intensity.
func (p *seriesParse) value(where string, v float64) (float64, error) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, p.errf(where, "intensity %v is not a finite number", v)
	case v < 0:
		return 0, p.errf(where, "negative intensity %v gCO2e/kWh: a grid's intensity cannot be below zero; check the export", v)
	case v > MaxGramsPerKWh:
		return 0, p.errf(where, "intensity %v gCO2e/kWh is above %d, more than any grid emits: is the unit lbs/MWh or g/MWh rather than gCO2e/kWh?", v, MaxGramsPerKWh)
	}
	return v, nil
}

// number parses and checks an intensity written as text.
func (p *seriesParse) number(where, s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, p.errf(where, "no intensity value: the source has no data for this time; fill it from the source or trim the file")
	}
	// ParseFloat also reads hex floats ("0x1p4"); no export writes those, so
	// one is more likely a shifted column than a number.
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "xX") {
		return 0, p.errf(where, "intensity %q is not a number", s)
	}
	return p.value(where, v)
}

// Units.

const (
	seriesUnitGkWh   = "g/kWh"
	seriesUnitKgMWh  = "kg/MWh"
	seriesUnitKgkWh  = "kg/kWh"
	seriesUnitGMWh   = "g/MWh"
	seriesUnitLbsMWh = "lbs/MWh"
	seriesUnitLbskWh = "lbs/kWh"
)

// seriesUnitRE finds a mass-per-energy unit in a header or units field once
// seriesNorm has lowered it and dropped spaces, '_' and '-':
// "gCO₂eq/kWh" → "gco2eq/kwh", "lbs_co2_per_mwh" → "lbsco2permwh".
var seriesUnitRE = regexp.MustCompile(`(lbs?|kg|g)(co2eq|co2e|co2)?(/|per)(kwh|mwh)`)

func seriesNorm(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "₂", "2"))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// seriesUnit returns the unit a header names, or "" when it names none.
func seriesUnit(header string) string {
	m := seriesUnitRE.FindStringSubmatch(seriesNorm(header))
	if m == nil {
		return ""
	}
	mass, energy := m[1], m[4]
	switch {
	case mass == "g" && energy == "kwh":
		return seriesUnitGkWh
	case mass == "kg" && energy == "mwh":
		return seriesUnitKgMWh
	case mass == "kg":
		return seriesUnitKgkWh
	case mass == "g":
		return seriesUnitGMWh
	case energy == "mwh":
		return seriesUnitLbsMWh
	default:
		return seriesUnitLbskWh
	}
}

// seriesFactor says how to convert a refused unit to gCO2e/kWh.
var seriesFactor = map[string]string{
	seriesUnitKgkWh:  "multiply by 1000",
	seriesUnitGMWh:   "divide by 1000",
	seriesUnitLbsMWh: "multiply by 0.45359237 (1 lb/MWh = 0.45359237 g/kWh)",
	seriesUnitLbskWh: "multiply by 453.59237",
}

// unit checks that a header or units field names gCO2e/kWh (or kg/MWh, the
// same number), and refuses anything else with the conversion to apply.
func (p *seriesParse) unit(where, header string) error {
	switch u := seriesUnit(header); u {
	case seriesUnitGkWh:
		return nil
	case seriesUnitKgMWh:
		p.notes = append(p.notes, fmt.Sprintf("%q read as gCO2e/kWh (1 kg/MWh = 1 g/kWh)", header))
		return nil
	case "":
		return p.errf(where, "%q names no unit: joulebench needs gCO2e/kWh and will not guess; head the column g_per_kwh once you have checked the values are in gCO2e/kWh", header)
	default:
		return p.errf(where, "%q is in %s, but joulebench needs gCO2e/kWh and does not convert silently: %s and head the column g_per_kwh", header, u, seriesFactor[u])
	}
}

// CSV.

func (p *seriesParse) csv(data []byte) ([]seriesRaw, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#' // lets a hand-made file cite its source
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, p.csvErr(err)
	}
	hline, _ := r.FieldPos(0)
	hwhere := fmt.Sprintf("line %d", hline)
	norm := make([]string, len(header))
	for i, h := range header {
		norm[i] = seriesNorm(h)
	}
	col := func(pred func(string) bool) int { return slices.IndexFunc(norm, pred) }
	if t := col(func(h string) bool { return strings.HasPrefix(h, "datetime(utc)") }); t >= 0 &&
		col(func(h string) bool { return strings.HasPrefix(h, "carbonintensity") }) >= 0 {
		return p.emCSV(r, header, norm, t, hwhere)
	}
	if norm[0] == "pointtime" {
		// WattTime's CSV downloads: point_time,value,... with the unit
		// (lbs/MWh) only in the API's metadata.
		p.format = FormatWattTimeJSON
		return nil, p.errf(hwhere, "a WattTime export (point_time column): WattTime values are lbs CO2/MWh of marginal emissions; joulebench needs gCO2e/kWh: %s, and write it as timestamp,g_per_kwh", seriesFactor[seriesUnitLbsMWh])
	}
	return p.plainCSV(r, header, hwhere)
}

func (p *seriesParse) csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return p.errf(fmt.Sprintf("line %d", pe.Line), "%v", pe.Err)
	}
	return p.errf("", "%v", err)
}

// rows reads the remaining records, calling f with each and its line.
func (p *seriesParse) rows(r *csv.Reader, f func(rec []string, where string) error) error {
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, csv.ErrFieldCount) {
			line, _ := r.FieldPos(0)
			return p.errf(fmt.Sprintf("line %d", line), "%d fields where the header has %d; a stray comma or a missing value?", len(rec), r.FieldsPerRecord)
		}
		if err != nil {
			return p.csvErr(err)
		}
		line, _ := r.FieldPos(0)
		if err := f(rec, fmt.Sprintf("line %d", line)); err != nil {
			return err
		}
	}
}

func (p *seriesParse) plainCSV(r *csv.Reader, header []string, hwhere string) ([]seriesRaw, error) {
	p.format = FormatPlainCSV
	if len(header) != 2 {
		return nil, p.errf(hwhere, "%d columns: a plain intensity CSV has two, timestamp,g_per_kwh (or is an Electricity Maps export with its \"Datetime (UTC)\" header)", len(header))
	}
	if _, err := p.time(hwhere, "", header[0]); err == nil {
		return nil, p.errf(hwhere, "no header: the first line must name the columns, the second with its unit, as in timestamp,g_per_kwh")
	}
	if err := p.unit(hwhere, header[1]); err != nil {
		return nil, err
	}
	var raws []seriesRaw
	err := p.rows(r, func(rec []string, where string) error {
		t, err := p.time(where, "timestamp", rec[0])
		if err != nil {
			return err
		}
		v, err := p.number(where, rec[1])
		if err != nil {
			return err
		}
		raws = append(raws, seriesRaw{t, v, where})
		return nil
	})
	return raws, err
}

// emCSV reads an Electricity Maps data-portal export.
func (p *seriesParse) emCSV(r *csv.Reader, header, norm []string, tcol int, hwhere string) ([]seriesRaw, error) {
	p.format = FormatElectricityMapsCSV
	var lca, direct, other []int
	for i, h := range norm {
		if !strings.HasPrefix(h, "carbonintensity") {
			continue
		}
		switch {
		case strings.Contains(h, "(lca)") || strings.Contains(h, "(lifecycle)"):
			lca = append(lca, i)
		case strings.Contains(h, "(direct)"):
			direct = append(direct, i)
		default:
			other = append(other, i)
		}
	}
	var vcol int
	switch {
	case len(lca) == 1:
		vcol = lca[0]
		p.notes = append(p.notes, fmt.Sprintf("life-cycle intensity, column %q", header[vcol]))
	case len(lca) == 0 && len(direct) == 1:
		vcol = direct[0]
		p.notes = append(p.notes, fmt.Sprintf("direct intensity (no life-cycle column), column %q", header[vcol]))
	case len(lca) == 0 && len(direct) == 0 && len(other) == 1:
		vcol = other[0]
		p.notes = append(p.notes, fmt.Sprintf("column %q", header[vcol]))
	default:
		return nil, p.errf(hwhere, "cannot tell which carbon intensity column to use; cut the file to timestamp,g_per_kwh")
	}
	if err := p.unit(hwhere, header[vcol]); err != nil {
		return nil, err
	}
	zcol := slices.Index(norm, "zoneid")
	ecol := slices.Index(norm, "dataestimated")
	var zone, zoneWhere string
	estimated := 0
	var raws []seriesRaw
	err := p.rows(r, func(rec []string, where string) error {
		if zcol >= 0 {
			z := strings.TrimSpace(rec[zcol])
			if zone == "" {
				zone, zoneWhere = z, where
			} else if z != zone {
				return p.errf(where, "zone %q differs from %q on %s: one zone per file", z, zone, zoneWhere)
			}
		}
		if ecol >= 0 && strings.EqualFold(strings.TrimSpace(rec[ecol]), "true") {
			estimated++
		}
		t, err := p.time(where, header[tcol], rec[tcol])
		if err != nil {
			return err
		}
		v, err := p.number(where, rec[vcol])
		if err != nil {
			return err
		}
		raws = append(raws, seriesRaw{t, v, where})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if zone != "" {
		p.notes = append(p.notes, "zone "+zone)
	}
	if estimated > 0 {
		p.notes = append(p.notes, fmt.Sprintf("%d of %d values estimated by Electricity Maps", estimated, len(raws)))
	}
	return raws, nil
}

// JSON.

func (p *seriesParse) json(data []byte) ([]seriesRaw, error) {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
			return nil, p.errf(fmt.Sprintf("line %d", line), "not valid JSON: %v", se)
		}
		return nil, p.errf("", "not valid JSON: %v", err)
	}
	if data[0] == '[' {
		return p.jsonArray("", data, nil)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, p.errf("", "not a JSON object: %v", err)
	}
	for _, k := range []string{"history", "forecast"} {
		if a, ok := top[k]; ok {
			if k == "forecast" {
				p.notes = append(p.notes, "values are Electricity Maps forecasts")
			}
			return p.jsonArray(k, a, top)
		}
	}
	if d, ok := top["data"]; ok {
		d = bytes.TrimSpace(d)
		if len(d) > 0 && d[0] == '{' {
			return p.ukRegion("data", d)
		}
		return p.jsonArray("data", d, top)
	}
	if _, ok := top["carbonIntensity"]; ok {
		p.format = FormatElectricityMapsJSON
		return nil, p.errf("", "a single Electricity Maps reading (the latest or past endpoint): fetch carbon-intensity/history or past-range for a series")
	}
	return nil, p.errf("", "unrecognised JSON: expected Electricity Maps' {\"history\":[{\"datetime\",\"carbonIntensity\"}]}, the UK Carbon Intensity API's {\"data\":[{\"from\",\"intensity\"}]}, or a CSV")
}

// seriesObj holds every field any supported JSON element might carry; the
// first element's fields decide the format.
type seriesObj struct {
	// Electricity Maps
	Datetime           *string  `json:"datetime"`
	CarbonIntensity    *float64 `json:"carbonIntensity"`
	EmissionFactorType *string  `json:"emissionFactorType"`
	IsEstimated        *bool    `json:"isEstimated"`
	Zone               *string  `json:"zone"`
	// UK Carbon Intensity API
	From      *string `json:"from"`
	To        *string `json:"to"`
	Intensity *struct {
		Forecast *float64 `json:"forecast"`
		Actual   *float64 `json:"actual"`
	} `json:"intensity"`
	RegionID *int            `json:"regionid"`
	Regions  json.RawMessage `json:"regions"`
	Data     json.RawMessage `json:"data"`
	// WattTime
	PointTime *string  `json:"point_time"`
	Value     *float64 `json:"value"`
}

// seriesElem names element i of the array called name.
func seriesElem(name string, i int) string { return fmt.Sprintf("%s[%d]", name, i) }

// jsonArray reads the array called name, its format decided by the first
// element's fields; top is the enclosing object, if any.
func (p *seriesParse) jsonArray(name string, data json.RawMessage, top map[string]json.RawMessage) ([]seriesRaw, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		return nil, p.errf(name, "not an array of readings: %v", err)
	}
	if len(elems) == 0 {
		return nil, p.errf(name, "empty: no data points")
	}
	var first seriesObj
	if err := json.Unmarshal(elems[0], &first); err != nil {
		return nil, p.errf(seriesElem(name, 0), "not a reading: %v", err)
	}
	switch {
	case first.Datetime != nil || first.CarbonIntensity != nil:
		return p.emJSON(name, elems)
	case first.Regions != nil:
		p.format = FormatCarbonIntensityUK
		return nil, p.errf(seriesElem(name, 0), "every GB region at once: fetch one region's series (regional/intensity/{from}/{to}/regionid/{id}) or the national one (intensity/{from}/{to})")
	case first.From != nil || first.Intensity != nil:
		return p.ukPeriods(name, elems)
	case first.RegionID != nil:
		if len(elems) != 1 {
			p.format = FormatCarbonIntensityUK
			return nil, p.errf(name, "%d regions: fetch one region's series", len(elems))
		}
		return p.ukRegion(seriesElem(name, 0), elems[0])
	case first.PointTime != nil:
		return p.wattTime(name, elems, top)
	}
	return nil, p.errf(seriesElem(name, 0), "unrecognised reading: expected {\"datetime\",\"carbonIntensity\"} (Electricity Maps) or {\"from\",\"intensity\"} (UK Carbon Intensity API)")
}

func (p *seriesParse) emJSON(name string, elems []json.RawMessage) ([]seriesRaw, error) {
	p.format = FormatElectricityMapsJSON
	if name == "" {
		name = "history" // a bare array is what a script saved of one
	}
	factors := map[string]bool{}
	var zone string
	estimated := 0
	raws := make([]seriesRaw, 0, len(elems))
	for i, e := range elems {
		where := seriesElem(name, i)
		o, err := p.obj(where, e, "reading")
		if err != nil {
			return nil, err
		}
		t, err := p.reqTime(where, "datetime", o.Datetime)
		if err != nil {
			return nil, err
		}
		if o.CarbonIntensity == nil {
			return nil, p.errf(where, "carbonIntensity is null or missing: Electricity Maps has no value for %s; fetch a range with data or trim the file", seriesFmtTime(t))
		}
		v, err := p.value(where, *o.CarbonIntensity)
		if err != nil {
			return nil, err
		}
		if o.Zone != nil && *o.Zone != "" {
			if zone == "" {
				zone = *o.Zone
			} else if *o.Zone != zone {
				return nil, p.errf(where, "zone %q differs from %q: one zone per file", *o.Zone, zone)
			}
		}
		if o.EmissionFactorType != nil {
			factors[*o.EmissionFactorType] = true
		}
		if o.IsEstimated != nil && *o.IsEstimated {
			estimated++
		}
		raws = append(raws, seriesRaw{t, v, where})
	}
	if len(factors) > 1 {
		return nil, p.errf(name, "mixes emission factor types %v: fetch one (lifecycle or direct)", slices.Sorted(maps.Keys(factors)))
	}
	for f := range factors {
		p.notes = append(p.notes, "emissionFactorType "+f)
	}
	if zone != "" {
		p.notes = append(p.notes, "zone "+zone)
	}
	if estimated > 0 {
		p.notes = append(p.notes, fmt.Sprintf("%d of %d values estimated by Electricity Maps", estimated, len(raws)))
	}
	return raws, nil
}

// ukRegion reads one region's response, {"regionid",...,"data":[periods]}.
func (p *seriesParse) ukRegion(where string, data json.RawMessage) ([]seriesRaw, error) {
	p.format = FormatCarbonIntensityUK
	var reg struct {
		ShortName string          `json:"shortname"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &reg); err != nil || reg.Data == nil {
		return nil, p.errf(where, "expected one region's {\"regionid\",\"shortname\",\"data\":[...]}")
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(reg.Data, &elems); err != nil {
		return nil, p.errf(where+".data", "not an array of periods: %v", err)
	}
	if reg.ShortName != "" {
		p.notes = append(p.notes, "region "+reg.ShortName)
	}
	if len(elems) == 0 {
		return nil, p.errf(where+".data", "empty: no data points")
	}
	return p.ukPeriods(where+".data", elems)
}

// ukPeriods reads {"from","to","intensity":{"forecast","actual"}} periods.
func (p *seriesParse) ukPeriods(name string, elems []json.RawMessage) ([]seriesRaw, error) {
	p.format = FormatCarbonIntensityUK
	actual, forecast := 0, 0
	raws := make([]seriesRaw, 0, len(elems))
	for i, e := range elems {
		where := seriesElem(name, i)
		o, err := p.obj(where, e, "period")
		if err != nil {
			return nil, err
		}
		t, err := p.reqTime(where, "from", o.From)
		if err != nil {
			return nil, err
		}
		if o.To != nil {
			to, err := p.time(where, "to", *o.To)
			if err != nil {
				return nil, err
			}
			if !to.After(t) {
				return nil, p.errf(where, "to %s is not after from %s", seriesFmtTime(to), seriesFmtTime(t))
			}
		}
		if o.Intensity == nil {
			return nil, p.errf(where, "no intensity")
		}
		var v float64
		switch {
		case o.Intensity.Actual != nil:
			v = *o.Intensity.Actual
			actual++
		case o.Intensity.Forecast != nil:
			v = *o.Intensity.Forecast
			forecast++
		default:
			return nil, p.errf(where, "intensity has neither actual nor forecast")
		}
		if v, err = p.value(where, v); err != nil {
			return nil, err
		}
		raws = append(raws, seriesRaw{t, v, where})
	}
	switch {
	case forecast == 0:
		p.notes = append(p.notes, "intensity.actual throughout")
	case actual == 0:
		p.notes = append(p.notes, "intensity.forecast throughout (no actual values in the file)")
	default:
		p.notes = append(p.notes, fmt.Sprintf("intensity.actual for %d periods, intensity.forecast for %d where actual was null", actual, forecast))
	}
	return raws, nil
}

// wattTime reads WattTime v3 data, refusing it unless meta.units is in
// gCO2e/kWh.
func (p *seriesParse) wattTime(name string, elems []json.RawMessage, top map[string]json.RawMessage) ([]seriesRaw, error) {
	p.format = FormatWattTimeJSON
	var meta struct {
		Units      string `json:"units"`
		SignalType string `json:"signal_type"`
		Region     string `json:"region"`
	}
	if m, ok := top["meta"]; ok {
		_ = json.Unmarshal(m, &meta) // a malformed meta leaves Units empty, refused below
	}
	if meta.Units == "" {
		return nil, p.errf("meta.units", "missing: WattTime data without its units; WattTime reports lbs CO2/MWh, which joulebench does not convert: %s and write timestamp,g_per_kwh", seriesFactor[seriesUnitLbsMWh])
	}
	if err := p.unit("meta.units", meta.Units); err != nil {
		return nil, err
	}
	if meta.SignalType != "" {
		p.notes = append(p.notes, "WattTime signal "+meta.SignalType)
	}
	if strings.Contains(strings.ToLower(meta.SignalType), "moer") {
		p.notes = append(p.notes, "marginal emissions rate, not the grid average")
	}
	if meta.Region != "" {
		p.notes = append(p.notes, "region "+meta.Region)
	}
	raws := make([]seriesRaw, 0, len(elems))
	for i, e := range elems {
		where := seriesElem(name, i)
		o, err := p.obj(where, e, "reading")
		if err != nil {
			return nil, err
		}
		t, err := p.reqTime(where, "point_time", o.PointTime)
		if err != nil {
			return nil, err
		}
		if o.Value == nil {
			return nil, p.errf(where, "value is null or missing")
		}
		v, err := p.value(where, *o.Value)
		if err != nil {
			return nil, err
		}
		raws = append(raws, seriesRaw{t, v, where})
	}
	return raws, nil
}

// Using a series.

// End returns the end of the series' coverage: the last point's time plus
// Step. The series covers [Points[0].Time, End()).
func (s *Series) End() time.Time {
	return s.Points[len(s.Points)-1].Time.Add(s.Step)
}

// index returns the index of the point whose value holds at t, or -1 when t
// is outside [Points[0].Time, End()).
func (s *Series) index(t time.Time) int {
	if len(s.Points) == 0 || t.Before(s.Points[0].Time) || !t.Before(s.End()) {
		return -1
	}
	// The last point at or before t.
	return sort.Search(len(s.Points), func(i int) bool { return s.Points[i].Time.After(t) }) - 1
}

// At returns the intensity in gCO2e/kWh at t, and false when t lies outside
// the series' coverage [first point, last point + Step): the series is never
// extrapolated.
func (s *Series) At(t time.Time) (float64, bool) {
	i := s.index(t)
	if i < 0 {
		return 0, false
	}
	return s.Points[i].GramsPerKWh, true
}

// Segment is energy spent at a constant rate over [Start, End): a
// repetition, a phase, or the interval between two meter readings.
type Segment struct {
	Start, End time.Time
	Energy     metrics.Energy
}

// Carbon returns the grams of CO2e the segments' energy caused at the
// series' intensities. Each segment is cut at the series' steps; each piece
// gets the share of the segment's energy that its share of the segment's time
// says (constant power within a segment), times the intensity of its step:
// grams = Σ kWh_piece × gCO2e/kWh. Shorter segments (the meter's own
// intervals) follow the run's real power more closely.
//
// No PUE is applied. A segment that is not wholly inside the series'
// coverage is an error naming the uncovered time and the span covered, as
// is one with negative energy (carbon is caused by energy drawn: pass gross
// energy, not net of idle), one that ends before it starts, or energy spent
// in no time.
func (s *Series) Carbon(segs []Segment) (grams float64, err error) {
	if len(s.Points) == 0 {
		return 0, fmt.Errorf("carbon: intensity series %s has no points", s.Name)
	}
	for k, g := range segs {
		d := g.End.Sub(g.Start)
		switch {
		case g.Energy < 0:
			return 0, fmt.Errorf("carbon: segment %d (%s): negative energy %v: carbon is counted on gross energy drawn, not net of idle", k, seriesFmtSpan(g.Start, g.End), g.Energy)
		case d < 0:
			return 0, fmt.Errorf("carbon: segment %d ends at %s, before it starts at %s", k, seriesFmtTime(g.End), seriesFmtTime(g.Start))
		case d == 0 && g.Energy != 0:
			return 0, fmt.Errorf("carbon: segment %d: %v spent in no time at %s", k, g.Energy, seriesFmtTime(g.Start))
		case d == 0:
			continue
		}
		uncovered, outside := g.Start, true
		switch {
		case g.Start.Before(s.Points[0].Time):
		case !g.Start.Before(s.End()):
		case g.End.After(s.End()):
			uncovered = s.End()
		default:
			outside = false
		}
		if outside {
			return 0, fmt.Errorf("carbon: the run at %s (segment %d, %s) is outside intensity file %s, which covers %s: use a series that covers the whole run; joulebench does not extrapolate",
				seriesFmtTime(uncovered), k, seriesFmtSpan(g.Start, g.End), s.Name, seriesFmtSpan(s.Points[0].Time, s.End()))
		}
		kwh := g.Energy.KWh()
		for i, t := s.index(g.Start), g.Start; t.Before(g.End); i++ {
			next := s.End()
			if i+1 < len(s.Points) {
				next = s.Points[i+1].Time
			}
			if next.After(g.End) {
				next = g.End
			}
			// The piece's share of the segment's time, in integer
			// nanoseconds so that a segment split at a step's edge sums
			// to exactly its energy.
			grams += kwh * float64(next.Sub(t)) / float64(d) * s.Points[i].GramsPerKWh
			t = next
		}
	}
	return grams, nil
}

// Describe says, for the record, which series was used and how, e.g.
// "electricitymaps-csv file grid.csv, 48 points 2026-11-28T00:00Z..2026-11-29T23:00Z,
// step 1h0m0s; life-cycle intensity, column ...".
func (s *Series) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s file %s, %d points", s.Format, s.Name, len(s.Points))
	if len(s.Points) > 0 {
		fmt.Fprintf(&b, " %s..%s", seriesFmtTime(s.Points[0].Time), seriesFmtTime(s.Points[len(s.Points)-1].Time))
	}
	fmt.Fprintf(&b, ", step %s", s.Step)
	for _, n := range s.Notes {
		b.WriteString("; ")
		b.WriteString(n)
	}
	return b.String()
}

// seriesFmtTime writes t in UTC, without seconds when they are zero, as
// grid operators write their periods.
func seriesFmtTime(t time.Time) string {
	t = t.UTC()
	if t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04Z07:00")
	}
	return t.Format(time.RFC3339Nano)
}

func seriesFmtSpan(a, b time.Time) string { return seriesFmtTime(a) + ".." + seriesFmtTime(b) }
