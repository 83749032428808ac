package compress

import (
	"fmt"
	"math"
	"runtime"
)

// The kernel packs three int8 weights of adjacent columns into one int64,
// w0 + w1·2²¹ + w2·2⁴², so that one 64-bit multiply by a u8 activation and
// one add do three multiply-accumulates. Each 21-bit lane holds a signed
// partial sum of at most laneK products: 32·255·128 = 1,044,480 < 2²⁰, so
// no lane overflows into the next (even for -128) and the top lane stays
// within int64; after laneK inputs the lanes are split off into int32
// accumulators. Go has no SIMD, and a multiply a cycle is the scalar
// limit, so this is the kernel's one big lever: a plain int32 loop does one
// multiply-accumulate per multiply. Each accumulator starts at laneBias,
// 2²⁰ in every lane, so that the lanes stay in [0, 2²¹) and split off with
// a shift and a mask (no borrows between them); the biases are taken off
// the int32 sums once, at the end (in int32 arithmetic, which wraps as the
// reference's does).
const (
	laneBits = 21
	laneMask = 1<<laneBits - 1
	laneBias = 1<<(laneBits-1) | 1<<(2*laneBits-1) | 1<<(3*laneBits-1)
	laneK    = 32 // inputs per lane flush
	packs    = 4  // int64 accumulators per row: 12 columns a group
	groupN   = 3 * packs
)

// qlayer is a QDense packed for the kernel.
type qlayer struct {
	in, out, groups int
	pw              []int64   // groups × in × packs, group-major, then k
	cs              []float32 // groups·groupN: InScale·WScale[n], 0 past out
	b               []float32 // groups·groupN: the bias, 0 past out
	next            float32   // the next layer's InScale; 0 for the last
}

func packLayer(d *QDense, next float32) qlayer {
	groups := (d.Out + groupN - 1) / groupN
	l := qlayer{
		in: d.In, out: d.Out, groups: groups, next: next,
		pw: make([]int64, groups*d.In*packs),
		cs: make([]float32, groups*groupN),
		b:  make([]float32, groups*groupN),
	}
	w := func(k, n int) int64 {
		if n >= d.Out {
			return 0
		}
		return int64(d.W[k*d.Out+n])
	}
	for g := range groups {
		for k := range d.In {
			for p := range packs {
				n := g*groupN + 3*p
				l.pw[(g*d.In+k)*packs+p] = w(k, n) + w(k, n+1)<<laneBits + w(k, n+2)<<(2*laneBits)
			}
		}
	}
	for n := range d.Out {
		l.cs[n] = d.InScale * d.WScale[n]
		l.b[n] = d.B[n]
	}
	return l
}

// QForward runs a QMLP on up to batch examples a call with the pure-Go int8
// kernel, its scratch allocated once and its goroutines started once, so
// that a call allocates nothing. A QForward is not safe for concurrent
// use; make one per goroutine. Close stops its goroutines; one that is
// dropped unclosed has them stopped when it is garbage collected.
type QForward struct {
	*qrun
}

// qrun is a QForward's state, which its worker goroutines hold: apart, so
// that the QForward itself can become unreachable and be cleaned up.
type qrun struct {
	layers  []qlayer
	in      int
	inScale float32 // the first layer's InScale, for the pixels
	batch   int
	threads int
	width   int        // the widest layer input: act's row stride
	act     [2][]uint8 // batch × width; a goroutine's rows are its own in every layer
	out     []float32  // batch × classes
	pool    *pool
}

// NewQForward packs q for the kernel and allocates scratch for batch
// examples, to be run on threads goroutines (≤ 0 means 1). It panics if q
// is not valid (see QMLP.Validate) or batch < 1: a QMLP from Quantize or
// QMLPFromWeights is always valid.
func NewQForward(q *QMLP, batch, threads int) *QForward {
	if err := q.Validate(); err != nil {
		panic(fmt.Sprintf("compress: NewQForward: %v", err))
	}
	if batch < 1 {
		panic(fmt.Sprintf("compress: NewQForward: batch %d", batch))
	}
	f := &qrun{in: q.Layers[0].In, inScale: q.Layers[0].InScale, batch: batch, threads: max(threads, 1)}
	width := 0
	for i := range q.Layers {
		next := float32(0)
		if i+1 < len(q.Layers) {
			next = q.Layers[i+1].InScale
		}
		f.layers = append(f.layers, packLayer(&q.Layers[i], next))
		width = max(width, q.Layers[i].In)
	}
	f.width = width
	f.act[0] = make([]uint8, batch*width)
	f.act[1] = make([]uint8, batch*width)
	f.out = make([]float32, batch*q.Layers[len(q.Layers)-1].Out)
	f.pool = newPool(f.threads)
	qf := &QForward{f}
	runtime.AddCleanup(qf, (*pool).close, f.pool)
	return qf
}

