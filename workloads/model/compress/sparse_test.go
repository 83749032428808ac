package compress

import (
	"fmt"
	"math"
	"testing"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

// rowsClose reports the first row of a (n rows) that differs from b by
// more than tol of that row's largest |b|, or -1.
func rowsClose(a, b []float32, n int, tol float64) int {
	w := len(b) / n
	for r := range n {
		scale := 0.0
		for _, v := range b[r*w : (r+1)*w] {
			scale = max(scale, math.Abs(float64(v)))
		}
		for c := range w {
			if math.Abs(float64(a[r*w+c])-float64(b[r*w+c])) > tol*scale {
				return r
			}
		}
	}
	return -1
}

func TestSparseForwardMatchesDense(t *testing.T) {
	for _, tc := range []struct {
		sizes          []int
		sparsity       float64
		batch, threads int
	}{
		{[]int{30, 20, 5}, 0, 1, 1},
		{[]int{97, 61, 33, 10}, 0.5, 13, 2},
		{[]int{97, 61, 33, 10}, 0.9, 32, 3},
		{[]int{784, 256, 10}, 0.95, 9, 4},
		{[]int{50, 40, 10}, 1, 5, 2},
	} {
		m := nn.NewMLP("sparse", tc.sizes, 40)
		for i := range m.Layers {
			for j := range m.Layers[i].B {
				m.Layers[i].B[j] = float32(j%5-2) * 0.02
			}
		}
		if err := PruneUnstructured(m, tc.sparsity); err != nil {
			t.Fatal(err)
		}
		s, err := NewSparseMLP(m)
		if err != nil {
			t.Fatal(err)
		}
		nnz := 0
		for _, l := range s.Layers {
			nnz += l.NNZ()
		}
		if want := int(math.Round((1 - Sparsity(m)) * float64(m.Params()-biases(m)))); nnz != want {
			t.Errorf("%v at %v: %d nonzeros stored, want %d", tc.sizes, tc.sparsity, nnz, want)
		}
		x := randPixels(tc.batch, tc.sizes[0], 41)
		dense := nn.NewForward(m, nn.GoGemm{Threads: 1}, tc.batch)
		f := NewSparseForward(s, tc.batch, tc.threads)
		for _, n := range []int{tc.batch, max(1, tc.batch/2), 1} {
			want := dense.Run(x, n)
			got := f.Run(x, n)
			if len(got) != len(want) {
				t.Fatalf("%d logits, want %d", len(got), len(want))
			}
			if r := rowsClose(got, want, n, 1e-4); r >= 0 {
				w := tc.sizes[len(tc.sizes)-1]
				t.Fatalf("%v at %v, n %d, row %d: sparse %v, dense %v", tc.sizes, tc.sparsity, n, r, got[r*w:(r+1)*w], want[r*w:(r+1)*w])
			}
		}
		f.Close()
	}
}

func biases(m *nn.Model) int {
	b := 0
	for _, l := range m.Layers {
		b += len(l.B)
	}
	return b
}

func TestSparseForwardNoAllocs(t *testing.T) {
	m := randMLP([]int{100, 64, 10}, 42)
	if err := PruneUnstructured(m, 0.5); err != nil {
		t.Fatal(err)
	}
	s, err := NewSparseMLP(m)
	if err != nil {
		t.Fatal(err)
	}
	x := randPixels(32, 100, 43)
	for _, threads := range []int{1, 3} {
		f := NewSparseForward(s, 32, threads)
		if a := testing.AllocsPerRun(20, func() { f.Run(x, 32) }); a > 0 {
			t.Errorf("threads %d: %v allocations a call", threads, a)
		}
		f.Close()
	}
}

func BenchmarkSparseForward(b *testing.B) {
	for _, sp := range []float64{0.5, 0.9} {
		m := randMLP(benchSizes, 1)
		if err := PruneUnstructured(m, sp); err != nil {
			b.Fatal(err)
		}
		s, err := NewSparseMLP(m)
		if err != nil {
			b.Fatal(err)
		}
		x := randPixels(benchBatch, benchSizes[0], 2)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("sparsity=%v/threads=%d", sp, threads), func(b *testing.B) {
				f := NewSparseForward(s, benchBatch, threads)
				defer f.Close()
				for b.Loop() {
					sinkF32 = f.Run(x, benchBatch)
				}
				reportDense(b)
			})
		}
	}
}

// BenchmarkDenseForward is nn.Forward on GoGemm, the dense baseline the
// sparse and int8 kernels are compared with.
func BenchmarkDenseForward(b *testing.B) {
	m := randMLP(benchSizes, 1)
	x := randPixels(benchBatch, benchSizes[0], 2)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			f := nn.NewForward(m, nn.GoGemm{Threads: threads}, benchBatch)
			for b.Loop() {
				sinkF32 = f.Run(x, benchBatch)
			}
			reportDense(b)
		})
	}
}

// reportDense reports the dense model's FLOPs a second: the sparse
// kernels do fewer, but the figure compares the time to the same answer.
func reportDense(b *testing.B) {
	b.ReportMetric(opsPerExample(benchSizes)*benchBatch*float64(b.N)/b.Elapsed().Seconds()/1e9, "dense-GFLOP/s")
}

