package gemm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/joulebench/joulebench/workloads"
)

// Bounds on N: below MinN a call is all overhead, above MaxN one fp64
// workload needs 8 GiB (A, B, C and the fold bank) and one call minutes.
const (
	MinN = 16
	MaxN = 16384
)

// Version is the workload version in the Spec; it changes whenever the work
// done for a name changes (matrix contents, call shape).
//
// Version 2: each call accumulates, C ← A·B + C (beta 1; version 1 set
// C = A·B), so that C after k calls holds k products and a skipped call
// shows; the matrices are drawn from the run's seed, uniform on [-1, 1),
// and A is drawn afresh after every check.
const Version = "2"

// WorkUnit names one item of work.
const WorkUnit = "GEMM call (2N³ FLOPs)"

func init() {
	workloads.Register("gemm-", New,
		"gemm-fp32-512", "gemm-fp32-1024", "gemm-fp32-2048", "gemm-fp32-4096",
		"gemm-fp64-512", "gemm-fp64-1024", "gemm-fp64-2048", "gemm-fp64-4096")
}

// workload is C ← A·B + C for square row-major N×N matrices in one
// precision. It is not safe for concurrent use.
type workload struct {
	spec workloads.Spec
	prec string // "fp64" or "fp32"
	n    int
	opts workloads.Options
	// load picks the provider; tests replace it.
	load func(workloads.Options) (provider, error)

	p             provider
	a64, b64, c64 []float64
	a32, b32, c32 []float32
	// bank holds the calls folded out of C (see fold), in float64 for
	// either precision; C + bank is what the calls since the last re-arm
	// added up to.
	bank []float64

	// seed is the run's seed in effect (fixedSeed when Options.Seed is 0),
	// round the number of re-arms since Prepare: A is drawn from both.
	seed  uint64
	round uint64
	// calls counts the GEMM calls since the last re-arm (k), inC those
	// accumulated in C since it was last zeroed, folds the folds into
	// bank since the last re-arm; foldEvery is how many calls C takes
	// before a fold, set in Prepare from the provider's style.
	style     accStyle
	calls     int64
	inC       int
	folds     int64
	foldEvery int

	chk checkState
}

var (
	_ workloads.Workload  = (*workload)(nil)
	_ workloads.Checker   = (*workload)(nil)
	_ workloads.Describer = (*workload)(nil)
	_ workloads.Closer    = (*workload)(nil)
	_ workloads.Validator = (*workload)(nil)
)

// New makes the workload called name, gemm-fp64-N or gemm-fp32-N with
// MinN ≤ N ≤ MaxN. The BLAS is chosen from opts in Prepare: a system CBLAS
// loaded at run time (opts.BLAS a path, or "" to search for OpenBLAS, BLIS,
// MKL or the system BLAS), else gonum's pure-Go BLAS, which Info flags as
// not describing the hardware.
func New(name string, opts workloads.Options) (workloads.Workload, error) {
	prec, n, err := parseName(name)
	if err != nil {
		return nil, err
	}
	if opts.Threads < 0 {
		return nil, fmt.Errorf("gemm: %s: threads %d: must be 0 (all CPUs) or more", name, opts.Threads)
	}
	return &workload{
		spec: makeSpec(name, prec, n),
		prec: prec,
		n:    n,
		opts: opts,
		load: systemLoader().load,
	}, nil
}

// parseName splits gemm-<precision>-<N>. N must be written plainly (no
// sign, no leading zeros) so that one amount of work has one name.
func parseName(name string) (prec string, n int, err error) {
	bad := func(why string) (string, int, error) {
		return "", 0, fmt.Errorf("gemm: workload %q: %s (want gemm-fp64-N or gemm-fp32-N, %d ≤ N ≤ %d)", name, why, MinN, MaxN)
	}
	rest, ok := strings.CutPrefix(name, "gemm-")
	if !ok {
		return bad("not a gemm workload")
	}
	prec, size, ok := strings.Cut(rest, "-")
	if !ok {
		return bad("no size")
	}
	if prec != "fp64" && prec != "fp32" {
		return bad(fmt.Sprintf("precision %q is not fp64 or fp32", prec))
	}
	n, err = strconv.Atoi(size)
	if err != nil || strconv.Itoa(n) != size {
		return bad(fmt.Sprintf("size %q is not a plain integer", size))
	}
	if n < MinN || n > MaxN {
		return bad(fmt.Sprintf("N = %d out of range", n))
	}
	return prec, n, nil
}

// makeSpec builds the Spec; Hash is workloads.SpecHash of name, version
// and params.
func makeSpec(name, prec string, n int) workloads.Spec {
	params := map[string]string{"precision": prec, "n": strconv.Itoa(n)}
	return workloads.Spec{
		Name:         name,
		Version:      Version,
		Params:       params,
		WorkUnit:     WorkUnit,
		Hash:         workloads.SpecHash(name, Version, params),
		FLOPsPerItem: FLOPs(n),
	}
}

// FLOPs is the floating-point operation count of one n×n GEMM: n² dot
// products of n multiplies and n adds. The beta = 1 accumulation adds n²
// more adds, which are not counted: the standard count is 2n³.
func FLOPs(n int) float64 {
	f := float64(n)
	return 2 * f * f * f
}

func (w *workload) Spec() workloads.Spec { return w.spec }

// fixedSeed stands in for Options.Seed 0 (tests), so that a run without a
// seed is still reproducible.
const fixedSeed = 0x6a6f756c65 // "joule"

