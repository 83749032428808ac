package compress

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

// svdOf is a dense layer's thin SVD, W = U·diag(S)·Vᵀ, in float64.
type svdOf struct {
	u, v *mat.Dense
	s    []float64 // descending
}

func factor(w []float32, in, out int) (*svdOf, error) {
	a := mat.NewDense(in, out, nil)
	for k := range in {
		for n := range out {
			a.Set(k, n, float64(w[k*out+n]))
		}
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return nil, errors.New("SVD did not converge")
	}
	f := &svdOf{u: &mat.Dense{}, v: &mat.Dense{}, s: svd.Values(nil)}
	svd.UTo(f.u)
	svd.VTo(f.v)
	return f, nil
}

// split is the two dense layers of rank r: In×r with √σ on U's side and
// no bias, then r×Out with √σ on V's side and the original bias.
func (f *svdOf) split(l *nn.Layer, r int) [2]nn.Layer {
	a := make([]float32, l.In*r)
	b := make([]float32, r*l.Out)
	for j := range r {
		sq := math.Sqrt(f.s[j])
		for k := range l.In {
			a[k*r+j] = float32(f.u.At(k, j) * sq)
		}
		for n := range l.Out {
			b[j*l.Out+n] = float32(sq * f.v.At(n, j))
		}
	}
	return [2]nn.Layer{
		{Kind: nn.KindDense, In: l.In, Out: r, W: a, B: make([]float32, r), Frozen: l.Frozen},
		{Kind: nn.KindDense, In: r, Out: l.Out, W: b, B: slices.Clone(l.B), Frozen: l.Frozen},
	}
}

// LowRank returns m with each dense layer i (In×Out, counting dense layers
// only) for which ranks[i] > 0 replaced by two dense layers with nothing
// between them: In×r with zero bias, then r×Out with the layer's bias,
// from the truncated SVD W ≈ U_r·Σ_r·V_rᵀ (gonum, float64), √Σ_r on each
// side. ranks[i] == 0 keeps layer i as it is. A factored layer loses its
// mask (its factors are dense). r may be at most min(In, Out), where the
// factors reproduce W; they hold fewer weights than W only below
// In·Out/(In+Out). m is not changed; the result keeps its name.
func LowRank(m *nn.Model, ranks []int) (*nn.Model, error) {
	ds, err := denseLayers(m)
	if err != nil {
		return nil, fmt.Errorf("low rank: %w", err)
	}
	fs := make([]*svdOf, len(ds))
	for i, d := range ds {
		if i < len(ranks) && ranks[i] > 0 {
			l := &m.Layers[d.idx]
			if !finite(l.W) {
				return nil, fmt.Errorf("low rank: dense layer %d: weights not all finite", d.idx)
			}
			if ranks[i] <= min(l.In, l.Out) {
				if fs[i], err = factor(l.W, l.In, l.Out); err != nil {
					return nil, fmt.Errorf("low rank: dense layer %d: %w", d.idx, err)
				}
			}
		}
	}
	return lowRank(m, ds, fs, ranks)
}

// lowRank is LowRank with the SVDs made: fs[i] for each ranks[i] > 0.
func lowRank(m *nn.Model, ds []dense, fs []*svdOf, ranks []int) (*nn.Model, error) {
	if len(ranks) != len(ds) {
		return nil, fmt.Errorf("low rank: %d ranks for %d dense layers", len(ranks), len(ds))
	}
	p := m.Clone()
	p.Layers = p.Layers[:0]
	next := 0
	for i, l := range m.Layers {
		if next < len(ds) && ds[next].idx == i {
			r := ranks[next]
			switch {
			case r < 0 || r > min(l.In, l.Out):
				return nil, fmt.Errorf("low rank: dense layer %d (%d×%d): rank %d, want 0 (keep) or 1 to %d", i, l.In, l.Out, r, min(l.In, l.Out))
			case r > 0:
				two := fs[next].split(&l, r)
				p.Layers = append(p.Layers, two[0], two[1])
				next++
				continue
			}
			next++
		}
		c := l
		c.W, c.B, c.Mask = slices.Clone(l.W), slices.Clone(l.B), slices.Clone(l.Mask)
		p.Layers = append(p.Layers, c)
	}
	return p, nil
}

