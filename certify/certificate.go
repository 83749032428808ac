package certify

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/joulebench/joulebench/results"
)

// CertificateVersion is the version of the certificate format (the
// predicate of the signed statement) this package writes and reads.
// Version 2 adds each CPU workload's throughput ceiling and the rules that
// check a record's description of itself (meter methods, meter readings,
// work, throughput ceiling, meter faults); the predicate type stays
// PredicateCertificate (.../certificate/v1), which is the in-toto
// statement's shape, not this format's version.
const CertificateVersion = "2"

// Certificate is what joulebench certifies about a record: the predicate of
// the signed in-toto statement whose subject is the record file. Every
// field is computed by Evaluate from the record, the spec and the issue
// time alone, so anyone holding the three can recompute it.
type Certificate struct {
	// Version is the certificate format, CertificateVersion.
	Version string `json:"version"`
	// Spec names the specification the record was judged by.
	Spec SpecRef `json:"spec"`
	// Profile is the spec profile whose rules were applied.
	Profile string `json:"profile"`
	// IssuedAt is when the certificate was made (UTC).
	IssuedAt time.Time `json:"issued_at"`
	// Record identifies the run.
	Record RecordRef `json:"record"`
	// Host is the record's fingerprint of the machine measured.
	Host results.Host `json:"host"`
	// Meters are the meters that measured the run.
	Meters []MeterRef `json:"meters"`
	// Level is the measurement level the record earns.
	Level Level `json:"level"`
	// Rules is every rule applied, passed or failed, record rules first.
	Rules []Rule `json:"rules"`
	// Valid is true when every hard rule passed.
	Valid bool `json:"valid"`
	// Estimated is true when some energy in the total is modelled or
	// synthetic: no figure here is then a measurement.
	Estimated bool `json:"estimated"`
	// AllowEstimated records that the issuer accepted a level 0 record
	// (--allow-estimated).
	AllowEstimated bool `json:"allow_estimated"`
	// Workloads are the figures and rating of each workload, in the
	// record's order.
	Workloads []WorkloadResult `json:"workloads"`
	// Carbon is the record's carbon accounting; absent when it has none.
	Carbon *CarbonRef `json:"carbon,omitempty"`
	// Cluster lists, for a cluster record, each node record by digest with
	// the level and validity it earned on its own; absent otherwise.
	Cluster *ClusterRef `json:"cluster,omitempty"`
}

// ClusterRef is what a cluster certificate says of its nodes.
type ClusterRef struct {
	Nodes []NodeRef `json:"nodes"`
	// SkewS is the clock skew between nodes that merge found.
	SkewS float64 `json:"skew_s"`
}

// NodeRef is one node of a cluster certificate.
type NodeRef struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Level  Level  `json:"level"`
	Valid  bool   `json:"valid"`
}

// SpecRef identifies a spec: its name, version and the sha256 of its file.
type SpecRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Digest  string `json:"digest"`
}

// RecordRef identifies the run a certificate describes.
type RecordRef struct {
	RunID        string       `json:"run_id"`
	StartedAt    time.Time    `json:"started_at"`
	Suite        string       `json:"suite"`
	SuiteVersion string       `json:"suite_version"`
	Tool         results.Tool `json:"tool"`
}

// MeterRef is a meter of the run and how it measured.
type MeterRef struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	// Domains are what it measured; those with in_total add up to the
	// energy every figure is computed from.
	Domains []DomainRef `json:"domains"`
}

// DomainRef is one domain of a meter.
type DomainRef struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	InTotal bool   `json:"in_total"`
}

