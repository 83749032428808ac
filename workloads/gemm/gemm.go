package gemm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/joulebench/joulebench/workloads"
)

// Bounds on N: below MinN a call is all overhead, above MaxN one fp64
// workload needs 6 GiB and one call minutes.
const (
	MinN = 16
	MaxN = 16384
)

// Version is the workload version in the Spec; it changes whenever the work
// done for a name changes (matrix contents, call shape).
const Version = "1"

// WorkUnit names one item of work.
const WorkUnit = "GEMM call (2N³ FLOPs)"

func init() {
	workloads.Register("gemm-", New,
		"gemm-fp32-512", "gemm-fp32-1024", "gemm-fp32-2048", "gemm-fp32-4096",
		"gemm-fp64-512", "gemm-fp64-1024", "gemm-fp64-2048", "gemm-fp64-4096")
}

// workload is C = A·B for square row-major N×N matrices in one precision.
// It is not safe for concurrent use.
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
	ran           bool
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

// makeSpec builds the Spec. Hash is the hex SHA-256 of the JSON encoding of
// {name, version, params}: encoding/json writes struct fields in order and
// map keys sorted, with no insignificant space, so the bytes are canonical.
func makeSpec(name, prec string, n int) workloads.Spec {
	params := map[string]string{"precision": prec, "n": strconv.Itoa(n)}
	b, err := json.Marshal(struct {
		Name    string            `json:"name"`
		Version string            `json:"version"`
		Params  map[string]string `json:"params"`
	}{name, Version, params})
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	sum := sha256.Sum256(b)
	return workloads.Spec{
		Name:         name,
		Version:      Version,
		Params:       params,
		WorkUnit:     WorkUnit,
		Hash:         hex.EncodeToString(sum[:]),
		FLOPsPerItem: FLOPs(n),
	}
}

// FLOPs is the floating-point operation count of one n×n GEMM: n² dot
// products of n multiplies and n adds.
func FLOPs(n int) float64 {
	f := float64(n)
	return 2 * f * f * f
}

func (w *workload) Spec() workloads.Spec { return w.spec }

// seed fixes the matrix contents: part of what Version promises.
const seed = 0x6a6f756c65 // "joule"

// Validate loads the BLAS the options ask for, without allocating the
// matrices, so that a bad --blas is refused before anything is measured.
// The library stays loaded for Prepare (one CBLAS per process).
func (w *workload) Validate(ctx context.Context) error {
	if _, err := w.load(w.opts); err != nil {
		return fmt.Errorf("gemm: %w", err)
	}
	return nil
}

// Prepare loads the BLAS and allocates and fills A, B and C.
func (w *workload) Prepare(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := w.load(w.opts)
	if err != nil {
		return fmt.Errorf("gemm: %w", err)
	}
	w.p = p
	w.ran = false
	rng := rand.New(rand.NewPCG(seed, uint64(w.n)))
	nn := w.n * w.n
	switch w.prec {
	case "fp64":
		w.a64, w.b64, w.c64 = make([]float64, nn), make([]float64, nn), make([]float64, nn)
		for i := range w.a64 {
			w.a64[i] = 2*rng.Float64() - 1
		}
		for i := range w.b64 {
			w.b64[i] = 2*rng.Float64() - 1
		}
		// Fresh memory is faulted in on first write; write C now so that
		// the first measured call does not pay for it.
		for i := range w.c64 {
			w.c64[i] = 0
		}
	case "fp32":
		w.a32, w.b32, w.c32 = make([]float32, nn), make([]float32, nn), make([]float32, nn)
		for i := range w.a32 {
			w.a32[i] = float32(2*rng.Float64() - 1)
		}
		for i := range w.b32 {
			w.b32[i] = float32(2*rng.Float64() - 1)
		}
		for i := range w.c32 {
			w.c32[i] = 0
		}
	}
	return nil
}

// Run computes C = A·B iters times. Nothing in the loop allocates, copies
// or checks: it measures the BLAS call and nothing else.
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
		w.ran = true
	}
	return w.work(calls), nil
}

func (w *workload) work(calls int) workloads.Work {
	return workloads.Work{FLOPs: FLOPs(w.n) * float64(calls), Items: int64(calls)}
}

