package carbon

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Intensity is one row of the embedded grid carbon intensity table: the
// annual average carbon intensity of the electricity a region draws.
type Intensity struct {
	// Code identifies the row: an ISO 3166-1 alpha-2 country ("DE"), "WORLD",
	// "EU", a US eGRID subregion ("US-EGRID-CAMX"), a Canadian province
	// ("CA-QC"), an Australian state ("AU-NSW") or a cloud region
	// ("aws:eu-west-1", "gcp:europe-west1", "azure:westeurope").
	Code string
	// Name is a human-readable name for the region.
	Name string
	// GramsPerKWh is the annual average intensity in gCO2e per kWh.
	GramsPerKWh float64
	// Year is the year the figure describes, not the year it was published.
	Year int
	// Source names the publisher and dataset of the figure; for a cloud row
	// it also names the provider's page that places the region.
	Source string
	// Grid is, for a cloud row, the Code of the grid row whose figure it
	// uses; it is empty for grid rows.
	Grid string
}

// IsCloud reports whether i is a cloud region that borrows its figure from
// the grid row named by Grid.
func (i Intensity) IsCloud() bool { return i.Grid != "" }

// The two things the table's sources count (see the header of
// data/grid_intensity.csv).
const (
	// BasisLifecycle: emissions over the generators' life cycle, upstream
	// fuel and construction included (Ember, Electricity Maps).
	BasisLifecycle = "lifecycle"
	// BasisDirect: emissions at the generators' stacks only (EPA eGRID).
	BasisDirect = "direct"
)

// Basis says what the row's figure counts: BasisDirect for the EPA eGRID
// rows (and the cloud regions mapped to them), BasisLifecycle for the rest.
func (i Intensity) Basis() string {
	grid := i.Code
	if i.IsCloud() {
		grid = i.Grid
	}
	if strings.HasPrefix(grid, "US-EGRID-") {
		return BasisDirect
	}
	return BasisLifecycle
}

// DirectNote is said wherever a direct-emission figure is used, since most
// of the table, and most published per-kWh figures, are lifecycle ones.
const DirectNote = "this region's figure (EPA eGRID) counts direct emissions at the power stations only, no upstream or lifecycle share, so it is lower than a lifecycle figure for the same grid; most other rows of the table are lifecycle figures"

// DefaultRegion is the code used when no region is given: the world
// average. Callers should print that the default was used, because a world
// average says nothing about where a machine actually is.
const DefaultRegion = "WORLD"

// ErrUnknownRegion is matched (with errors.Is) by the error Lookup returns
// for a code that is not in the table.
var ErrUnknownRegion = errors.New("unknown region")

// UnknownRegionError is returned by Lookup for a code that is not in the
// table. Its message lists the closest codes so that a typo can be fixed
// without reading the whole list.
type UnknownRegionError struct {
	// Input is the code as given, trimmed of surrounding space.
	Input string
	// Closest are the codes most like Input, best first.
	Closest []string
}

func (e *UnknownRegionError) Error() string {
	return fmt.Sprintf("unknown region %q: closest: %s (joulebench carbon --list shows all)",
		e.Input, strings.Join(e.Closest, ", "))
}

// Unwrap lets errors.Is(err, ErrUnknownRegion) match.
func (e *UnknownRegionError) Unwrap() error { return ErrUnknownRegion }

//go:embed data/grid_intensity.csv
var gridCSV []byte

// gridAliases maps codes people type to the table's codes. "UK" is the
// common name for the United Kingdom, whose ISO code is GB.
var gridAliases = map[string]string{"UK": "GB"}

// gridProviders are the prefixes a cloud row's code may carry.
var gridProviders = map[string]bool{"aws": true, "gcp": true, "azure": true}

// gridHeader is the only column layout the table may have; a reordered or
// renamed column would silently shift every value otherwise.
var gridHeader = []string{"code", "name", "g_per_kwh", "year", "source", "grid"}

// Limits a row's figure must lie within. No grid averages zero over a year
// (a zero is a missing value in disguise), and the most carbon-intensive
// grids (lignite, oil on small islands) stay well under 2000 g/kWh.
const (
	gridMaxGramsPerKWh = 2000
	gridMinYear        = 1990
	gridMaxYear        = 2100
)

