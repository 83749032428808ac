package compress

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

func TestQuantizeWeightsRoundTrip(t *testing.T) {
	m := randMLP([]int{97, 61, 10}, 1)
	// A zero column, a column of one value, and tiny and huge magnitudes.
	l := &m.Layers[0]
	for k := range l.In {
		l.W[k*l.Out+3] = 0
		l.W[k*l.Out+4] = -0.25
		l.W[k*l.Out+5] *= 1e-30
		l.W[k*l.Out+6] *= 1e30
	}
	q, err := Quantize(m, []float32{1, 6})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range slices.DeleteFunc(slices.Clone(m.Layers), func(l nn.Layer) bool { return l.Kind != nn.KindDense }) {
		qd := q.Layers[i]
		for n := range d.Out {
			s := qd.WScale[n]
			colMax := float32(0)
			for k := range d.In {
				colMax = max(colMax, float32(math.Abs(float64(d.W[k*d.Out+n]))))
			}
			if colMax == 0 {
				if s != 1 {
					t.Errorf("layer %d column %d: zero column has scale %v, want 1", i, n, s)
				}
			} else if s != colMax/127 {
				t.Errorf("layer %d column %d: scale %v, want max|w|/127 = %v", i, n, s, colMax/127)
			}
			peak := int8(0)
			for k := range d.In {
				w, w8 := d.W[k*d.Out+n], qd.W[k*d.Out+n]
				if w8 < -127 {
					t.Fatalf("layer %d: weight %d", i, w8)
				}
				// Exactly the bound: float64 holds s·w8 and the
				// difference without rounding.
				if e := math.Abs(float64(w) - float64(s)*float64(w8)); e > float64(s)/2 {
					t.Errorf("layer %d w[%d,%d] = %v: %d·%v is %v off, over half a step", i, k, n, w, w8, s, e)
				}
				peak = max(peak, w8, -w8)
			}
			if colMax != 0 && peak != 127 {
				t.Errorf("layer %d column %d: largest |w8| %d, want 127", i, n, peak)
			}
		}
	}
	if q.Layers[0].InScale != float32(1)/255 || q.Layers[1].InScale != float32(6)/255 {
		t.Errorf("InScales %v, %v", q.Layers[0].InScale, q.Layers[1].InScale)
	}
	if !q.Layers[0].ReLU || q.Layers[1].ReLU {
		t.Errorf("ReLU flags %v %v", q.Layers[0].ReLU, q.Layers[1].ReLU)
	}
}

