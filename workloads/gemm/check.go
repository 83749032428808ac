package gemm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/joulebench/joulebench/workloads"
)

// The answer check (docs/gemm-check.md has the derivations and the
// measurements behind every constant here).
//
// After k calls since the last re-arm, C + bank must equal k·A·B up to
// rounding. Freivalds' check (Freivalds 1977) compares y = (C+bank)·r with
// z = k·A·(B·r) for random vectors r in O(N²) instead of recomputing the
// O(N³) product: every row of C takes part, so a wrong tile anywhere, a
// skipped call or a stale C shows. The vectors are continuous (uniform on
// [-1, 1)), which makes a miss far less likely than ±1 vectors do: an
// error e in one entry of a row is missed only if r_j falls in an interval
// of width 2τ/|e| around one point, probability at most τ/|e| per vector.

// checkVectors is the number of random vectors: a row error of x times the
// tolerance in one entry is missed with probability at most x^-checkVectors.
const checkVectors = 2

// Calibrated limits on the scaled error (see score). Correct libraries
// (OpenBLAS 0.3.21 with its Haswell and SkylakeX kernels, BLIS 0.9.0,
// gonum 0.17.0; N from 16 to 4096, k from 1 to 10⁷ calls) measured at most
// 2.12 for the worst row, in 3000 seeds at the sizes where the tail is
// widest, and at most 0.53 for the median row; TF32 arithmetic measured
// at least 39.7 and 8.1 (docs/gemm-check.md):
//
//	checkLimit:  the worst row of any vector, 2.4 times the largest
//	             correct value measured, 7.9 times below the smallest
//	             TF32 one. It decides the check.
//	medianLimit: the median row, 3.8 times the largest correct median,
//	             4 times below the smallest TF32 one. It only tells
//	             reduced precision (all rows off) from a wrong answer
//	             (some rows off) once the check has failed.
const (
	checkLimit  = 5.0
	medianLimit = 2.0
)

// reducedCeiling is the largest worst-row error, relative to the scale of
// the products (u·g left out), that reduced-precision arithmetic is taken
// to explain: BF16 inputs (unit roundoff 2⁻⁸) give a row error of about
// 0.82·2⁻⁸ in these units, rms, and the worst of N rows about 5 times that;
// four times more is allowed: 0.064, seven times the largest BF16 figure
// measured (9.1·10⁻³). A failure beyond it, or not spread over the rows, or
// explained by a wrong call count, is wrong.
const reducedCeiling = 4 * 5 * 0.82 * 0x1p-8

// reducedMeasured is what reduced precision measured, relative to the
// products (worst row; OpenBLAS, BLIS and gonum, N from 16 to 16384;
// docs/gemm-check.md).
const reducedMeasured = "TF32 inputs 7.6e-4 to 1.4e-3, BF16 inputs 4.7e-3 to 9.1e-3, fp32 arithmetic on fp64 data 2.2e-7 to 4.1e-6"

// lambdaSlack is the largest |λ − 1|, where C ≈ λ·k·A·B is the best fit of
// a wrong answer, that reduced precision is taken to explain; a larger one
// means calls were skipped or repeated.
const lambdaSlack = 0x1p-8

// checkState is what the check keeps between calls: the random vectors,
// drawn once per run from its seed, B·r, the row norms the scale uses, and
// A·(B·r) for the current A, computed as A was drawn.
type checkState struct {
	r   []float64 // checkVectors×n random vectors
	w   []float64 // checkVectors×n: B·r, to within float64 rounding
	bn2 []float64 // n: Σ_j b_lj², row l of B
	// an2 (n: Σ_l a_il²·bn2_l) and z (checkVectors×n: A·(B·r), without
	// the factor k) belong to the current A, an2Next and zNext to the one
	// the re-arm draws.
	an2, an2Next []float64
	z, zNext     []float64
	y            []float64 // checkVectors×n: (C+bank)·r
}

// Stream numbers of the generator: each matrix, and the vectors, has its
// own stream of the run's seed, and A one per round.
const (
	streamA = 1
	streamB = 2
	streamR = 3
)

