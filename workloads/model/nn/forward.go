package nn

import (
	"fmt"
	"math"
)

// Dataset is a set of examples for a model: N rows of X, each of the
// model's Inputs() values, and N labels. It has mnist.Split's shape; nn
// does not import mnist, so callers convert (Dataset(split) works when the
// field lists match).
type Dataset struct {
	X []float32
	Y []uint8
	N int
}

// check refuses a dataset that does not fit m.
func (d Dataset) check(m *Model) error {
	if d.N < 0 || len(d.X) != d.N*m.Inputs() || len(d.Y) != d.N {
		return fmt.Errorf("nn: dataset of %d examples has %d values and %d labels, want %d×%d and %d", d.N, len(d.X), len(d.Y), d.N, m.Inputs(), d.N)
	}
	for i, y := range d.Y {
		if int(y) >= m.Classes() {
			return fmt.Errorf("nn: dataset label %d is %d, but model %q has %d classes", i, y, m.Name, m.Classes())
		}
	}
	return nil
}

// Forward runs a model's forward pass on batches of up to Batch rows with
// scratch memory allocated once, so that a timed loop of Run calls
// allocates nothing (the Gemm permitting). It reads the model's weights at
// each Run, so it sees training's updates; a change of shapes needs a new
// Forward. A Forward is not safe for concurrent use.
type Forward struct {
	m     *Model
	g     Gemm
	batch int
	out   [][]float32 // out[i] is layer i's output, batch rows
	col   []float32   // im2col scratch, shared by the convolutions
}

// NewForward prepares m's forward pass on g for up to batch rows. It
// panics if m does not validate (a caller's bug: check m.Validate first
// for outside models).
func NewForward(m *Model, g Gemm, batch int) *Forward {
	shapes, err := m.check(true)
	if err != nil {
		panic(err)
	}
	if batch <= 0 {
		panic(fmt.Sprintf("nn: NewForward batch %d", batch))
	}
	f := &Forward{m: m, g: g, batch: batch, out: make([][]float32, len(m.Layers))}
	cols := 0
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.Kind == KindConv {
			cols = max(cols, l.Height*l.Width*l.K*l.K*l.InC)
		}
		f.out[i] = make([]float32, batch*shapes[i].size())
	}
	f.col = make([]float32, batch*cols)
	return f
}

// Batch is the most rows one Run takes.
func (f *Forward) Batch() int { return f.batch }

// Run computes the logits of the first n rows of x (n ≤ Batch, x holding
// n×Inputs values) and returns them, n×Classes row-major. The slice is
// Forward's own and is overwritten by the next Run.
func (f *Forward) Run(x []float32, n int) []float32 {
	if n < 0 || n > f.batch || len(x) < n*f.m.Inputs() {
		panic(fmt.Sprintf("nn: Forward.Run of %d rows (%d values) on a Forward of batch %d and %d inputs", n, len(x), f.batch, f.m.Inputs()))
	}
	in := x[:n*f.m.Inputs()]
	for i := range f.m.Layers {
		l := &f.m.Layers[i]
		out := f.out[i]
		switch l.Kind {
		case KindDense:
			denseForward(f.g, l, in, n, out)
		case KindConv:
			convForward(f.g, l, in, n, f.col, out)
		case KindMaxPool:
			maxPoolForward(l, in, n, out, nil)
		case KindReLU:
			reluForward(in, out)
		}
		in = out[:len(out)/f.batch*n]
	}
	return in
}

// denseForward computes y = x·W + b for n rows.
func denseForward(g Gemm, l *Layer, x []float32, n int, y []float32) {
	y = y[:n*l.Out]
	for r := range n {
		copy(y[r*l.Out:(r+1)*l.Out], l.B)
	}
	g.Sgemm(false, false, n, l.Out, l.In, 1, x, l.In, l.W, l.Out, 1, y, l.Out)
}

// convForward computes the convolution of n NHWC images as one GEMM of
// their im2col matrix, (n·H·W)×(K·K·InC), by W.
func convForward(g Gemm, l *Layer, x []float32, n int, col, y []float32) {
	rows, kkc := n*l.Height*l.Width, l.K*l.K*l.InC
	im2col(l, x, n, col[:rows*kkc])
	y = y[:rows*l.OutC]
	for r := range rows {
		copy(y[r*l.OutC:(r+1)*l.OutC], l.B)
	}
	g.Sgemm(false, false, rows, l.OutC, kkc, 1, col, kkc, l.W, l.OutC, 1, y, l.OutC)
}