// Level is a measurement level (0 estimated, 1 component, 2 node, 3
// system) with its name and why the record earns it and not the next.
type Level struct {
	Level  int    `json:"level"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// String is how a level is shown: "level 2 (node)", "level 0 (synthetic:
// fake meter)".
func (l Level) String() string { return fmt.Sprintf("level %d (%s)", l.Level, l.Name) }

// Rule is one rule applied to the record or to one of its workloads.
type Rule struct {
	Name string `json:"name"`
	// Workload is the workload the rule judged; empty for a rule about the
	// whole record.
	Workload string `json:"workload,omitempty"`
	// Hard rules decide validity: a record that fails one is refused. A
	// soft rule that fails is a warning the certificate carries.
	Hard   bool   `json:"hard"`
	Pass   bool   `json:"pass"`
	Reason string `json:"reason"`
}

// String is the rule as one line: "gemm-fp64-2048: repetitions: 3 of the
// 5 required".
func (r Rule) String() string {
	if r.Workload != "" {
		return r.Workload + ": " + r.Name + ": " + r.Reason
	}
	return r.Name + ": " + r.Reason
}

// WorkloadResult is one workload's figures and rating.
type WorkloadResult struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	ContentHash string `json:"content_hash,omitempty"`
	WorkUnit    string `json:"work_unit,omitempty"`
	// Class is the spec's workload class, "" when the spec has none for it.
	Class string `json:"class"`
	// Reps is how many measured repetitions the figures summarise.
	Reps int `json:"reps"`
	// Figures are the statistics of each figure over the repetitions, by
	// name: flops_per_j, net_flops_per_j, j_per_item, net_j_per_item,
	// power_w, flops_per_s and, with a carbon section, gco2e_per_item and
	// gco2e_per_gflop. A figure the record cannot define (J per item of a
	// workload that counted no items) is left out, never written as zero.
	Figures map[string]Figure `json:"figures"`
	// Rating is the band, "A" to "G"; "" when the workload has no class
	// or its rated figure is undefined.
	Rating string `json:"rating"`
	// RatingShown is the rating as it must be shown: the band, or at
	// level 0 "level 0 (estimated): B", so that an estimate's rating is
	// never seen without its level.
	RatingShown string `json:"rating_shown"`
	// RatingBasis is what the rating was computed from.
	RatingBasis *RatingBasis `json:"rating_basis,omitempty"`
	// Ceiling is the most FLOP/s the recorded host could do on this
	// workload, with how it was reckoned; every repetition must be below
	// it. Absent for a workload that does not run on the CPU.
	Ceiling *Ceiling `json:"ceiling,omitempty"`
}

// Figure is one figure summarised over a workload's repetitions: the
// median with its 95% bootstrap confidence interval, the coefficient of
// variation, and how many repetitions defined it.
type Figure struct {
	Median float64 `json:"median"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	CV     float64 `json:"cv"`
	N      int     `json:"n"`
}

// RatingBasis is the value a rating was read from and the scale it was
// read on.
type RatingBasis struct {
	Metric string  `json:"metric"`
	Better string  `json:"better"`
	Unit   string  `json:"unit"`
	Value  float64 `json:"value"`
	Edges  []Edge  `json:"edges"`
}

// Edge is one band's edge on a rating scale.
type Edge struct {
	Band string  `json:"band"`
	Edge float64 `json:"edge"`
}

// CarbonRef is the carbon accounting the gCO2e figures used.
type CarbonRef struct {
	Method      string  `json:"method"`
	Region      string  `json:"region,omitempty"`
	GramsPerKWh float64 `json:"g_per_kwh"`
	Year        int     `json:"year,omitempty"`
	Source      string  `json:"source"`
	PUE         float64 `json:"pue"`
	// Embodied says what embodied carbon was included, or, in so many
	// words, "embodied not included".
	Embodied string `json:"embodied"`
}

// RefusalError lists every reason a certificate must not be issued.
type RefusalError struct {
	Reasons []string
}

// Error lists the reasons, one a line.
func (e *RefusalError) Error() string {
	return fmt.Sprintf("certify: refused (%d %s):\n  %s", len(e.Reasons), evalPlural(len(e.Reasons), "reason", "reasons"),
		strings.Join(e.Reasons, "\n  "))
}

func evalPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Refusal returns why the certificate must not be issued, or nil: every
// failed hard rule, and level 0 unless allowEstimated, all in one
// *RefusalError so that the user fixes everything in one go.
func (c *Certificate) Refusal(allowEstimated bool) error {
	var reasons []string
	for _, r := range c.Rules {
		if r.Hard && !r.Pass {
			reasons = append(reasons, r.String())
		}
	}
	if c.Level.Level == 0 && !allowEstimated {
		reasons = append(reasons, fmt.Sprintf("%s: %s; a level 0 certificate needs --allow-estimated, and then says level 0 wherever it shows a rating", c.Level, c.Level.Reason))
	}
	if len(reasons) == 0 {
		return nil
	}
	return &RefusalError{Reasons: reasons}
}