// BenchmarkSparseFormats compares, on one thread, the gather kernel
// SparseForward uses (CSR of Wᵀ) with the scatter alternative (CSR of W,
// each input's products added into the output row): the measurement
// behind SparseMLP's choice.
func BenchmarkSparseFormats(b *testing.B) {
	for _, sp := range []float64{0.5, 0.9} {
		m := randMLP(benchSizes, 1)
		if err := PruneUnstructured(m, sp); err != nil {
			b.Fatal(err)
		}
		s, err := NewSparseMLP(m)
		if err != nil {
			b.Fatal(err)
		}
		x := randPixels(benchBatch, benchSizes[0], 2)
		b.Run(fmt.Sprintf("sparsity=%v/gather", sp), func(b *testing.B) {
			f := NewSparseForward(s, benchBatch, 1)
			defer f.Close()
			for b.Loop() {
				sinkF32 = f.Run(x, benchBatch)
			}
			reportDense(b)
		})
		sc := newScatterMLP(m)
		b.Run(fmt.Sprintf("sparsity=%v/scatter", sp), func(b *testing.B) {
			for b.Loop() {
				sinkF32 = sc.run(x, benchBatch)
			}
			reportDense(b)
		})
	}
}

// scatterMLP is the CSR-of-W kernel BenchmarkSparseFormats measures.
type scatterMLP struct {
	layers []scatterDense
	act    [2][]float32
	width  int
}

type scatterDense struct {
	in, out int
	ptr     []int32 // in+1
	col     []int32
	val     []float32
	b       []float32
	relu    bool
}

func newScatterMLP(m *nn.Model) *scatterMLP {
	s := &scatterMLP{}
	ds, err := denseLayers(m)
	if err != nil {
		panic(err)
	}
	s.width = m.Layers[ds[0].idx].In
	for _, d := range ds {
		l := &m.Layers[d.idx]
		sd := scatterDense{in: l.In, out: l.Out, ptr: make([]int32, l.In+1), b: l.B, relu: d.relu}
		for k := range l.In {
			for n, w := range l.W[k*l.Out : (k+1)*l.Out] {
				if w != 0 {
					sd.col = append(sd.col, int32(n))
					sd.val = append(sd.val, w)
				}
			}
			sd.ptr[k+1] = int32(len(sd.val))
		}
		s.layers = append(s.layers, sd)
		s.width = max(s.width, l.Out)
	}
	s.act[0] = make([]float32, benchBatch*s.width)
	s.act[1] = make([]float32, benchBatch*s.width)
	return s
}

func (s *scatterMLP) run(x []float32, n int) []float32 {
	w := s.width
	in := s.layers[0].in
	for m := range n {
		copy(s.act[0][m*w:], x[m*in:(m+1)*in])
	}
	for li, l := range s.layers {
		src, dst := s.act[li%2], s.act[(li+1)%2]
		m := 0
		for ; m+4 <= n; m += 4 {
			x0, x1, x2, x3 := src[m*w:m*w+l.in], src[(m+1)*w:(m+1)*w+l.in], src[(m+2)*w:(m+2)*w+l.in], src[(m+3)*w:(m+3)*w+l.in]
			y0, y1, y2, y3 := dst[m*w:m*w+l.out], dst[(m+1)*w:(m+1)*w+l.out], dst[(m+2)*w:(m+2)*w+l.out], dst[(m+3)*w:(m+3)*w+l.out]
			copy(y0, l.b)
			copy(y1, l.b)
			copy(y2, l.b)
			copy(y3, l.b)
			for k := range l.in {
				a0, a1, a2, a3 := x0[k], x1[k], x2[k], x3[k]
				cols, vals := l.col[l.ptr[k]:l.ptr[k+1]], l.val[l.ptr[k]:l.ptr[k+1]]
				vals = vals[:len(cols)]
				for p, c := range cols {
					v := vals[p]
					y0[c] += a0 * v
					y1[c] += a1 * v
					y2[c] += a2 * v
					y3[c] += a3 * v
				}
			}
			if l.relu {
				for _, y := range [][]float32{y0, y1, y2, y3} {
					for i := range y {
						y[i] = max(y[i], 0)
					}
				}
			}
		}
		if m != n {
			panic("scatter: batch not a multiple of 4")
		}
	}
	last := s.layers[len(s.layers)-1]
	out := s.act[len(s.layers)%2]
	for r := range n {
		copy(out[r*last.out:(r+1)*last.out], out[r*w:r*w+last.out])
	}
	return out[:n*last.out]
}

// The scatter kernel must compute the same function, or its timing
// means nothing.
func TestScatterKernel(t *testing.T) {
	m := randMLP([]int{60, 50, 10}, 44)
	if err := PruneUnstructured(m, 0.7); err != nil {
		t.Fatal(err)
	}
	x := randPixels(8, 60, 45)
	want := nn.NewForward(m, nn.GoGemm{Threads: 1}, 8).Run(x, 8)
	got := newScatterMLP(m).run(x, 8)
	if r := rowsClose(got, want, 8, 1e-4); r >= 0 {
		t.Errorf("row %d differs", r)
	}
}
