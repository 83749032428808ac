package certify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// Verdicts of a reproduction. A failed one is VerdictNotReproduced
// followed by ": " and what did not hold.
const (
	VerdictReproduced        = "reproduced"
	VerdictNotReproduced     = "not reproduced"
	VerdictDifferentHardware = "different hardware: this is a comparison, not a reproduction"
	// VerdictNotAMeasurement is the verdict whenever the original is level
	// 0: its figures came from the fake meter or a model, so no rerun can
	// confirm them, and nothing may read as if one had.
	VerdictNotAMeasurement = "not a measurement: the original is level 0 (synthetic/estimated), so its figures describe no hardware and there is nothing to reproduce; they were compared only as a consistency check"
)

// ReproductionVersion is the version of the reproduction statement format
// (the predicate of a PredicateReproduction statement). Version 2 names
// the original by its statement's digest and carries its level, estimated
// flag, spec, profile and signer; the predicate type stays
// PredicateReproduction (.../reproduction/v1).
const ReproductionVersion = "2"

// Reproduction says, figure by figure, whether a rerun reproduces a
// certificate within the spec's tolerances.
type Reproduction struct {
	// SameHardware is false when the CPU model, the logical CPUs or the
	// memory differ; HardwareDiffs says which.
	SameHardware  bool     `json:"same_hardware"`
	HardwareDiffs []string `json:"hardware_diffs,omitempty"`
	// Checks are one per workload of the original and figure with a
	// tolerance, in that order.
	Checks []ReproCheck `json:"checks"`
	// Problems are what keeps the rerun from reproducing the original
	// besides its figures: it failed the spec's hard rules, reached
	// another level, or measured with other meters.
	Problems []string `json:"problems,omitempty"`
	// Holds is true when the original is a measurement (level 1 or more),
	// the hardware is the same, at least one check was made, every check
	// made held and there are no problems.
	Holds   bool   `json:"holds"`
	Verdict string `json:"verdict"`
}

// ReproCheck compares one figure of one workload.
type ReproCheck struct {
	Workload string  `json:"workload"`
	Metric   string  `json:"metric"`
	Original float64 `json:"original"`
	Again    float64 `json:"again"`
	// RelDiff is (again − original) / |original|, signed.
	RelDiff   float64 `json:"rel_diff"`
	Tolerance float64 `json:"tolerance"`
	Holds     bool    `json:"holds"`
	// Skipped is true when the figure could not be compared (absent from
	// one side, a different carbon accounting, an original of zero); Note
	// says why.
	Skipped bool   `json:"skipped,omitempty"`
	Note    string `json:"note,omitempty"`
}

// reproMetricWorkload is the Metric of a check that found the workload
// itself missing or different in the rerun.
const reproMetricWorkload = "workload"