// SVDError is the relative Frobenius error ‖W − W_r‖_F / ‖W‖_F of the
// rank-r truncated SVD of the in×out matrix W, the reconstruction
// computed in float64 (so, by Eckart–Young, √(Σ_{i>r} σ_i²)/‖W‖_F up to
// rounding). It is NaN for a zero W, a bad shape or r < 0, or when the
// SVD fails; 0 for r ≥ min(in, out) up to rounding.
func SVDError(w []float32, in, out, r int) float64 {
	if in <= 0 || out <= 0 || len(w) != in*out || r < 0 || !finite(w) {
		return math.NaN()
	}
	f, err := factor(w, in, out)
	if err != nil {
		return math.NaN()
	}
	r = min(r, len(f.s))
	var wr mat.Dense
	if r > 0 {
		us := mat.DenseCopyOf(f.u.Slice(0, in, 0, r))
		for j := range r {
			for k := range in {
				us.Set(k, j, us.At(k, j)*f.s[j])
			}
		}
		wr.Mul(us, f.v.Slice(0, out, 0, r).T())
	}
	diff, norm := 0.0, 0.0
	for k := range in {
		for n := range out {
			v := float64(w[k*out+n])
			e := v
			if r > 0 {
				e -= wr.At(k, n)
			}
			diff += e * e
			norm += v * v
		}
	}
	if norm == 0 {
		return math.NaN()
	}
	return math.Sqrt(diff / norm)
}

// chooseBatch is ChooseRanks's evaluation batch.
const chooseBatch = 256

// ErrNoRank is ChooseRanks's answer when no candidate keeps the accuracy.
var ErrNoRank = errors.New("no candidate rank keeps the accuracy")

// ChooseRanks finds the smallest rank among candidates that, given to
// every dense layer but the last (which stays full: its 10 outputs gain
// nothing), keeps m's accuracy on val within maxDrop (a fraction: 0.01 is
// one percentage point) of the full model's. It returns the ranks for
// LowRank and the accuracy they give (a fraction). Each layer's SVD is
// made once. A candidate above a layer's min(In, Out) is refused; with no
// candidate good enough the error is ErrNoRank.
func ChooseRanks(m *nn.Model, g nn.Gemm, val nn.Dataset, candidates []int, maxDrop float64) ([]int, float64, error) {
	ds, err := denseLayers(m)
	if err != nil {
		return nil, 0, fmt.Errorf("choose ranks: %w", err)
	}
	if val.N <= 0 {
		return nil, 0, fmt.Errorf("choose ranks: no validation examples")
	}
	if !(maxDrop >= 0) {
		return nil, 0, fmt.Errorf("choose ranks: maximum drop %v", maxDrop)
	}
	cands := slices.Sorted(slices.Values(candidates))
	cands = slices.Compact(cands)
	if len(cands) == 0 || cands[0] < 1 {
		return nil, 0, fmt.Errorf("choose ranks: candidates %v, want ranks ≥ 1", candidates)
	}
	if len(ds) < 2 {
		return nil, 0, fmt.Errorf("choose ranks: one dense layer, and the last stays full")
	}
	fs := make([]*svdOf, len(ds))
	for i, d := range ds[:len(ds)-1] {
		l := &m.Layers[d.idx]
		if top := cands[len(cands)-1]; top > min(l.In, l.Out) {
			return nil, 0, fmt.Errorf("choose ranks: rank %d is above dense layer %d's %d×%d", top, d.idx, l.In, l.Out)
		}
		if !finite(l.W) {
			return nil, 0, fmt.Errorf("choose ranks: dense layer %d: weights not all finite", d.idx)
		}
		if fs[i], err = factor(l.W, l.In, l.Out); err != nil {
			return nil, 0, fmt.Errorf("choose ranks: dense layer %d: %w", d.idx, err)
		}
	}
	if err := m.Validate(); err != nil {
		return nil, 0, fmt.Errorf("choose ranks: %w", err)
	}
	full := float64(nn.Accuracy(m, g, val, chooseBatch)) / float64(val.N)
	for _, r := range cands {
		ranks := make([]int, len(ds))
		for i := range ranks[:len(ds)-1] {
			ranks[i] = r
		}
		p, err := lowRank(m, ds, fs, ranks)
		if err != nil {
			return nil, 0, fmt.Errorf("choose ranks: %w", err)
		}
		acc := float64(nn.Accuracy(p, g, val, chooseBatch)) / float64(val.N)
		// A hair of slack so that a drop of exactly maxDrop, which
		// float64 may round either way, counts as within it.
		if acc >= full-maxDrop-1e-12 {
			return ranks, acc, nil
		}
	}
	return nil, 0, fmt.Errorf("choose ranks: %w: full model %.4f, within %v, candidates %v", ErrNoRank, full, maxDrop, cands)
}