// unitRoundoff is u for the workload's precision.
func (w *workload) unitRoundoff() float64 {
	if w.prec == "fp64" {
		return 0x1p-53
	}
	return 0x1p-24
}

// accStyle is how a library adds a call's products into C, which decides
// how its rounding error grows with N and with the calls accumulated.
type accStyle int

const (
	// accRegister: each entry's dot product is summed in a register and
	// added to C once per block of the inner dimension (the GotoBLAS /
	// BLIS microkernel, as in OpenBLAS, BLIS and MKL). Measured: the
	// worst row's error is about (0.8·√N + 0.3·kc)·u.
	accRegister accStyle = iota
	// accIntoC: each product is added into C as it is formed (gonum, the
	// reference BLAS), so every add rounds against the whole accumulated
	// C. Measured on gonum: about 0.4·√N·kc·u. Any library joulebench
	// does not know is taken to work this way: its g is the wider one,
	// and it folds more often to keep within foldGMax.
	accIntoC
)

// styleOf is the accumulation style of a provider (Info's "provider").
func styleOf(provider string) accStyle {
	switch provider {
	case "openblas", "blis", "mkl":
		return accRegister
	}
	return accIntoC
}

// formula is accScale's formula, for Detail.
func (s accStyle) formula() string {
	if s == accRegister {
		return "√N+kc/2"
	}
	return "√N·(1+kc/2)"
}

// accScale is g(N, kc), the growth of a correct library's error with N-term
// dot products accumulated kc times into C, in units of u times the size of
// the products: √N + kc/2 for accRegister, √N·(1 + kc/2) for accIntoC.
func accScale(style accStyle, n, kc int) float64 {
	rn, k := math.Sqrt(float64(n)), float64(kc)
	if style == accRegister {
		return rn + k/2
	}
	return rn * (1 + k/2)
}

// prepareCheck fills B and A from the seed, zeroes C, draws the vectors
// and computes B·r and the row norms. It runs in Prepare, outside any
// measured phase.
func (w *workload) prepareCheck() {
	n := w.n
	s := &w.chk
	s.r = make([]float64, checkVectors*n)
	s.w = make([]float64, checkVectors*n)
	s.bn2 = make([]float64, n)
	s.an2, s.an2Next = make([]float64, n), make([]float64, n)
	s.z, s.zNext = make([]float64, checkVectors*n), make([]float64, checkVectors*n)
	s.y = make([]float64, checkVectors*n)
	kb := streamKey(w.seed, streamB, 0)
	parallelRows(n, func(lo, hi int) {
		for l := lo; l < hi; l++ {
			var sum float64
			if w.prec == "fp64" {
				row := w.b64[l*n : (l+1)*n]
				fillRow64(row, kb, l*n)
				for _, b := range row {
					sum += b * b
				}
			} else {
				row := w.b32[l*n : (l+1)*n]
				fillRow32(row, kb, l*n)
				for _, b := range row {
					sum += float64(b) * float64(b)
				}
			}
			s.bn2[l] = sum
		}
	})
	w.drawVectors(streamKey(w.seed, streamR, 0))
	ka := streamKey(w.seed, streamA, w.round)
	parallelRows(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s.an2[i], s.z[i], s.z[n+i] = w.drawARow(i, ka)
		}
	})
	clear(w.c64)
	clear(w.c32)
}

// drawVectors draws the check's vectors from stream key kr and computes
// B·r. The vectors are drawn once per run: the calls never see them, and
// B does not change, so B·r is computed once, accurately, instead of in
// every check. (Tests draw other vectors, then call refreshZ, to measure
// how often a wrong answer is missed.)
func (w *workload) drawVectors(kr uint64) {
	n := w.n
	s := &w.chk
	for i := range s.r {
		s.r[i] = uniform64(kr, i)
	}
	parallelRows(n, func(lo, hi int) {
		for l := lo; l < hi; l++ {
			for v := 0; v < checkVectors; v++ {
				if w.prec == "fp64" {
					s.w[v*n+l] = dot2(w.b64[l*n:(l+1)*n], s.r[v*n:(v+1)*n])
				} else {
					s.w[v*n+l] = dot2f32(w.b32[l*n:(l+1)*n], s.r[v*n:(v+1)*n])
				}
			}
		}
	})
}

