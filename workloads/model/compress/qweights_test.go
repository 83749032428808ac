package compress

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

func testQMLP(t testing.TB, sizes []int) *QMLP {
	ranges := []float32{1}
	for range len(sizes) - 2 {
		ranges = append(ranges, 3)
	}
	q, err := Quantize(randMLP(sizes, 20), ranges)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestWeightsRoundTrip(t *testing.T) {
	q := testQMLP(t, []int{20, 16, 12, 4})
	w := q.Weights(map[string]string{"calibration": "2048 training images"})
	if w.Arch != "qmlp:20-16-12-4" || w.Model != "test-mlp" || len(w.Tensors) != 7 {
		t.Fatalf("arch %q model %q, %d tensors", w.Arch, w.Model, len(w.Tensors))
	}
	var names []string
	for _, ts := range w.Tensors {
		names = append(names, ts.Name+":"+ts.DType)
	}
	if got := strings.Join(names, " "); got != "0.w:i8 0.b:f32 1.w:i8 1.b:f32 2.w:i8 2.b:f32 in_scales:f32" {
		t.Errorf("tensors %s", got)
	}
	back, err := QMLPFromWeights(w)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, q) {
		t.Errorf("round trip changed the QMLP")
	}
}

func TestQMLPFromWeightsRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(w *nn.WeightsFile)
	}{
		{"arch prefix", `arch "mlp:20-16-4"`, func(w *nn.WeightsFile) { w.Arch = "mlp:20-16-4" }},
		{"arch width", `width "x"`, func(w *nn.WeightsFile) { w.Arch = "qmlp:20-x-4" }},
		{"arch one width", "1 widths", func(w *nn.WeightsFile) { w.Arch = "qmlp:20" }},
		{"arch +16", `width "+16"`, func(w *nn.WeightsFile) { w.Arch = "qmlp:20-+16-4" }},
		{"arch disagrees", `tensor "0.w": shape [20 16], want [20 15]`, func(w *nn.WeightsFile) { w.Arch = "qmlp:20-15-4" }},
		{"missing", `tensor "1.b" missing`, func(w *nn.WeightsFile) { w.Tensors = append(w.Tensors[:3], w.Tensors[4:]...) }},
		{"twice", `tensor "0.b" twice`, func(w *nn.WeightsFile) { w.Tensors = append(w.Tensors, w.Tensors[1]) }},
		{"extra", `unexpected tensor "zz"`, func(w *nn.WeightsFile) { w.Tensors = append(w.Tensors, nn.Tensor{Name: "zz"}) }},
		{"dtype", `tensor "1.w": dtype "f32", want "i8"`, func(w *nn.WeightsFile) { w.Tensors[2].DType = "f32" }},
		{"short", `tensor "0.b": 15 values`, func(w *nn.WeightsFile) { w.Tensors[1].F32 = w.Tensors[1].F32[1:] }},
		{"scales", `tensor "0.w": 15 scales for 16 columns`, func(w *nn.WeightsFile) { w.Tensors[0].Scales = w.Tensors[0].Scales[1:] }},
		{"mixed", `tensor "1.b": f32 with values of another dtype`, func(w *nn.WeightsFile) { w.Tensors[3].I8 = []int8{1} }},
		{"in_scales", `tensor "in_scales": shape [3], want [2]`, func(w *nn.WeightsFile) { w.Tensors[4].Shape = []int{3}; w.Tensors[4].F32 = append(w.Tensors[4].F32, 1) }},
		{"zero scale", "scale is not finite", func(w *nn.WeightsFile) { w.Tensors[2].Scales[0] = 0 }},
		{"-128", "weight -128", func(w *nn.WeightsFile) { w.Tensors[0].I8[7] = -128 }},
		{"NaN in_scale", "layer 1: a scale", func(w *nn.WeightsFile) { w.Tensors[4].F32[1] = float32(math.NaN()) }},
	} {
		q := testQMLP(t, []int{20, 16, 4})
		w := q.Weights(nil)
		tc.edit(w)
		_, err := QMLPFromWeights(w)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// FuzzQMLPFromWeights decodes the fuzzer's bytes as a list of tensors
// (name, dtype, shape and values each chosen by a byte) under the given
// arch: QMLPFromWeights must never panic, and what it accepts must run
// and write back the same.
func FuzzQMLPFromWeights(f *testing.F) {
	f.Add("qmlp:3-2-2", encodeFuzz(testQMLP(f, []int{3, 2, 2}).Weights(nil)))
	f.Add("qmlp:4-3", encodeFuzz(testQMLP(f, []int{4, 3}).Weights(nil)))
	f.Add("qmlp:3-2", []byte{0, 0, 2, 3, 2, 6, 1, 2})
	f.Fuzz(func(t *testing.T, arch string, data []byte) {
		w := &nn.WeightsFile{Model: "fuzz", Arch: arch, Tensors: decodeFuzz(data)}
		q, err := QMLPFromWeights(w)
		if err != nil {
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("accepted an invalid QMLP: %v", err)
		}
		x := make([]float32, q.Layers[0].In)
		for i := range x {
			x[i] = float32(i%3) / 2
		}
		f := NewQForward(q, 1, 1)
		got := f.Run(x, 1)
		if want := qReference(q, x).y[len(q.Layers)-1]; !reflect.DeepEqual(got, want) && !hasNaN(want) {
			t.Fatalf("kernel %v, reference %v", got, want)
		}
		back, err := QMLPFromWeights(q.Weights(nil))
		if err != nil || !reflect.DeepEqual(back, q) {
			t.Fatalf("write back: %v", err)
		}
	})
}

func hasNaN(xs []float32) bool {
	for _, x := range xs {
		if x != x {
			return true
		}
	}
	return false
}

var fuzzNames = []string{"0.w", "0.b", "1.w", "1.b", "2.w", "2.b", "in_scales", "x"}
var fuzzDTypes = []string{"i8", "f32", "f16"}

// decodeFuzz reads tensors from data: per tensor a name byte, a dtype
// byte, a rank byte and that many dimension bytes, then a value count
// byte and the values (an i8 each, or four bytes of a float32), then for
// i8 a scale count byte and the scales.
func decodeFuzz(data []byte) []nn.Tensor {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	f32 := func() float32 {
		if len(data) < 4 {
			data = nil
			return 0.5
		}
		v := math.Float32frombits(binary.LittleEndian.Uint32(data))
		data = data[4:]
		return v
	}
	var ts []nn.Tensor
	for len(data) > 0 && len(ts) < 16 {
		t := nn.Tensor{Name: fuzzNames[next()%len(fuzzNames)], DType: fuzzDTypes[next()%len(fuzzDTypes)]}
		for range next() % 4 {
			t.Shape = append(t.Shape, next()%8)
		}
		n := next()
		if t.DType == "i8" {
			for range n {
				t.I8 = append(t.I8, int8(next()))
			}
			for range next() {
				t.Scales = append(t.Scales, f32())
			}
		} else {
			for range n {
				t.F32 = append(t.F32, f32())
			}
		}
		ts = append(ts, t)
	}
	return ts
}

// encodeFuzz is decodeFuzz's inverse for small, well-formed tensors: the
// fuzzer's seeds.
func encodeFuzz(w *nn.WeightsFile) []byte {
	index := func(xs []string, s string) byte {
		for i, x := range xs {
			if x == s {
				return byte(i)
			}
		}
		panic(s)
	}
	var b []byte
	f32 := func(v float32) { b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v)) }
	for _, t := range w.Tensors {
		b = append(b, index(fuzzNames, t.Name), index(fuzzDTypes, t.DType), byte(len(t.Shape)))
		for _, s := range t.Shape {
			b = append(b, byte(s))
		}
		if t.DType == "i8" {
			b = append(b, byte(len(t.I8)))
			for _, v := range t.I8 {
				b = append(b, byte(v))
			}
			b = append(b, byte(len(t.Scales)))
			for _, v := range t.Scales {
				f32(v)
			}
		} else {
			b = append(b, byte(len(t.F32)))
			for _, v := range t.F32 {
				f32(v)
			}
		}
	}
	return b
}