// Close stops the QForward's goroutines; it must not be run after.
func (f *QForward) Close() { f.pool.close() }

// Run computes the logits of the n examples in x (n rows of the model's
// inputs, pixels in [0, 1]) and returns them, n rows of the classes, in
// scratch that the next call overwrites. It panics if n is not in
// [1, batch] or x is short.
func (f *QForward) Run(x []float32, n int) []float32 {
	if n < 1 || n > f.batch {
		panic(fmt.Sprintf("compress: QForward.Run: %d examples for a batch of %d", n, f.batch))
	}
	if len(x) < n*f.in {
		panic(fmt.Sprintf("compress: QForward.Run: %d values for %d examples of %d", len(x), n, f.in))
	}
	// Rows are independent through every layer, so each goroutine takes
	// its rows through the whole MLP: one fork and join a call. Chunks are
	// even so that the kernel's row pairs are rarely split.
	f.pool.run(f.qrun, x, n, 2)
	return f.out[:n*f.layers[len(f.layers)-1].out]
}

// rows takes examples [lo, hi) through every layer.
func (f *qrun) rows(x []float32, lo, hi int) {
	in, w := f.in, f.width
	for m := lo; m < hi; m++ {
		a := f.act[0][m*w : m*w+in]
		for i, v := range x[m*in : (m+1)*in] {
			a[i] = quantizeU8(v, f.inScale)
		}
	}
	for li := range f.layers {
		l := &f.layers[li]
		src := f.act[li%2]
		if li == len(f.layers)-1 {
			l.run(src, w, lo, hi, nil, f.out)
		} else {
			l.run(src, w, lo, hi, f.act[(li+1)%2], nil)
		}
	}
}

// run computes rows [lo, hi) of the layer from src (u8, rows stride
// apart) into dst (u8, rows stride apart, requantised with l.next) or, for
// the last layer, logits (float32, l.out a row).
func (l *qlayer) run(src []uint8, stride, lo, hi int, dst []uint8, logits []float32) {
	in, out := l.in, l.out
	bias := int32(uint32((in+laneK-1)/laneK) << (laneBits - 1)) // the lanes' biases, summed
	for g := range l.groups {
		pg := l.pw[g*in*packs : (g+1)*in*packs]
		n0 := g * groupN
		cs := l.cs[n0 : n0+groupN]
		b := l.b[n0 : n0+groupN]
		nn := min(groupN, out-n0)
		for m := lo; m < hi; m += 2 {
			m1 := min(m+1, hi-1) // an odd last row is computed twice, stored once
			x0 := src[m*stride : m*stride+in]
			x1 := src[m1*stride : m1*stride+in]
			var acc0, acc1 [groupN]int32
			for kb := 0; kb < in; kb += laneK {
				ke := min(kb+laneK, in)
				c00, c01, c02, c03, c10, c11, c12, c13 := dot2x4(x0[kb:ke], x1[kb:ke], pg[kb*packs:ke*packs])
				unpack(&acc0, 0, c00)
				unpack(&acc0, 3, c01)
				unpack(&acc0, 6, c02)
				unpack(&acc0, 9, c03)
				unpack(&acc1, 0, c10)
				unpack(&acc1, 3, c11)
				unpack(&acc1, 6, c12)
				unpack(&acc1, 9, c13)
			}
			for j := range groupN {
				acc0[j] -= bias
				acc1[j] -= bias
			}
			if logits != nil {
				epilogueF(logits[m*out+n0:m*out+n0+nn], &acc0, cs, b)
				if m1 != m {
					epilogueF(logits[m1*out+n0:m1*out+n0+nn], &acc1, cs, b)
				}
			} else {
				epilogueU8(dst[m*stride+n0:m*stride+n0+nn], &acc0, cs, b, l.next)
				if m1 != m {
					epilogueU8(dst[m1*stride+n0:m1*stride+n0+nn], &acc1, cs, b, l.next)
				}
			}
		}
	}
}

// dot2x4 returns, for two rows of u8 inputs x0 and x1 (at most laneK) and
// the packed weights p (packs a input), the eight packed partial sums.
func dot2x4(x0, x1 []uint8, p []int64) (c00, c01, c02, c03, c10, c11, c12, c13 int64) {
	c00, c01, c02, c03 = laneBias, laneBias, laneBias, laneBias
	c10, c11, c12, c13 = laneBias, laneBias, laneBias, laneBias
	if len(x0) == laneK {
		return dot2x4Full((*[laneK]uint8)(x0), (*[laneK]uint8)(x1), (*[laneK * packs]int64)(p))
	}
	x1 = x1[:len(x0)]
	p = p[:packs*len(x0)]
	for i, a := range x0 {
		a0, a1 := int64(a), int64(x1[i])
		w := (*[packs]int64)(p[packs*i:])
		c00 += a0 * w[0]
		c01 += a0 * w[1]
		c02 += a0 * w[2]
		c03 += a0 * w[3]
		c10 += a1 * w[0]
		c11 += a1 * w[1]
		c12 += a1 * w[2]
		c13 += a1 * w[3]
	}
	return
}