// refreshZ recomputes A·(B·r) from A as it is, after drawVectors.
func (w *workload) refreshZ() {
	n := w.n
	s := &w.chk
	for i := 0; i < n; i++ {
		if w.prec == "fp64" {
			s.z[i], s.z[n+i] = dotPair64(w.a64[i*n:(i+1)*n], s.w[:n], s.w[n:2*n])
			if n <= exactN {
				s.z[i], s.z[n+i] = dot2(w.a64[i*n:(i+1)*n], s.w[:n]), dot2(w.a64[i*n:(i+1)*n], s.w[n:2*n])
			}
		} else {
			s.z[i], s.z[n+i] = dotPair32(w.a32[i*n:(i+1)*n], s.w[:n], s.w[n:2*n])
		}
	}
}

// drawARow draws row i of A from stream key ka and returns, for the new
// row, Σ_l a_il²·bn2_l and the row's products with the two B·r vectors:
// everything the check needs of A is computed while the row is drawn, so
// the check never reads A back (and a library that wrote into A would be
// caught).
func (w *workload) drawARow(i int, ka uint64) (an2, z0, z1 float64) {
	n := w.n
	s := &w.chk
	if w.prec == "fp32" {
		row := w.a32[i*n : (i+1)*n]
		fillRow32(row, ka, i*n)
		var q0, q1 float64
		for lo := 0; lo < n; lo += sumBlock {
			rb := row[lo:min(lo+sumBlock, n)]
			w0, w1, bn2 := s.w[lo:lo+len(rb)], s.w[n+lo:n+lo+len(rb)], s.bn2[lo:lo+len(rb)]
			var a0, a1, b0, b1 float64
			j := 0
			for ; j+1 < len(rb); j += 2 {
				p, q := float64(rb[j]), float64(rb[j+1])
				q0 += p * p * bn2[j]
				q1 += q * q * bn2[j+1]
				a0 += p * w0[j]
				a1 += q * w0[j+1]
				b0 += p * w1[j]
				b1 += q * w1[j+1]
			}
			if j < len(rb) {
				p := float64(rb[j])
				q0 += p * p * bn2[j]
				a0 += p * w0[j]
				b0 += p * w1[j]
			}
			z0 += a0 + a1
			z1 += b0 + b1
		}
		return q0 + q1, z0, z1
	}
	// fillRow64 fused with the sums: each entry is used as it is drawn,
	// and the row is summed in blocks as dotPair64 does.
	row := w.a64[i*n : (i+1)*n]
	x := ka + uint64(i*n)*wyInc
	var q0, q1 float64
	for lo := 0; lo < n; lo += sumBlock {
		rb := row[lo:min(lo+sumBlock, n)]
		w0, w1, bn2 := s.w[lo:lo+len(rb)], s.w[n+lo:n+lo+len(rb)], s.bn2[lo:lo+len(rb)]
		var a0, a1, b0, b1 float64
		j := 0
		for ; j+1 < len(rb); j += 2 {
			p := unit53(wy(x + wyInc))
			q := unit53(wy(x + wyInc2))
			x += wyInc2
			rb[j], rb[j+1] = p, q
			q0 += p * p * bn2[j]
			q1 += q * q * bn2[j+1]
			a0 += p * w0[j]
			a1 += q * w0[j+1]
			b0 += p * w1[j]
			b1 += q * w1[j+1]
		}
		if j < len(rb) {
			x += wyInc
			p := unit53(wy(x))
			rb[j] = p
			q0 += p * p * bn2[j]
			a0 += p * w0[j]
			b0 += p * w1[j]
		}
		z0 += a0 + a1
		z1 += b0 + b1
	}
	if n <= exactN {
		z0, z1 = dot2(row, s.w[:n]), dot2(row, s.w[n:2*n])
	}
	return q0 + q1, z0, z1
}

// freivaldsResult is what one pass found, before judgement.
type freivaldsResult struct {
	round uint64
	k, kc int64
	folds int64
	// e holds the scaled error of every row and vector, NaN where y or z
	// is not finite.
	e []float64
	// lambda is the best fit of y ≈ λ·k·z, lambdaResid the worst scaled
	// error left after it.
	lambda, lambdaResid float64
	worst               float64
	worstRow, worstVec  int
	median              float64
	g                   float64
	nonFinite           int
}