// Reproduce compares a rerun with the original certificate: for each
// workload of the original and each figure the spec has a tolerance for,
// the two medians and whether their relative difference is within it;
// and whether the rerun passed the spec's hard rules, reached the same
// level and measured with the same meters. On different hardware the
// numbers are still compared, but the verdict says it is a comparison,
// not a reproduction. When the original is level 0 (synthetic or
// estimated) the verdict is VerdictNotAMeasurement and Holds is false,
// whatever the figures.
func Reproduce(orig, again *Certificate, spec *Spec) Reproduction {
	var r Reproduction
	r.HardwareDiffs = reproHardwareDiffs(orig.Host, again.Host)
	r.SameHardware = len(r.HardwareDiffs) == 0
	sameCarbon := orig.Carbon != nil && again.Carbon != nil &&
		orig.Carbon.Method == again.Carbon.Method && orig.Carbon.Region == again.Carbon.Region &&
		orig.Carbon.GramsPerKWh == again.Carbon.GramsPerKWh && orig.Carbon.PUE == again.Carbon.PUE &&
		orig.Carbon.Embodied == again.Carbon.Embodied
	rerun := map[string]*WorkloadResult{}
	for i := range again.Workloads {
		rerun[again.Workloads[i].Name] = &again.Workloads[i]
	}
	metricsOrder := specSortedKeys(spec.Tolerances)
	for _, w := range orig.Workloads {
		g, ok := rerun[w.Name]
		if !ok || g.Version != w.Version || g.ContentHash != w.ContentHash {
			why := "not in the rerun"
			if ok {
				why = fmt.Sprintf("a different workload: version %s (%s), rerun %s (%s)", w.Version, w.ContentHash, g.Version, g.ContentHash)
			}
			r.Checks = append(r.Checks, ReproCheck{Workload: w.Name, Metric: reproMetricWorkload, Note: why})
			continue
		}
		for _, m := range metricsOrder {
			tol := spec.Tolerances[m].Relative
			c := ReproCheck{Workload: w.Name, Metric: m, Tolerance: tol}
			of, ok1 := w.Figures[m]
			af, ok2 := g.Figures[m]
			switch {
			case !ok1 || !ok2:
				c.Skipped, c.Note = true, "the figure is not defined on both certificates"
			case strings.HasPrefix(m, "gco2e") && !sameCarbon:
				c.Original, c.Again = of.Median, af.Median
				c.Skipped, c.Note = true, "the two runs used different carbon accounting (method, region, intensity, PUE or embodied): a different claim, not compared"
			case of.Median == 0:
				c.Original, c.Again = of.Median, af.Median
				c.Skipped, c.Note = true, "the original is zero: no relative difference"
			default:
				c.Original, c.Again = of.Median, af.Median
				c.RelDiff = (af.Median - of.Median) / math.Abs(of.Median)
				c.Holds = math.Abs(c.RelDiff) <= tol
			}
			r.Checks = append(r.Checks, c)
		}
	}
	if !again.Valid {
		var failed []string
		for _, rule := range again.Rules {
			if rule.Hard && !rule.Pass {
				failed = append(failed, rule.String())
			}
		}
		r.Problems = append(r.Problems, "the rerun fails the spec's hard rules: "+strings.Join(failed, "; "))
	}
	if again.Level.Level != orig.Level.Level {
		r.Problems = append(r.Problems, fmt.Sprintf("the rerun reached %s, the original %s", again.Level, orig.Level))
	}
	if om, am := reproMeters(orig), reproMeters(again); om != am {
		r.Problems = append(r.Problems, fmt.Sprintf("the rerun measured with %s, the original with %s", am, om))
	}
	r.Holds, r.Verdict = reproVerdict(&r, reproMeasured(orig.Level, orig.Estimated))
	return r
}

// reproMeasured says whether an original's figures are a measurement that
// a rerun could reproduce: level 1 or more, and nothing estimated.
func reproMeasured(l Level, estimated bool) bool { return l.Level > 0 && !estimated }

// reproVerdict derives Holds and the verdict from a reproduction's checks,
// problems and hardware, and from whether the original is a measurement:
// Reproduce writes them with it and VerifyReproduction recomputes them
// with it, so a statement's verdict must follow from its own numbers.
func reproVerdict(r *Reproduction, measured bool) (bool, string) {
	made := 0
	var failed []string
	for _, c := range r.Checks {
		if c.Skipped {
			continue
		}
		made++
		if !c.Holds {
			failed = append(failed, reproFailure(c))
		}
	}
	failed = append(failed, r.Problems...)
	holds := measured && r.SameHardware && made > 0 && len(failed) == 0
	switch {
	case !measured:
		return false, VerdictNotAMeasurement
	case !r.SameHardware:
		return false, VerdictDifferentHardware
	case len(failed) > 0:
		return false, VerdictNotReproduced + ": " + strings.Join(failed, "; ")
	case made == 0:
		return false, VerdictNotReproduced + ": no figure could be compared"
	}
	return holds, VerdictReproduced
}

