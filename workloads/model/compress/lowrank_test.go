package compress

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

func randMatrix(in, out int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 9))
	w := make([]float32, in*out)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	return w
}

// Eckart–Young: the rank-r truncation's error is the energy of the
// singular values left out.
func TestSVDErrorEckartYoung(t *testing.T) {
	for _, sh := range [][2]int{{60, 40}, {40, 60}, {33, 33}} {
		in, out := sh[0], sh[1]
		w := randMatrix(in, out, uint64(in*out))
		a := mat.NewDense(in, out, nil)
		norm := 0.0
		for i, v := range w {
			a.Set(i/out, i%out, float64(v))
			norm += float64(v) * float64(v)
		}
		var svd mat.SVD
		if !svd.Factorize(a, mat.SVDNone) {
			t.Fatal("no SVD")
		}
		s := svd.Values(nil)
		for _, r := range []int{0, 1, 5, 20, min(in, out) - 1} {
			tail := 0.0
			for _, v := range s[r:] {
				tail += v * v
			}
			want := math.Sqrt(tail / norm)
			if got := SVDError(w, in, out, r); math.Abs(got-want) > 1e-5*want {
				t.Errorf("%d×%d rank %d: error %v, Eckart–Young %v", in, out, r, got, want)
			}
		}
		if got := SVDError(w, in, out, min(in, out)); got > 1e-12 {
			t.Errorf("%d×%d full rank: error %v", in, out, got)
		}
	}
	for _, bad := range []float64{SVDError(make([]float32, 6), 2, 3, 1), SVDError(make([]float32, 5), 2, 3, 1), SVDError(make([]float32, 6), 2, 3, -1)} {
		if !math.IsNaN(bad) {
			t.Errorf("undefined error is %v, want NaN", bad)
		}
	}
}

func TestLowRank(t *testing.T) {
	sizes := []int{50, 40, 30, 10}
	m := randMLP(sizes, 50)
	if err := PruneUnstructured(m, 0.3); err != nil {
		t.Fatal(err)
	}
	full, err := LowRank(m, []int{40, 30, 0})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range full.Layers {
		s := string(l.Kind)
		if l.Kind == nn.KindDense {
			s += fmt.Sprintf(":%d:%d", l.In, l.Out)
		}
		kinds = append(kinds, s)
	}
	want := []string{"dense:50:40", "dense:40:40", "relu", "dense:40:30", "dense:30:30", "relu", "dense:30:10"}
	if !slices.Equal(kinds, want) {
		t.Errorf("layers %v, want %v", kinds, want)
	}
	if err := full.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(full.Layers[6].W, m.Layers[4].W) || !slices.Equal(full.Layers[6].Mask, m.Layers[4].Mask) {
		t.Error("rank 0 changed the last layer")
	}
	if full.Layers[0].Mask != nil || slices.ContainsFunc(full.Layers[0].B, func(b float32) bool { return b != 0 }) {
		t.Error("first factor has a mask or a bias")
	}
	if !slices.Equal(full.Layers[1].B, m.Layers[0].B) {
		t.Error("second factor lost the bias")
	}
	// Full rank: the factors' product is W, so the function is m's.
	x := randPixels(16, 50, 51)
	g := nn.GoGemm{Threads: 1}
	a := nn.NewForward(m, g, 16).Run(x, 16)
	b := nn.NewForward(full, g, 16).Run(x, 16)
	if r := rowsClose(b, a, 16, 1e-4); r >= 0 {
		t.Errorf("full rank: row %d differs", r)
	}
	// The sparse kernel runs dense layers with nothing between them.
	s, err := NewSparseMLP(full)
	if err != nil {
		t.Fatal(err)
	}
	if r := rowsClose(NewSparseForward(s, 16, 2).Run(x, 16), a, 16, 1e-4); r >= 0 {
		t.Errorf("sparse kernel on the factors: row %d differs", r)
	}
	// Low rank: fewer parameters, and the layer's error is SVDError's.
	low, err := LowRank(m, []int{8, 4, 0})
	if err != nil {
		t.Fatal(err)
	}
	if low.Params() >= m.Params() {
		t.Errorf("rank 8, 4: %d params, full %d", low.Params(), m.Params())
	}
	prod := make([]float32, 50*40)
	g.Sgemm(false, false, 50, 40, 8, 1, low.Layers[0].W, 8, low.Layers[1].W, 40, 0, prod, 40)
	diff, norm := 0.0, 0.0
	for i, v := range m.Layers[0].W {
		diff += math.Pow(float64(v-prod[i]), 2)
		norm += float64(v) * float64(v)
	}
	if got, want := math.Sqrt(diff/norm), SVDError(m.Layers[0].W, 50, 40, 8); math.Abs(got-want) > 1e-4*want {
		t.Errorf("rank 8 factors' error %v, SVDError %v", got, want)
	}
	for _, bad := range [][]int{{41, 0, 0}, {-1, 0, 0}, {1, 1}, {0, 0, 11}} {
		if _, err := LowRank(m, bad); err == nil {
			t.Errorf("ranks %v accepted", bad)
		}
	}
}

// ChooseRanks on a model whose labels it makes itself (so the full model
// is 100% right): the chosen rank keeps the accuracy within the drop, and
// the candidate below it does not.
func TestChooseRanks(t *testing.T) {
	m := randMLP([]int{40, 32, 32, 10}, 60)
	// Hidden layers of rank 6 and a little noise: rank 8 should do.
	for _, li := range []int{0, 2} {
		l := &m.Layers[li]
		u, v := randMatrix(l.In, 6, 62), randMatrix(6, l.Out, 63)
		for k := range l.In {
			for n := range l.Out {
				s := float32(0)
				for j := range 6 {
					s += u[k*6+j] * v[j*l.Out+n]
				}
				l.W[k*l.Out+n] = s*0.1 + l.W[k*l.Out+n]*0.001
			}
		}
	}
	const n = 1000
	x := randPixels(n, 40, 61)
	y := make([]uint8, n)
	logits := nn.NewForward(m, nn.GoGemm{Threads: 1}, n).Run(x, n)
	for i := range y {
		y[i] = uint8(nn.Argmax(logits[i*10 : (i+1)*10]))
	}
	val := nn.Dataset{X: x, Y: y, N: n}
	g := nn.GoGemm{Threads: 1}
	cands := []int{16, 1, 2, 4, 8, 32}
	ranks, acc, err := ChooseRanks(m, g, val, cands, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	r := ranks[0]
	if ranks[1] != r || ranks[2] != 0 || acc < 0.95 || r > 8 {
		t.Fatalf("ranks %v, accuracy %v", ranks, acc)
	}
	p, err := LowRank(m, ranks)
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(nn.Accuracy(p, g, val, 100)) / n; got != acc {
		t.Errorf("accuracy %v, reported %v", got, acc)
	}
	if r > 1 {
		below, err := LowRank(m, []int{r / 2, r / 2, 0})
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(nn.Accuracy(below, g, val, 100)) / n; got >= 0.95 {
			t.Errorf("rank %d was good enough too (%v), yet %d was chosen", r/2, got, r)
		}
	}
	t.Logf("rank %d keeps %.1f%% of the labels (a 5-point drop allowed)", r, 100*acc)
	if _, _, err := ChooseRanks(m, g, val, []int{1}, 0); !errors.Is(err, ErrNoRank) {
		t.Errorf("rank 1 at no drop: %v, want ErrNoRank", err)
	}
	if _, _, err := ChooseRanks(m, g, val, []int{33}, 0); err == nil {
		t.Error("rank 33 above 32×32 accepted")
	}
}
