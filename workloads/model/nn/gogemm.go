package nn

import (
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// GoGemm is a pure-Go Gemm: gonum's native Sgemm on tiles of C, the
// tiles shared among Threads goroutines (GOMAXPROCS when Threads ≤ 0).
// Each tile is computed the same way whichever goroutine takes it, so the
// result does not depend on Threads: training on GoGemm is bit-for-bit
// reproducible on any number of threads (and, gonum's kernels being
// plain loops with a fixed order, across amd64 machines).
//
// It needs no library and runs anywhere, at a few GFLOP/s a core; the
// model workloads use it when no BLAS is given. With more than one
// thread, a call allocates a little for its goroutines.
type GoGemm struct{ Threads int }

var _ Gemm = GoGemm{}

// Tile sizes: gonum's Sgemm stays serial on a call this small (fewer than
// four 64×64 blocks), so the threads here are the only ones.
const (
	tileM = 64
	tileN = 128
)

// Sgemm implements Gemm.
func (g GoGemm) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	call := gemmCall{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, (n + tileN - 1) / tileN}
	tiles := (m + tileM - 1) / tileM * call.tilesN
	threads := g.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, tiles)
	if threads <= 1 {
		// No goroutine, so nothing escapes: the serial path allocates
		// nothing.
		for t := range tiles {
			call.tile(t)
		}
		return
	}
	p := &parallelCall{gemmCall: call, tiles: tiles}
	p.wg.Add(threads - 1)
	for range threads - 1 {
		go p.run()
	}
	p.work()
	p.wg.Wait()
}

type gemmCall struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
	tilesN         int
}

// tile computes tile t of C, numbered row-major.
func (g *gemmCall) tile(t int) {
	i0, j0 := (t/g.tilesN)*tileM, (t%g.tilesN)*tileN
	mm, nn := min(tileM, g.m-i0), min(tileN, g.n-j0)
	tA, tB := blas.NoTrans, blas.NoTrans
	var at, bt []float32
	if g.transA {
		tA, at = blas.Trans, g.a[i0:]
	} else {
		at = g.a[i0*g.lda:]
	}
	if g.transB {
		tB, bt = blas.Trans, g.b[j0*g.ldb:]
	} else {
		bt = g.b[j0:]
	}
	gonum.Implementation{}.Sgemm(tA, tB, mm, nn, g.k, g.alpha, at, g.lda, bt, g.ldb, g.beta, g.c[i0*g.ldc+j0:], g.ldc)
}

type parallelCall struct {
	gemmCall
	tiles int
	next  atomic.Int64
	wg    sync.WaitGroup
}

func (p *parallelCall) run() {
	defer p.wg.Done()
	p.work()
}

func (p *parallelCall) work() {
	for {
		t := int(p.next.Add(1)) - 1
		if t >= p.tiles {
			return
		}
		p.tile(t)
	}
}
