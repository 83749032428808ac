package workloads

import "context"

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
