package compress

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

// PruneUnstructured prunes m in place by magnitude, layer by layer: in
// every dense layer (the last one too) it zeroes exactly k =
// round(sparsity·len(W)) weights (math.Round: halves away from zero),
// those of smallest |w|, ties going to the lower index, and sets the
// layer's Mask (1 kept, 0 pruned) so that nn.Train keeps them at zero.
// Weights a mask already holds at zero are pruned first, so pruning again
// at a higher sparsity extends the old mask. Biases are left alone.
func PruneUnstructured(m *nn.Model, sparsity float64) error {
	if !(sparsity >= 0 && sparsity <= 1) {
		return fmt.Errorf("prune: sparsity %v, want [0, 1]", sparsity)
	}
	ds, err := denseLayers(m)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	for _, d := range ds {
		if !finite(m.Layers[d.idx].W) {
			return fmt.Errorf("prune: dense layer %d: weights not all finite", d.idx)
		}
		if len(m.Layers[d.idx].W) > math.MaxUint32 {
			return fmt.Errorf("prune: dense layer %d: too many weights to index", d.idx)
		}
	}
	for _, d := range ds {
		l := &m.Layers[d.idx]
		k := int(math.Round(sparsity * float64(len(l.W))))
		// One sort key a weight: masked first, then |w| (a non-negative
		// float32's bits order as the value does), then the index.
		keys := make([]uint64, len(l.W))
		for i, w := range l.W {
			var mag uint64
			if l.Mask == nil || l.Mask[i] != 0 {
				mag = uint64(math.Float32bits(w)&0x7fffffff) + 1
			}
			keys[i] = mag<<32 | uint64(i)
		}
		slices.Sort(keys)
		mask := make([]float32, len(l.W))
		for i := range mask {
			mask[i] = 1
		}
		for _, key := range keys[:k] {
			i := uint32(key)
			l.W[i] = 0
			mask[i] = 0
		}
		l.Mask = mask
	}
	return nil
}

// Sparsity is the fraction of m's dense weights that are zero (pruned or
// not), or NaN for a model without dense weights.
func Sparsity(m *nn.Model) float64 {
	zeros, total := 0, 0
	for _, l := range m.Layers {
		if l.Kind != nn.KindDense {
			continue
		}
		total += len(l.W)
		for _, w := range l.W {
			if w == 0 {
				zeros++
			}
		}
	}
	if total == 0 {
		return math.NaN()
	}
	return float64(zeros) / float64(total)
}

// PruneStructured returns a smaller dense model with round(frac·Out)
// neurons removed from every hidden dense layer (every dense layer but the
// last: the inputs and the classes stay). A layer loses the neurons whose
// incoming weight columns W[:, n] have the smallest L2 norm in m (ties to
// the lower index), each layer's choice made on m as given, independently
// of the others: column n of W and B[n] go, and row n of the next dense
// layer's W. The result computes exactly m's function with those neurons'
// outputs forced to zero. Masks are cut the same way; ReLU layers' shapes
// follow. m is not changed; the result keeps its name.
func PruneStructured(m *nn.Model, frac float64) (*nn.Model, error) {
	if !(frac >= 0 && frac < 1) {
		return nil, fmt.Errorf("prune structured: fraction %v, want [0, 1)", frac)
	}
	ds, err := denseLayers(m)
	if err != nil {
		return nil, fmt.Errorf("prune structured: %w", err)
	}
	keep := make([][]int, len(ds)) // kept neurons of each hidden layer, ascending
	for i, d := range ds[:len(ds)-1] {
		l := &m.Layers[d.idx]
		r := int(math.Round(frac * float64(l.Out)))
		if r >= l.Out {
			return nil, fmt.Errorf("prune structured: dense layer %d: removing %d of %d neurons leaves none", d.idx, r, l.Out)
		}
		norms := make([]float64, l.Out)
		for k := range l.In {
			for n, w := range l.W[k*l.Out : (k+1)*l.Out] {
				norms[n] += float64(w) * float64(w)
			}
		}
		order := make([]int, l.Out)
		for n := range order {
			order[n] = n
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(norms[a], norms[b]) })
		keep[i] = slices.Sorted(slices.Values(order[r:]))
	}
	p := m.Clone()
	var rows []int // the previous layer's kept neurons: this layer's kept rows
	for i, d := range ds {
		l := &p.Layers[d.idx]
		cols := keep[i]
		if cols == nil {
			cols = identity(l.Out)
		}
		if rows == nil {
			rows = identity(l.In)
		}
		l.W = gather(l.W, l.Out, rows, cols)
		l.Mask = gather(l.Mask, l.Out, rows, cols)
		b := make([]float32, len(cols))
		for j, n := range cols {
			b[j] = l.B[n]
		}
		l.In, l.Out, l.B = len(rows), len(cols), b
		if d.relu {
			if r := &p.Layers[d.idx+1]; r.Channels != 0 {
				r.Channels = l.Out
			}
		}
		rows = keep[i]
	}
	return p, nil
}

func identity(n int) []int {
	ix := make([]int, n)
	for i := range ix {
		ix[i] = i
	}
	return ix
}

// gather is the submatrix rows×cols of the row-major matrix w of the
// given width; nil stays nil.
func gather(w []float32, width int, rows, cols []int) []float32 {
	if w == nil {
		return nil
	}
	out := make([]float32, 0, len(rows)*len(cols))
	for _, k := range rows {
		row := w[k*width : (k+1)*width]
		for _, n := range cols {
			out = append(out, row[n])
		}
	}
	return out
}