// Suggestion tuning for unknown codes.
const (
	gridSuggestions = 3
	// gridKindPenalty pushes cloud rows below grid rows for a query with no
	// provider prefix, and grid rows below cloud rows for one with a prefix,
	// so that "us-calif" offers the grid before the clouds that sit on it.
	gridKindPenalty = 0.02
)

type gridTable struct {
	version string
	rows    []Intensity    // sorted by code
	byKey   map[string]int // upper-case code → index into rows
}

var (
	gridOnce sync.Once
	gridTab  *gridTable
)

// gridLoad parses the embedded table once. The table is compiled in and
// checked by the package tests, so a parse failure is a build defect, not
// a run-time condition: it panics, naming the offending line.
func gridLoad() *gridTable {
	gridOnce.Do(func() {
		t, err := gridParse(gridCSV)
		if err != nil {
			panic("carbon: embedded grid_intensity.csv: " + err.Error())
		}
		gridTab = t
	})
	return gridTab
}

// TableVersion returns the version of the embedded intensity table, as
// declared in its header ("# version: 2026.1"). Records store it so that a
// figure can be traced back to the exact table that produced it.
func TableVersion() string { return gridLoad().version }

// Regions returns a copy of every row of the table, sorted by code in byte
// order, which puts grid rows (upper-case codes) before cloud rows.
func Regions() []Intensity {
	t := gridLoad()
	return append([]Intensity(nil), t.rows...)
}

// Lookup returns the row for code. Case and surrounding space are ignored,
// "UK" is accepted for "GB", and an empty code returns the DefaultRegion
// row. An unknown code returns an *UnknownRegionError listing the closest
// codes, by edit distance on the code, prefixes, and the region's name (so
// "germany" suggests DE).
func Lookup(code string) (Intensity, error) {
	t := gridLoad()
	in := strings.TrimSpace(code)
	if in == "" {
		in = DefaultRegion
	}
	key := strings.ToUpper(in)
	if alias, ok := gridAliases[key]; ok {
		key = alias
	}
	if i, ok := t.byKey[key]; ok {
		return t.rows[i], nil
	}
	return Intensity{}, &UnknownRegionError{Input: in, Closest: t.closest(in, gridSuggestions)}
}

