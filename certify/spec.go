package certify

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// specDefaultRaw is the built-in spec, byte for byte: its digest is what a
// certificate judged by it carries, so it is never re-encoded.
//
//go:embed spec/v1.json
var specDefaultRaw []byte

// SpecVersion is the version of the spec format this package reads. A
// spec file of another version is refused rather than misread.
const SpecVersion = "1"

// DefaultProfile is the profile a record is judged by when the spec has
// none named after the record's suite. It is also the profile whose
// durations level 2 and 3 require, so every spec must have it.
const DefaultProfile = "certify"

// Spec is a certification specification: the rules a record must meet, the
// measurement levels, the rating bands of each workload class, and the
// tolerances a reproduction is held to. Its JSON form is certify/spec/v1.json.
type Spec struct {
	// Name and Version identify the spec on every certificate judged by it.
	Name    string `json:"name"`
	Version string `json:"version"`
	// Description says whose spec this is and what it is for.
	Description string `json:"description,omitempty"`
	// Profiles are the rules, by name. A record is judged by the profile
	// named after its suite, else by "certify".
	Profiles map[string]Profile `json:"profiles"`
	// Levels describe measurement levels 0 to 3, in order.
	Levels []LevelSpec `json:"levels"`
	// Classes are the workload classes with their rating bands, by name.
	Classes map[string]Class `json:"classes"`
	// WorkloadClasses maps workload names to classes: the first pattern
	// (path.Match syntax) that matches a workload's name gives its class.
	// A workload no pattern matches gets no rating.
	WorkloadClasses []ClassPattern `json:"workload_classes"`
	// Tolerances are how far a reproduction's median may lie from the
	// original's, by figure name (flops_per_j, j_per_item, ...).
	Tolerances map[string]Tolerance `json:"tolerances"`
}

// Profile is a set of measurement rules. A rule that a record fails makes
// it uncertifiable.
type Profile struct {
	// MinReps is the fewest measured repetitions of each workload.
	MinReps int `json:"min_reps"`
	// MinRepS is the shortest a repetition may be, in seconds.
	MinRepS float64 `json:"min_rep_s"`
	// MinIdleS is the shortest idle baseline, in seconds; 0 means none is
	// required.
	MinIdleS float64 `json:"min_idle_s"`
	// MaxCV is the largest coefficient of variation of energy per item
	// over the repetitions.
	MaxCV float64 `json:"max_cv"`
	// MinReadingsPerRep is the fewest meter readings in a repetition.
	MinReadingsPerRep int `json:"min_readings_per_rep"`
	// MaxIntervalS is the longest sampling interval allowed, in seconds.
	MaxIntervalS float64 `json:"max_interval_s"`
	// Rationale says where each number comes from.
	Rationale []string `json:"rationale,omitempty"`
}

// LevelSpec describes one measurement level. The requirements themselves
// are code (Evaluate); the text says them for people, and the spec can
// rename a level but not redefine it.
type LevelSpec struct {
	Level       int      `json:"level"`
	Name        string   `json:"name"`
	Requirement string   `json:"requirement"`
	Sources     []Source `json:"sources,omitempty"`
}

// Class is a workload class: the device it runs on, the figure it is rated
// by, and the seven bands A to G of its scale.
type Class struct {
	// Device is what does the work, "cpu" or "gpu": the meters must count
	// it in the total.
	Device string `json:"device"`
	// Metric names the rated figure (flops_per_j, j_per_item, ...) and
	// Better says which way is better, "higher" or "lower"; it must agree
	// with the figure.
	Metric string `json:"metric"`
	Better string `json:"better"`
	Unit   string `json:"unit"`
	// Bands are A to G, in order. For a higher-is-better figure each edge
	// is the band's lower bound and the edges fall from A to G; for a
	// lower-is-better one each edge is the band's upper bound and they
	// rise. A value exactly at an edge earns that band; G is open-ended.
	Bands     []Band   `json:"bands"`
	Rationale []string `json:"rationale"`
	Sources   []Source `json:"sources"`
}

// Band is one band of a rating scale.
type Band struct {
	Band      string  `json:"band"`
	Edge      float64 `json:"edge"`
	Rationale string  `json:"rationale,omitempty"`
}

// Source is a published figure a spec relies on, cited next to it.
type Source struct {
	Figure string `json:"figure"`
	What   string `json:"what"`
	Source string `json:"source"`
}

