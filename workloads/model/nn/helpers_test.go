package nn

import (
	"math/rand/v2"
)

// naiveGemm is the textbook triple loop, accumulating in float64: the
// reference the tests hold other GEMMs and the gradients to.
type naiveGemm struct{}

func (naiveGemm) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			s := 0.0
			for l := range k {
				ai, bi := i*lda+l, l*ldb+j
				if transA {
					ai = l*lda + i
				}
				if transB {
					bi = j*ldb + l
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			cv := float64(alpha) * s
			if beta != 0 {
				cv += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(cv)
		}
	}
}

// tinyCNN has every kind of layer on a 6×6×2 input, small enough for
// finite differences: conv 3×3 2→3, ReLU, max-pool to 3×3×3, dense 27→5,
// ReLU, dense 5→3.
func tinyCNN(seed uint64) *Model {
	m, err := ParseArch("tiny-cnn", "in:6x6x2 conv:3:2:3 relu maxpool dense:27:5 relu dense:5:3")
	if err != nil {
		panic(err)
	}
	m.Init(seed)
	// Non-zero biases, so that their gradients are checked too.
	r := rand.New(rand.NewPCG(seed, 9))
	for i := range m.Layers {
		for j := range m.Layers[i].B {
			m.Layers[i].B[j] = float32(r.NormFloat64() * 0.1)
		}
	}
	return m
}

// blobs is a synthetic dataset of n examples of dim values in classes
// classes: each class a Gaussian blob around its own centre.
func blobs(n, dim, classes int, seed uint64) Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float32, classes*dim)
	for i := range centres {
		centres[i] = float32(r.NormFloat64())
	}
	d := Dataset{X: make([]float32, n*dim), Y: make([]uint8, n), N: n}
	for i := range n {
		c := r.IntN(classes)
		d.Y[i] = uint8(c)
		for j := range dim {
			d.X[i*dim+j] = centres[c*dim+j] + float32(r.NormFloat64()*0.7)
		}
	}
	return d
}
