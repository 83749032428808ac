package gpu

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gpu/cuda"
)

// The answer check.
//
// Call j since the last check adds P_s = A_sᵀ·B to C (beta 1), where A_s
// is the N columns of the stored A buffer from column s = (start + j) mod
// M on (see window), so C after k calls holds Σ_s count_s·P_s, count_s
// being how many of the k calls read offset s, and a skipped call leaves C
// short of one product. The check compares y = C·r with
// Σ_s count_s·A_sᵀ·(B·r) for random vectors r (Freivalds 1977): B·r once
// (N² on the host), Aᵀ of the whole buffer times it once (N·(N+M−1)), and
// then, since row i of A_sᵀ(B·r) is entry s+i of that one vector v and the
// counts are q or q+1 over at most three runs of offsets, every row's
// expected sum from prefix sums of v in twice the working precision. That
// is O(N·(N+M)) work on the host instead of the O(N³) products, and every
// entry of C takes part, so a skipped call, a stale or wrong tile, or
// arithmetic narrower than the workload names shows.
//
// C is not left to grow without bound: every foldEvery calls (and in
// every Check) it is copied to the host, its C·r added to the sums y, and
// zeroed on the device. For the integer path this keeps int32 from
// overflowing; for the floating paths it bounds the rounding that
// repeated addition of products of one size to one C adds (each addition
// rounds at the size of C, so m additions round like m²/2 single ones at
// worst). The folds of Run are inside the measured repetition (see Run);
// the fold of Check, the judgement and the re-arm are outside it.
//
// The inputs are values the precision represents exactly (fp32: 24-bit
// values in [-1, 1), fp16 and TF32: multiples of 2⁻¹⁰ in [-1, 1), bf16:
// multiples of 2⁻⁷, int8: integers in [-16, 15]), so the products of two
// inputs are exact in the fp32 accumulator and every difference from the
// exact sums comes from the accumulation the compute type names.

// checkVectors is the number of random vectors.
const checkVectors = 2

// checkLimit bounds the scaled error of every row (see score). A correct
// fp32 or fp64 dot product of length N summed in order has a rounding
// error of about 0.41·u·‖a‖·‖b‖, rms (u the unit roundoff; each of the N
// additions rounds a partial sum of rms size √t·|ab|), and blocked or
// tree-shaped sums, as cuBLAS uses, less; the worst of N rows of a normal
// error lies within 5 rms for N ≤ 16384, 2.1 in these units. TF32
// rounding of fp32 inputs gives about 2¹³·0.8/√N in these units (2⁻¹¹
// relative per input against 2⁻²⁴), 51 at N = 16384 and more for smaller
// N; 16-bit accumulation gives about 2¹³·0.41.
const checkLimit = 8.0

// medianLimit: once the check has failed, a median row score above it
// means every row is off, as reduced precision makes them; a wrong tile
// or row leaves most rows within limits.
const medianLimit = 1.0

// lambdaSlack is the largest |λ − 1|, where y ≈ λ·k·z is the best fit of a
// failed answer, that reduced precision is taken to explain; a larger one
// means calls were skipped or repeated.
const lambdaSlack = 0x1p-8

// window: why the calls step through offsets of A.
//
// A library could cache a product and, on a later call with the same
// pointers (and, to be safe, the same sampled contents), add the cached
// product instead of computing it: the answer is then right and no check
// of the answer can object, yet the throughput is the cache's. A reviewer
// showed such a cache passing at about 2800 times cuBLAS's throughput when
// every call of a repetition multiplied the same A and B. So each call
// reads a different A: the buffer holds N+M−1 columns, and call j reads the
// N from column (start + j) mod M, start drawn from the seed at every
// check. Within a repetition of at most M calls no pointer recurs, so a
// cache keyed on pointers (with or without sampled contents) never hits;
// at every check A and B are drawn afresh into the same buffers, so a
// cache keyed on pointers alone returns stale products when an offset
// recurs in a later repetition, and the check finds them wrong.
//
// What this does not stop, and no rotation among a finite set of inputs
// can: a repetition of more than M calls reuses offsets (a cache that
// checks contents then hits, correctly, on the repeats); and a library
// that keys on contents and sees that the windows overlap could compute
// the whole (N+M−1)×N product Aᵀ·B once, in (N+M−1)/N calls' work, and
// answer every call from it. Such a library returns right answers; only
// the throughput against the hardware's peak (certify's ceiling) and
// against Direct shows it.
//
// M comes from a budget of windowBytes of extra columns, at most 16·N of
// them (the check's host work grows with N+M): 256 MiB buys 65536 offsets
// for int8 at N = 4096 (about 1.2 s of an H200's int8 calls at 90 µs), 32768
// for fp16 and bf16 (about 6 s at 0.2 ms), 16384 for fp32 and TF32 and
// 8192 for fp64; at N = 8192 and 16384 half and a quarter as many, against
// calls 8 and 64 times longer. The offsets are whole columns (N·size
// bytes, a multiple of 16 bytes, 4 KiB or more at N ≥ 4096), so every A
// is as aligned as the first.
const windowBytes = 256 << 20