func reproFailure(c ReproCheck) string {
	if c.Metric == reproMetricWorkload {
		return c.Workload + ": " + c.Note
	}
	return fmt.Sprintf("%s %s %.4g, now %.4g (%+.1f%%, tolerance ±%.0f%%)", c.Workload, c.Metric, c.Original, c.Again, 100*c.RelDiff, 100*c.Tolerance)
}

// reproHardwareDiffs lists how two hosts differ in what a reproduction
// needs to be the same: CPU model, logical CPUs, memory.
func reproHardwareDiffs(h1, h2 results.Host) []string {
	var d []string
	if h1.CPUModel != h2.CPUModel {
		d = append(d, fmt.Sprintf("CPU model %q, now %q", h1.CPUModel, h2.CPUModel))
	}
	if h1.LogicalCPUs != h2.LogicalCPUs {
		d = append(d, fmt.Sprintf("%d logical CPUs, now %d", h1.LogicalCPUs, h2.LogicalCPUs))
	}
	if h1.MemoryBytes != h2.MemoryBytes {
		d = append(d, fmt.Sprintf("%d bytes of memory, now %d", h1.MemoryBytes, h2.MemoryBytes))
	}
	return d
}

func reproMeters(c *Certificate) string {
	var ms []string
	for _, m := range c.Meters {
		ms = append(ms, m.Name+" ("+m.Method+")")
	}
	return strings.Join(ms, ", ")
}

// ReproductionStatement is the predicate of a signed reproduction
// statement (PredicateReproduction): which certificate was run again, by
// whom and on what, with what command line, and what held. Its subject is
// the rerun's record.
type ReproductionStatement struct {
	// Version is ReproductionVersion.
	Version  string        `json:"version"`
	Original ReproOriginal `json:"original"`
	Again    ReproAgain    `json:"again"`
	// Reproduction is the comparison, figure by figure, and its verdict.
	Reproduction Reproduction `json:"reproduction"`
}

// ReproOriginal is the certificate that was run again.
type ReproOriginal struct {
	// StatementSHA256 is the sha256 (lowercase hex) of the original's
	// signed statement (the DSSE payload bytes, Verified.PayloadSHA256):
	// it names the claim itself, whatever keyid hints or extra signatures
	// its envelope file carries.
	StatementSHA256 string       `json:"statement_sha256"`
	RunID           string       `json:"run_id"`
	Host            results.Host `json:"host"`
	Level           Level        `json:"level"`
	Estimated       bool         `json:"estimated"`
	Spec            SpecRef      `json:"spec"`
	Profile         string       `json:"profile"`
	// KeyID is the KeyID of the key whose signature on the original
	// verified.
	KeyID string `json:"key_id"`
}

// ReproAgain is the rerun.
type ReproAgain struct {
	RunID     string       `json:"run_id"`
	Host      results.Host `json:"host"`
	Level     Level        `json:"level"`
	Estimated bool         `json:"estimated"`
	// Args is the rerun's command line: the allow-listed flags RerunArgs
	// kept from the original, and the reproducer's own choices (BLAS,
	// roots, output).
	Args []string `json:"args"`
}

// NewReproductionStatement builds the statement reproduce signs: the
// original certificate as verified (v, from Verify on its envelope), the
// rerun's certificate, the rerun's command line and the comparison
// Reproduce made.
func NewReproductionStatement(v *Verified, orig, again *Certificate, againArgs []string, r Reproduction) (*ReproductionStatement, error) {
	switch {
	case v == nil || v.PayloadSHA256 == "" || v.KeyID == "":
		return nil, errors.New("reproduction statement: the original's verification (its statement digest and key id) is required")
	case orig == nil || again == nil:
		return nil, errors.New("reproduction statement: both certificates are required")
	}
	st := &ReproductionStatement{
		Version: ReproductionVersion,
		Original: ReproOriginal{
			StatementSHA256: v.PayloadSHA256, RunID: orig.Record.RunID, Host: orig.Host,
			Level: orig.Level, Estimated: orig.Estimated, Spec: orig.Spec, Profile: orig.Profile, KeyID: v.KeyID,
		},
		Again: ReproAgain{
			RunID: again.Record.RunID, Host: again.Host, Level: again.Level, Estimated: again.Estimated,
			Args: append([]string{}, againArgs...),
		},
		Reproduction: r,
	}
	if err := VerifyReproduction(st, ""); err != nil {
		return nil, fmt.Errorf("reproduction statement: %w", err)
	}
	return st, nil
}