func TestQuantizeTiesToEven(t *testing.T) {
	// Column max 127 gives scale 1, so each weight is its own ratio.
	m := &nn.Model{Name: "ties", InH: 1, InW: 5, InC: 1, Layers: []nn.Layer{{
		Kind: nn.KindDense, In: 5, Out: 1,
		W: []float32{127, 0.5, 1.5, 2.5, -2.5}, B: []float32{0},
	}}}
	q, err := Quantize(m, []float32{1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int8{127, 0, 2, 2, -2}; !slices.Equal(q.Layers[0].W, want) {
		t.Errorf("W8 %v, want %v", q.Layers[0].W, want)
	}
}

func TestQuantizeRefuses(t *testing.T) {
	m := randMLP([]int{8, 6, 4}, 2)
	for _, tc := range []struct {
		name   string
		edit   func(m *nn.Model)
		ranges []float32
	}{
		{"ranges count", nil, []float32{1}},
		{"zero range", nil, []float32{1, 0}},
		{"NaN range", nil, []float32{1, float32(math.NaN())}},
		{"Inf range", nil, []float32{1, float32(math.Inf(1))}},
		{"NaN weight", func(m *nn.Model) { m.Layers[2].W[3] = float32(math.NaN()) }, []float32{1, 1}},
		{"no ReLU", func(m *nn.Model) { m.Layers = slices.Delete(m.Layers, 1, 2) }, []float32{1, 1}},
		{"conv", func(m *nn.Model) { m.Layers[1].Kind = nn.KindConv }, []float32{1, 1}},
		{"ReLU on logits", func(m *nn.Model) { m.Layers = append(m.Layers, nn.Layer{Kind: nn.KindReLU}) }, []float32{1, 1}},
		{"short W", func(m *nn.Model) { m.Layers[0].W = m.Layers[0].W[1:] }, []float32{1, 1}},
		{"shapes", func(m *nn.Model) { m.Layers[2].In = 5; m.Layers[2].W = m.Layers[2].W[:20] }, []float32{1, 1}},
	} {
		c := randMLP([]int{8, 6, 4}, 2)
		if tc.edit != nil {
			tc.edit(c)
		}
		if _, err := Quantize(c, tc.ranges); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
	if _, err := Quantize(m, []float32{1, 1}); err != nil {
		t.Fatal(err)
	}
	bad := randMLP([]int{8, 6, 4}, 2)
	bad.Layers[1].Kind = "attention"
	if _, err := Quantize(bad, []float32{1, 1}); !errors.Is(err, ErrNotMLP) {
		t.Errorf("got %v, want ErrNotMLP", err)
	}
}

func TestPixelsCodeExactly(t *testing.T) {
	s := float32(1) / 255
	for p := range 256 {
		x := float32(p) / 255
		if got := quantizeU8(x, s); int(got) != p {
			t.Errorf("pixel %d/255 codes as %d", p, got)
		}
	}
	if quantizeU8(0, s) != 0 || quantizeU8(1, s) != 255 {
		t.Errorf("0 → %d, 1 → %d", quantizeU8(0, s), quantizeU8(1, s))
	}
	// And through the whole kernel: a one-layer identity-like model
	// whose weights read the codes back.
	q := &QMLP{Layers: []QDense{{In: 2, Out: 2, W: []int8{1, 0, 0, 1}, WScale: []float32{1, 1}, B: []float32{0, 0}, InScale: s}}}
	got := NewQForward(q, 1, 1).Run([]float32{0, 1}, 1)
	if want := []float32{0, 255 * s}; !slices.Equal(got, want) {
		t.Errorf("kernel reads 0, 1 as %v, want %v", got, want)
	}
}

// The activation code's round trip: within range, |x − s·q| ≤ s·(1/2 +
// 2⁻¹⁶), half a step plus the float32 division's rounding (relative
// 2⁻²⁴ on a ratio below 255.5, so under 2⁻¹⁶ of a step); above it, the
// value is clipped to 255·s; at or below 0 (and NaN) it is 0.
func TestActivationRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for range 200 {
		rng := float32(math.Exp(r.Float64()*20 - 10))
		s := rng / 255
		for range 500 {
			x := float32(r.Float64()) * rng
			q := quantizeU8(x, s)
			if e := math.Abs(float64(x) - float64(s)*float64(q)); e > float64(s)*(0.5+1.0/65536) {
				t.Fatalf("range %v: %v codes as %d, %v off (step %v)", rng, x, q, e, s)
			}
			if over := rng * (1 + float32(r.Float64())); quantizeU8(over, s) != 255 {
				t.Fatalf("range %v: %v above it codes as %d", rng, over, quantizeU8(over, s))
			}
		}
	}
	for _, v := range []float32{0, -1, float32(math.Inf(-1)), float32(math.NaN())} {
		if quantizeU8(v, 0.1) != 0 {
			t.Errorf("%v codes as %d", v, quantizeU8(v, 0.1))
		}
	}
	if quantizeU8(float32(math.Inf(1)), 0.1) != 255 {
		t.Error("+Inf does not code as 255")
	}
}

// The kernel is the reference bit for bit, whatever the shapes (inputs not
// a multiple of laneK, outputs not of groupN), batch and threads.
func TestQForwardMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		sizes          []int
		batch, threads int
	}{
		{[]int{5, 3}, 1, 1},
		{[]int{31, 13, 7}, 3, 2},
		{[]int{33, 12, 12, 2}, 7, 3},
		{[]int{97, 61, 40, 10}, 16, 5},
		{[]int{784, 100, 10}, 9, 2},
		{[]int{300, 257, 11}, 64, 4},
	} {
		m := randMLP(tc.sizes, uint64(len(tc.sizes)*1000+tc.batch))
		calib := randPixels(64, tc.sizes[0], 5)
		ranges, err := Calibrate(m, nn.GoGemm{Threads: 1}, nn.Dataset{X: calib, N: 64}, 16)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Quantize(m, ranges)
		if err != nil {
			t.Fatal(err)
		}
		x := randPixels(tc.batch, tc.sizes[0], 6)
		f := NewQForward(q, tc.batch, tc.threads)
		for n := 1; n <= tc.batch; n += max(1, tc.batch/3) {
			got := f.Run(x, n)
			classes := tc.sizes[len(tc.sizes)-1]
			for i := range n {
				want := qReference(q, x[i*tc.sizes[0]:(i+1)*tc.sizes[0]]).y[len(tc.sizes)-2]
				if !slices.Equal(got[i*classes:(i+1)*classes], want) {
					t.Fatalf("%v batch %d threads %d n %d row %d: kernel %v, reference %v", tc.sizes, tc.batch, tc.threads, n, i, got[i*classes:(i+1)*classes], want)
				}
			}
		}
	}
}

