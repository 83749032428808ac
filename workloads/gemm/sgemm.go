package gemm

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/joulebench/joulebench/workloads"
)

// Sgemm is the general single-precision matrix product of the BLAS the
// GEMM workload would pick for the same options: the model workloads run
// their layers on it, so that a model and the GEMM suite measure the same
// library. It satisfies the model package's Gemm interface.
type Sgemm struct {
	p    provider
	full func(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	thr  int
}

// generalSgemm is implemented by the dlopen'd CBLAS.
type generalSgemm interface {
	sgemmFull(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// NewSgemm loads the BLAS opts name (or the default search, falling back
// to gonum with the reason in Info, like the GEMM workload).
func NewSgemm(opts workloads.Options) (*Sgemm, error) {
	p, err := systemLoader().load(opts)
	if err != nil {
		return nil, err
	}
	s := &Sgemm{p: p}
	switch q := p.(type) {
	case *cblasProvider:
		g, ok := q.lib.(generalSgemm)
		if !ok {
			return nil, fmt.Errorf("cblas: %s has no general sgemm", q.lib.path())
		}
		s.full, s.thr = g.sgemmFull, q.threads
	case *gonumProvider:
		s.full = func(_ int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			gonum.Implementation{}.Sgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}
	default:
		return nil, fmt.Errorf("gemm: provider %T has no general sgemm", p)
	}
	return s, nil
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Sgemm sets C ← alpha·op(A)·op(B) + beta·C, row-major; op(A) is m×k,
// op(B) k×n, C m×n; lda, ldb, ldc are row strides as stored. Empty
// products return at once (CBLAS would reject a zero leading dimension).
func (s *Sgemm) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	// CBLAS reads and writes through raw pointers: a slice too short for
	// its shape and stride would be overrun, so it is refused first, as
	// gonum's own Sgemm does.
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	checkMatrix("a", a, ra, ca, lda)
	checkMatrix("b", b, rb, cb, ldb)
	checkMatrix("c", c, m, n, ldc)
	s.full(s.thr, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Begin readies the library for a stretch of calls (the thread count is
// process wide and another workload may have changed it).
func (s *Sgemm) Begin() { s.p.begin() }

// Info says which library does the work, as the GEMM workload's Info does.
func (s *Sgemm) Info() map[string]string { return s.p.info() }

// Gonum reports whether the pure-Go fallback does the work.
func (s *Sgemm) Gonum() bool {
	_, ok := s.p.(*gonumProvider)
	return ok
}

func checkMatrix(name string, v []float32, rows, cols, ld int) {
	if rows < 0 || cols < 0 || ld < max(cols, 1) {
		panic(fmt.Sprintf("gemm: sgemm %s: %d×%d with leading dimension %d", name, rows, cols, ld))
	}
	if rows > 0 && cols > 0 && len(v) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("gemm: sgemm %s: %d values for %d×%d with leading dimension %d", name, len(v), rows, cols, ld))
	}
}
