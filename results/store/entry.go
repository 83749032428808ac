package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// Measurement labels: how a record's energy was obtained.
const (
	Measured  = "measured"
	Estimated = "estimated" // a model counts in the total (metrics.Estimated)
	Synthetic = "synthetic" // the fake meter (metrics.Synthetic)
)

// Record is what the index holds about one record file.
type Record struct {
	RunID string
	// Path is the record file, relative to the index's directory when
	// it lies inside it.
	Path   string
	SHA256 string
	Size   int64
	// StartedAt and FinishedAt are UTC.
	StartedAt, FinishedAt time.Time
	Complete              bool
	IncompleteReason      string
	Hostname, CPUModel    string
	LogicalCPUs           int
	Arch                  string
	Suite, SuiteVersion   string
	ToolVersion           string
	// Measurement is Measured, Estimated or Synthetic.
	Measurement string
	// Level is the measurement level the built-in certification spec
	// gives the record (certify.Evaluate), -1 when it could not be
	// judged; it is not a certificate, and says nothing of validity.
	Level       int
	LevelName   string
	LevelReason string
	// Meters are "name:method" of each meter.
	Meters    []string
	IndexedAt time.Time
	Workloads []Workload
	// Certificates are the DSSE files found next to the record, as they
	// state themselves: no signature was checked.
	Certificates []Certificate
}

// Workload is what the index holds about one workload of a record.
type Workload struct {
	Name, Version, ContentHash, WorkUnit string
	// Model, Variant and Scenario are the model workloads' params, ""
	// for others.
	Model, Variant, Scenario string
	Reps                     int
	// Valid is metrics.Summarize's validity; InvalidReasons the failed
	// rules, one a line.
	Valid          bool
	InvalidReasons string
	Error          string
	// JPerItem and FLOPsPerJ are gross figures: the median over the
	// repetitions and its 95% bootstrap interval. NaN when undefined
	// (FLOPsPerJ of a workload that counts no FLOPs).
	JPerItem, FLOPsPerJ Interval
	// Accuracy and ReferenceAccuracy are the model's and its fp32
	// reference's, NaN for other workloads; Gate the level it meets
	// ("99.9%", "99%", "below 99%"), "" when no accuracy was measured.
	Accuracy, ReferenceAccuracy float64
	Gate                        string
	// Ranked says the workload may be ranked: valid and, for a model
	// workload, at least at the 99% accuracy gate with a reference its
	// record bears out (metrics.ModelRows).
	Ranked bool
}

// Interval is a median and its 95% confidence interval.
type Interval struct{ Median, Low, High float64 }

func nanInterval() Interval { return Interval{math.NaN(), math.NaN(), math.NaN()} }

func intervalOf(s metrics.Stats) Interval {
	if s.N == 0 {
		return nanInterval()
	}
	return Interval{s.Median, s.CILow, s.CIHigh}
}

// Defined reports whether the median is a number.
func (iv Interval) Defined() bool { return !math.IsNaN(iv.Median) && !math.IsInf(iv.Median, 0) }

// Certificate is what a certificate file next to a record says of
// itself. Signature is always "unverified".
type Certificate struct {
	Path   string
	SHA256 string
	// Kind is "certificate", "reproduction", or "unreadable" (Error
	// says why).
	Kind      string
	Signature string
	// SubjectSHA256 is the record digest the statement names;
	// MatchesRecord whether it is the indexed record file's.
	SubjectSHA256 string
	MatchesRecord bool
	// Level is the certificate's stated level, -1 when it states none.
	Level                   int
	LevelName               string
	SpecName, SpecVersion   string
	Profile                 string
	Valid, EstimatedFigures bool
	IssuedAt                time.Time
	Error                   string
}

// Unverified is the only signature status the index gives.
const Unverified = "unverified"

// levelSpec is the built-in spec, parsed once.
var levelSpec, levelSpecRaw = certify.DefaultSpec()