// im2col writes, for each output pixel (b, oh, ow), the K×K×InC input
// patch around it in (kh, kw, c) order, zeros where it lies in the
// padding.
func im2col(l *Layer, x []float32, n int, col []float32) {
	p, kc := l.K/2, l.K*l.InC
	kkc := l.K * kc
	for b := range n {
		img := x[b*l.Height*l.Width*l.InC : (b+1)*l.Height*l.Width*l.InC]
		for oh := range l.Height {
			for ow := range l.Width {
				row := col[((b*l.Height+oh)*l.Width+ow)*kkc:][:kkc]
				for kh := range l.K {
					seg := row[kh*kc : (kh+1)*kc]
					ih := oh + kh - p
					if ih < 0 || ih >= l.Height {
						clear(seg)
						continue
					}
					// The kw range that falls inside the image is
					// one contiguous run of the input row.
					lo, hi := max(0, p-ow), min(l.K, l.Width+p-ow)
					clear(seg[:lo*l.InC])
					copy(seg[lo*l.InC:hi*l.InC], img[(ih*l.Width+ow+lo-p)*l.InC:(ih*l.Width+ow+hi-p)*l.InC])
					clear(seg[hi*l.InC:])
				}
			}
		}
	}
}

// maxPoolForward takes the maximum of each 2×2 block (an odd last row or
// column is dropped). With arg, it records which input each output came
// from, for the backward pass; ties go to the first in (dy, dx) order.
func maxPoolForward(l *Layer, x []float32, n int, y []float32, arg []int32) {
	oh, ow, c := l.Height/2, l.Width/2, l.Channels
	for b := range n {
		for i := range oh {
			for j := range ow {
				o := ((b*oh+i)*ow + j) * c
				i00 := ((b*l.Height+2*i)*l.Width + 2*j) * c
				i01, i10 := i00+c, i00+l.Width*c
				i11 := i10 + c
				for ch := range c {
					best, at := x[i00+ch], i00+ch
					if v := x[i01+ch]; v > best {
						best, at = v, i01+ch
					}
					if v := x[i10+ch]; v > best {
						best, at = v, i10+ch
					}
					if v := x[i11+ch]; v > best {
						best, at = v, i11+ch
					}
					y[o+ch] = best
					if arg != nil {
						arg[o+ch] = int32(at)
					}
				}
			}
		}
	}
}

func reluForward(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// Argmax is the index of row's largest value, the first if tied: the
// predicted class of a row of logits.
func Argmax(row []float32) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

// Accuracy runs m on every example of s in batches and counts the rows
// whose Argmax is the label. It panics if s does not fit m.
func Accuracy(m *Model, g Gemm, s Dataset, batch int) (correct int) {
	if err := s.check(m); err != nil {
		panic(err)
	}
	batch = max(1, min(batch, s.N))
	f := NewForward(m, g, batch)
	k, in := m.Classes(), m.Inputs()
	for lo := 0; lo < s.N; lo += batch {
		n := min(batch, s.N-lo)
		logits := f.Run(s.X[lo*in:(lo+n)*in], n)
		for r := range n {
			if Argmax(logits[r*k:(r+1)*k]) == int(s.Y[lo+r]) {
				correct++
			}
		}
	}
	return correct
}

// MeanLoss is m's mean softmax cross-entropy on s, in nats. It panics if
// s does not fit m.
func MeanLoss(m *Model, g Gemm, s Dataset, batch int) float64 {
	if err := s.check(m); err != nil {
		panic(err)
	}
	if s.N == 0 {
		return math.NaN()
	}
	batch = max(1, min(batch, s.N))
	f := NewForward(m, g, batch)
	k, in := m.Classes(), m.Inputs()
	sum := 0.0
	for lo := 0; lo < s.N; lo += batch {
		n := min(batch, s.N-lo)
		logits := f.Run(s.X[lo*in:(lo+n)*in], n)
		for r := range n {
			sum += crossEntropy(logits[r*k:(r+1)*k], int(s.Y[lo+r]))
		}
	}
	return sum / float64(s.N)
}

// logSumExp is log Σ exp(z/t), computed stably in float64.
func logSumExp(z []float32, t float64) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, float64(v)/t)
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(float64(v)/t - mx)
	}
	return mx + math.Log(s)
}

func crossEntropy(z []float32, y int) float64 {
	return logSumExp(z, 1) - float64(z[y])
}