// ClassPattern maps the workloads whose name matches Pattern to Class.
type ClassPattern struct {
	Pattern string `json:"pattern"`
	Class   string `json:"class"`
}

// Tolerance is how far apart an original and a reproduction may be, as a
// fraction of the original.
type Tolerance struct {
	Relative  float64 `json:"relative"`
	Rationale string  `json:"rationale"`
}

// specBandNames are the bands of every scale, best first.
var specBandNames = []string{"A", "B", "C", "D", "E", "F", "G"}

// specBetter says which way each figure a certificate states is better;
// the figures absent here (power, throughput) are not efficiencies and
// cannot be rated, though a reproduction can hold them to a tolerance.
var specBetter = map[string]string{
	metrics.FigFLOPsPerJ:    "higher",
	metrics.FigNetFLOPsPerJ: "higher",
	metrics.FigJPerItem:     "lower",
	metrics.FigNetJPerItem:  "lower",
	carbon.FigGramsPerItem:  "lower",
	carbon.FigGramsPerGFLOP: "lower",
	metrics.FigFLOPS:        "",
	metrics.FigPowerW:       "",
}

// specDevices are the devices a class can name.
var specDevices = map[string]bool{"cpu": true, "gpu": true}

// DefaultSpec returns the built-in spec, parsed, and its bytes (from which
// its digest is computed). It panics if the embedded file is invalid,
// which a test rules out.
func DefaultSpec() (*Spec, []byte) {
	s, err := ParseSpec(specDefaultRaw, "spec/v1.json (built in)")
	if err != nil {
		panic(err)
	}
	return s, bytes.Clone(specDefaultRaw)
}

// LoadSpec reads and checks a spec file, returning it parsed and its bytes.
// It reads at most infile.MaxSpec (1 MiB; the built-in spec is about
// 20 KiB) and never a FIFO, a device or a directory.
func LoadSpec(file string) (*Spec, []byte, error) {
	data, err := infile.Read(file, infile.MaxSpec)
	if err != nil {
		// infile's errors name the file.
		if errors.Is(err, infile.ErrTooLarge) {
			return nil, nil, fmt.Errorf("read spec: %w; a spec is tens of kilobytes: give the spec file itself", err)
		}
		return nil, nil, fmt.Errorf("read spec: %w", err)
	}
	s, err := ParseSpec(data, file)
	if err != nil {
		return nil, nil, err
	}
	return s, data, nil
}

// SpecDigest is the digest a certificate carries for the spec it was
// judged by: "sha256:" and the hex sha256 of the file's bytes.
func SpecDigest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ParseSpec decodes and checks a spec; name names it in errors, which also
// name the field at fault. Unknown fields are refused, so that a misspelt
// rule is never silently ignored.
//
// A spec other than the built-in one, byte for byte, may not pass for it
// or soften what level 0 means: its name may not be "joulebench" or start
// with it (in any case, ignoring spaces and punctuation), and its level 0
// must keep the built-in name ("estimated"), so that a synthetic or
// modelled figure never shows under a kinder word.
func ParseSpec(data []byte, name string) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("spec %s: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("spec %s: trailing data after the spec object", name)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("spec %s: %w", name, err)
	}
	if !bytes.Equal(data, specDefaultRaw) {
		if err := s.validateCustom(); err != nil {
			return nil, fmt.Errorf("spec %s: %w", name, err)
		}
	}
	return &s, nil
}

// specBuiltinLevel0 is the built-in spec's name for level 0, which a
// custom spec must keep.
var specBuiltinLevel0 = sync.OnceValue(func() string {
	var s struct {
		Levels []LevelSpec `json:"levels"`
	}
	if err := json.Unmarshal(specDefaultRaw, &s); err != nil || len(s.Levels) == 0 {
		panic(fmt.Sprintf("certify: built-in spec: %v", err))
	}
	return s.Levels[0].Name
})

// specReservedName is what only the built-in spec may be called.
const specReservedName = "joulebench"

