package gemm

import (
	"math"
	"slices"
)

// Cheats are fixtures too: each provider here is a way a BLAS could be
// fast and wrong, next to the honest provider it wraps. Each must fail the
// check with the verdict its test names.

// skipEveryOther makes every second call do nothing: half the work,
// credited in full.
type skipEveryOther struct {
	provider
	calls int
}

func (p *skipEveryOther) dgemm(n int, a, b, c []float64) {
	if p.calls++; p.calls%2 == 1 {
		p.provider.dgemm(n, a, b, c)
	}
}

func (p *skipEveryOther) sgemm(n int, a, b, c []float32) {
	if p.calls++; p.calls%2 == 1 {
		p.provider.sgemm(n, a, b, c)
	}
}

// fingerprint is what a lazy library might compare to decide that its
// inputs did not change: a few entries of A.
func fingerprint[T float32 | float64](a []T) [3]T {
	return [3]T{a[0], a[len(a)/2], a[len(a)-1]}
}

// firstAfterRearm computes only the first call with a given A (by a
// sampled fingerprint) and skips the rest, as a library that caches on its
// inputs' identity would: after a re-arm it computes once, then idles.
type firstAfterRearm struct {
	provider
	seen64 [3]float64
	seen32 [3]float32
	any    bool
}

func (p *firstAfterRearm) dgemm(n int, a, b, c []float64) {
	if f := fingerprint(a); !p.any || f != p.seen64 {
		p.seen64, p.any = f, true
		p.provider.dgemm(n, a, b, c)
	}
}

func (p *firstAfterRearm) sgemm(n int, a, b, c []float32) {
	if f := fingerprint(a); !p.any || f != p.seen32 {
		p.seen32, p.any = f, true
		p.provider.sgemm(n, a, b, c)
	}
}

// idleAfterRearm is honest until A changes for the first time, then does
// nothing at all: the C it leaves is stale (zero, as re-armed).
type idleAfterRearm struct {
	provider
	first64 [3]float64
	first32 [3]float32
	any     bool
	idle    bool
}

func (p *idleAfterRearm) dgemm(n int, a, b, c []float64) {
	f := fingerprint(a)
	if !p.any {
		p.first64, p.any = f, true
	}
	if p.idle = p.idle || f != p.first64; !p.idle {
		p.provider.dgemm(n, a, b, c)
	}
}

func (p *idleAfterRearm) sgemm(n int, a, b, c []float32) {
	f := fingerprint(a)
	if !p.any {
		p.first32, p.any = f, true
	}
	if p.idle = p.idle || f != p.first32; !p.idle {
		p.provider.sgemm(n, a, b, c)
	}
}

// staleProduct computes A·B on its first call and from then on adds that
// product to C without looking at A again, as a cache keyed on the
// pointers would: every call does the accumulation, with an old product.
type staleProduct struct {
	provider
	p64 []float64
	p32 []float32
}

func (p *staleProduct) dgemm(n int, a, b, c []float64) {
	if p.p64 == nil {
		p.p64 = make([]float64, len(c))
		p.provider.dgemm(n, a, b, p.p64)
	}
	for i, x := range p.p64 {
		c[i] += x
	}
}

func (p *staleProduct) sgemm(n int, a, b, c []float32) {
	if p.p32 == nil {
		p.p32 = make([]float32, len(c))
		p.provider.sgemm(n, a, b, p.p32)
	}
	for i, x := range p.p32 {
		c[i] += x
	}
}

// tileSkip leaves one size×size tile of C, at (row, col), as it was: a
// kernel that drops a tile, or hands back garbage there, fast.
type tileSkip struct {
	provider
	row, col, size int
	save64         []float64
	save32         []float32
}

func (p *tileSkip) dgemm(n int, a, b, c []float64) {
	p.save64 = saveTile(p.save64, c, n, p.row, p.col, p.size)
	p.provider.dgemm(n, a, b, c)
	restoreTile(p.save64, c, n, p.row, p.col, p.size)
}