// defaultOffsets is M for N×N inputs of size bytes an element.
func defaultOffsets(n, size int) int64 {
	return 1 + int64(min(16*n, windowBytes/(n*size)))
}

// aCols is the number of columns of the A buffer.
func (w *workload) aCols() int { return w.n + int(w.offsets) - 1 }

// foldInterval is how many calls C accumulates before fold moves it to
// the host. A fold copies C (N² outputs) to the host and reduces it there,
// some milliseconds at N = 4096, so it must be rare next to the calls; the
// accumulation term it bounds (k·m/√N in the units of judge, for folds of
// m calls) must stay small next to the reduced precision each precision
// must be told from:
//
//	fp64: 2¹⁴ calls; the term stays below 2¹¹·k rounding units of fp64,
//	      2¹⁸ times below fp32 arithmetic.
//	fp32: 512 calls (2.7 ms a call at N = 4096 without tensor cores: a
//	      fold every 1.4 s); the limit then grows by 1 + 512/√N (9 at
//	      N = 4096), and TF32 arithmetic still scores about 3 times the
//	      limit (the fake's TF32 scores 460 at N = 1024 for k = 3 and fall
//	      as 1/√N).
//	TF32, fp16, bf16: 8192 calls (0.2 ms a call at N = 4096 on tensor
//	      cores: a fold every 1.6 s). Their products are exact in fp32; the
//	      reduced precision to catch is 16-bit accumulation, about 2¹³·0.41
//	      in these units, 25 times the limit at N = 4096.
//	int8: as many as keep every entry of C within int32, from the
//	      Cauchy–Schwarz bound |Pᵢⱼ| ≤ ‖aᵢ‖·‖bⱼ‖ of the matrices drawn
//	      (set in rearm), at most 2¹⁶; about 5800 at N = 4096.
func foldInterval(p precision, n int) int64 {
	switch p.name {
	case "fp64":
		return 1 << 14
	case "fp32":
		return 512
	case "int8":
		// The largest bound the value range allows, until rearm knows A.
		bound := 16.0 * 16 * float64(n)
		return max(1, int64(math.MaxInt32/bound))
	}
	return 8192
}

// checkState is what the check keeps between calls. c = aCols() below.
type checkState struct {
	u    float64   // unit roundoff of the accumulation
	r    []float64 // checkVectors×n random vectors (floats)
	w    []float64 // checkVectors×n: B·r
	wc   []float64 // compensation terms of w
	vpre []dd      // checkVectors×(c+1): prefix sums of v = Aᵀ·(B·r) over the A buffer's columns
	y    []float64 // checkVectors×n: Σ over folds of C·r
	yc   []float64 // compensation terms of y
	an2  []float64 // c: ‖aₜ‖², column t of the A buffer
	npre []float64 // c+1: prefix sums of an2
	bn2  []float64 // n: ‖bⱼ‖²
	bq   float64   // Σⱼ ‖bⱼ‖²·rⱼ² (per vector, the largest)

	// The integer path works modulo 2⁶⁴ (exact, and Freivalds' check
	// holds in any ring): r, w, v's prefix sums and y in wrapping uint64.
	ir, iw, ivpre, iy []uint64
	maxBNorm          float64 // max ‖bⱼ‖ (int8 fold interval)

	buf []byte // staging for copies, at most stageBytes
}

