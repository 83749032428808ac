package compress

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

// One outlier among 20,001 activations: the percentile ignores it, the
// maximum would set a step a hundred times coarser for all the rest.
func TestCalibrateIgnoresOutlier(t *testing.T) {
	// Hidden activation = the input, through a 1×1 identity layer.
	m := &nn.Model{Name: "outlier", InH: 1, InW: 1, InC: 1, Layers: []nn.Layer{
		{Kind: nn.KindDense, In: 1, Out: 1, W: []float32{1}, B: []float32{0}},
		{Kind: nn.KindReLU},
		{Kind: nn.KindDense, In: 1, Out: 2, W: []float32{1, -1}, B: []float32{0, 0}},
	}}
	const n = 20001
	r := rand.New(rand.NewPCG(70, 70))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Float64())
	}
	x[n/2] = 100
	ranges, err := Calibrate(m, nn.GoGemm{Threads: 1}, nn.Dataset{X: x, N: n}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if ranges[0] != 1 {
		t.Errorf("first range %v, want 1 (pixels)", ranges[0])
	}
	if ranges[1] < 0.99 || ranges[1] > 1 {
		t.Errorf("hidden range %v, want the 99.99th percentile of U(0,1), about 0.9999", ranges[1])
	}
	// Nearest rank: ⌈0.9999·20001⌉ = 19999 values at or below it.
	sorted := slices.Sorted(slices.Values(x))
	if want := sorted[19998]; ranges[1] != want {
		t.Errorf("hidden range %v, want the 19,999th smallest, %v", ranges[1], want)
	}
	maxRange := activationRange(slices.Clone(x), 100)
	if maxRange != 100 {
		t.Errorf("100th percentile %v, want the maximum 100", maxRange)
	}
	meanErr := func(rng float32) float64 {
		s, e := rng/255, 0.0
		for _, v := range x {
			if v != 100 {
				e += math.Abs(float64(v) - float64(s)*float64(quantizeU8(v, s)))
			}
		}
		return e / (n - 1)
	}
	p, mx := meanErr(ranges[1]), meanErr(maxRange)
	t.Logf("mean |error| of the other activations: percentile %.2g, maximum %.2g", p, mx)
	if mx < 50*p {
		t.Errorf("the maximum's error %v is not far above the percentile's %v", mx, p)
	}
}

func TestCalibrateDeadLayer(t *testing.T) {
	m := randMLP([]int{5, 4, 3}, 71)
	for i := range m.Layers[0].W {
		m.Layers[0].W[i] = -1 // every hidden output negative: ReLU gives 0
	}
	ranges, err := Calibrate(m, nn.GoGemm{Threads: 1}, nn.Dataset{X: randPixels(10, 5, 72), N: 10}, 4)
	if err != nil || ranges[1] != 1 {
		t.Fatalf("ranges %v, %v; want 1 for a layer never active", ranges, err)
	}
	if _, err := Calibrate(m, nn.GoGemm{Threads: 1}, nn.Dataset{X: randPixels(10, 5, 72), N: 11}, 4); err == nil {
		t.Error("short calibration data accepted")
	}
}

func TestNthElement(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 73))
	for range 200 {
		xs := make([]float32, 1+r.IntN(50))
		for i := range xs {
			xs[i] = float32(r.IntN(8)) // many ties
		}
		k := r.IntN(len(xs))
		want := slices.Sorted(slices.Values(xs))[k]
		if got := nthElement(slices.Clone(xs), k); got != want {
			t.Fatalf("%v: element %d is %v, want %v", xs, k, got, want)
		}
	}
}

// nn's weights file carries a QMLP unchanged.
func TestWeightsFileRoundTrip(t *testing.T) {
	q := testQMLP(t, []int{30, 20, 10})
	data, err := nn.EncodeWeights(q.Weights(map[string]string{"calibration": "test"}))
	if err != nil {
		t.Fatal(err)
	}
	w, err := nn.DecodeWeights(data, "test.jbw")
	if err != nil {
		t.Fatal(err)
	}
	back, err := QMLPFromWeights(w)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, q) || w.Meta["calibration"] != "test" {
		t.Error("the weights file changed the QMLP")
	}
}
