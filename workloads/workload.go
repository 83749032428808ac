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
}

// Checker is implemented by workloads that can check that the answer of
// their last Run was right, so that a fast wrong answer fails.
type Checker interface {
	Check(ctx context.Context) (Check, error)
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