// dd is an unevaluated sum hi + lo, a float in twice the working
// precision.
type dd struct{ hi, lo float64 }

func (a dd) add(x float64) dd {
	s, t := twoSum(a.hi, x)
	t += a.lo
	hi := s + t
	return dd{hi, t - (hi - s)}
}

// sub is a − b rounded to float64.
func (a dd) sub(b dd) float64 {
	s, t := twoSum(a.hi, -b.hi)
	return s + (t + (a.lo - b.lo))
}

// stageBytes bounds the host staging buffer for uploads and downloads.
const stageBytes = 32 << 20

// Stream numbers of the generator.
const (
	streamA = 1
	streamB = 2
	streamR = 3
	// streamStart draws each round's first A offset.
	streamStart = 4
)

// splitmix is SplitMix64's mixer (Steele, Lea and Flood 2014): entry d of
// stream key is splitmix(key + d·golden), a counter-based generator, so
// that any column can be drawn in any order.
func splitmix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

const golden = 0x9e3779b97f4a7c15

func streamKey(seed, stream, round uint64) uint64 {
	return splitmix(splitmix(seed^stream<<56) + round*golden)
}

func draw(key uint64, idx int) uint64 { return splitmix(key + uint64(idx+1)*golden) }

// value maps a draw to an input value the precision represents exactly.
func (p precision) value(x uint64) float64 {
	switch p.name {
	case "fp64":
		return float64(int64(x>>11))*0x1p-52 - 1
	case "fp32":
		return float64(int64(x>>40))*0x1p-23 - 1
	case "tf32", "fp16":
		return float64(int64(x>>53)-1024) * 0x1p-10
	case "bf16":
		return float64(int64(x>>56)-128) * 0x1p-7
	case "int8":
		return float64(int64(x>>59) - 16)
	}
	panic("gpu: unknown precision " + p.name)
}

// encode writes v in the input type at b.
func (p precision) encode(b []byte, v float64) {
	switch p.in {
	case cuda.R64F:
		binary.LittleEndian.PutUint64(b, math.Float64bits(v))
	case cuda.R32F:
		binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v)))
	case cuda.R16F:
		binary.LittleEndian.PutUint16(b, cuda.HalfBits(v))
	case cuda.R16BF:
		binary.LittleEndian.PutUint16(b, cuda.BFloat16Bits(v))
	case cuda.R8I:
		b[0] = byte(int8(v))
	}
}

// unitRoundoff is u of the accumulation: fp64's for fp64, fp32's for the
// others (their products are exact in fp32), 0 for the exact integer path.
func (p precision) unitRoundoff() float64 {
	switch p.name {
	case "fp64":
		return 0x1p-53
	case "int8":
		return 0
	}
	return 0x1p-24
}

// prepareCheck draws the check's random vectors and arms the check with
// the first A and B.
func (w *workload) prepareCheck() error {
	n := w.n
	c := &w.chk
	c.u = w.prec.unitRoundoff()
	c.buf = make([]byte, min(stageBytes, n*n*max(w.inSize(), w.outSize())))
	kr := streamKey(w.seed, streamR, 0)
	if w.prec.integer {
		c.ir, c.iw = make([]uint64, checkVectors*n), make([]uint64, checkVectors*n)
		c.ivpre, c.iy = make([]uint64, checkVectors*(w.aCols()+1)), make([]uint64, checkVectors*n)
		for i := range c.ir {
			c.ir[i] = draw(kr, i)
		}
	} else {
		c.r, c.w, c.wc = make([]float64, checkVectors*n), make([]float64, checkVectors*n), make([]float64, checkVectors*n)
		c.vpre = make([]dd, checkVectors*(w.aCols()+1))
		c.y, c.yc = make([]float64, checkVectors*n), make([]float64, checkVectors*n)
		for i := range c.r {
			c.r[i] = float64(int64(draw(kr, i)>>11))*0x1p-52 - 1
		}
	}
	c.an2, c.npre, c.bn2 = make([]float64, w.aCols()), make([]float64, w.aCols()+1), make([]float64, n)
	return w.rearm()
}