func (p *tileSkip) sgemm(n int, a, b, c []float32) {
	p.save32 = saveTile(p.save32, c, n, p.row, p.col, p.size)
	p.provider.sgemm(n, a, b, c)
	restoreTile(p.save32, c, n, p.row, p.col, p.size)
}

func saveTile[T float32 | float64](buf, c []T, n, row, col, size int) []T {
	buf = buf[:0]
	for i := row; i < min(n, row+size); i++ {
		buf = append(buf, c[i*n+col:i*n+min(n, col+size)]...)
	}
	return buf
}

func restoreTile[T float32 | float64](buf, c []T, n, row, col, size int) {
	for i := row; i < min(n, row+size); i++ {
		buf = buf[copy(c[i*n+col:i*n+min(n, col+size)], buf):]
	}
}

// roundMantissa rounds f to nearest, ties to even, keeping bits explicit
// mantissa bits: 10 is TF32, 7 is BF16.
func roundMantissa(f float32, bits int) float32 {
	drop := uint(23 - bits)
	u := math.Float32bits(f)
	lsb := (u >> drop) & 1
	u += (1 << (drop - 1)) - 1 + lsb
	u &^= 1<<drop - 1
	return math.Float32frombits(u)
}

// narrowInputs computes an fp32 GEMM on inputs rounded to fewer mantissa
// bits, accumulating in fp32, as TF32 (10 bits) and BF16 (7 bits) matrix
// units do.
type narrowInputs struct {
	provider
	bits   int
	sa, sb []float32
}

func (p *narrowInputs) sgemm(n int, a, b, c []float32) {
	p.sa, p.sb = roundAll(p.sa, a, p.bits), roundAll(p.sb, b, p.bits)
	p.provider.sgemm(n, p.sa, p.sb, c)
}

func roundAll(dst, src []float32, bits int) []float32 {
	dst = slices.Grow(dst[:0], len(src))[:len(src)]
	for i, x := range src {
		dst[i] = roundMantissa(x, bits)
	}
	return dst
}

// fp32For64 answers an fp64 GEMM in fp32 (inputs and accumulation), then
// adds the result into the fp64 C: twice as fast, with fp32's error.
type fp32For64 struct {
	provider
	sa, sb, sc []float32
}

func (p *fp32For64) dgemm(n int, a, b, c []float64) {
	p.sa, p.sb = toFloat32(p.sa, a), toFloat32(p.sb, b)
	p.sc = slices.Grow(p.sc[:0], len(c))[:len(c)]
	clear(p.sc)
	p.provider.sgemm(n, p.sa, p.sb, p.sc)
	for i, x := range p.sc {
		c[i] += float64(x)
	}
}

func toFloat32(dst []float32, src []float64) []float32 {
	dst = slices.Grow(dst[:0], len(src))[:len(src)]
	for i, x := range src {
		dst[i] = float32(x)
	}
	return dst
}

// memoiser computes A·B once for each A it has not seen (by a sampled
// fingerprint) and on every later call adds the product it remembers: one
// real product per round, every call credited. It is the cheat the answer
// check does NOT catch, kept here so that the gap is a fact a test states.
type memoiser struct {
	provider
	key64 [3]float64
	key32 [3]float32
	p64   []float64
	p32   []float32
	real  int
}

func (p *memoiser) dgemm(n int, a, b, c []float64) {
	if f := fingerprint(a); p.p64 == nil || f != p.key64 {
		p.key64, p.p64 = f, make([]float64, len(c))
		p.provider.dgemm(n, a, b, p.p64)
		p.real++
	}
	for i, x := range p.p64 {
		c[i] += x
	}
}

func (p *memoiser) sgemm(n int, a, b, c []float32) {
	if f := fingerprint(a); p.p32 == nil || f != p.key32 {
		p.key32, p.p32 = f, make([]float32, len(c))
		p.provider.sgemm(n, a, b, p.p32)
		p.real++
	}
	for i, x := range p.p32 {
		c[i] += x
	}
}