// Diff is a difference between a certificate's figures and those
// recomputed from its record. Verify demands none: the same code with the
// same seeds gives the same numbers, bit for bit.
type Diff struct {
	Workload string `json:"workload,omitempty"`
	// Metric is the figure that differs, or "rating", "level", "valid",
	// "rule NAME", "workload" for what is not a figure.
	Metric     string `json:"metric"`
	Certified  Figure `json:"certified"`
	Recomputed Figure `json:"recomputed"`
	// Note says what differs when it is not a figure's statistics.
	Note string `json:"note,omitempty"`
}

// CompareSummaries lists every difference between a certified certificate
// and one recomputed from the same record with the same spec: figures,
// ratings, level, validity and rule verdicts. Equality is exact.
func CompareSummaries(certified, recomputed *Certificate) []Diff {
	var out []Diff
	note := func(w, m, format string, a ...any) {
		out = append(out, Diff{Workload: w, Metric: m, Note: fmt.Sprintf(format, a...)})
	}
	if certified.Level != recomputed.Level {
		note("", "level", "certified %s, recomputed %s", certified.Level, recomputed.Level)
	}
	if certified.Valid != recomputed.Valid {
		note("", "valid", "certified %t, recomputed %t", certified.Valid, recomputed.Valid)
	}
	key := func(r Rule) string { return r.Workload + "\x00" + r.Name }
	again := map[string]Rule{}
	for _, r := range recomputed.Rules {
		again[key(r)] = r
	}
	for _, r := range certified.Rules {
		if g, ok := again[key(r)]; !ok {
			note(r.Workload, "rule "+r.Name, "not applied in the recomputation")
		} else if g.Pass != r.Pass || g.Hard != r.Hard {
			note(r.Workload, "rule "+r.Name, "certified pass=%t, recomputed pass=%t (%s)", r.Pass, g.Pass, g.Reason)
		}
		delete(again, key(r))
	}
	for _, r := range recomputed.Rules {
		if _, extra := again[key(r)]; extra {
			note(r.Workload, "rule "+r.Name, "applied in the recomputation but not on the certificate")
		}
	}
	ws := map[string]*WorkloadResult{}
	for i := range recomputed.Workloads {
		ws[recomputed.Workloads[i].Name] = &recomputed.Workloads[i]
	}
	for _, w := range certified.Workloads {
		g, ok := ws[w.Name]
		if !ok {
			note(w.Name, "workload", "not in the recomputation")
			continue
		}
		delete(ws, w.Name)
		if w.Rating != g.Rating || w.RatingShown != g.RatingShown {
			note(w.Name, "rating", "certified %q, recomputed %q", w.RatingShown, g.RatingShown)
		}
		for _, m := range evalUnionKeys(w.Figures, g.Figures) {
			cf, cok := w.Figures[m]
			rf, rok := g.Figures[m]
			switch {
			case !rok:
				out = append(out, Diff{Workload: w.Name, Metric: m, Certified: cf, Note: "not in the recomputation"})
			case !cok:
				out = append(out, Diff{Workload: w.Name, Metric: m, Recomputed: rf, Note: "not on the certificate"})
			case !figuresAgree(cf, rf):
				out = append(out, Diff{Workload: w.Name, Metric: m, Certified: cf, Recomputed: rf})
			}
		}
	}
	for _, w := range recomputed.Workloads {
		if _, extra := ws[w.Name]; extra {
			note(w.Name, "workload", "in the recomputation but not on the certificate")
		}
	}
	return out
}

func evalUnionKeys(a, b map[string]Figure) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]Figure{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// FigureTolerance is how far apart, relatively, a certified figure and its
// recomputation may be. The same code and seeds give the same numbers on
// one architecture, but a compiler may fuse a multiply and an add (FMA) on
// another (arm64 does by default; amd64 with GOAMD64=v3), which moves the
// last few bits: a certificate made on one must verify on the other. 1e-9
// is far below any difference a person could read, and far above rounding.
const FigureTolerance = 1e-9

func figuresAgree(a, b Figure) bool {
	close := func(x, y float64) bool {
		if x == y {
			return true
		}
		return math.Abs(x-y) <= FigureTolerance*math.Max(math.Abs(x), math.Abs(y))
	}
	return a.N == b.N && close(a.Median, b.Median) && close(a.CILow, b.CILow) && close(a.CIHigh, b.CIHigh) && close(a.CV, b.CV)
}
