package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// maxElems bounds any one layer's activation, weight or im2col size per
// example, so that shape arithmetic cannot overflow and a hostile weights
// file cannot ask for terabytes.
const maxElems = 1 << 28

// shape is an activation's per-example shape; a dense layer's output is
// 1×1×Out.
type shape struct{ h, w, c int }

func (s shape) size() int { return s.h * s.w * s.c }

// NewMLP returns a multilayer perceptron: for sizes {784, 1024, 1024, 10},
// dense 784→1024, ReLU, dense 1024→1024, ReLU, dense 1024→10 (no ReLU
// after the last). An input of 784 is a 28×28×1 image; any other first
// size n is a 1×n×1 input. Weights are He-normal (standard deviation
// √(2/fan-in)) from a PCG generator seeded by seed, biases zero, so a seed
// names the initial weights on every machine.
func NewMLP(name string, sizes []int, seed uint64) *Model {
	if len(sizes) < 2 {
		panic("nn: NewMLP needs an input and an output size")
	}
	m := &Model{Name: name, InH: 1, InW: sizes[0], InC: 1}
	if sizes[0] == 28*28 {
		m.InH, m.InW = 28, 28
	}
	r := newRand(seed)
	for i := 1; i < len(sizes); i++ {
		in, out := sizes[i-1], sizes[i]
		m.Layers = append(m.Layers, Layer{Kind: KindDense, In: in, Out: out,
			W: heNormal(r, in*out, in), B: make([]float32, out)})
		if i < len(sizes)-1 {
			m.Layers = append(m.Layers, Layer{Kind: KindReLU, Height: 1, Width: 1, Channels: out})
		}
	}
	return m
}

// NewCNN returns the reference MNIST convolutional network: on a 28×28×1
// input, conv 3×3 1→32 (same padding), ReLU, 2×2 max-pool to 14×14×32;
// conv 3×3 32→64, ReLU, max-pool to 7×7×64; dense 3136→128, ReLU, dense
// 128→10. Initialised as NewMLP is.
func NewCNN(name string, seed uint64) *Model {
	m, err := ParseArch(name, "in:28x28x1 conv:3:1:32 relu maxpool conv:3:32:64 relu maxpool dense:3136:128 relu dense:128:10")
	if err != nil {
		panic(err)
	}
	m.Init(seed)
	return m
}

// Init sets every dense and convolution layer's weights He-normal from a
// PCG generator seeded by seed, in layer order, and biases to zero.
func (m *Model) Init(seed uint64) {
	r := newRand(seed)
	for i := range m.Layers {
		l := &m.Layers[i]
		switch l.Kind {
		case KindDense:
			l.W, l.B = heNormal(r, l.In*l.Out, l.In), make([]float32, l.Out)
		case KindConv:
			fanIn := l.K * l.K * l.InC
			l.W, l.B = heNormal(r, fanIn*l.OutC, fanIn), make([]float32, l.OutC)
		}
	}
}

func newRand(seed uint64) *rand.Rand {
	// The second PCG word is fixed: the seed alone names the stream.
	return rand.New(rand.NewPCG(seed, 0x6a6f756c6562656e)) // "joulebenc"
}

func heNormal(r *rand.Rand, n, fanIn int) []float32 {
	std := math.Sqrt(2 / float64(fanIn))
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(r.NormFloat64() * std)
	}
	return w
}

// Classes is the number of outputs of the last layer, the class logits.
func (m *Model) Classes() int {
	if len(m.Layers) == 0 {
		return 0
	}
	return m.Layers[len(m.Layers)-1].Out
}

// Params is the number of weights and biases.
func (m *Model) Params() int {
	n := 0
	for _, l := range m.Layers {
		n += len(l.W) + len(l.B)
	}
	return n
}

// FLOPs is the layer's forward floating-point operations per example,
// 2 per multiply-add of its GEMM (a convolution's padding zeros count: the
// GEMM does them). Biases, ReLU and pooling are not counted.
func (l *Layer) FLOPs() float64 {
	switch l.Kind {
	case KindDense:
		return 2 * float64(l.In) * float64(l.Out)
	case KindConv:
		return 2 * float64(l.Height) * float64(l.Width) * float64(l.K*l.K*l.InC) * float64(l.OutC)
	}
	return 0
}

// FLOPsPerExample is the forward pass's floating-point operations per
// example: 2 × the multiply-adds of the dense and convolution layers.
func (m *Model) FLOPsPerExample() float64 {
	f := 0.0
	for i := range m.Layers {
		f += m.Layers[i].FLOPs()
	}
	return f
}

// Clone returns a deep copy: weights, biases and masks are copied.
func (m *Model) Clone() *Model {
	c := *m
	c.Layers = make([]Layer, len(m.Layers))
	for i, l := range m.Layers {
		l.W = cloneF32(l.W)
		l.B = cloneF32(l.B)
		l.Mask = cloneF32(l.Mask)
		c.Layers[i] = l
	}
	return &c
}

func cloneF32(s []float32) []float32 {
	if s == nil {
		return nil
	}
	return append([]float32(nil), s...)
}