// Validate loads the BLAS the options ask for, without allocating the
// matrices, so that a bad --blas is refused before anything is measured.
// The library stays loaded for Prepare (one CBLAS per process).
func (w *workload) Validate(ctx context.Context) error {
	if _, err := w.load(w.opts); err != nil {
		return fmt.Errorf("gemm: %w", err)
	}
	return nil
}

// Prepare loads the BLAS, allocates the matrices and fills A and B from the
// run's seed, zeroes C, and draws the check's random vectors.
func (w *workload) Prepare(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := w.load(w.opts)
	if err != nil {
		return fmt.Errorf("gemm: %w", err)
	}
	w.p = p
	w.style = styleOf(p.info()["provider"])
	w.foldEvery = foldInterval(w.prec, w.style, w.n)
	w.seed = w.opts.Seed
	if w.seed == 0 {
		w.seed = fixedSeed
	}
	w.round, w.calls, w.inC, w.folds = 0, 0, 0, 0
	nn := w.n * w.n
	// Fresh memory is faulted in on first write; every matrix is written
	// here so that the first measured call does not pay for it.
	switch w.prec {
	case "fp64":
		w.a64, w.b64, w.c64 = make([]float64, nn), make([]float64, nn), make([]float64, nn)
	case "fp32":
		w.a32, w.b32, w.c32 = make([]float32, nn), make([]float32, nn), make([]float32, nn)
	}
	w.bank = make([]float64, nn)
	clear(w.bank)
	w.prepareCheck()
	return nil
}

// Run makes iters calls of C ← A·B + C. Nothing in the loop allocates or
// checks; every foldEvery calls C is folded into bank (an O(N²) add, at
// most a few tenths of a percent of the calls' time, see fold).
func (w *workload) Run(ctx context.Context, iters int) (workloads.Work, error) {
	if w.p == nil {
		return workloads.Work{}, errors.New("gemm: Run before Prepare")
	}
	if iters < 0 {
		return workloads.Work{}, fmt.Errorf("gemm: Run(%d): negative iteration count", iters)
	}
	w.p.begin()
	calls := 0
	for ; calls < iters; calls++ {
		if err := ctx.Err(); err != nil {
			return w.work(calls), err
		}
		if w.prec == "fp64" {
			w.p.dgemm(w.n, w.a64, w.b64, w.c64)
		} else {
			w.p.sgemm(w.n, w.a32, w.b32, w.c32)
		}
		w.calls++
		w.inC++
		if w.inC == w.foldEvery {
			w.fold()
		}
	}
	return w.work(calls), nil
}

func (w *workload) work(calls int) workloads.Work {
	return workloads.Work{FLOPs: FLOPs(w.n) * float64(calls), Items: int64(calls)}
}

// foldInterval is how many calls C accumulates before fold moves it into
// the bank. Adding the same product to C k times rounds the same way
// within each binade of C, so the rounding error grows like k·u, not
// √k·u: 0.12·k·u rms for fp32 (measured, docs/gemm-check.md), which at
// k = 10⁵ is 7·10⁻⁴, more than TF32's own error; at N = 16 a 2 s
// repetition makes 10⁷ calls. Folding every M calls into a float64 bank
// bounds that part of the error by about M·u whatever k is. M is the
// largest power of two, at most foldMax, for which g(N, M) (accScale)
// stays within foldGMax: for fp32 that keeps a correct library's error
// well apart from TF32's; fp64's error is far from what its check must
// tell apart (fp32 arithmetic, 2²⁹ times larger), so it folds rarely.
func foldInterval(prec string, style accStyle, n int) int {
	gmax, m := foldGMax32, foldMax32
	if prec == "fp64" {
		gmax, m = foldGMax64, foldMax64
	}
	for m > 1 && accScale(style, n, m) > float64(gmax) {
		m /= 2
	}
	return m
}

// Fold limits; see foldInterval and docs/gemm-check.md.
const (
	foldMax32  = 512
	foldGMax32 = 512
	foldMax64  = 1 << 16
	foldGMax64 = 1 << 20
)

// fold adds C into bank and zeroes C. It runs in the measured loop, once
// every foldEvery calls; BenchmarkFold measures what it costs.
func (w *workload) fold() {
	if w.prec == "fp64" {
		for i, c := range w.c64 {
			w.bank[i] += c
		}
		clear(w.c64)
	} else {
		for i, c := range w.c32 {
			w.bank[i] += float64(c)
		}
		clear(w.c32)
	}
	w.inC = 0
	w.folds++
}

// Info says what did the work: provider, library, version, threads and,
// for OpenBLAS, the kernel (corename) and why that kernel; and how the
// answer is checked, with the seed the check used.
func (w *workload) Info() map[string]string {
	if w.p == nil {
		return map[string]string{}
	}
	m := w.p.info()
	m["check"] = "freivalds"
	m["check_seed"] = fmt.Sprintf("%016x", w.seed)
	return m
}

// Close frees the matrices. The BLAS library stays loaded: it is shared by
// the process and cannot be safely unloaded.
func (w *workload) Close() error {
	w.p = nil
	w.a64, w.b64, w.c64 = nil, nil, nil
	w.a32, w.b32, w.c32 = nil, nil, nil
	w.bank = nil
	w.chk = checkState{}
	w.calls, w.inC, w.folds = 0, 0, 0
	return nil
}
