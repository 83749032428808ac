package compress

import (
	"fmt"
	"math"
	"slices"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

// QDense is one int8 dense layer. See the package comment for the exact
// arithmetic it stands for.
type QDense struct {
	In, Out int
	// W is In×Out row-major, as nn's dense weights are; every value is in
	// [-127, 127] (symmetric: -128 is never produced and is refused).
	W []int8
	// WScale[n] is column n's scale: the real weight is about WScale[n]·W.
	WScale []float32
	// B is the bias, in real (float32) units.
	B []float32
	// InScale is the scale of this layer's u8 input: the real activation is
	// about InScale·q. The first layer's is 1/255 (pixels in [0, 1]).
	InScale float32
	// ReLU is false only for the last layer, whose outputs are the logits.
	ReLU bool
}

// QMLP is an int8 MLP: the layers in order, each hidden layer's output
// requantised to u8 with the next layer's InScale.
type QMLP struct {
	// Name is the float model's name (weights files carry it).
	Name   string
	Layers []QDense
}

// CalibPercentile is the percentile of a hidden layer's post-ReLU
// activations, over the calibration data, that Calibrate takes as the
// layer's input range.
//
// Why not the maximum: the range sets the u8 step for every activation of
// the layer, and the maximum of a few million activations is one outlier.
// Clipping the top 0.01% (about 200 of 2,048×1,024 values) costs those few
// values a bounded error, while the maximum would coarsen the step for all
// the rest; TestCalibrateIgnoresOutlier shows the difference on a layer
// with one outlier. Zeros (ReLU's dead outputs) are counted, as they are
// what the u8 code spends its steps on too.
const CalibPercentile = 99.99

// Calibrate runs the float model over calib, batch examples at a time on g,
// and returns, for each dense layer in order, the range of its input that
// its InScale will cover (InScale = range/255): 1 for the first layer,
// whose inputs are pixels in [0, 1], so that its InScale is exactly the
// float32 1/255; for every later layer the CalibPercentile percentile
// (nearest rank) of the previous layer's post-ReLU activations. A layer
// whose percentile is 0 gets the maximum, and one that is never active gets
// 1: any scale codes an all-zero activation exactly.
func Calibrate(m *nn.Model, g nn.Gemm, calib nn.Dataset, batch int) ([]float32, error) {
	ds, err := denseLayers(m)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	for _, d := range ds[:len(ds)-1] {
		if !d.relu {
			return nil, fmt.Errorf("calibrate: %w: dense layer %d has no ReLU after it, so its outputs do not fit u8", ErrNotMLP, d.idx)
		}
	}
	in := m.Layers[ds[0].idx].In
	if calib.N <= 0 || len(calib.X) < calib.N*in {
		return nil, fmt.Errorf("calibrate: %d examples of %d inputs in %d values", calib.N, in, len(calib.X))
	}
	if batch <= 0 {
		return nil, fmt.Errorf("calibrate: batch %d", batch)
	}
	acts := make([][]float32, len(ds)) // acts[i]: every input of dense layer i ≥ 1
	for i := 1; i < len(ds); i++ {
		acts[i] = make([]float32, 0, calib.N*m.Layers[ds[i].idx].In)
	}
	bufs := [2][]float32{}
	for lo := 0; lo < calib.N; lo += batch {
		n := min(batch, calib.N-lo)
		x := calib.X[lo*in : (lo+n)*in]
		for i, d := range ds[:len(ds)-1] {
			l := &m.Layers[d.idx]
			y := slices.Grow(bufs[i%2][:0], n*l.Out)[:n*l.Out]
			bufs[i%2] = y
			for r := range n {
				copy(y[r*l.Out:(r+1)*l.Out], l.B)
			}
			g.Sgemm(false, false, n, l.Out, l.In, 1, x, l.In, l.W, l.Out, 1, y, l.Out)
			for j, v := range y {
				if !(v > 0) {
					y[j] = 0 // ReLU; a NaN is caught below, not coded as 0
					if v != v {
						return nil, fmt.Errorf("calibrate: dense layer %d gave NaN", d.idx)
					}
				}
			}
			acts[i+1] = append(acts[i+1], y...)
			x = y
		}
	}
	ranges := make([]float32, len(ds))
	ranges[0] = 1
	for i := 1; i < len(ds); i++ {
		ranges[i] = activationRange(acts[i], CalibPercentile)
		if math.IsInf(float64(ranges[i]), 0) {
			return nil, fmt.Errorf("calibrate: dense layer %d's inputs reach +Inf", ds[i].idx)
		}
	}
	return ranges, nil
}

// activationRange is the p-th percentile of xs (nearest rank: the value
// with ⌈p/100·len⌉ values at or below it), or the maximum when that is 0,
// or 1 when every value is 0. It reorders xs.
func activationRange(xs []float32, p float64) float32 {
	if len(xs) == 0 {
		return 1
	}
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	rank = min(max(rank, 1), len(xs))
	v := nthElement(xs, rank-1)
	if v > 0 {
		return v
	}
	v = slices.Max(xs)
	if v > 0 {
		return v
	}
	return 1
}

// nthElement returns the value that would be xs[k] were xs sorted, moving
// xs's elements (Hoare's quickselect, median of three: linear on average,
// without sorting millions of activations).
func nthElement(xs []float32, k int) float32 {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for pivot < xs[j] {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}

// Quantize makes the int8 MLP of m, whose dense layers' input ranges are
// inRanges (from Calibrate): per-channel symmetric weights, WScale[n] =
// max_k |W[k,n]| / 127 (a zero column gets scale 1 and all-zero weights),
// W8 = clamp(RoundToEven(W/WScale[n]), -127, 127), and InScale = range/255,
// all in float32 except the division W/WScale[n], done in float64 so that
// the rounding is the correct one and |W - WScale[n]·W8| ≤ WScale[n]/2
// holds exactly. m must be an MLP with a ReLU after every hidden dense
// layer, and is not changed.
func Quantize(m *nn.Model, inRanges []float32) (*QMLP, error) {
	ds, err := denseLayers(m)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	if len(inRanges) != len(ds) {
		return nil, fmt.Errorf("quantize: %d input ranges for %d dense layers", len(inRanges), len(ds))
	}
	q := &QMLP{Name: m.Name, Layers: make([]QDense, len(ds))}
	for i, d := range ds {
		l := &m.Layers[d.idx]
		if i < len(ds)-1 && !d.relu {
			return nil, fmt.Errorf("quantize: %w: dense layer %d has no ReLU after it, so its outputs do not fit u8", ErrNotMLP, d.idx)
		}
		r := inRanges[i]
		if !(r > 0) || math.IsInf(float64(r), 0) {
			return nil, fmt.Errorf("quantize: dense layer %d: input range %v (want finite and > 0)", d.idx, r)
		}
		if !finite(l.W) || !finite(l.B) {
			return nil, fmt.Errorf("quantize: dense layer %d: weights not all finite", d.idx)
		}
		w8, scales := quantizeWeights(l.W, l.In, l.Out)
		q.Layers[i] = QDense{
			In: l.In, Out: l.Out, W: w8, WScale: scales,
			B:       slices.Clone(l.B),
			InScale: r / 255,
			ReLU:    i < len(ds)-1,
		}
	}
	return q, nil
}

// quantizeWeights is Quantize's per-channel symmetric quantisation of one
// In×Out row-major matrix.
func quantizeWeights(w []float32, in, out int) ([]int8, []float32) {
	scales := make([]float32, out)
	for k := range in {
		for n, v := range w[k*out : (k+1)*out] {
			scales[n] = max(scales[n], float32(math.Abs(float64(v))))
		}
	}
	for n, a := range scales {
		if a == 0 {
			scales[n] = 1
		} else {
			scales[n] = a / 127
		}
	}
	w8 := make([]int8, len(w))
	for k := range in {
		row := w[k*out : (k+1)*out]
		for n, v := range row {
			r := math.RoundToEven(float64(v) / float64(scales[n]))
			w8[k*out+n] = int8(min(max(r, -127), 127))
		}
	}
	return w8, scales
}

// quantizeU8 codes v with scale s as the package comment's
// clamp(RoundToEven(max(v, 0)/s), 0, 255), the division in float32. A NaN
// codes as 0.
func quantizeU8(v, s float32) uint8 {
	r := v / s
	if !(r > 0) {
		return 0
	}
	if r >= 255 {
		return 255
	}
	return uint8(math.RoundToEven(float64(r)))
}