// Validate checks that the layers fit together (each layer's input shape
// is the previous one's output), that weights, biases and masks have the
// lengths their shapes say, that masks hold only 0 and 1, that every
// weight is finite, and that the model ends in a dense layer. Errors name
// the layer index and the field.
func (m *Model) Validate() error {
	_, err := m.check(true)
	return err
}

// check validates m's structure, and with weights its weights, biases
// and masks too, and returns each layer's output shape.
func (m *Model) check(weights bool) ([]shape, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("nn: model %q: "+format, append([]any{m.Name}, args...)...)
	}
	if m.InH <= 0 || m.InW <= 0 || m.InC <= 0 {
		return nil, fail("input shape %d×%d×%d: every dimension must be positive", m.InH, m.InW, m.InC)
	}
	cur := shape{m.InH, m.InW, m.InC}
	if _, ok := mulCheck(cur.h, cur.w, cur.c); !ok {
		return nil, fail("input shape %d×%d×%d is too large", m.InH, m.InW, m.InC)
	}
	if len(m.Layers) == 0 {
		return nil, fail("no layers")
	}
	out := make([]shape, len(m.Layers))
	for i := range m.Layers {
		l := &m.Layers[i]
		lfail := func(format string, args ...any) error {
			return fail("layer %d (%s): "+format, append([]any{i, l.Kind}, args...)...)
		}
		wantW, wantB := 0, 0
		switch l.Kind {
		case KindDense:
			if l.In != cur.size() {
				return nil, lfail("In is %d, but the layer before gives %d values (%d×%d×%d)", l.In, cur.size(), cur.h, cur.w, cur.c)
			}
			if l.Out <= 0 {
				return nil, lfail("Out is %d, must be positive", l.Out)
			}
			n, ok := mulCheck(l.In, l.Out)
			if !ok {
				return nil, lfail("In×Out = %d×%d is too large", l.In, l.Out)
			}
			wantW, wantB = n, l.Out
			cur = shape{1, 1, l.Out}
		case KindConv:
			if l.K <= 0 || l.K%2 == 0 {
				return nil, lfail("K is %d, must be odd and positive (same padding)", l.K)
			}
			if l.Height != cur.h || l.Width != cur.w || l.InC != cur.c {
				return nil, lfail("input H×W×InC is %d×%d×%d, but the layer before gives %d×%d×%d", l.Height, l.Width, l.InC, cur.h, cur.w, cur.c)
			}
			if l.OutC <= 0 {
				return nil, lfail("OutC is %d, must be positive", l.OutC)
			}
			kkc, ok1 := mulCheck(l.K, l.K, l.InC)
			n, ok2 := mulCheck(kkc, l.OutC)
			_, ok3 := mulCheck(l.Height, l.Width, kkc) // the im2col rows of one example
			_, ok4 := mulCheck(l.Height, l.Width, l.OutC)
			if !ok1 || !ok2 || !ok3 || !ok4 {
				return nil, lfail("K=%d, InC=%d, OutC=%d on %d×%d is too large", l.K, l.InC, l.OutC, l.Height, l.Width)
			}
			wantW, wantB = n, l.OutC
			cur = shape{cur.h, cur.w, l.OutC}
		case KindMaxPool:
			if l.Height != cur.h || l.Width != cur.w || l.Channels != cur.c {
				return nil, lfail("input H×W×C is %d×%d×%d, but the layer before gives %d×%d×%d", l.Height, l.Width, l.Channels, cur.h, cur.w, cur.c)
			}
			if cur.h < 2 || cur.w < 2 {
				return nil, lfail("input %d×%d is too small for 2×2 pooling", cur.h, cur.w)
			}
			cur = shape{cur.h / 2, cur.w / 2, cur.c}
		case KindReLU:
			// A ReLU's shape is informative: all zero is accepted.
			if (l.Height != 0 || l.Width != 0 || l.Channels != 0) && (l.Height != cur.h || l.Width != cur.w || l.Channels != cur.c) {
				return nil, lfail("input H×W×C is %d×%d×%d, but the layer before gives %d×%d×%d", l.Height, l.Width, l.Channels, cur.h, cur.w, cur.c)
			}
		default:
			return nil, lfail("unknown kind %q", string(l.Kind))
		}
		if !weights {
			out[i] = cur
			continue
		}
		if len(l.W) != wantW {
			return nil, lfail("W has %d values, want %d", len(l.W), wantW)
		}
		if len(l.B) != wantB {
			return nil, lfail("B has %d values, want %d", len(l.B), wantB)
		}
		if l.Mask != nil && len(l.Mask) != len(l.W) {
			return nil, lfail("Mask has %d values, want W's %d", len(l.Mask), len(l.W))
		}
		for j, v := range l.Mask {
			if v != 0 && v != 1 {
				return nil, lfail("Mask[%d] is %v, must be 0 or 1", j, v)
			}
		}
		if j := nonFinite(l.W); j >= 0 {
			return nil, lfail("W[%d] is %v, not finite", j, l.W[j])
		}
		if j := nonFinite(l.B); j >= 0 {
			return nil, lfail("B[%d] is %v, not finite", j, l.B[j])
		}
		out[i] = cur
	}
	if m.Layers[len(m.Layers)-1].Kind != KindDense {
		return nil, fail("layer %d (%s): the last layer must be dense (the class logits)", len(m.Layers)-1, m.Layers[len(m.Layers)-1].Kind)
	}
	return out, nil
}