// ErrReproduction is wrapped by VerifyReproduction's errors: the statement
// contradicts itself, or names another original.
var ErrReproduction = errors.New("reproduction statement does not hold together")

// DecodeReproduction decodes a reproduction statement's predicate (from a
// verified statement of type PredicateReproduction) strictly: unknown
// fields, trailing data and another version are refused. It does not
// check the statement's consistency; VerifyReproduction does.
func DecodeReproduction(predicate []byte) (*ReproductionStatement, error) {
	var st ReproductionStatement
	if err := decodeStrict(predicate, &st); err != nil {
		return nil, fmt.Errorf("reproduction statement: %w", err)
	}
	if st.Version != ReproductionVersion {
		return nil, fmt.Errorf("reproduction statement: version %q; this joulebench reads version %s", st.Version, ReproductionVersion)
	}
	return &st, nil
}

// DecodeCertificate decodes a certificate's predicate (from a verified
// statement of type PredicateCertificate) strictly: unknown fields,
// trailing data and another version are refused. Verify recomputes the
// rest from the record.
func DecodeCertificate(predicate []byte) (*Certificate, error) {
	var c Certificate
	if err := decodeStrict(predicate, &c); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if c.Version != CertificateVersion {
		return nil, fmt.Errorf("certificate: version %q; this joulebench reads version %s", c.Version, CertificateVersion)
	}
	return &c, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the object")
	}
	return nil
}

// CheckReproductionOriginal checks that a reproduction statement's
// description of its original is the original's: the certificate v
// verified (its statement digest and signer) and decoded as orig. Run,
// host, level, estimated flag, spec and profile must be the certificate's
// own, so that a statement cannot promote the claim it reproduced. Errors
// wrap ErrReproduction.
func CheckReproductionOriginal(st *ReproductionStatement, v *Verified, orig *Certificate) error {
	if st == nil || v == nil || orig == nil {
		return fmt.Errorf("%w: the statement, the original's verification and its certificate are required", ErrReproduction)
	}
	o := st.Original
	var bad []string
	differ := func(field string, got, want any) {
		bad = append(bad, fmt.Sprintf("original.%s is %v, the original's is %v", field, got, want))
	}
	if o.StatementSHA256 != v.PayloadSHA256 {
		differ("statement_sha256", o.StatementSHA256, v.PayloadSHA256)
	}
	if o.KeyID != v.KeyID {
		differ("key_id", o.KeyID, v.KeyID)
	}
	if o.RunID != orig.Record.RunID {
		differ("run_id", o.RunID, orig.Record.RunID)
	}
	if a, b := reproJSON(o.Host), reproJSON(orig.Host); a != b {
		differ("host", a, b)
	}
	if o.Level != orig.Level {
		differ("level", o.Level, orig.Level)
	}
	if o.Estimated != orig.Estimated {
		differ("estimated", o.Estimated, orig.Estimated)
	}
	if o.Spec != orig.Spec {
		differ("spec", o.Spec, orig.Spec)
	}
	if o.Profile != orig.Profile {
		differ("profile", o.Profile, orig.Profile)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrReproduction, strings.Join(bad, "; "))
	}
	return nil
}

func reproJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// reproRelTolerance is how far a stated relative difference may lie from
// the one its two medians give: rounding, nothing more.
const reproRelTolerance = 1e-12

