package compress

import (
	"math"
	"math/rand/v2"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

// randMLP is an MLP of the given sizes (input first) with He-initialised
// weights and small biases, built from nn's types alone so that these
// tests do not depend on nn's initialiser.
func randMLP(sizes []int, seed uint64) *nn.Model {
	r := rand.New(rand.NewPCG(seed, 0x636f6d70))
	m := &nn.Model{Name: "test-mlp", InH: 1, InW: sizes[0], InC: 1}
	for i := 0; i+1 < len(sizes); i++ {
		in, out := sizes[i], sizes[i+1]
		l := nn.Layer{Kind: nn.KindDense, In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out)}
		sd := math.Sqrt(2 / float64(in))
		for j := range l.W {
			l.W[j] = float32(r.NormFloat64() * sd)
		}
		for j := range l.B {
			l.B[j] = float32(r.NormFloat64() * 0.05)
		}
		m.Layers = append(m.Layers, l)
		if i+2 < len(sizes) {
			m.Layers = append(m.Layers, nn.Layer{Kind: nn.KindReLU})
		}
	}
	return m
}

// randPixels is n rows of in pixels in [0, 1], about half of them 0 as in
// MNIST's background, the rest multiples of 1/255 as decoded images are.
func randPixels(n, in int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x706978))
	x := make([]float32, n*in)
	for i := range x {
		if r.IntN(2) == 0 {
			x[i] = float32(r.IntN(256)) / 255
		}
	}
	return x
}

// refForward64 is the float model's function in float64, the exact value
// the float32 kernels approximate: dense layers, and ReLU where a ReLU
// layer is.
func refForward64(m *nn.Model, x []float32) []float64 {
	a := make([]float64, len(x))
	for i, v := range x {
		a[i] = float64(v)
	}
	for _, l := range m.Layers {
		switch l.Kind {
		case nn.KindDense:
			y := make([]float64, l.Out)
			for n := range y {
				y[n] = float64(l.B[n])
			}
			for k, av := range a {
				if av == 0 {
					continue
				}
				for n, w := range l.W[k*l.Out : (k+1)*l.Out] {
					y[n] += av * float64(w)
				}
			}
			a = y
		case nn.KindReLU:
			for i := range a {
				a[i] = max(a[i], 0)
			}
		}
	}
	return a
}

// refForwardBatch is refForward64 over n rows.
func refForwardBatch(m *nn.Model, x []float32, n int) [][]float64 {
	in := len(x) / n
	out := make([][]float64, n)
	for i := range n {
		out[i] = refForward64(m, x[i*in:(i+1)*in])
	}
	return out
}
