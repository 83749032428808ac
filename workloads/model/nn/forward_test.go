package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// directConv is the convolution by its definition, for comparison with
// im2col.
func directConv(l *Layer, x []float32, n int) []float32 {
	p := l.K / 2
	y := make([]float32, n*l.Height*l.Width*l.OutC)
	for b := range n {
		for oh := range l.Height {
			for ow := range l.Width {
				for o := range l.OutC {
					s := float64(l.B[o])
					for kh := range l.K {
						for kw := range l.K {
							ih, iw := oh+kh-p, ow+kw-p
							if ih < 0 || iw < 0 || ih >= l.Height || iw >= l.Width {
								continue
							}
							for c := range l.InC {
								s += float64(x[((b*l.Height+ih)*l.Width+iw)*l.InC+c]) * float64(l.W[((kh*l.K+kw)*l.InC+c)*l.OutC+o])
							}
						}
					}
					y[((b*l.Height+oh)*l.Width+ow)*l.OutC+o] = float32(s)
				}
			}
		}
	}
	return y
}

func TestConvForwardMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ h, w, inC, outC, k int }{{5, 7, 2, 3, 3}, {4, 4, 1, 2, 5}, {1, 3, 2, 1, 3}, {6, 2, 3, 4, 1}} {
		l := &Layer{Kind: KindConv, K: c.k, InC: c.inC, OutC: c.outC, Height: c.h, Width: c.w}
		l.W, l.B = randSlice(r, c.k*c.k*c.inC*c.outC), randSlice(r, c.outC)
		n := 2
		x := randSlice(r, n*c.h*c.w*c.inC)
		y := make([]float32, n*c.h*c.w*c.outC)
		convForward(naiveGemm{}, l, x, n, make([]float32, n*c.h*c.w*c.k*c.k*c.inC), y)
		want := directConv(l, x, n)
		for i := range y {
			if math.Abs(float64(y[i]-want[i])) > 1e-5 {
				t.Fatalf("%+v: y[%d] = %v, want %v", c, i, y[i], want[i])
			}
		}
	}
}

func TestMaxPool(t *testing.T) {
	// One 3×4×1 image: the odd last row is dropped.
	l := &Layer{Kind: KindMaxPool, Height: 3, Width: 4, Channels: 1}
	x := []float32{1, 5, 2, 0, -1, 3, 7, 7, 9, 9, 9, 9}
	y, arg := make([]float32, 2), make([]int32, 2)
	maxPoolForward(l, x, 1, y, arg)
	if y[0] != 5 || y[1] != 7 || arg[0] != 1 || arg[1] != 6 {
		t.Errorf("pool %v arg %v, want [5 7] [1 6]", y, arg)
	}
}

func TestForwardBatchesAgree(t *testing.T) {
	m := tinyCNN(5)
	r := rand.New(rand.NewPCG(5, 6))
	x := randSlice(r, 7*m.Inputs())
	all := append([]float32(nil), NewForward(m, GoGemm{}, 7).Run(x, 7)...)
	one := NewForward(m, GoGemm{}, 3)
	for i := range 7 {
		got := one.Run(x[i*m.Inputs():], 1)
		for j, v := range got {
			if math.Abs(float64(v-all[i*3+j])) > 1e-5 {
				t.Fatalf("row %d logit %d: alone %v, in a batch %v", i, j, v, all[i*3+j])
			}
		}
	}
}

func TestForwardAllocatesNothing(t *testing.T) {
	for _, m := range []*Model{NewCNN("cnn", 1), NewMLP("mlp", []int{784, 64, 10}, 1)} {
		f := NewForward(m, GoGemm{Threads: 1}, 4)
		x := make([]float32, 4*m.Inputs())
		if a := testing.AllocsPerRun(3, func() { f.Run(x, 3) }); a != 0 {
			t.Errorf("%s: %v allocations per Run", m.Name, a)
		}
	}
}

func TestAccuracy(t *testing.T) {
	m := NewMLP("id", []int{3, 3}, 1)
	m.Layers[0].W = []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}
	d := Dataset{X: []float32{1, 0, 0, 0, 2, 1, 0, 0, 3, 5, 1, 0}, Y: []uint8{0, 1, 2, 2}, N: 4}
	for _, b := range []int{1, 3, 100} {
		if c := Accuracy(m, GoGemm{}, d, b); c != 3 {
			t.Errorf("batch %d: %d correct, want 3", b, c)
		}
	}
	if Argmax([]float32{1, 3, 3, 2}) != 1 {
		t.Error("Argmax does not take the first of a tie")
	}
}
