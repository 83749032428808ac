package compress

import (
	"fmt"
	"runtime"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

// SparseMLP is a pruned MLP with each dense layer's weights in compressed
// sparse rows: only the nonzero weights are stored and multiplied.
//
// The rows are W's columns (CSR of Wᵀ, one row an output neuron), so that
// an output is a dot product of its nonzeros with gathered inputs, summed
// in a register; the alternative, CSR of W by input rows, scatters each
// input's products into the output row through memory. Measured on
// 784-1024-1024-10, batch 256, one thread (BenchmarkSparseFormats), the
// gather took 47 ms a batch at 50% sparsity and 10.7 ms at 90%, the
// scatter 65 ms and 14.3 ms.
type SparseMLP struct {
	Name   string
	Inputs int
	Layers []SparseDense
}

// SparseDense is one dense layer in CSR of Wᵀ: output n's nonzero
// weights are Val[Ptr[n]:Ptr[n+1]], at inputs Col[Ptr[n]:Ptr[n+1]]
// (ascending).
type SparseDense struct {
	In, Out int
	Ptr     []int32 // Out+1
	Col     []int32
	Val     []float32
	B       []float32
	// ReLU: a ReLU layer follows.
	ReLU bool
}

// NNZ is the number of stored weights.
func (d *SparseDense) NNZ() int { return len(d.Val) }

// NewSparseMLP stores m's dense layers sparsely: every weight that is not
// zero, whatever the mask says. m may have dense layers with no ReLU
// between them (LowRank's). m is not changed or kept.
func NewSparseMLP(m *nn.Model) (*SparseMLP, error) {
	ds, err := denseLayers(m)
	if err != nil {
		return nil, fmt.Errorf("sparse: %w", err)
	}
	s := &SparseMLP{Name: m.Name, Inputs: m.Layers[ds[0].idx].In}
	for _, d := range ds {
		l := &m.Layers[d.idx]
		if !finite(l.W) || !finite(l.B) {
			return nil, fmt.Errorf("sparse: dense layer %d: weights not all finite", d.idx)
		}
		if len(l.W) > 1<<31-1 {
			return nil, fmt.Errorf("sparse: dense layer %d: too many weights to index", d.idx)
		}
		sd := SparseDense{In: l.In, Out: l.Out, Ptr: make([]int32, l.Out+1), B: append([]float32(nil), l.B...), ReLU: d.relu}
		nnz := 0
		for _, w := range l.W {
			if w != 0 {
				nnz++
			}
		}
		sd.Col = make([]int32, 0, nnz)
		sd.Val = make([]float32, 0, nnz)
		for n := range l.Out {
			for k := range l.In {
				if w := l.W[k*l.Out+n]; w != 0 {
					sd.Col = append(sd.Col, int32(k))
					sd.Val = append(sd.Val, w)
				}
			}
			sd.Ptr[n+1] = int32(len(sd.Val))
		}
		s.Layers = append(s.Layers, sd)
	}
	return s, nil
}

// SparseForward runs a SparseMLP on up to batch examples a call, in
// float32, its scratch allocated and its goroutines started once. Not safe
// for concurrent use; Close stops its goroutines (or garbage collection
// does, for one dropped unclosed).
type SparseForward struct {
	*srun
}

type srun struct {
	s     *SparseMLP
	batch int
	width int          // the widest activation: act's row stride
	act   [2][]float32 // batch × width, alternating layer to layer
	pool  *pool
}

// NewSparseForward prepares s for batches of up to batch examples on
// threads goroutines (≤ 0 means 1).
func NewSparseForward(s *SparseMLP, batch, threads int) *SparseForward {
	if batch < 1 || len(s.Layers) == 0 {
		panic(fmt.Sprintf("compress: NewSparseForward: batch %d, %d layers", batch, len(s.Layers)))
	}
	r := &srun{s: s, batch: batch, width: s.Inputs}
	for _, l := range s.Layers {
		r.width = max(r.width, l.Out)
	}
	r.act[0] = make([]float32, batch*r.width)
	r.act[1] = make([]float32, batch*r.width)
	r.pool = newPool(threads)
	f := &SparseForward{r}
	runtime.AddCleanup(f, (*pool).close, r.pool)
	return f
}

// Close stops the SparseForward's goroutines; it must not be run after.
func (f *SparseForward) Close() { f.pool.close() }

// Run computes the logits of the n examples in x and returns them, n rows
// of the classes, in scratch that the next call overwrites. It panics if
// n is not in [1, batch] or x is short.
func (f *SparseForward) Run(x []float32, n int) []float32 {
	if n < 1 || n > f.batch || len(x) < n*f.s.Inputs {
		panic(fmt.Sprintf("compress: SparseForward.Run: %d examples (%d values) for a batch of %d", n, len(x), f.batch))
	}
	f.pool.run(f.srun, x, n, 4)
	last := f.s.Layers[len(f.s.Layers)-1]
	out := f.act[len(f.s.Layers)%2]
	// Logits sit width apart; compact them in place (row r moves down).
	for r := range n {
		copy(out[r*last.Out:(r+1)*last.Out], out[r*f.width:r*f.width+last.Out])
	}
	return out[:n*last.Out]
}

// rows takes examples [lo, hi) through every layer. Rows are width apart
// in both buffers, so a goroutine owns its rows in every layer.
func (f *srun) rows(x []float32, lo, hi int) {
	w := f.width
	for m := lo; m < hi; m++ {
		copy(f.act[0][m*w:m*w+f.s.Inputs], x[m*f.s.Inputs:(m+1)*f.s.Inputs])
	}
	for li := range f.s.Layers {
		l := &f.s.Layers[li]
		src, dst := f.act[li%2], f.act[(li+1)%2]
		m := lo
		for ; m+4 <= hi; m += 4 {
			l.rows4(src[m*w:], dst[m*w:], w)
		}
		for ; m < hi; m++ {
			l.row1(src[m*w:m*w+l.In], dst[m*w:m*w+l.Out])
		}
	}
}

// rows4 computes four rows, stride apart, each nonzero's index and value
// loaded once for all four.
func (l *SparseDense) rows4(src, dst []float32, stride int) {
	x0 := src[:l.In]
	x1 := src[stride : stride+l.In]
	x2 := src[2*stride : 2*stride+l.In]
	x3 := src[3*stride : 3*stride+l.In]
	y0 := dst[:l.Out]
	y1 := dst[stride : stride+l.Out]
	y2 := dst[2*stride : 2*stride+l.Out]
	y3 := dst[3*stride : 3*stride+l.Out]
	for n := range l.Out {
		lo, hi := l.Ptr[n], l.Ptr[n+1]
		cols, vals := l.Col[lo:hi], l.Val[lo:hi]
		vals = vals[:len(cols)]
		var s0, s1, s2, s3 float32
		for p, c := range cols {
			v := vals[p]
			s0 += x0[c] * v
			s1 += x1[c] * v
			s2 += x2[c] * v
			s3 += x3[c] * v
		}
		b := l.B[n]
		s0, s1, s2, s3 = s0+b, s1+b, s2+b, s3+b
		if l.ReLU {
			s0, s1, s2, s3 = max(s0, 0), max(s1, 0), max(s2, 0), max(s3, 0)
		}
		y0[n], y1[n], y2[n], y3[n] = s0, s1, s2, s3
	}
}

// row1 computes one row.
func (l *SparseDense) row1(x, y []float32) {
	for n := range l.Out {
		lo, hi := l.Ptr[n], l.Ptr[n+1]
		cols, vals := l.Col[lo:hi], l.Val[lo:hi]
		vals = vals[:len(cols)]
		var s float32
		for p, c := range cols {
			s += x[c] * vals[p]
		}
		s += l.B[n]
		if l.ReLU {
			s = max(s, 0)
		}
		y[n] = s
	}
}