// The lanes hold at their extremes: every input 255 against weights of
// ±127 (and the -128 that Validate refuses but the lanes still carry).
func TestQForwardExtremes(t *testing.T) {
	for _, in := range []int{1000, 70000} { // 70,000·255·127 wraps int32, as the reference does
		for _, w := range []int8{127, -127} {
			extremes(t, in, 14, w)
		}
	}
	var acc [groupN]int32
	c := laneBias + int64(-128*255*laneK) + int64(127*255*laneK)<<laneBits + int64(-128*255*laneK)<<(2*laneBits)
	unpack(&acc, 0, c)
	const b = 1 << (laneBits - 1)
	if acc[0]-b != -128*255*laneK || acc[1]-b != 127*255*laneK || acc[2]-b != -128*255*laneK {
		t.Errorf("lanes %v", acc[:3])
	}
}

func extremes(t *testing.T, in, out int, w int8) {
	d := QDense{In: in, Out: out, W: make([]int8, in*out), WScale: make([]float32, out), B: make([]float32, out), InScale: 1}
	for i := range d.W {
		d.W[i] = w
		if i%out == 5 {
			d.W[i] = -w // a neighbour lane of the opposite sign
		}
	}
	for n := range out {
		d.WScale[n] = 1
	}
	q := &QMLP{Layers: []QDense{d}}
	x := make([]float32, in)
	for i := range x {
		x[i] = 255
	}
	got := NewQForward(q, 1, 1).Run(x, 1)
	want := qReference(q, x).y[0]
	acc := int32(0)
	for range in {
		acc += 255 * int32(w)
	}
	if !slices.Equal(got, want) || got[0] != float32(acc) {
		t.Errorf("in %d, w %d: kernel %v, reference %v", in, w, got, want)
	}
}

// The int8 model's logits stay within a bound computed, example by
// example, from what the int8 path did: each layer's error is at most
// Σ_k (â_k·|Ŵ_kn − W_kn| + E_k·|W_kn|) plus float32 rounding, where â is
// the dequantised input, Ŵ = WScale·W8 and E the input's error so far
// (ReLU does not grow an error; requantising adds |s·q − relu(ŷ)|). The
// test checks the bound holds and logs how tight it is and the error
// itself against the logits' spread.
func TestQForwardCloseToFloat(t *testing.T) {
	sizes := []int{784, 256, 128, 10}
	m := randMLP(sizes, 7)
	calib := randPixels(512, sizes[0], 8)
	ranges, err := Calibrate(m, nn.GoGemm{Threads: 2}, nn.Dataset{X: calib, N: 512}, 128)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Quantize(m, ranges)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	x := randPixels(n, sizes[0], 9)
	logits := make([]float32, n*10)
	q.Forward(x, n, logits, 2)
	var worstRatio, worstRel float64
	agree := 0
	for i := range n {
		xi := x[i*784 : (i+1)*784]
		want := refForward64(m, xi)
		bound := qErrorBound(m, q, xi)
		spread := 0.0
		for _, v := range want {
			spread = max(spread, math.Abs(v))
		}
		got := logits[i*10 : (i+1)*10]
		for c := range 10 {
			e := math.Abs(float64(got[c]) - want[c])
			if e > bound[c] {
				t.Errorf("example %d class %d: int8 %v, float %v: %v off, bound %v", i, c, got[c], want[c], e, bound[c])
			}
			worstRatio = max(worstRatio, e/bound[c])
			worstRel = max(worstRel, e/spread)
		}
		wf := make([]float32, 10)
		for c := range wf {
			wf[c] = float32(want[c])
		}
		if nn.Argmax(got) == nn.Argmax(wf) {
			agree++
		}
	}
	t.Logf("%v: largest error %.2f%% of the largest |logit|, %.0f%% of its bound; top-1 agrees on %d of %d", sizes, 100*worstRel, 100*worstRatio, agree, n)
	if worstRel > 0.05 {
		t.Errorf("largest logit error %.1f%% of the logits' scale, want under 5%%", 100*worstRel)
	}
}

// qErrorBound is the bound TestQForwardCloseToFloat states, for one example.
func qErrorBound(m *nn.Model, q *QMLP, x []float32) []float64 {
	tr := qReference(q, x)
	const u = 1.0 / (1 << 24) // float32's unit roundoff
	e := make([]float64, len(x))
	for k, v := range x {
		e[k] = math.Abs(float64(v) - float64(q.Layers[0].InScale)*float64(tr.q[0][k]))
	}
	di := 0
	for _, l := range m.Layers {
		if l.Kind != nn.KindDense {
			continue
		}
		d := q.Layers[di]
		dn := make([]float64, l.Out)
		for n := range l.Out {
			s := float64(d.WScale[n])
			sum, mag := 0.0, 0.0
			for k := range l.In {
				w := float64(l.W[k*l.Out+n])
				wq := s * float64(d.W[k*l.Out+n])
				a := float64(d.InScale) * float64(tr.q[di][k])
				sum += a*math.Abs(wq-w) + e[k]*math.Abs(w)
				mag += a * math.Abs(wq)
			}
			// float32(acc), InScale·WScale, the product and the bias
			// add each round once.
			dn[n] = sum + 4*u*(mag+math.Abs(float64(l.B[n]))) + 1e-12
		}
		if di+1 < len(q.Layers) {
			next := q.Layers[di+1]
			for n := range dn {
				relu := math.Max(float64(tr.y[di][n]), 0)
				dn[n] += math.Abs(float64(next.InScale)*float64(tr.q[di+1][n]) - relu)
			}
		}
		e = dn
		di++
	}
	return e
}

