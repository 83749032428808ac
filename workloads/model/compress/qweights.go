package compress

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

// archPrefix starts a QMLP's Arch in a weights file: "qmlp:" and the
// layer widths, input first, such as "qmlp:784-1024-1024-10".
const archPrefix = "qmlp:"

// Weights is q as nn's weights file: tensors "<i>.w" (dtype i8, shape
// [In, Out], Scales the per-column WScale) and "<i>.b" (f32, [Out]) for
// each layer i, then "in_scales" (f32, [layers]), every InScale in order.
// Model is q.Name, Arch "qmlp:" and the widths; meta is kept as given. The
// tensors share q's slices.
func (q *QMLP) Weights(meta map[string]string) *nn.WeightsFile {
	w := &nn.WeightsFile{Model: q.Name, Arch: q.Arch(), Meta: meta}
	in := make([]float32, len(q.Layers))
	for i, d := range q.Layers {
		w.Tensors = append(w.Tensors,
			nn.Tensor{Name: fmt.Sprintf("%d.w", i), DType: "i8", Shape: []int{d.In, d.Out}, I8: d.W, Scales: d.WScale},
			nn.Tensor{Name: fmt.Sprintf("%d.b", i), DType: "f32", Shape: []int{d.Out}, F32: d.B})
		in[i] = d.InScale
	}
	w.Tensors = append(w.Tensors, nn.Tensor{Name: "in_scales", DType: "f32", Shape: []int{len(in)}, F32: in})
	return w
}

// Arch is q's architecture string, "qmlp:784-1024-1024-10".
func (q *QMLP) Arch() string {
	var b strings.Builder
	b.WriteString(archPrefix)
	for i, d := range q.Layers {
		if i == 0 {
			b.WriteString(strconv.Itoa(d.In))
		}
		b.WriteString("-" + strconv.Itoa(d.Out))
	}
	return b.String()
}

// QMLPFromWeights is the QMLP of a weights file written by Weights. It
// checks the architecture, that every tensor it names is there once with
// its dtype and shape (and no other tensor), and then q.Validate; an error
// names the tensor at fault. The QMLP shares w's slices.
func QMLPFromWeights(w *nn.WeightsFile) (*QMLP, error) {
	if w == nil {
		return nil, fmt.Errorf("qmlp weights: none")
	}
	sizes, err := parseArch(w.Arch)
	if err != nil {
		return nil, fmt.Errorf("qmlp weights: %w", err)
	}
	byName := make(map[string]*nn.Tensor, len(w.Tensors))
	for i := range w.Tensors {
		t := &w.Tensors[i]
		if byName[t.Name] != nil {
			return nil, fmt.Errorf("qmlp weights: tensor %q twice", t.Name)
		}
		byName[t.Name] = t
	}
	layers := len(sizes) - 1
	take := func(name, dtype string, shape ...int) (*nn.Tensor, error) {
		t := byName[name]
		if t == nil {
			return nil, fmt.Errorf("qmlp weights: tensor %q missing", name)
		}
		delete(byName, name)
		if t.DType != dtype {
			return nil, fmt.Errorf("qmlp weights: tensor %q: dtype %q, want %q", name, t.DType, dtype)
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, fmt.Errorf("qmlp weights: tensor %q: shape %v, want %v for %s", name, t.Shape, shape, w.Arch)
		}
		n := 1
		for _, s := range shape {
			n *= s
		}
		var got int
		var other []int // lengths of the dtype's unused slices
		switch dtype {
		case "i8":
			got = len(t.I8)
			other = []int{len(t.F32)}
			if len(t.Scales) != shape[len(shape)-1] {
				return nil, fmt.Errorf("qmlp weights: tensor %q: %d scales for %d columns", name, len(t.Scales), shape[len(shape)-1])
			}
		default:
			got = len(t.F32)
			other = []int{len(t.I8), len(t.Scales)}
		}
		if got != n {
			return nil, fmt.Errorf("qmlp weights: tensor %q: %d values for shape %v", name, got, shape)
		}
		if slices.Max(other) != 0 {
			return nil, fmt.Errorf("qmlp weights: tensor %q: %s with values of another dtype", name, dtype)
		}
		return t, nil
	}
	q := &QMLP{Name: w.Model, Layers: make([]QDense, layers)}
	for i := range layers {
		in, out := sizes[i], sizes[i+1]
		tw, err := take(fmt.Sprintf("%d.w", i), "i8", in, out)
		if err != nil {
			return nil, err
		}
		tb, err := take(fmt.Sprintf("%d.b", i), "f32", out)
		if err != nil {
			return nil, err
		}
		q.Layers[i] = QDense{In: in, Out: out, W: tw.I8, WScale: tw.Scales, B: tb.F32, ReLU: i < layers-1}
	}
	ts, err := take("in_scales", "f32", layers)
	if err != nil {
		return nil, err
	}
	for i := range q.Layers {
		q.Layers[i].InScale = ts.F32[i]
	}
	if len(byName) > 0 {
		return nil, fmt.Errorf("qmlp weights: unexpected tensor %q", slices.Sorted(maps.Keys(byName))[0])
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("qmlp weights: %w", err)
	}
	return q, nil
}

// parseArch reads "qmlp:784-1024-10" as its widths: at least two, each in
// [1, maxDim].
func parseArch(arch string) ([]int, error) {
	rest, ok := strings.CutPrefix(arch, archPrefix)
	if !ok {
		return nil, fmt.Errorf("arch %q does not start with %q", arch, archPrefix)
	}
	parts := strings.Split(rest, "-")
	if len(parts) < 2 || len(parts) > 1000 {
		return nil, fmt.Errorf("arch %q: %d widths", arch, len(parts))
	}
	sizes := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > maxDim || strconv.Itoa(n) != p {
			return nil, fmt.Errorf("arch %q: width %q", arch, p)
		}
		sizes[i] = n
	}
	return sizes, nil
}