// upload draws cols columns of n entries from stream key (column j is
// entries j·n … j·n+n−1), calls each with the worker's number, the
// column's index and its values, and copies them to dst in chunks of the
// staging buffer. The columns of a chunk are drawn by up to GOMAXPROCS
// workers at once: each must touch only column j's results or worker
// part's own.
func (w *workload) upload(dst cuda.DevPtr, key uint64, cols int, each func(part, j int, v []float64)) error {
	n, size := w.n, w.inSize()
	colBytes := n * size
	per := max(1, len(w.chk.buf)/colBytes)
	vs := make([][]float64, workers())
	for j0 := 0; j0 < cols; j0 += per {
		j1 := min(cols, j0+per)
		buf := w.chk.buf[:(j1-j0)*colBytes]
		parallelCols(j1-j0, n, func(part, lo, hi int) {
			if vs[part] == nil {
				vs[part] = make([]float64, n)
			}
			v := vs[part]
			for j := j0 + lo; j < j0+hi; j++ {
				for i := range v {
					v[i] = w.prec.value(draw(key, j*n+i))
				}
				each(part, j, v)
				off := (j - j0) * colBytes
				for i, x := range v {
					w.prec.encode(buf[off+i*size:], x)
				}
			}
		})
		if err := w.lib.HtoD(dst+cuda.DevPtr(j0*colBytes), hostPtr(buf), len(buf)); err != nil {
			return fmt.Errorf("gpu: %s: upload: %w", w.spec.Name, err)
		}
	}
	return nil
}

// workers is the most goroutines parallelCols uses.
func workers() int { return runtime.GOMAXPROCS(0) }

// parallelCols splits 0 … cols−1 into one range per CPU when the columns
// (of n entries) are work enough, and runs f on each with its part's
// number, below workers().
func parallelCols(cols, n int, f func(part, lo, hi int)) {
	parts := min(workers(), cols)
	if cols*n < 1<<16 {
		parts = 1
	}
	if parts <= 1 {
		f(0, 0, cols)
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*cols/parts, (p+1)*cols/parts
		wg.Go(func() { f(p, lo, hi) })
	}
	wg.Wait()
}

// rearm draws a fresh B and a fresh A buffer for the next calls (round
// number w.round) and uploads them, computes w = B·r and the prefix sums
// of v = Aᵀ·w over the buffer's columns, draws the round's first offset,
// and zeroes C and the sums.
func (w *workload) rearm() error {
	if err := w.drawB(); err != nil {
		return err
	}
	n, cols := w.n, w.aCols()
	c := &w.chk
	v := make([]float64, checkVectors*cols)
	iv := make([]uint64, checkVectors*cols)
	ka := streamKey(w.seed, streamA, w.round)
	// Column t of the A buffer is row t of the left factor (of A_sᵀ for
	// the offsets s ≤ t < s+N).
	err := w.upload(w.a, ka, cols, func(_, t int, x []float64) {
		norm2 := 0.0
		for _, e := range x {
			norm2 += e * e
		}
		c.an2[t] = norm2
		for q := range checkVectors {
			if w.prec.integer {
				iw := c.iw[q*n : (q+1)*n]
				var s uint64
				for l, e := range x {
					s += uint64(int64(e)) * iw[l]
				}
				iv[q*cols+t] = s
				continue
			}
			v[q*cols+t] = dotComp(x, c.w[q*n:(q+1)*n])
		}
	})
	if err != nil {
		return err
	}
	maxA := 0.0
	for t, a2 := range c.an2 {
		c.npre[t+1] = c.npre[t] + a2
		maxA = max(maxA, a2)
	}
	maxA = math.Sqrt(maxA)
	for q := range checkVectors {
		base := q * (cols + 1)
		if w.prec.integer {
			c.ivpre[base] = 0
			for t := range cols {
				c.ivpre[base+t+1] = c.ivpre[base+t] + iv[q*cols+t]
			}
			continue
		}
		c.vpre[base] = dd{}
		for t := range cols {
			c.vpre[base+t+1] = c.vpre[base+t].add(v[q*cols+t])
		}
	}
	if w.prec.integer {
		w.foldEvery = min(1<<16, max(1, int64(math.MaxInt32/(maxA*c.maxBNorm+1))))
	}
	w.start = int64(draw(streamKey(w.seed, streamStart, w.round), 0) % uint64(w.offsets))
	clear(c.y)
	clear(c.yc)
	clear(c.iy)
	w.calls, w.inC, w.foldSq, w.folds = 0, 0, 0, 0
	if err := w.lib.Memset(w.c, 0, n*n*w.outSize()); err != nil {
		return fmt.Errorf("gpu: %s: %w", w.spec.Name, err)
	}
	return nil
}