// gridParse reads and validates the table. Every rule here exists because
// its violation would put a wrong number in a record without anyone seeing
// it: a missing source or year, an impossible value, a duplicate code that
// shadows another, or a cloud region whose figure drifted from its grid.
func gridParse(data []byte) (*gridTable, error) {
	t := &gridTable{byKey: map[string]int{}}

	// The header comment block carries the version; encoding/csv would drop
	// comments, so read it first and hand the rest to the CSV reader.
	rest := data
	line := 0
	for len(rest) > 0 {
		end := bytes.IndexByte(rest, '\n')
		var l []byte
		if end < 0 {
			l, end = rest, len(rest)-1
		} else {
			l = rest[:end]
		}
		s := strings.TrimSpace(string(l))
		if s != "" && !strings.HasPrefix(s, "#") {
			break
		}
		line++
		if v, ok := strings.CutPrefix(s, "#"); ok {
			if v, ok := strings.CutPrefix(strings.TrimSpace(v), "version:"); ok {
				if t.version != "" {
					return nil, fmt.Errorf("line %d: second version line", line)
				}
				t.version = strings.TrimSpace(v)
			}
		}
		rest = rest[end+1:]
	}
	if t.version == "" {
		return nil, errors.New(`no "# version: ..." line in the header comments`)
	}

	r := csv.NewReader(bytes.NewReader(rest))
	r.FieldsPerRecord = len(gridHeader)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("line %d: header: %w", line+1, err)
	}
	if strings.Join(header, ",") != strings.Join(gridHeader, ",") {
		return nil, fmt.Errorf("line %d: header is %q, want %q", line+1,
			strings.Join(header, ","), strings.Join(gridHeader, ","))
	}
	lines := map[string]int{} // upper-case code → line, for messages
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		n, _ := r.FieldPos(0)
		n += line
		row, err := gridParseRow(rec)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, rec[0], err)
		}
		key := strings.ToUpper(row.Code)
		if prev, dup := lines[key]; dup {
			return nil, fmt.Errorf("line %d (%s): duplicate code, first at line %d", n, row.Code, prev)
		}
		if _, alias := gridAliases[key]; alias {
			return nil, fmt.Errorf("line %d (%s): code is reserved as an alias of %s", n, row.Code, gridAliases[key])
		}
		lines[key] = n
		t.rows = append(t.rows, row)
	}

	sort.Slice(t.rows, func(a, b int) bool { return t.rows[a].Code < t.rows[b].Code })
	for i, row := range t.rows {
		t.byKey[strings.ToUpper(row.Code)] = i
	}
	// Cross-row checks, now that every grid row is known.
	for _, row := range t.rows {
		if !row.IsCloud() {
			continue
		}
		n := lines[strings.ToUpper(row.Code)]
		gi, ok := t.byKey[strings.ToUpper(row.Grid)]
		if !ok {
			return nil, fmt.Errorf("line %d (%s): grid row %q does not exist", n, row.Code, row.Grid)
		}
		g := t.rows[gi]
		switch {
		case g.IsCloud():
			return nil, fmt.Errorf("line %d (%s): grid %q is itself a cloud region", n, row.Code, row.Grid)
		case g.Code != row.Grid:
			return nil, fmt.Errorf("line %d (%s): grid %q must be spelled %q", n, row.Code, row.Grid, g.Code)
		case row.GramsPerKWh != g.GramsPerKWh:
			return nil, fmt.Errorf("line %d (%s): %g g/kWh differs from its grid %s (%g g/kWh)",
				n, row.Code, row.GramsPerKWh, g.Code, g.GramsPerKWh)
		case row.Year != g.Year:
			return nil, fmt.Errorf("line %d (%s): year %d differs from its grid %s (%d)", n, row.Code, row.Year, g.Code, g.Year)
		case !strings.HasSuffix(row.Source, "grid figure: "+g.Source):
			return nil, fmt.Errorf("line %d (%s): source must end with \"grid figure: \" and the source of %s", n, row.Code, g.Code)
		}
	}
	for alias, target := range gridAliases {
		if _, ok := t.byKey[target]; !ok {
			return nil, fmt.Errorf("alias %s names missing code %s", alias, target)
		}
	}
	if _, ok := t.byKey[DefaultRegion]; !ok {
		return nil, fmt.Errorf("no %s row (the default region)", DefaultRegion)
	}
	return t, nil
}

// gridParseRow checks the fields of one row on their own.
func gridParseRow(rec []string) (Intensity, error) {
	for i, f := range rec {
		if f != strings.TrimSpace(f) {
			return Intensity{}, fmt.Errorf("%s has surrounding space", gridHeader[i])
		}
	}
	row := Intensity{Code: rec[0], Name: rec[1], Source: rec[4], Grid: rec[5]}
	if row.Code == "" || strings.ContainsFunc(row.Code, unicode.IsSpace) {
		return row, errors.New("code is empty or contains space")
	}
	provider, region, cloud := strings.Cut(row.Code, ":")
	if cloud {
		if !gridProviders[provider] || region == "" || region != strings.ToLower(region) {
			return row, errors.New(`cloud code must be "aws:", "gcp:" or "azure:" and a lower-case region`)
		}
		if row.Grid == "" {
			return row, errors.New("cloud region has no grid")
		}
		if !strings.HasPrefix(row.Source, "location: ") {
			return row, errors.New(`cloud source must start with "location: " and the provider's page`)
		}
	} else {
		if row.Code != strings.ToUpper(row.Code) {
			return row, errors.New("grid code must be upper case")
		}
		if row.Grid != "" {
			return row, errors.New("only cloud regions may name a grid")
		}
	}
	if row.Name == "" {
		return row, errors.New("name is empty")
	}
	if row.Source == "" {
		return row, errors.New("source is empty")
	}
	g, err := strconv.ParseFloat(rec[2], 64)
	if err != nil {
		return row, fmt.Errorf("g_per_kwh: %w", err)
	}
	if math.IsNaN(g) || g <= 0 || g > gridMaxGramsPerKWh {
		return row, fmt.Errorf("g_per_kwh %s is outside (0, %d]", rec[2], gridMaxGramsPerKWh)
	}
	row.GramsPerKWh = g
	if rec[3] == "" {
		return row, errors.New("year is empty")
	}
	y, err := strconv.Atoi(rec[3])
	if err != nil {
		return row, fmt.Errorf("year: %w", err)
	}
	if y < gridMinYear || y > gridMaxYear {
		return row, fmt.Errorf("year %d is outside [%d, %d]", y, gridMinYear, gridMaxYear)
	}
	row.Year = y
	return row, nil
}