// fromRecord computes the index entry of a record file's bytes.
func fromRecord(path string, data []byte, rec *results.Record, now time.Time) (*Record, error) {
	if rec.RunID == "" {
		return nil, fmt.Errorf("%s: %w", path, errNoRunID)
	}
	sum := sha256.Sum256(data)
	r := &Record{
		RunID: rec.RunID, Path: path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)),
		StartedAt: rec.StartedAt.UTC(), FinishedAt: rec.FinishedAt.UTC(),
		Complete: rec.Complete, IncompleteReason: rec.IncompleteReason,
		Hostname: rec.Host.Hostname, CPUModel: rec.Host.CPUModel, LogicalCPUs: rec.Host.LogicalCPUs, Arch: rec.Host.Arch,
		Suite: rec.Config.Suite, SuiteVersion: rec.Config.SuiteVersion, ToolVersion: rec.Tool.Version,
		Measurement: Measured, Level: -1, IndexedAt: now.UTC(),
	}
	for _, m := range rec.Meters {
		r.Meters = append(r.Meters, clean(m.Name+":"+m.Method))
	}
	// What the record says is printed to terminals: no control codes, line
	// breaks or bidirectional overrides get through to forge a row.
	for _, f := range []*string{&r.Hostname, &r.CPUModel, &r.Arch, &r.Suite, &r.SuiteVersion, &r.ToolVersion, &r.IncompleteReason} {
		*f = clean(*f)
	}
	// Whether the figures are measured is certify's judgement (the level
	// follows from what each meter is, not from what the record calls
	// it), so a fake meter relabelled "counter" is not ranked among
	// measurements.
	r.Level, r.LevelName, r.LevelReason = level(rec)
	switch {
	case r.Level >= 1:
	case metrics.Synthetic(rec) || strings.Contains(r.LevelName, "synthetic") || strings.Contains(r.LevelReason, "synthetic"):
		r.Measurement = Synthetic
	default:
		r.Measurement = Estimated
	}

	sums := metrics.Summarize(rec)
	models := map[string]metrics.ModelRow{}
	for _, m := range metrics.ModelRows(rec, sums) {
		models[m.Name] = m
	}
	for i, w := range rec.Workloads {
		s := sums[i]
		wl := Workload{
			Name: clean(w.Name), Version: clean(w.Version), ContentHash: clean(w.ContentHash), WorkUnit: clean(w.WorkUnit),
			Model: clean(w.Params[results.ParamModel]), Variant: clean(w.Params[results.ParamVariant]), Scenario: clean(w.Params[results.ParamScenario]),
			Reps: len(w.Reps), Valid: s.Validity.Valid, InvalidReasons: cleanLines(s.Validity.Failed()), Error: clean(w.Error),
			JPerItem: intervalOf(s.Stats[metrics.FigJPerItem]), FLOPsPerJ: intervalOf(s.Stats[metrics.FigFLOPsPerJ]),
			Accuracy: math.NaN(), ReferenceAccuracy: math.NaN(), Ranked: s.Validity.Valid,
		}
		g := metrics.AccuracyGate(w)
		if m, ok := models[w.Name]; ok {
			g = m.Gate
			wl.Ranked = m.Ranked
		}
		if g.Known {
			wl.Accuracy, wl.ReferenceAccuracy, wl.Gate = g.Accuracy, g.Reference, g.Level
		}
		r.Workloads = append(r.Workloads, wl)
	}
	return r, nil
}

// level judges rec by the built-in spec for its measurement level only.
// Evaluate computes a whole certificate; the level is the part of it that
// needs no signature and no choice of profile to mean something.
func level(rec *results.Record) (int, string, string) {
	now := rec.FinishedAt
	if now.IsZero() {
		now = time.Unix(0, 0)
	}
	c, err := certify.Evaluate(rec, levelSpec, certify.SpecDigest(levelSpecRaw), certify.EvalOptions{Now: now})
	if err != nil {
		return -1, "", "not judged: " + err.Error()
	}
	return c.Level.Level, c.Level.Name, c.Level.Reason
}

// relPath is p relative to dir when it lies inside dir, else p made
// absolute: the index then survives the results directory being moved.
func relPath(dir, p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if rel, err := filepath.Rel(dir, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return abs
}

// absPath undoes relPath.
func absPath(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// clean replaces control characters (line breaks, escape sequences) and
// bidirectional overrides with U+FFFD: a record's text is shown in
// terminals and tables, and must not be able to move the cursor, colour
// the screen or start a forged row.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return '\ufffd'
		}
		return r
	}, s)
}

// cleanLines cleans each line and joins them with line breaks, which
// separate the reasons.
func cleanLines(lines []string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = clean(l)
	}
	return strings.Join(out, "\n")
}