// drawB draws a fresh B for round w.round, uploads it, and computes
// w = B·r (compensated, w + wc), ‖bⱼ‖², bq and the largest ‖bⱼ‖. Each
// worker sums its columns' share of B·r apart; the shares are added at
// the end.
func (w *workload) drawB() error {
	n, c := w.n, &w.chk
	parts := workers()
	fw, fwc := make([][]float64, parts), make([][]float64, parts)
	iws := make([][]uint64, parts)
	kb := streamKey(w.seed, streamB, w.round)
	err := w.upload(w.b, kb, n, func(part, j int, col []float64) {
		norm2 := 0.0
		for _, x := range col {
			norm2 += x * x
		}
		c.bn2[j] = norm2
		for q := range checkVectors {
			if w.prec.integer {
				if iws[part] == nil {
					iws[part] = make([]uint64, checkVectors*n)
				}
				rj := c.ir[q*n+j]
				iw := iws[part][q*n : (q+1)*n]
				for l, x := range col {
					iw[l] += uint64(int64(x)) * rj
				}
				continue
			}
			if fw[part] == nil {
				fw[part], fwc[part] = make([]float64, checkVectors*n), make([]float64, checkVectors*n)
			}
			axpyComp(fw[part][q*n:(q+1)*n], fwc[part][q*n:(q+1)*n], c.r[q*n+j], col)
		}
	})
	if err != nil {
		return err
	}
	clear(c.iw)
	for _, p := range iws {
		for i, x := range p {
			c.iw[i] += x
		}
	}
	clear(c.w)
	clear(c.wc)
	for p := range fw {
		if fw[p] == nil {
			continue
		}
		axpyComp(c.w, c.wc, 1, fw[p])
		axpyComp(c.w, c.wc, 1, fwc[p])
	}
	for i := range c.w {
		c.w[i] += c.wc[i]
	}
	c.maxBNorm, c.bq = 0, 0
	for _, b2 := range c.bn2 {
		c.maxBNorm = max(c.maxBNorm, math.Sqrt(b2))
	}
	for q := range checkVectors {
		if w.prec.integer {
			break
		}
		bq := 0.0
		for j, b2 := range c.bn2 {
			rj := c.r[q*n+j]
			bq += b2 * rj * rj
		}
		c.bq = max(c.bq, bq)
	}
	return nil
}

// runs says how the k calls since the re-arm fell on the offsets: every
// offset q times, and the offsets in runs (at most two, each [lo, hi))
// once more.
func (w *workload) runs() (q int64, runs [][2]int64) {
	m := w.offsets
	q, rem := w.calls/m, w.calls%m
	s := w.start % m
	switch {
	case rem == 0:
	case s+rem <= m:
		runs = [][2]int64{{s, s + rem}}
	default:
		runs = [][2]int64{{s, m}, {0, s + rem - m}}
	}
	return q, runs
}

// fold copies C to the host column by column, adds C·r to the sums, and
// zeroes C. The copy waits for the calls before it to finish. The sums
// are split by rows over the CPUs, so that a fold takes milliseconds.
func (w *workload) fold() error {
	n, size := w.n, w.outSize()
	c := &w.chk
	colBytes := n * size
	per := max(1, len(c.buf)/colBytes)
	for j0 := 0; j0 < n; j0 += per {
		j1 := min(n, j0+per)
		buf := c.buf[:(j1-j0)*colBytes]
		if err := w.lib.DtoH(hostPtr(buf), w.c+cuda.DevPtr(j0*colBytes), len(buf)); err != nil {
			return fmt.Errorf("gpu: %s: fold: %w", w.spec.Name, err)
		}
		parallelRows(n, func(lo, hi int) { w.foldRows(buf, j0, j1, lo, hi) })
	}
	if err := w.lib.Memset(w.c, 0, n*n*size); err != nil {
		return fmt.Errorf("gpu: %s: fold: %w", w.spec.Name, err)
	}
	w.foldSq += float64(w.inC) * float64(w.inC)
	w.inC = 0
	w.folds++
	return nil
}