func TestQForwardNoAllocs(t *testing.T) {
	m := randMLP([]int{100, 64, 10}, 10)
	q, err := Quantize(m, []float32{1, 4})
	if err != nil {
		t.Fatal(err)
	}
	x := randPixels(32, 100, 11)
	for _, threads := range []int{1, 2, 4} {
		f := NewQForward(q, 32, threads)
		if a := testing.AllocsPerRun(20, func() { f.Run(x, 32) }); a > 0 {
			t.Errorf("threads %d: %v allocations a call", threads, a)
		}
	}
}

func TestQMLPValidate(t *testing.T) {
	good := func() *QMLP {
		q, err := Quantize(randMLP([]int{6, 5, 3}, 12), []float32{1, 2})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(q *QMLP){
		"no layers":   func(q *QMLP) { q.Layers = nil },
		"chain":       func(q *QMLP) { q.Layers[1].In = 4; q.Layers[1].W = q.Layers[1].W[:12] },
		"short scale": func(q *QMLP) { q.Layers[0].WScale = q.Layers[0].WScale[1:] },
		"-128":        func(q *QMLP) { q.Layers[1].W[2] = -128 },
		"zero scale":  func(q *QMLP) { q.Layers[0].WScale[1] = 0 },
		"NaN scale":   func(q *QMLP) { q.Layers[1].InScale = float32(math.NaN()) },
		"Inf bias":    func(q *QMLP) { q.Layers[1].B[0] = float32(math.Inf(1)) },
		"ReLU last":   func(q *QMLP) { q.Layers[1].ReLU = true },
		"no ReLU":     func(q *QMLP) { q.Layers[0].ReLU = false },
		"huge":        func(q *QMLP) { q.Layers[0].In = 1 << 40 },
	} {
		q := good()
		edit(q)
		if err := q.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewQForward took an invalid QMLP")
		}
	}()
	NewQForward(&QMLP{}, 1, 1)
}

// Example: per-channel scales are each column's largest |w| over 127, and
// each weight is its ratio to the scale, rounded half to even.
func ExampleQuantize() {
	m := &nn.Model{Name: "tiny", InH: 1, InW: 2, InC: 1, Layers: []nn.Layer{{
		Kind: nn.KindDense, In: 2, Out: 3,
		W: []float32{ // 2×3: rows are inputs, columns outputs
			0.5, -0.03, 0,
			-0.2, 0.01, 0,
		},
		B: []float32{0, 0, 0},
	}}}
	q, err := Quantize(m, []float32{1})
	if err != nil {
		panic(err)
	}
	d := q.Layers[0]
	fmt.Printf("WScale %.6f\n", d.WScale)
	fmt.Println("W8", d.W[:3])
	fmt.Println("  ", d.W[3:])
	fmt.Printf("InScale 1/%.0f\n", 1/d.InScale)
	// Output:
	// WScale [0.003937 0.000236 1.000000]
	// W8 [127 -127 0]
	//    [-51 42 0]
	// InScale 1/255
}

// Close stops a QForward's goroutines, and so does dropping it.
func TestQForwardClose(t *testing.T) {
	q, err := Quantize(randMLP([]int{10, 8, 4}, 13), []float32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	settle := func(want int) int {
		n := 0
		for range 200 {
			if n = runtime.NumGoroutine(); n <= want {
				break
			}
			runtime.GC()
			time.Sleep(5 * time.Millisecond)
		}
		return n
	}
	base := runtime.NumGoroutine()
	f := NewQForward(q, 8, 4)
	if n := runtime.NumGoroutine(); n != base+3 {
		t.Fatalf("%d goroutines, want %d", n, base+3)
	}
	f.Close()
	f.Close() // twice is harmless
	if n := settle(base); n > base {
		t.Errorf("after Close: %d goroutines, want %d", n, base)
	}
	NewQForward(q, 8, 4).Run(make([]float32, 80), 8)
	if n := settle(base); n > base {
		t.Errorf("after dropping a QForward: %d goroutines, want %d", n, base)
	}
}
