package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestGoGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {65, 129, 33}, {200, 300, 70}, {10, 1000, 3}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			// Padded strides, to catch a tile that ignores them.
			lda, ldb, ldc := k+3, n+2, n+1
			if tr[0] {
				lda = m + 3
			}
			if tr[1] {
				ldb = k + 2
			}
			a, b := randSlice(r, max(m, k)*lda), randSlice(r, max(n, k)*ldb)
			c0 := randSlice(r, m*ldc)
			want := append([]float32(nil), c0...)
			naiveGemm{}.Sgemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, 2, want, ldc)
			var got1 []float32
			for _, threads := range []int{1, 3, 0} {
				got := append([]float32(nil), c0...)
				GoGemm{Threads: threads}.Sgemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, 2, got, ldc)
				for i := range got {
					if math.Abs(float64(got[i]-want[i])) > 1e-4*math.Sqrt(float64(k))*4 {
						t.Fatalf("%v trans %v threads %d: c[%d] = %v, want %v", sz, tr, threads, i, got[i], want[i])
					}
				}
				if got1 == nil {
					got1 = got
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(got1[i]) {
						t.Fatalf("%v trans %v: %d threads differ from 1 in the last bit at %d", sz, tr, threads, i)
					}
				}
			}
		}
	}
}

func benchGemm(b *testing.B, g Gemm, m, n, k int) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y, z := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	b.SetBytes(0)
	for b.Loop() {
		g.Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, z, n)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkGoGemm128x1024x784(b *testing.B) { benchGemm(b, GoGemm{}, 128, 1024, 784) }
func BenchmarkGoGemm128x1024x784Threads1(b *testing.B) {
	benchGemm(b, GoGemm{Threads: 1}, 128, 1024, 784)
}