// foldRows adds columns j0 … j1−1 of C (in buf) times r to rows lo … hi−1
// of the sums.
func (w *workload) foldRows(buf []byte, j0, j1, lo, hi int) {
	n, size := w.n, w.outSize()
	c := &w.chk
	for j := j0; j < j1; j++ {
		b := buf[(j-j0)*n*size:]
		for q := range checkVectors {
			switch w.prec.out {
			case cuda.R32I:
				rj := c.ir[q*n+j]
				iy := c.iy[q*n : (q+1)*n]
				for i := lo; i < hi; i++ {
					iy[i] += uint64(int64(int32(binary.LittleEndian.Uint32(b[4*i:])))) * rj
				}
			case cuda.R64F:
				// fp64 sums are compensated: the check's own rounding must
				// stay well below the fp64 GEMM's.
				rj := c.r[q*n+j]
				y, yc := c.y[q*n:(q+1)*n], c.yc[q*n:(q+1)*n]
				for i := lo; i < hi; i++ {
					p, e := twoProd(rj, math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
					var t float64
					y[i], t = twoSum(y[i], p)
					yc[i] += t + e
				}
			case cuda.R32F:
				// float64 sums of fp32 values are 2²⁹ times finer than the
				// fp32 rounding the check measures.
				rj := c.r[q*n+j]
				y := c.y[q*n : (q+1)*n]
				for i := lo; i < hi; i++ {
					y[i] += float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))) * rj
				}
			}
		}
	}
}

// parallelRows splits 0 … n−1 into one range per CPU and runs f on each.
func parallelRows(n int, f func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), max(1, n/256))
	if parts <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*n/parts, (p+1)*n/parts
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}

// Check folds C, checks every call since the last Check (or Prepare),
// and re-arms with a fresh A and B and a fresh first offset. It implements
// workloads.Checker. All of it is outside the measured calls.
func (w *workload) Check(ctx context.Context) (workloads.Check, error) {
	if w.blas == nil {
		return workloads.Check{}, fmt.Errorf("gpu: Check before Prepare")
	}
	if err := ctx.Err(); err != nil {
		return workloads.Check{}, err
	}
	if err := w.fold(); err != nil {
		return workloads.Check{}, err
	}
	var res workloads.Check
	if w.prec.integer {
		res = w.judgeInt()
	} else {
		res = w.judge()
	}
	w.round++
	if err := w.rearm(); err != nil {
		return res, err
	}
	return res, nil
}

// judgeInt compares y and k·z exactly, modulo 2⁶⁴.
func (w *workload) judgeInt() workloads.Check {
	c := &w.chk
	n, cols := w.n, w.aCols()
	m := int(w.offsets)
	q, runs := w.runs()
	bad := 0
	for v := range checkVectors {
		pre := c.ivpre[v*(cols+1) : (v+1)*(cols+1)]
		for i := range n {
			// Σ_s count_s·(A_sᵀ·B·r)ᵢ = Σ_s count_s·v[s+i], from the
			// prefix sums, in wrapping arithmetic.
			want := uint64(q) * (pre[i+m] - pre[i])
			for _, r := range runs {
				want += pre[i+int(r[1])] - pre[i+int(r[0])]
			}
			if c.iy[v*n+i] != want {
				bad++
			}
		}
	}
	res := workloads.Check{
		Name:   "freivalds-exact",
		Value:  float64(bad),
		Limit:  0,
		OK:     bad == 0,
		Detail: fmt.Sprintf("%d calls on %d offsets of A, %d vectors, int8 products summed exactly in int32 must match C·r exactly (mod 2⁶⁴); %d of %d row sums differ", w.calls, min(w.calls, w.offsets), checkVectors, bad, len(c.iy)),
	}
	if !res.OK {
		res.Verdict = workloads.VerdictWrong
	}
	return res
}