// Check verifies C + bank = k·A·B for the k calls since the last check
// (or Prepare) with Freivalds' method over every row, then re-arms: A is
// drawn afresh for the next round and C zeroed, so that no call after it
// can reuse an answer from before it. It runs outside the measured phases.
func (w *workload) Check(ctx context.Context) (workloads.Check, error) {
	if w.p == nil {
		return workloads.Check{}, errors.New("gemm: check: no Run to check (Prepare first)")
	}
	if w.calls == 0 {
		return workloads.Check{}, errors.New("gemm: check: no Run to check since the last check")
	}
	if err := ctx.Err(); err != nil {
		return workloads.Check{}, err
	}
	res := w.freivalds(true)
	return w.judge(res), nil
}

// freivalds computes y = (C+bank)·r over all rows, on all CPUs, and scores
// it against z = A·(B·r), computed when A was drawn. With rearm it also
// zeroes C and the bank and draws the next round's A, row by row in the
// same pass, so that the check and the re-arm share one pass over memory.
func (w *workload) freivalds(rearm bool) freivaldsResult {
	n := w.n
	s := &w.chk
	k := w.calls
	kc := min(k, int64(w.foldEvery))
	folds := w.folds
	kaNext := streamKey(w.seed, streamA, w.round+1)
	parallelRows(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var y0, y1 float64
			if w.prec == "fp64" {
				crow := w.c64[i*n : (i+1)*n]
				y0, y1 = w.dotY(crow)
				if rearm {
					clear(crow)
				}
			} else {
				crow := w.c32[i*n : (i+1)*n]
				y0, y1 = dotPair32(crow, s.r[:n], s.r[n:2*n])
				if rearm {
					clear(crow)
				}
			}
			if folds > 0 {
				brow := w.bank[i*n : (i+1)*n]
				b0, b1 := w.dotY(brow)
				y0 += b0
				y1 += b1
				if rearm {
					clear(brow)
				}
			}
			s.y[i], s.y[n+i] = y0, y1
			if rearm {
				s.an2Next[i], s.zNext[i], s.zNext[n+i] = w.drawARow(i, kaNext)
			}
		}
	})
	res := w.score(k, kc, folds)
	res.round = w.round
	if rearm {
		w.round++
		w.calls, w.inC, w.folds = 0, 0, 0
		s.an2, s.an2Next = s.an2Next, s.an2
		s.z, s.zNext = s.zNext, s.z
	}
	return res
}

// score turns y and z into scaled errors: row i of vector v scores
//
//	|y_vi − k·z_vi| / (u · k·√(an2_i/3) · g(N, kc))
//
// k·√(an2_i/3) is the expected size of a row of the Freivalds product's
// rounding error per unit relative error of the entries of C (E r² = 1/3
// for r uniform on [-1, 1)); u·g(N, kc) is how large that relative error
// grows in a correct library. It depends only on A, B and k, never on C,
// so no answer can widen its own tolerance.
func (w *workload) score(k, kc, folds int64) freivaldsResult {
	n := w.n
	s := &w.chk
	an2 := s.an2
	u := w.unitRoundoff()
	g := accScale(w.style, n, int(kc))
	kf := float64(k)
	res := freivaldsResult{k: k, kc: kc, folds: folds, g: g, e: make([]float64, checkVectors*n)}
	var yz, zz float64
	for v := 0; v < checkVectors; v++ {
		for i := 0; i < n; i++ {
			y, z := s.y[v*n+i], kf*s.z[v*n+i]
			scale := u * kf * math.Sqrt(an2[i]/3) * g
			e := math.Abs(y-z) / scale
			if math.IsNaN(e) || math.IsInf(e, 0) {
				e = math.NaN()
				res.nonFinite++
			} else {
				yz += y * z
				zz += z * z
			}
			res.e[v*n+i] = e
			if e > res.worst || res.nonFinite == 1 && math.IsNaN(e) {
				res.worst, res.worstRow, res.worstVec = e, i, v
			}
		}
	}
	if res.nonFinite > 0 {
		res.worst = math.Inf(1)
		res.lambda, res.lambdaResid, res.median = math.NaN(), math.Inf(1), math.Inf(1)
		return res
	}
	sorted := slices.Clone(res.e)
	slices.Sort(sorted)
	res.median = sorted[len(sorted)/2]
	res.lambda = yz / zz
	for v := 0; v < checkVectors; v++ {
		for i := 0; i < n; i++ {
			y, z := s.y[v*n+i], kf*s.z[v*n+i]
			scale := u * kf * math.Sqrt(an2[i]/3) * g
			res.lambdaResid = max(res.lambdaResid, math.Abs(y-res.lambda*z)/scale)
		}
	}
	return res
}