// closest returns up to n codes most like query, best first; ties go to the
// code that sorts first, so the answer is stable.
func (t *gridTable) closest(query string, n int) []string {
	q := strings.ToLower(strings.TrimSpace(query))
	type cand struct {
		code  string
		score float64
	}
	aliases := map[string][]string{}
	for a, target := range gridAliases {
		aliases[target] = append(aliases[target], strings.ToLower(a))
	}
	cands := make([]cand, 0, len(t.rows))
	for _, row := range t.rows {
		cands = append(cands, cand{row.Code, gridScore(q, row, aliases[row.Code])})
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score < cands[b].score })
	if len(cands) > n {
		cands = cands[:n]
	}
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.code
	}
	return out
}

// gridScore rates how well a lower-case query matches a row: 0 is a perfect
// match, 1 is nothing in common. It takes the best of
//   - a prefix match on the code, the region part of a cloud code, an alias,
//     the name or a word of the name ("aws:eu-west" → aws:eu-west-1);
//   - every word of the query starting a word of the code or name
//     ("us-calif" → US-EGRID-CAMX, "WECC California");
//   - normalised edit distance to the code, name, or a word of the name
//     ("germny" → DE, "Germany"; "aws:eu-west-9" → aws:eu-west-1).
func gridScore(q string, row Intensity, aliases []string) float64 {
	code := strings.ToLower(row.Code)
	name := strings.ToLower(row.Name)
	whole := []string{code, name}
	if _, region, ok := strings.Cut(code, ":"); ok {
		whole = append(whole, region)
	}
	whole = append(whole, aliases...)
	nameWords := gridWords(name)
	codeWords := gridWords(code)

	best := 1.0
	try := func(s float64) {
		if s < best {
			best = s
		}
	}
	for _, s := range append(append([]string(nil), whole...), nameWords...) {
		if q == "" || s == "" {
			continue
		}
		if len(q) >= 2 && strings.HasPrefix(s, q) {
			// Prefix matches rank ahead of edit distance; a longer share of
			// the candidate ranks ahead of a shorter one.
			try(0.1 * (1 - float64(utf8.RuneCountInString(q))/float64(utf8.RuneCountInString(s))))
		}
		try(gridNormLev(q, s))
	}
	if words := gridWords(q); len(words) > 1 {
		matched, viaName := 0, 0
		for _, w := range words {
			switch {
			case gridAnyPrefix(codeWords, w, 2):
				matched++
			case gridAnyPrefix(nameWords, w, 3):
				matched++
				viaName++
			}
		}
		if matched == len(words) {
			try(0.15 + 0.1*float64(viaName)/float64(len(words)))
		}
	}
	if strings.Contains(q, ":") != row.IsCloud() {
		best += gridKindPenalty
	}
	return best
}

// gridWords splits s into its letter-and-digit runs.
func gridWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// gridAnyPrefix reports whether w, at least min runes long, starts one of words.
func gridAnyPrefix(words []string, w string, min int) bool {
	if utf8.RuneCountInString(w) < min {
		return false
	}
	for _, x := range words {
		if strings.HasPrefix(x, w) {
			return true
		}
	}
	return false
}

// gridNormLev is the Levenshtein distance between a and b divided by the
// longer length, so that long names are not penalised for being long.
func gridNormLev(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	longer := max(len(ra), len(rb))
	if longer == 0 {
		return 0
	}
	return float64(gridLev(ra, rb)) / float64(longer)
}

// gridLev is the Levenshtein edit distance over runes, in O(len(b)) space.
func gridLev(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