// Residual check parameters.
const (
	// checkSamples entries of C are recomputed: enough that a wrong tile of
	// any plausible blocking is hit, cheap at 2·checkSamples·N FLOPs.
	checkSamples = 64
	// checkK scales the tolerance checkK·N·u. Any summation order gives an
	// error within γ_N·Σ|a_ik·b_kj|, γ_N = N·u/(1−N·u) (Higham, Accuracy
	// and Stability of Numerical Algorithms, §3.1), and N·u ≤ 1e-3 for
	// every allowed N, so k = 1.001 would already accept every correct
	// library; 2 leaves room for a final rounding of alpha/beta scaling.
	// A wrong answer (garbage, zeros, a transposed or misplaced tile) is
	// off by O(1/√N) relative to Σ|a·b|, orders of magnitude above this.
	checkK = 2
)

// Check recomputes a sample of the entries of C from the last Run with
// compensated float64 dot products, and fails if any is further from the
// exact value than a correct GEMM of this precision can be.
func (w *workload) Check(ctx context.Context) (workloads.Check, error) {
	if w.p == nil || !w.ran {
		return workloads.Check{}, errors.New("gemm: check: no Run to check")
	}
	u := 0x1p-53
	if w.prec == "fp32" {
		u = 0x1p-24
	}
	limit := checkK * float64(w.n) * u
	n := w.n
	rng := rand.New(rand.NewPCG(seed+1, uint64(n)))
	worst, wi, wj, wgot, wref := 0.0, 0, 0, 0.0, 0.0
	for s := 0; s < checkSamples; s++ {
		if err := ctx.Err(); err != nil {
			return workloads.Check{}, err
		}
		// The two corners catch edge tiles, which blocked kernels treat
		// apart; the rest are random.
		i, j := rng.IntN(n), rng.IntN(n)
		switch s {
		case 0:
			i, j = 0, 0
		case 1:
			i, j = n-1, n-1
		}
		got, ref, bound := w.entry(i, j)
		e := math.Abs(got-ref) / bound
		if math.IsNaN(e) || bound == 0 && got != ref {
			e = math.Inf(1)
		}
		if s == 0 || e > worst {
			worst, wi, wj, wgot, wref = e, i, j, got, ref
		}
	}
	chk := workloads.Check{Name: "residual", Value: worst, Limit: limit, OK: worst <= limit}
	chk.Detail = fmt.Sprintf("%d sampled entries of C = A·B (%s, N=%d); worst C[%d,%d] = %g, exact %g; scaled error |c−exact|/Σ|a·b| ≤ %d·N·u",
		checkSamples, w.prec, n, wi, wj, wgot, wref, checkK)
	if !chk.OK {
		chk.Detail += "; the BLAS (" + w.p.info()["provider"] + ") returned a wrong answer"
		if d := w.p.coreType(); d.forced() {
			chk.Detail += fmt.Sprintf("; OpenBLAS ran with %s=%s (%s): the kernel may not suit this CPU, retry with --blas-coretype library", coreTypeEnv, d.Value, d.Source)
		}
	}
	return chk, nil
}

// entry returns C[i,j], its exact value to about float64 precision, and
// Σ|a_ik·b_kj|. The dot product is compensated (Ogita, Rump and Oishi's
// Dot2) so that the reference's own error, about N·2⁻¹⁰⁶, does not eat into
// the tolerance even for fp64.
func (w *workload) entry(i, j int) (got, ref, bound float64) {
	n := w.n
	var s, c float64 // sum and its running error
	for k := 0; k < n; k++ {
		var x, y float64
		if w.prec == "fp64" {
			x, y = w.a64[i*n+k], w.b64[k*n+j]
		} else {
			x, y = float64(w.a32[i*n+k]), float64(w.b32[k*n+j])
		}
		p := x * y
		pe := math.FMA(x, y, -p) // p + pe == x·y exactly
		t := s + p
		z := t - s
		se := (s - (t - z)) + (p - z) // s + p == t + se exactly
		s = t
		c += pe + se
		bound += math.Abs(p)
	}
	ref = s + c
	if w.prec == "fp64" {
		got = w.c64[i*n+j]
	} else {
		got = float64(w.c32[i*n+j])
	}
	return got, ref, bound
}

// Info says what did the work: provider, library, version, threads and,
// for OpenBLAS, the kernel (corename) and why that kernel.
func (w *workload) Info() map[string]string {
	if w.p == nil {
		return map[string]string{}
	}
	return w.p.info()
}

// Close frees the matrices. The BLAS library stays loaded: it is shared by
// the process and cannot be safely unloaded.
func (w *workload) Close() error {
	w.p = nil
	w.a64, w.b64, w.c64 = nil, nil, nil
	w.a32, w.b32, w.c32 = nil, nil, nil
	w.ran = false
	return nil
}
