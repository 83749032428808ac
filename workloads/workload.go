package workloads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
)

// Spec identifies a workload exactly, so that two runs of the same spec did
// the same work.
type Spec struct {
	Name    string
	Version string
	Params  map[string]string
	// WorkUnit names one item of work ("GEMM call", "inference").
	WorkUnit string
	// Hash is a content hash of name, version and params.
	Hash string
	// FLOPsPerItem is the floating-point work of one item as the workload
	// defines it (2N³ for an N×N GEMM), 0 when it counts none. certify
	// holds a record's stated FLOPs to it.
	FLOPsPerItem float64
	// ItemsPerCall is how many items one call of Run does per iteration:
	// 1 for a GEMM call, the batch for a model in the Offline scenario
	// (256 inferences). Zero means 1. certify holds a record's items to
	// iterations × ItemsPerCall.
	ItemsPerCall int
}

// PerCall is s.ItemsPerCall, 1 when unset.
func (s Spec) PerCall() int64 {
	if s.ItemsPerCall > 0 {
		return int64(s.ItemsPerCall)
	}
	return 1
}

// Work is the useful work done by a call to Run.
type Work struct {
	FLOPs float64
	Items int64
	// Quality holds measures of the answer, such as accuracy.
	Quality map[string]float64
}

// Workload is a unit of standard work.
type Workload interface {
	Spec() Spec
	// Prepare allocates and initialises everything Run needs, outside any
	// measured phase.
	Prepare(ctx context.Context) error
	// Run does iters items of work and says how much was done.
	Run(ctx context.Context, iters int) (Work, error)
}

// Check is the result of a workload's own check of its answer.
type Check struct {
	Name   string
	Value  float64
	Limit  float64
	OK     bool
	Detail string
	// Verdict names what a failed check found: VerdictWrong or
	// VerdictReducedPrecision; "" when OK.
	Verdict string
}

// Verdicts of a failed check.
const (
	// VerdictWrong: the answer is not what the calls should have produced
	// (a skipped call, a stale or corrupted result).
	VerdictWrong = "wrong"
	// VerdictReducedPrecision: the answer is right only to the precision
	// of narrower arithmetic (TF32, BF16) than the workload names.
	VerdictReducedPrecision = "reduced-precision"
)

// Checker is implemented by workloads that can check their answer, so that
// a fast wrong answer, a skipped call or reduced precision fails.
//
// Check checks the work of every Run call since the previous Check (or
// since Prepare) — all of it, not the last call only — and then gives the
// workload fresh inputs, so that the calls after it cannot reuse an
// earlier answer. The harness calls it after the warm-up and after every
// repetition, outside the measured phases, so its cost is never metered.
type Checker interface {
	Check(ctx context.Context) (Check, error)
}

// SpecOf returns the spec of the standard workload called name without
// preparing it (no library is loaded, nothing allocated), so that a
// record's description of its workloads can be checked against the code.
func SpecOf(name string) (Spec, error) {
	w, err := New(name, Options{})
	if err != nil {
		return Spec{}, err
	}
	return w.Spec(), nil
}

// Describer is implemented by workloads that can say what ran (BLAS
// provider, library path, threads, kernel). It is called after Prepare.
type Describer interface {
	Info() map[string]string
}

// Validator is implemented by workloads that can check their options (a
// library path, a kernel name) before any measuring starts, cheaply.
type Validator interface {
	Validate(ctx context.Context) error
}

// Closer is implemented by workloads that hold resources.
type Closer interface {
	Close() error
}

// Episodic is implemented by workloads whose one call is a whole job with
// a natural end, such as training a model until it reaches a target
// accuracy. The harness makes each repetition exactly one call, with no
// warm-up (a warm-up would be a whole job) and no extra calls to reach the
// suite's minimum time: the repetition lasts as long as the job.
type Episodic interface {
	Episodic() bool
}

// RepReporter is implemented by workloads with measures of a whole
// repetition that no single call can give: latency percentiles over every
// query, or accuracy on the full test set computed after the calls. The
// harness calls RepQuality after each repetition and its check, outside
// the measured time, and the values replace the calls' own Quality
// entries of the same names.
type RepReporter interface {
	RepQuality() map[string]float64
}

// IsEpisodic reports whether w is an Episodic workload that says it is.
func IsEpisodic(w Workload) bool {
	e, ok := w.(Episodic)
	return ok && e.Episodic()
}

// AccuracyChecker is implemented by workloads whose accuracy a certifier
// can recompute on its own, so that a record's stated accuracy is not
// taken on trust: RecomputeAccuracy returns the workload's accuracy on its
// whole test set and its reference's, computed by joulebench's own pure-Go
// kernels, loading no library. It may take seconds.
type AccuracyChecker interface {
	RecomputeAccuracy(ctx context.Context) (acc, ref float64, err error)
}

// AccuracyTolerance is how far a record's stated accuracy may lie from the
// one an AccuracyChecker recomputes: 20 of 10,000 test images. Different
// kernels round differently and may flip a few borderline images; a forged
// figure is usually off by more.
const AccuracyTolerance = 0.002

// SpecHash is the content hash of a spec: the hex SHA-256 of the JSON
// encoding of {name, version, params}. encoding/json writes struct fields
// in order and map keys sorted, with no insignificant space, so the bytes
// are canonical.
func SpecHash(name, version string, params map[string]string) string {
	b, err := json.Marshal(struct {
		Name    string            `json:"name"`
		Version string            `json:"version"`
		Params  map[string]string `json:"params"`
	}{name, version, params})
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ErrNotHere is wrapped by a Validator's error when the workload cannot
// run on this machine at all (bf16 on a CPU without native bf16): a run of
// a suite leaves such a workload out and says why, instead of refusing
// the whole suite.
var ErrNotHere = errors.New("not available on this machine")