// VerifyReproduction checks that a reproduction statement holds together,
// from its own numbers alone: the hardware differences are those of the
// two hosts it names; each check's relative difference is what its two
// medians give and it holds exactly when that is within its tolerance;
// Holds and the verdict are what the checks, the problems and the hardware
// give; a rerun at another level is not a reproduction; and a level 0
// (synthetic or estimated) original is never reproduced. When
// origStatementSHA256 is given (Verified.PayloadSHA256 of the original
// certificate), the statement must name that very statement. Errors wrap
// ErrReproduction and list every inconsistency.
//
// It cannot tell whether the rerun really ran: that is the reproducer's
// claim, as a certificate's figures are its signer's.
func VerifyReproduction(st *ReproductionStatement, origStatementSHA256 string) error {
	if st == nil {
		return fmt.Errorf("%w: no statement", ErrReproduction)
	}
	var bad []string
	fail := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	if st.Version != ReproductionVersion {
		fail("version is %q, want %q", st.Version, ReproductionVersion)
	}
	o, a, r := st.Original, st.Again, st.Reproduction
	if b, err := hex.DecodeString(o.StatementSHA256); err != nil || len(b) != 32 || o.StatementSHA256 != strings.ToLower(o.StatementSHA256) {
		fail("original.statement_sha256 %q is not 64 lowercase hex digits", o.StatementSHA256)
	} else if origStatementSHA256 != "" && o.StatementSHA256 != origStatementSHA256 {
		fail("original.statement_sha256 is %s, but the original certificate's statement is %s: it reproduces another certificate", o.StatementSHA256, origStatementSHA256)
	}
	if b, err := hex.DecodeString(o.KeyID); err != nil || len(b) != 32 {
		fail("original.key_id %q is not a key id (64 hex digits)", o.KeyID)
	}
	diffs := reproHardwareDiffs(o.Host, a.Host)
	if strings.Join(diffs, "\n") != strings.Join(r.HardwareDiffs, "\n") || r.SameHardware != (len(diffs) == 0) {
		fail("reproduction.same_hardware/hardware_diffs say %t %q, but the two hosts differ in %q", r.SameHardware, r.HardwareDiffs, diffs)
	}
	for i, c := range r.Checks {
		f := fmt.Sprintf("reproduction.checks[%d] (%s %s)", i, c.Workload, c.Metric)
		switch {
		case c.Skipped && c.Holds:
			fail("%s is skipped but holds", f)
		case c.Metric == reproMetricWorkload && (c.Holds || c.Skipped):
			fail("%s: a missing or different workload never holds", f)
		case c.Skipped || c.Metric == reproMetricWorkload:
		case !(c.Tolerance > 0 && c.Tolerance <= 1):
			fail("%s: tolerance %g is not more than 0 and at most 1", f, c.Tolerance)
		case c.Original == 0 || !specFinite(c.Original) || !specFinite(c.Again):
			fail("%s: original %g, again %g: no relative difference", f, c.Original, c.Again)
		default:
			want := (c.Again - c.Original) / math.Abs(c.Original)
			if !(math.Abs(c.RelDiff-want) <= reproRelTolerance*math.Max(1, math.Abs(want))) {
				fail("%s: rel_diff is %g, but (again − original) / |original| is %g", f, c.RelDiff, want)
			} else if c.Holds != (math.Abs(c.RelDiff) <= c.Tolerance) {
				fail("%s: holds is %t with a difference of %+.3g and a tolerance of %g", f, c.Holds, c.RelDiff, c.Tolerance)
			}
		}
	}
	if a.Level.Level != o.Level.Level && len(r.Problems) == 0 {
		fail("the rerun reached %s, the original %s, yet no problem is listed", a.Level, o.Level)
	}
	measured := reproMeasured(o.Level, o.Estimated)
	holds, verdict := reproVerdict(&r, measured)
	if r.Holds != holds || r.Verdict != verdict {
		fail("reproduction says holds=%t, %q; its checks, problems and hardware give holds=%t, %q", r.Holds, r.Verdict, holds, verdict)
	}
	if !measured && (r.Holds || r.Verdict == VerdictReproduced) {
		fail("the original is %s (estimated %t), which no rerun reproduces", o.Level, o.Estimated)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrReproduction, strings.Join(bad, "; "))
	}
	return nil
}