// judge turns a pass's scores into the recorded Check.
func (w *workload) judge(res freivaldsResult) workloads.Check {
	u := w.unitRoundoff()
	chk := workloads.Check{Name: "freivalds", Value: res.worst, Limit: checkLimit}
	chk.OK = res.nonFinite == 0 && res.worst <= checkLimit
	folded := ""
	if res.folds > 0 {
		folded = fmt.Sprintf(", %d folded into the float64 bank every %d", res.folds*int64(w.foldEvery), w.foldEvery)
	}
	chk.Detail = fmt.Sprintf("Freivalds check of C = k·A·B over all %d rows (%s, N=%d, k=%d calls%s) with %d random vectors (seed %016x, round %d): worst row %d (vector %d), scaled error %.3g, median %.3g; scaled error = |C·r − k·A·(B·r)|ᵢ / (u·k·√(Σₗa²ᵢₗ‖bₗ‖²/3)·g), u=2^%d, g=%s=%.4g (kc=%d); limit %g = 2.4 × the worst a correct library showed in calibration (2.12; OpenBLAS, BLIS, gonum; docs/gemm-check.md)",
		w.n, w.prec, w.n, res.k, folded, checkVectors, w.seed, res.round, res.worstRow, res.worstVec, res.worst, res.median,
		int(math.Log2(u)), w.style.formula(), res.g, res.kc, checkLimit)
	if chk.OK {
		return chk
	}
	switch {
	case res.nonFinite > 0:
		chk.Verdict = workloads.VerdictWrong
		chk.Detail += fmt.Sprintf("; %d rows are NaN or infinite", res.nonFinite)
	case res.lambdaResid <= checkLimit:
		chk.Verdict = workloads.VerdictWrong
		took := res.lambda * float64(res.k)
		why := "skipped calls, or a stale C"
		if took > float64(res.k) {
			why = "the product added more often than called, or scaled"
		}
		chk.Detail += fmt.Sprintf("; C holds %.6g times the product, not %d, and is otherwise right: about %.0f of the %d calls took effect (%s)",
			took, res.k, took, res.k, why)
	case res.median > medianLimit && res.worst*u*res.g <= reducedCeiling && math.Abs(res.lambda-1) <= lambdaSlack:
		chk.Verdict = workloads.VerdictReducedPrecision
		chk.Detail += fmt.Sprintf("; the error is spread over all rows (median %.3g > %g) and its size, %.3g relative to the products, is that of arithmetic narrower than %s (measured: %s; docs/gemm-check.md)",
			res.median, medianLimit, res.worst*u*res.g, w.prec, reducedMeasured)
	default:
		chk.Verdict = workloads.VerdictWrong
		chk.Detail += fmt.Sprintf("; the error fits no rounding (median %.3g, worst %.3g relative to the products, C ≈ %.6g·k·A·B)", res.median, res.worst*u*res.g, res.lambda)
	}
	chk.Detail += "; the BLAS (" + w.p.info()["provider"] + ") returned a wrong answer"
	if d := w.p.coreType(); d.forced() {
		chk.Detail += fmt.Sprintf("; OpenBLAS ran with %s=%s (%s): the kernel may not suit this CPU, retry with --blas-coretype library", coreTypeEnv, d.Value, d.Source)
	}
	return chk
}

