package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/joulebench/joulebench/workloads"
)

// TestSgemmGeneral holds the general product, transposes and strides
// included, to a plain triple loop on every provider this machine has.
func TestSgemmGeneral(t *testing.T) {
	for _, blasName := range []string{"gonum", ""} {
		s, err := NewSgemm(workloads.Options{BLAS: blasName, Threads: 2})
		if err != nil {
			t.Fatalf("%q: %v", blasName, err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for _, tc := range []struct{ ta, tb bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			m, n, k := 7, 5, 9
			lda, ldb, ldc := k+2, n+1, n+3
			if tc.ta {
				lda = m + 2
			}
			if tc.tb {
				ldb = k + 1
			}
			rowsA, rowsB := m, k
			if tc.ta {
				rowsA = k
			}
			if tc.tb {
				rowsB = n
			}
			a, b, c := make([]float32, rowsA*lda), make([]float32, rowsB*ldb), make([]float32, m*ldc)
			for i := range a {
				a[i] = r.Float32() - 0.5
			}
			for i := range b {
				b[i] = r.Float32() - 0.5
			}
			for i := range c {
				c[i] = r.Float32()
			}
			want := append([]float32(nil), c...)
			at := func(i, p int) float32 {
				if tc.ta {
					return a[p*lda+i]
				}
				return a[i*lda+p]
			}
			bt := func(p, j int) float32 {
				if tc.tb {
					return b[j*ldb+p]
				}
				return b[p*ldb+j]
			}
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var sum float64
					for p := 0; p < k; p++ {
						sum += float64(at(i, p)) * float64(bt(p, j))
					}
					want[i*ldc+j] = float32(1.5*sum + 0.5*float64(c[i*ldc+j]))
				}
			}
			s.Sgemm(tc.ta, tc.tb, m, n, k, 1.5, a, lda, b, ldb, 0.5, c, ldc)
			for i := range c {
				if math.Abs(float64(c[i]-want[i])) > 1e-5 {
					t.Fatalf("%s ta=%v tb=%v: c[%d] = %g, want %g", s.Info()["provider"], tc.ta, tc.tb, i, c[i], want[i])
				}
			}
		}
	}
}

// A slice too short for its shape is refused before any C code touches it.
func TestSgemmRefusesShortSlices(t *testing.T) {
	s, err := NewSgemm(workloads.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("a 3×3 product over a 5-value A did not panic")
		}
	}()
	s.Sgemm(false, false, 3, 3, 3, 1, make([]float32, 5), 3, make([]float32, 9), 3, 0, make([]float32, 9), 3)
}