// judge scores each row: score = |yᵢ − Σ_s count_s·(A_sᵀ·B·r)ᵢ| /
// (u·āᵢ·√bq·(k + Σm²/√N)), the error in units of the expected rounding of
// k calls summed in folds of m calls (see checkLimit and foldInterval),
// where āᵢ is the root mean square, over the k calls, of the norm of the
// left factor's row i (column s+i of the A buffer).
func (w *workload) judge() workloads.Check {
	c := &w.chk
	n, cols := w.n, w.aCols()
	m := int(w.offsets)
	k := float64(w.calls)
	acc := k + w.foldSq/math.Sqrt(float64(n))
	cq, runs := w.runs()
	q := float64(cq)
	scores := make([]float64, 0, len(c.y))
	var yz, zz float64
	for v := range checkVectors {
		pre := c.vpre[v*(cols+1) : (v+1)*(cols+1)]
		for i := range n {
			y := c.y[v*n+i] + c.yc[v*n+i]
			want := q * pre[i+m].sub(pre[i])
			a2 := q * (c.npre[i+m] - c.npre[i])
			for _, r := range runs {
				lo, hi := i+int(r[0]), i+int(r[1])
				want += pre[hi].sub(pre[lo])
				a2 += c.npre[hi] - c.npre[lo]
			}
			abar := 0.0
			if k > 0 {
				abar = math.Sqrt(max(0, a2/k))
			}
			yz += y * want
			zz += want * want
			scale := c.u * abar * math.Sqrt(c.bq) * acc
			e := math.Abs(y - want)
			s := e / scale
			if scale == 0 {
				s = 0
				if e != 0 {
					s = math.Inf(1)
				}
			}
			scores = append(scores, s)
		}
	}
	worst := slices.Max(scores)
	slices.Sort(scores)
	median := scores[len(scores)/2]
	lambda := 1.0
	if zz > 0 {
		lambda = yz / zz
	}
	res := workloads.Check{
		Name:  "freivalds",
		Value: worst,
		Limit: checkLimit,
		OK:    worst <= checkLimit && !math.IsNaN(worst),
		Detail: fmt.Sprintf("%d calls on %d offsets of A in %d folds, %d vectors; worst row error %.3g, median %.3g, in units of %s accumulation rounding (limit %g); C holds %.6g times the calls' products",
			w.calls, min(w.calls, w.offsets), w.folds, checkVectors, worst, median, w.prec.accName(), checkLimit, lambda),
	}
	if res.OK {
		return res
	}
	switch {
	case math.IsNaN(lambda) || math.Abs(lambda-1) > lambdaSlack:
		res.Verdict = workloads.VerdictWrong
		res.Detail += ": calls were skipped or repeated, or C is stale"
	case median > medianLimit:
		res.Verdict = workloads.VerdictReducedPrecision
		res.Detail += ": every row is off by more than " + w.prec.accName() + " rounding explains; the arithmetic is narrower than " + w.prec.name + " (TF32 or 16-bit)"
	default:
		res.Verdict = workloads.VerdictWrong
		res.Detail += ": some rows of C are wrong"
	}
	return res
}

// accName names the accumulation the limits assume.
func (p precision) accName() string {
	if p.name == "fp64" {
		return "fp64"
	}
	return "fp32"
}

// twoProd and twoSum are the error-free transformations of Ogita, Rump
// and Oishi, "Accurate sum and dot product" (SIAM J. Sci. Comput. 26(6),
// 2005): x·y = p + e and a + b = s + t exactly.
func twoProd(x, y float64) (p, e float64) {
	p = x * y
	return p, math.FMA(x, y, -p)
}

func twoSum(a, b float64) (s, t float64) {
	s = a + b
	bb := s - a
	return s, (a - (s - bb)) + (b - bb)
}

// dotComp is Σ x·y in twice the working precision (Dot2 of Ogita, Rump
// and Oishi), so that the reference is far more accurate than the fp64
// GEMM it checks.
func dotComp(x, y []float64) float64 {
	var s, c float64
	for i := range x {
		p, e := twoProd(x[i], y[i])
		var t float64
		s, t = twoSum(s, p)
		c += t + e
	}
	return s + c
}

// axpyComp adds a·x to y, keeping each entry's rounding error in yc, so
// that y + yc is the sum in twice the working precision.
func axpyComp(y, yc []float64, a float64, x []float64) {
	_ = yc[len(y)-1]
	_ = x[len(y)-1]
	for i := range y {
		p, e := twoProd(a, x[i])
		var t float64
		y[i], t = twoSum(y[i], p)
		yc[i] += t + e
	}
}