// parallelRows calls f on blocks of [0, n) rows from GOMAXPROCS goroutines,
// or on all of them from this one when the matrix is too small to share.
func parallelRows(n int, f func(lo, hi int)) {
	procs := runtime.GOMAXPROCS(0)
	// Each block is at least 1<<15 entries, so that a goroutine is worth
	// starting; four blocks a goroutine even out unequal CPUs.
	chunk := max(1, (1<<15)/n, n/(4*procs))
	blocks := (n + chunk - 1) / chunk
	if procs == 1 || blocks == 1 {
		f(0, n)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(procs, blocks) {
		wg.Go(func() {
			for {
				b := int(next.Add(1)) - 1
				if b >= blocks {
					return
				}
				f(b*chunk, min(n, (b+1)*chunk))
			}
		})
	}
	wg.Wait()
}

// exactN is the largest N at which the fp64 check sums in twice the
// working precision (dot2): at small N a correct library's error is a few
// roundings, no larger than the fast sums' own, and the check costs
// microseconds either way.
const exactN = 256

// dotY is a row of float64 data (fp64 C, or the bank) times the two
// vectors: in twice the precision up to exactN, in blocks beyond.
func (w *workload) dotY(row []float64) (float64, float64) {
	n := len(row)
	s := &w.chk
	if n <= exactN {
		return dot2(row, s.r[:n]), dot2(row, s.r[n:2*n])
	}
	return dotPair64(row, s.r[:n], s.r[n:2*n])
}

// sumBlock is the length of the blocks that dotPair64, dotPair32 and
// drawARow sum apart before adding them up: blocked summation, whose
// rounding error grows with the block length plus the number of blocks
// rather than with N (Higham, Accuracy and Stability of Numerical
// Algorithms, 2nd ed., §4.2), so that for fp64 the check's own error stays
// well below a correct library's.
const sumBlock = 64

// dotPair64 returns x·r0 and x·r1: two vectors per pass over x, four
// partial sums each to hide the add latency, summed in blocks.
func dotPair64(x, r0, r1 []float64) (float64, float64) {
	r0 = r0[:len(x)]
	r1 = r1[:len(x)]
	var s0, s1 float64
	for lo := 0; lo < len(x); lo += sumBlock {
		xb := x[lo:min(lo+sumBlock, len(x))]
		p0, p1 := r0[lo:lo+len(xb)], r1[lo:lo+len(xb)]
		var a0, a1, a2, a3, b0, b1, b2, b3 float64
		j := 0
		for ; j+4 <= len(xb); j += 4 {
			x0, x1, x2, x3 := xb[j], xb[j+1], xb[j+2], xb[j+3]
			a0 += x0 * p0[j]
			a1 += x1 * p0[j+1]
			a2 += x2 * p0[j+2]
			a3 += x3 * p0[j+3]
			b0 += x0 * p1[j]
			b1 += x1 * p1[j+1]
			b2 += x2 * p1[j+2]
			b3 += x3 * p1[j+3]
		}
		for ; j < len(xb); j++ {
			a0 += xb[j] * p0[j]
			b0 += xb[j] * p1[j]
		}
		s0 += (a0 + a1) + (a2 + a3)
		s1 += (b0 + b1) + (b2 + b3)
	}
	return s0, s1
}

// dotPair32 is dotPair64 for a float32 row, in float64.
func dotPair32(x []float32, r0, r1 []float64) (float64, float64) {
	r0 = r0[:len(x)]
	r1 = r1[:len(x)]
	var s0, s1 float64
	for lo := 0; lo < len(x); lo += sumBlock {
		xb := x[lo:min(lo+sumBlock, len(x))]
		p0, p1 := r0[lo:lo+len(xb)], r1[lo:lo+len(xb)]
		var a0, a1, a2, a3, b0, b1, b2, b3 float64
		j := 0
		for ; j+4 <= len(xb); j += 4 {
			x0, x1, x2, x3 := float64(xb[j]), float64(xb[j+1]), float64(xb[j+2]), float64(xb[j+3])
			a0 += x0 * p0[j]
			a1 += x1 * p0[j+1]
			a2 += x2 * p0[j+2]
			a3 += x3 * p0[j+3]
			b0 += x0 * p1[j]
			b1 += x1 * p1[j+1]
			b2 += x2 * p1[j+2]
			b3 += x3 * p1[j+3]
		}
		for ; j < len(xb); j++ {
			x0 := float64(xb[j])
			a0 += x0 * p0[j]
			b0 += x0 * p1[j]
		}
		s0 += (a0 + a1) + (a2 + a3)
		s1 += (b0 + b1) + (b2 + b3)
	}
	return s0, s1
}

// dot2 is x·r in twice the working precision (Ogita, Rump and Oishi's
// Dot2: error-free products by FMA, error-free sums by TwoSum), rounded
// once at the end. B·r is computed with it once per run, so that the
// reference's error is that of the A pass alone.
func dot2(x, r []float64) float64 {
	r = r[:len(x)]
	var s, c float64
	for j, xj := range x {
		p := xj * r[j]
		pe := math.FMA(xj, r[j], -p)
		t := s + p
		z := t - s
		c += (s - (t - z)) + (p - z) + pe
		s = t
	}
	return s + c
}

// dot2f32 is dot2 for a float32 row.
func dot2f32(x []float32, r []float64) float64 {
	r = r[:len(x)]
	var s, c float64
	for j, x32 := range x {
		xj := float64(x32)
		p := xj * r[j]
		pe := math.FMA(xj, r[j], -p)
		t := s + p
		z := t - s
		c += (s - (t - z)) + (p - z) + pe
		s = t
	}
	return s + c
}

// The generator: SplitMix64's mixer (Steele, Lea and Flood 2014) derives a
// key for each stream (matrix, round) from the seed, and wyrand (Wang Yi's
// generator, one 64×64→128-bit multiply) draws entry d of a stream from
// key + (d+1)·wyInc: a counter-based generator, so that any row can be
// drawn on any goroutine and the matrices are the same however many CPUs
// drew them, at about a nanosecond an entry.
const (
	golden = 0x9e3779b97f4a7c15
	wyInc  = 0xa0761d6478bd642f
	wyXor  = 0xe7037ed1a0b428db
	wyInc2 = (2 * wyInc) % (1 << 64)
)

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func wy(x uint64) uint64 {
	hi, lo := bits.Mul64(x, x^wyXor)
	return hi ^ lo
}

// streamKey is the key of one stream (matrix, round) of the seed.
func streamKey(seed, stream, round uint64) uint64 {
	return mix64(mix64(seed^stream<<56) + round*golden)
}

// unit53 maps the top 53 bits of x to [-1, 1), exactly.
func unit53(x uint64) float64 { return float64(int64(x>>11))*0x1p-52 - 1 }

// unit24 maps the low 24 bits of x to [-1, 1), exactly in float32.
func unit24(x uint64) float32 { return float32(float64(int64(x&0xffffff))*0x1p-23 - 1) }

// uniform64 is entry idx of stream key, uniform on [-1, 1) with 53 bits.
func uniform64(key uint64, idx int) float64 {
	return unit53(wy(key + uint64(idx+1)*wyInc))
}

// fillRow64 draws entries idx0, idx0+1, ... of stream key into row.
func fillRow64(row []float64, key uint64, idx0 int) {
	x := key + uint64(idx0)*wyInc
	for j := range row {
		x += wyInc
		row[j] = unit53(wy(x))
	}
}

// fillRow32 draws float32 entries idx0, idx0+1, ... of stream key,
// uniform on [-1, 1) with 24 bits, two from each draw (entry 2d takes bits
// 40-63 of draw d, entry 2d+1 bits 0-23): every bit of the mantissa is
// random for |a| ≥ ½, which is what makes TF32 or BF16 rounding of the
// inputs visible.
func fillRow32(row []float32, key uint64, idx0 int) {
	j := 0
	if idx0&1 == 1 && len(row) > 0 {
		row[0] = unit24(wy(key + uint64(idx0/2+1)*wyInc))
		j = 1
	}
	x := key + uint64((idx0+j)/2)*wyInc
	for ; j+2 <= len(row); j += 2 {
		x += wyInc
		v := wy(x)
		row[j], row[j+1] = unit24(v>>40), unit24(v)
	}
	if j < len(row) {
		row[j] = unit24(wy(x+wyInc) >> 40)
	}
}