// validateCustom holds a spec that is not the built-in one to what it may
// not claim.
func (s *Spec) validateCustom() error {
	// A custom name is plain ASCII, so that no look-alike letter (a
	// Cyrillic ј, a fullwidth ｊ) can make it read as the built-in's.
	if !specCustomName.MatchString(s.Name) {
		return specFieldError("name", "is %q: a custom spec's name is 1 to 64 ASCII letters, digits, spaces and ( ) . _ -, starting with a letter or digit (name it after whoever publishes it)", s.Name)
	}
	var folded strings.Builder
	for _, r := range strings.ToLower(s.Name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			folded.WriteRune(r)
		}
	}
	if strings.Contains(folded.String(), specReservedName) {
		return specFieldError("name", "is %q: only the built-in spec, byte for byte, is called %s, and a custom spec must not pass for it by naming it (name it after whoever publishes it)", s.Name, specReservedName)
	}
	if want := specBuiltinLevel0(); s.Levels[0].Name != want {
		return specFieldError("levels[0].name", "is %q: level 0 is %q in every spec, so that a synthetic or modelled figure is never shown under another word", s.Levels[0].Name, want)
	}
	return nil
}

// specCustomName is what a custom spec may be called.
var specCustomName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ()._-]{0,63}$`)

// specFieldError names the field of a spec that is wrong.
func specFieldError(field, format string, a ...any) error {
	return fmt.Errorf("field %s: %s", field, fmt.Sprintf(format, a...))
}

func specFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (s *Spec) validate() error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return specFieldError("name", "is required")
	case s.Version != SpecVersion:
		return specFieldError("version", "is %q; this joulebench reads spec version %q", s.Version, SpecVersion)
	case len(s.Profiles) == 0:
		return specFieldError("profiles", "must name at least the %q profile", DefaultProfile)
	}
	if _, ok := s.Profiles[DefaultProfile]; !ok {
		return specFieldError("profiles", "has no %q profile; it judges records of any other suite and sets level 2's durations", DefaultProfile)
	}
	for _, name := range specSortedKeys(s.Profiles) {
		if err := s.Profiles[name].validate(fmt.Sprintf("profiles[%q]", name)); err != nil {
			return err
		}
	}
	if len(s.Levels) != 4 {
		return specFieldError("levels", "has %d levels, want 4 (0 to 3)", len(s.Levels))
	}
	for i, l := range s.Levels {
		f := fmt.Sprintf("levels[%d]", i)
		switch {
		case l.Level != i:
			return specFieldError(f+".level", "is %d, want %d: levels are listed 0 to 3 in order", l.Level, i)
		case strings.TrimSpace(l.Name) == "":
			return specFieldError(f+".name", "is required")
		case strings.TrimSpace(l.Requirement) == "":
			return specFieldError(f+".requirement", "is required")
		}
	}
	if len(s.Classes) == 0 {
		return specFieldError("classes", "must define at least one workload class")
	}
	for _, name := range specSortedKeys(s.Classes) {
		if err := s.Classes[name].validate(fmt.Sprintf("classes[%q]", name)); err != nil {
			return err
		}
	}
	for i, p := range s.WorkloadClasses {
		f := fmt.Sprintf("workload_classes[%d]", i)
		if _, err := path.Match(p.Pattern, ""); err != nil || strings.TrimSpace(p.Pattern) == "" {
			return specFieldError(f+".pattern", "%q is not a valid pattern (path.Match syntax)", p.Pattern)
		}
		if _, ok := s.Classes[p.Class]; !ok {
			return specFieldError(f+".class", "%q is not one of the classes (%s)", p.Class, strings.Join(specSortedKeys(s.Classes), ", "))
		}
	}
	for _, m := range specSortedKeys(s.Tolerances) {
		t := s.Tolerances[m]
		f := fmt.Sprintf("tolerances[%q]", m)
		if _, ok := specBetter[m]; !ok {
			return specFieldError(f, "%q is not a figure a certificate states (%s)", m, strings.Join(specFigureNames(), ", "))
		}
		if !specFinite(t.Relative) || t.Relative <= 0 || t.Relative > 1 {
			return specFieldError(f+".relative", "is %v; it must be more than 0 and at most 1", t.Relative)
		}
		if strings.TrimSpace(t.Rationale) == "" {
			return specFieldError(f+".rationale", "is required: say why the tolerance is what it is")
		}
	}
	return nil
}

func (p Profile) validate(f string) error {
	switch {
	case p.MinReps < 2 || p.MinReps > 1000:
		// One repetition has no spread: its CV and interval say nothing.
		return specFieldError(f+".min_reps", "is %d; it must be between 2 and 1000", p.MinReps)
	case !specFinite(p.MinRepS) || p.MinRepS <= 0 || p.MinRepS > 86400:
		return specFieldError(f+".min_rep_s", "is %v; it must be more than 0 and at most 86400 seconds", p.MinRepS)
	case !specFinite(p.MinIdleS) || p.MinIdleS < 0 || p.MinIdleS > 86400:
		return specFieldError(f+".min_idle_s", "is %v; it must be between 0 and 86400 seconds", p.MinIdleS)
	case !specFinite(p.MaxCV) || p.MaxCV <= 0 || p.MaxCV > 1:
		return specFieldError(f+".max_cv", "is %v; it must be more than 0 and at most 1", p.MaxCV)
	case p.MinReadingsPerRep < 2 || p.MinReadingsPerRep > 1e6:
		// Two readings, the edges, are the fewest that measure anything.
		return specFieldError(f+".min_readings_per_rep", "is %d; it must be between 2 and 1000000", p.MinReadingsPerRep)
	case !specFinite(p.MaxIntervalS) || p.MaxIntervalS <= 0 || p.MaxIntervalS > 3600:
		return specFieldError(f+".max_interval_s", "is %v; it must be more than 0 and at most 3600 seconds", p.MaxIntervalS)
	}
	return nil
}

func (c Class) validate(f string) error {
	if !specDevices[c.Device] {
		return specFieldError(f+".device", "is %q, want \"cpu\" or \"gpu\"", c.Device)
	}
	better, ok := specBetter[c.Metric]
	switch {
	case !ok || better == "":
		return specFieldError(f+".metric", "%q is not an efficiency figure a certificate states (%s)", c.Metric, strings.Join(specRatable(), ", "))
	case c.Better != "higher" && c.Better != "lower":
		return specFieldError(f+".better", "is %q, want \"higher\" or \"lower\"", c.Better)
	case c.Better != better:
		return specFieldError(f+".better", "is %q, but %s is better when %s", c.Better, c.Metric, better)
	case strings.TrimSpace(c.Unit) == "":
		return specFieldError(f+".unit", "is required")
	case len(c.Bands) != len(specBandNames):
		return specFieldError(f+".bands", "has %d bands, want %d (A to G)", len(c.Bands), len(specBandNames))
	case len(c.Rationale) == 0:
		return specFieldError(f+".rationale", "is required: say where the edges come from")
	case len(c.Sources) == 0:
		return specFieldError(f+".sources", "is required: cite the figures the edges rely on")
	}
	for i, b := range c.Bands {
		bf := fmt.Sprintf("%s.bands[%d]", f, i)
		if b.Band != specBandNames[i] {
			return specFieldError(bf+".band", "is %q, want %q: bands are A to G, best first", b.Band, specBandNames[i])
		}
		if !specFinite(b.Edge) || b.Edge <= 0 {
			// Log-spaced edges of an efficiency are positive.
			return specFieldError(bf+".edge", "is %v; it must be a positive number", b.Edge)
		}
		if i == 0 {
			continue
		}
		prev := c.Bands[i-1].Edge
		if c.Better == "higher" && b.Edge >= prev {
			return specFieldError(bf+".edge", "is %v, not below band %s's %v: a higher-is-better scale falls from A to G", b.Edge, c.Bands[i-1].Band, prev)
		}
		if c.Better == "lower" && b.Edge <= prev {
			return specFieldError(bf+".edge", "is %v, not above band %s's %v: a lower-is-better scale rises from A to G", b.Edge, c.Bands[i-1].Band, prev)
		}
	}
	for i, src := range c.Sources {
		sf := fmt.Sprintf("%s.sources[%d]", f, i)
		if strings.TrimSpace(src.Figure) == "" || strings.TrimSpace(src.Source) == "" {
			return specFieldError(sf, "needs a figure and its source")
		}
	}
	return nil
}

// Rate returns the band value v earns on the class's scale: the best band
// whose edge v reaches (at or above it for a higher-is-better figure, at
// or below for a lower-is-better one), and G when it reaches none. ok is
// false when v is not a finite number.
func (c *Class) Rate(v float64) (band string, ok bool) {
	if !specFinite(v) || len(c.Bands) == 0 {
		return "", false
	}
	for _, b := range c.Bands {
		if (c.Better == "higher" && v >= b.Edge) || (c.Better == "lower" && v <= b.Edge) {
			return b.Band, true
		}
	}
	return c.Bands[len(c.Bands)-1].Band, true
}

// ClassOf returns the class of a workload: the first workload_classes
// pattern that matches its name. ok is false when none does.
func (s *Spec) ClassOf(workload string) (name string, c Class, ok bool) {
	for _, p := range s.WorkloadClasses {
		if m, _ := path.Match(p.Pattern, workload); m {
			return p.Class, s.Classes[p.Class], true
		}
	}
	return "", Class{}, false
}

// ProfileFor returns the profile a record is judged by: override if given
// (it must exist), else the one named after the record's suite, else
// "certify".
func (s *Spec) ProfileFor(rec *results.Record, override string) (string, Profile, error) {
	if override != "" {
		p, ok := s.Profiles[override]
		if !ok {
			return "", Profile{}, fmt.Errorf("certify: spec %s has no profile %q (%s)", s.Name, override, strings.Join(specSortedKeys(s.Profiles), ", "))
		}
		return override, p, nil
	}
	if p, ok := s.Profiles[rec.Config.Suite]; ok {
		return rec.Config.Suite, p, nil
	}
	return DefaultProfile, s.Profiles[DefaultProfile], nil
}

// DescribeProfile says in one line what a profile of the spec requires and,
// for any profile but certify, where it is looser than certify, e.g.
//
//	quick: ≥5 repetitions of ≥2 s, idle ≥5 s, CV ≤ 0.1, ≥10 readings each, interval ≤1 s; looser than certify (≥60 s, idle ≥30 s, CV ≤ 0.05)
//
// so that a certificate judged by a looser profile never reads like one
// judged by certify. An unknown profile is said to be one.
func (s *Spec) DescribeProfile(name string) string {
	p, ok := s.Profiles[name]
	if !ok {
		return fmt.Sprintf("%s: no such profile in spec %s (%s)", name, s.Name, strings.Join(specSortedKeys(s.Profiles), ", "))
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	out := fmt.Sprintf("%s: ≥%d repetitions of ≥%s s, idle ≥%s s, CV ≤ %s, ≥%d readings each, interval ≤%s s",
		name, p.MinReps, num(p.MinRepS), num(p.MinIdleS), num(p.MaxCV), p.MinReadingsPerRep, num(p.MaxIntervalS))
	if name == DefaultProfile {
		return out
	}
	c := s.Profiles[DefaultProfile]
	var looser, stricter []string
	cmp := func(loose, strict bool, what string) {
		switch {
		case loose:
			looser = append(looser, what)
		case strict:
			stricter = append(stricter, what)
		}
	}
	cmp(p.MinReps < c.MinReps, p.MinReps > c.MinReps, fmt.Sprintf("≥%d repetitions", c.MinReps))
	cmp(p.MinRepS < c.MinRepS, p.MinRepS > c.MinRepS, fmt.Sprintf("≥%s s", num(c.MinRepS)))
	cmp(p.MinIdleS < c.MinIdleS, p.MinIdleS > c.MinIdleS, fmt.Sprintf("idle ≥%s s", num(c.MinIdleS)))
	cmp(p.MaxCV > c.MaxCV, p.MaxCV < c.MaxCV, fmt.Sprintf("CV ≤ %s", num(c.MaxCV)))
	cmp(p.MinReadingsPerRep < c.MinReadingsPerRep, p.MinReadingsPerRep > c.MinReadingsPerRep, fmt.Sprintf("≥%d readings each", c.MinReadingsPerRep))
	cmp(p.MaxIntervalS > c.MaxIntervalS, p.MaxIntervalS < c.MaxIntervalS, fmt.Sprintf("interval ≤%s s", num(c.MaxIntervalS)))
	switch {
	case len(looser) > 0 && len(stricter) > 0:
		return fmt.Sprintf("%s; looser than %s in part (%s: %s), stricter in part (%s: %s)", out, DefaultProfile, DefaultProfile, strings.Join(looser, ", "), DefaultProfile, strings.Join(stricter, ", "))
	case len(looser) > 0:
		return fmt.Sprintf("%s; looser than %s (%s)", out, DefaultProfile, strings.Join(looser, ", "))
	case len(stricter) > 0:
		return fmt.Sprintf("%s; stricter than %s (%s: %s)", out, DefaultProfile, DefaultProfile, strings.Join(stricter, ", "))
	}
	return out + "; the same rules as " + DefaultProfile
}

// LevelName returns the spec's name for a level, "" when it has none.
func (s *Spec) LevelName(level int) string {
	if level < 0 || level >= len(s.Levels) {
		return ""
	}
	return s.Levels[level].Name
}

func specSortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func specFigureNames() []string {
	var out []string
	for k := range specBetter {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func specRatable() []string {
	var out []string
	for k, b := range specBetter {
		if b != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
