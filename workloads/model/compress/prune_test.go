package compress

import (
	"math"
	"slices"
	"testing"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

func TestPruneUnstructuredExact(t *testing.T) {
	for _, sp := range []float64{0, 0.3, 0.5, 0.9, 0.95, 1} {
		m := randMLP([]int{97, 61, 33, 10}, 30)
		biases := [][]float32{}
		for _, l := range m.Layers {
			biases = append(biases, slices.Clone(l.B))
		}
		orig := m.Clone()
		if err := PruneUnstructured(m, sp); err != nil {
			t.Fatal(err)
		}
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		zeros, total := 0, 0
		for i, l := range m.Layers {
			if !slices.Equal(l.B, biases[i]) {
				t.Errorf("sparsity %v: layer %d's biases changed", sp, i)
			}
			if l.Kind != nn.KindDense {
				continue
			}
			k := int(math.Round(sp * float64(len(l.W))))
			z, kept := 0, float32(math.Inf(1))
			pruned := float32(0)
			for j, w := range l.W {
				if (w == 0) != (l.Mask[j] == 0) {
					t.Fatalf("sparsity %v layer %d: weight %d is %v under mask %v", sp, i, j, w, l.Mask[j])
				}
				if w == 0 {
					z++
					pruned = max(pruned, float32(math.Abs(float64(orig.Layers[i].W[j]))))
				} else {
					if w != orig.Layers[i].W[j] {
						t.Fatalf("sparsity %v layer %d: kept weight %d changed", sp, i, j)
					}
					kept = min(kept, float32(math.Abs(float64(w))))
				}
			}
			if z != k {
				t.Errorf("sparsity %v layer %d: %d zeros, want %d", sp, i, z, k)
			}
			if z > 0 && z < len(l.W) && pruned > kept {
				t.Errorf("sparsity %v layer %d: pruned |w| up to %v, kept from %v", sp, i, pruned, kept)
			}
			zeros += z
			total += len(l.W)
		}
		if got := Sparsity(m); got != float64(zeros)/float64(total) || math.Abs(got-sp) > 1e-3 {
			t.Errorf("Sparsity %v, want %v (asked %v)", got, float64(zeros)/float64(total), sp)
		}
		again := orig.Clone()
		if err := PruneUnstructured(again, sp); err != nil {
			t.Fatal(err)
		}
		for i := range m.Layers {
			if !slices.Equal(m.Layers[i].W, again.Layers[i].W) || !slices.Equal(m.Layers[i].Mask, again.Layers[i].Mask) {
				t.Errorf("sparsity %v: pruning again gave another result", sp)
			}
		}
	}
}

func TestPruneUnstructuredTies(t *testing.T) {
	m := &nn.Model{Name: "ties", InH: 1, InW: 2, InC: 1, Layers: []nn.Layer{{
		Kind: nn.KindDense, In: 2, Out: 3,
		W: []float32{0.5, -0.5, 0.5, 0.25, -0.5, 0.5}, B: []float32{1, 2, 3},
	}}}
	if err := PruneUnstructured(m, 0.5); err != nil {
		t.Fatal(err)
	}
	// 0.25 first, then of the five 0.5s the two of lowest index.
	if want := []float32{0, 0, 0.5, 0, -0.5, 0.5}; !slices.Equal(m.Layers[0].W, want) {
		t.Errorf("W %v, want %v", m.Layers[0].W, want)
	}
}

// Pruning a pruned model further keeps every weight its mask holds, even
// against a tie with a weight that is naturally zero.
func TestPruneUnstructuredExtendsMask(t *testing.T) {
	m := randMLP([]int{40, 30, 10}, 31)
	m.Layers[0].W[0] = 0 // a natural zero, lowest index
	if err := PruneUnstructured(m, 0.5); err != nil {
		t.Fatal(err)
	}
	first := slices.Clone(m.Layers[0].Mask)
	if err := PruneUnstructured(m, 0.7); err != nil {
		t.Fatal(err)
	}
	for j, v := range first {
		if v == 0 && m.Layers[0].Mask[j] != 0 {
			t.Fatalf("weight %d, pruned at 50%%, is unmasked at 70%%", j)
		}
	}
	if err := PruneUnstructured(m, 1.5); err == nil {
		t.Error("sparsity 1.5 accepted")
	}
	if err := PruneUnstructured(m, math.NaN()); err == nil {
		t.Error("sparsity NaN accepted")
	}
}

func TestPruneStructured(t *testing.T) {
	sizes := []int{50, 40, 30, 10}
	m := nn.NewMLP("structured", sizes, 32)
	for i := range m.Layers { // nn's biases start at zero
		for j := range m.Layers[i].B {
			m.Layers[i].B[j] = float32(j%7) * 0.01
		}
	}
	if err := PruneUnstructured(m, 0.2); err != nil { // masks go along
		t.Fatal(err)
	}
	orig := m.Clone()
	p, err := PruneStructured(m, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for i := range m.Layers {
		if !slices.Equal(m.Layers[i].W, orig.Layers[i].W) {
			t.Fatal("PruneStructured changed its input")
		}
	}
	var got []int
	for _, l := range p.Layers {
		if l.Kind == nn.KindDense {
			got = append(got, l.In, l.Out)
			if len(l.Mask) != len(l.W) {
				t.Errorf("mask of %d for %d weights", len(l.Mask), len(l.W))
			}
		}
	}
	if want := []int{50, 30, 30, 22, 22, 10}; !slices.Equal(got, want) {
		t.Errorf("dense shapes %v, want %v", got, want)
	}
	// The same function as m with the removed neurons zeroed: zero their
	// incoming columns and biases in a copy of m (ReLU(0) = 0, and a zero
	// output adds nothing to the next layer).
	z := m.Clone()
	for _, li := range []int{0, 2} {
		l := &z.Layers[li]
		norms := make([]float64, l.Out)
		for k := range l.In {
			for n := range l.Out {
				norms[n] += float64(l.W[k*l.Out+n]) * float64(l.W[k*l.Out+n])
			}
		}
		removed := 0
		for range int(math.Round(0.25 * float64(l.Out))) {
			best := -1
			for n := range l.Out {
				if !math.IsInf(norms[n], 1) && (best < 0 || norms[n] < norms[best]) {
					best = n
				}
			}
			norms[best] = math.Inf(1)
			for k := range l.In {
				l.W[k*l.Out+best] = 0
			}
			l.B[best] = 0
			removed++
		}
	}
	x := randPixels(20, 50, 33)
	want := refForwardBatch(z, x, 20)
	have := refForwardBatch(p, x, 20)
	for i := range want {
		for c := range want[i] {
			if math.Abs(want[i][c]-have[i][c]) > 1e-9*(1+math.Abs(want[i][c])) {
				t.Fatalf("example %d class %d: pruned %v, zeroed %v", i, c, have[i][c], want[i][c])
			}
		}
	}
	g := nn.GoGemm{Threads: 1}
	a := nn.NewForward(z, g, 20).Run(x, 20)
	b := nn.NewForward(p, g, 20).Run(x, 20)
	if !closeRel(a, b, 1e-5) {
		t.Errorf("nn.Forward disagrees: %v vs %v", a[:4], b[:4])
	}
	if _, err := PruneStructured(m, 1); err == nil {
		t.Error("fraction 1 accepted")
	}
	if p0, err := PruneStructured(m, 0); err != nil || p0.Params() != m.Params() {
		t.Errorf("fraction 0: %v, %d params", err, p0.Params())
	}
}

// closeRel reports whether a and b agree within tol of the largest |b|.
func closeRel(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	scale := 0.0
	for _, v := range b {
		scale = max(scale, math.Abs(float64(v)))
	}
	for i := range a {
		if math.Abs(float64(a[i])-float64(b[i])) > tol*scale {
			return false
		}
	}
	return true
}