func nonFinite(s []float32) int {
	for i, v := range s {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// mulCheck multiplies positive factors, reporting false past maxElems.
func mulCheck(f ...int) (int, bool) {
	p := 1
	for _, x := range f {
		if x <= 0 || p > maxElems/x {
			return 0, false
		}
		p *= x
	}
	return p, true
}

// Arch describes m's layers in one line, the form weight files carry and
// ParseArch reads: space-separated tokens,
//
//	in:HxWxC          the input shape (first, once)
//	dense:IN:OUT      a dense layer
//	conv:K:INC:OUTC   a K×K convolution, stride 1, same padding
//	maxpool           2×2 max-pooling, stride 2
//	relu              ReLU
//
// The spatial shapes of convolutions, pools and ReLUs follow from the
// input. The reference CNN is
// "in:28x28x1 conv:3:1:32 relu maxpool conv:3:32:64 relu maxpool dense:3136:128 relu dense:128:10".
func (m *Model) Arch() string {
	var b strings.Builder
	fmt.Fprintf(&b, "in:%dx%dx%d", m.InH, m.InW, m.InC)
	for _, l := range m.Layers {
		switch l.Kind {
		case KindDense:
			fmt.Fprintf(&b, " dense:%d:%d", l.In, l.Out)
		case KindConv:
			fmt.Fprintf(&b, " conv:%d:%d:%d", l.K, l.InC, l.OutC)
		default:
			b.WriteString(" " + string(l.Kind))
		}
	}
	return b.String()
}

// ParseArch builds a model named name from an Arch line, weights and
// biases zero (allocated to their lengths). Shapes are checked as
// Validate checks them, before anything is allocated.
func ParseArch(name, arch string) (*Model, error) {
	m, err := parseArch(name, arch)
	if err != nil {
		return nil, err
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		switch l.Kind {
		case KindDense:
			l.W, l.B = make([]float32, l.In*l.Out), make([]float32, l.Out)
		case KindConv:
			l.W, l.B = make([]float32, l.K*l.K*l.InC*l.OutC), make([]float32, l.OutC)
		}
	}
	return m, nil
}

// parseArch builds and checks the layers of an Arch line, without
// weights.
func parseArch(name, arch string) (*Model, error) {
	fail := func(format string, args ...any) (*Model, error) {
		return nil, fmt.Errorf("nn: arch %q: "+format, append([]any{arch}, args...)...)
	}
	tok := strings.Fields(arch)
	if len(tok) == 0 || !strings.HasPrefix(tok[0], "in:") {
		return fail("must begin with in:HxWxC")
	}
	dims := strings.Split(strings.TrimPrefix(tok[0], "in:"), "x")
	if len(dims) != 3 {
		return fail("input %q: want in:HxWxC", tok[0])
	}
	var in [3]int
	for i, d := range dims {
		v, err := atoiPos(d)
		if err != nil {
			return fail("input %q: %v", tok[0], err)
		}
		in[i] = v
	}
	m := &Model{Name: name, InH: in[0], InW: in[1], InC: in[2]}
	if _, ok := mulCheck(in[0], in[1], in[2]); !ok {
		return fail("input %q is too large", tok[0])
	}
	cur := shape{in[0], in[1], in[2]}
	for i, t := range tok[1:] {
		f := strings.Split(t, ":")
		nums := make([]int, len(f)-1)
		for j, s := range f[1:] {
			v, err := atoiPos(s)
			if err != nil {
				return fail("layer %d %q: %v", i, t, err)
			}
			nums[j] = v
		}
		var l Layer
		switch {
		case f[0] == "dense" && len(nums) == 2:
			l = Layer{Kind: KindDense, In: nums[0], Out: nums[1]}
			cur = shape{1, 1, nums[1]}
		case f[0] == "conv" && len(nums) == 3:
			l = Layer{Kind: KindConv, K: nums[0], InC: nums[1], OutC: nums[2], Height: cur.h, Width: cur.w}
			cur = shape{cur.h, cur.w, nums[2]}
		case t == "maxpool":
			l = Layer{Kind: KindMaxPool, Height: cur.h, Width: cur.w, Channels: cur.c}
			cur = shape{cur.h / 2, cur.w / 2, cur.c}
		case t == "relu":
			l = Layer{Kind: KindReLU, Height: cur.h, Width: cur.w, Channels: cur.c}
		default:
			return fail("layer %d: unknown token %q (want dense:IN:OUT, conv:K:INC:OUTC, maxpool or relu)", i, t)
		}
		m.Layers = append(m.Layers, l)
	}
	if _, err := m.check(false); err != nil {
		return nil, err
	}
	return m, nil
}

func atoiPos(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 || v > maxElems {
		return 0, errors.New("dimension " + strconv.Quote(s) + " is not a positive integer")
	}
	return v, nil
}