// dot2x4Full is dot2x4 on a whole block, with array bounds the compiler
// can check once.
func dot2x4Full(x0, x1 *[laneK]uint8, p *[laneK * packs]int64) (c00, c01, c02, c03, c10, c11, c12, c13 int64) {
	c00, c01, c02, c03 = laneBias, laneBias, laneBias, laneBias
	c10, c11, c12, c13 = laneBias, laneBias, laneBias, laneBias
	for i := range laneK {
		a0, a1 := int64(x0[i]), int64(x1[i])
		w := (*[packs]int64)(p[packs*i:])
		c00 += a0 * w[0]
		c01 += a0 * w[1]
		c02 += a0 * w[2]
		c03 += a0 * w[3]
		c10 += a1 * w[0]
		c11 += a1 * w[1]
		c12 += a1 * w[2]
		c13 += a1 * w[3]
	}
	return
}

// unpack adds the three biased 21-bit lanes of c to acc[j:j+3].
func unpack(acc *[groupN]int32, j int, c int64) {
	acc[j] += int32(c & laneMask)
	acc[j+1] += int32(c >> laneBits & laneMask)
	acc[j+2] += int32(c >> (2 * laneBits))
}

// epilogueF writes y = float32(acc)·cs + b. The conversion of the product
// to float32 is explicit so that no compiler fuses it with the add.
func epilogueF(y []float32, acc *[groupN]int32, cs, b []float32) {
	for j := range y {
		y[j] = float32(float32(acc[j])*cs[j]) + b[j]
	}
}

// epilogueU8 writes the requantised ReLU of y = float32(acc)·cs + b.
func epilogueU8(q []uint8, acc *[groupN]int32, cs, b []float32, next float32) {
	for j := range q {
		q[j] = quantizeU8(float32(float32(acc[j])*cs[j])+b[j], next)
	}
}

// Forward computes the logits of the n examples in x into out (n rows of
// the classes), with the int8 kernel on threads goroutines. It allocates a
// QForward each call; keep a QForward to run many batches.
func (q *QMLP) Forward(x []float32, n int, out []float32, threads int) {
	f := NewQForward(q, n, threads)
	defer f.Close()
	copy(out, f.Run(x, n))
}

// Validate checks that q is an MLP the kernel can run: at least one layer;
// shapes that chain; weights, scales and biases of the right lengths;
// weights in [-127, 127]; scales finite and > 0; biases finite; ReLU on
// every layer but the last.
func (q *QMLP) Validate() error {
	if q == nil || len(q.Layers) == 0 {
		return fmt.Errorf("qmlp: no layers")
	}
	for i := range q.Layers {
		d := &q.Layers[i]
		if d.In <= 0 || d.Out <= 0 || d.In > maxDim || d.Out > maxDim {
			return fmt.Errorf("qmlp: layer %d: %d×%d", i, d.In, d.Out)
		}
		if i > 0 && q.Layers[i-1].Out != d.In {
			return fmt.Errorf("qmlp: layer %d: input %d after %d outputs", i, d.In, q.Layers[i-1].Out)
		}
		if len(d.W) != d.In*d.Out || len(d.WScale) != d.Out || len(d.B) != d.Out {
			return fmt.Errorf("qmlp: layer %d: %d×%d with %d weights, %d scales, %d biases", i, d.In, d.Out, len(d.W), len(d.WScale), len(d.B))
		}
		for _, w := range d.W {
			if w < -127 {
				return fmt.Errorf("qmlp: layer %d: weight -128 (symmetric int8 is [-127, 127])", i)
			}
		}
		if !positive(d.WScale) || !positive([]float32{d.InScale}) {
			return fmt.Errorf("qmlp: layer %d: a scale is not finite and > 0", i)
		}
		if !finite(d.B) {
			return fmt.Errorf("qmlp: layer %d: a bias is not finite", i)
		}
		if d.ReLU != (i < len(q.Layers)-1) {
			return fmt.Errorf("qmlp: layer %d: ReLU %v (only the last layer has none)", i, d.ReLU)
		}
	}
	return nil
}

// maxDim bounds a layer's width, so that In·Out cannot overflow and a
// hostile file cannot ask for absurd scratch.
const maxDim = 1 << 20

func positive(xs []float32) bool {
	for _, x := range xs {
		if !(x > 0) || math.IsInf(float64(x), 1) {
			return false
		}
	}
	return true
}
