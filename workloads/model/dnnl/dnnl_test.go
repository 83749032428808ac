package dnnl

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// lib loads oneDNN or skips the test, saying why.
func lib(t testing.TB) *Lib {
	t.Helper()
	l, err := Load()
	if err != nil {
		t.Skipf("oneDNN not available: %v", err)
	}
	return l
}

// randomMLP returns dense layers of the given sizes with weights scaled so
// that activations stay of order one, ReLU on all but the last.
func randomMLP(seed uint64, sizes ...int) []DenseF32 {
	r := rand.New(rand.NewPCG(seed, 1))
	var ls []DenseF32
	for i := 1; i < len(sizes); i++ {
		in, out := sizes[i-1], sizes[i]
		d := DenseF32{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out), ReLU: i < len(sizes)-1}
		a := float32(math.Sqrt(6 / float64(in)))
		for j := range d.W {
			d.W[j] = (2*r.Float32() - 1) * a
		}
		for j := range d.B {
			d.B[j] = (2*r.Float32() - 1) * 0.1
		}
		ls = append(ls, d)
	}
	return ls
}

// randomInput is rows×in values in [0, 1), like pixel intensities.
func randomInput(seed uint64, rows, in int) []float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, rows*in)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

// refF32 is the fp32 forward pass, accumulated in float64; round, if not
// nil, is applied to the input, the weights and every hidden activation
// (bf16 emulation).
func refF32(layers []DenseF32, x []float32, rows int, round func(float32) float32) []float32 {
	id := func(f float32) float32 { return f }
	if round == nil {
		round = id
	}
	act := make([]float32, len(x))
	for i, v := range x {
		act[i] = round(v)
	}
	for li, d := range layers {
		last := li == len(layers)-1
		y := make([]float32, rows*d.Out)
		for r := range rows {
			for n := range d.Out {
				var s float64
				for k := range d.In {
					s += float64(act[r*d.In+k]) * float64(round(d.W[k*d.Out+n]))
				}
				if len(d.B) > 0 {
					s += float64(d.B[n])
				}
				if d.ReLU && s < 0 {
					s = 0
				}
				v := float32(s)
				if !last {
					v = round(v)
				}
				y[r*d.Out+n] = v
			}
		}
		act = y
	}
	return act
}

// bf16 rounds to the nearest bfloat16, ties to even, as oneDNN does.
func bf16(f float32) float32 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return math.Float32frombits((u | 0x400000) &^ 0xffff)
	}
	u += 0x7fff + (u>>16)&1
	return math.Float32frombits(u &^ 0xffff)
}

// quantize makes int8 layers from fp32 ones: symmetric per-column weight
// scales, input scales from the largest activation seen on calib.
func quantize(layers []DenseF32, calib []float32, rows int) []DenseI8 {
	var q []DenseI8
	act := calib
	inScale := float32(1.0 / 255)
	for li, d := range layers {
		l := DenseI8{In: d.In, Out: d.Out, W: make([]int8, len(d.W)), WScale: make([]float32, d.Out), B: d.B, InScale: inScale, ReLU: d.ReLU}
		for n := range d.Out {
			var m float32
			for k := range d.In {
				m = max(m, float32(math.Abs(float64(d.W[k*d.Out+n]))))
			}
			l.WScale[n] = m / 127
			for k := range d.In {
				l.W[k*d.Out+n] = int8(math.RoundToEven(float64(d.W[k*d.Out+n] / l.WScale[n])))
			}
		}
		q = append(q, l)
		act = refF32(layers[li:li+1], act, rows, nil)
		var m float32
		for _, v := range act {
			m = max(m, v)
		}
		inScale = m / 255
	}
	return q
}

// refInt8 is the int8 semantics DenseI8 states, written as plainly as
// possible. It also returns, for each hidden layer, the value before
// rounding (max(y, 0)/next.InScale) and its magnitude scale, so a test
// can tell which activations sit at a rounding tie.
type int8Trace struct {
	pre  [][]float64 // per hidden layer, rows×Out: the value that is rounded
	mag  [][]float64 // its scale: (|acc·InScale·WScale| + |B|)/next
	acts [][]uint8   // per layer input, rows×In
}

func clampRound(v float32) uint8 {
	r := math.RoundToEven(float64(v))
	return uint8(min(max(r, 0), 255))
}

func refInt8(layers []DenseI8, x []float32, rows int) ([]float32, int8Trace) {
	var tr int8Trace
	q := make([]uint8, len(x))
	for i, v := range x {
		q[i] = clampRound(v / layers[0].InScale)
	}
	var logits []float32
	for li, d := range layers {
		tr.acts = append(tr.acts, q)
		last := li == len(layers)-1
		var next []uint8
		var pre, mag []float64
		if !last {
			next = make([]uint8, rows*d.Out)
			pre = make([]float64, rows*d.Out)
			mag = make([]float64, rows*d.Out)
		} else {
			logits = make([]float32, rows*d.Out)
		}
		for r := range rows {
			for n := range d.Out {
				var acc int32
				for k := range d.In {
					acc += int32(q[r*d.In+k]) * int32(d.W[k*d.Out+n])
				}
				s := d.InScale * d.WScale[n]
				var b float32
				if len(d.B) > 0 {
					b = d.B[n]
				}
				// The conversions stop the compiler fusing into an FMA.
				y := float32(float32(acc)*s) + b
				if last {
					if d.ReLU {
						y = max(y, 0)
					}
					logits[r*d.Out+n] = y
					continue
				}
				ns := layers[li+1].InScale
				v := max(y, 0) / ns
				next[r*d.Out+n] = clampRound(v)
				pre[r*d.Out+n] = float64(v)
				mag[r*d.Out+n] = (math.Abs(float64(float32(acc)*s)) + math.Abs(float64(b))) / float64(ns)
			}
		}
		if !last {
			tr.pre = append(tr.pre, pre)
			tr.mag = append(tr.mag, mag)
			q = next
		}
	}
	return logits, tr
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func TestLoad(t *testing.T) {
	l := lib(t)
	if !strings.HasPrefix(l.Version(), "2.") || !strings.Contains(l.Version(), "(hash ") {
		t.Errorf("Version() = %q, want 2.x.y (hash …)", l.Version())
	}
	if l.ISA() == "" || strings.HasPrefix(l.ISA(), "isa-0x") {
		t.Errorf("ISA() = %q, want a oneDNN ISA name", l.ISA())
	}
	if _, err := os.Stat(l.Path()); err != nil {
		t.Errorf("Path() = %q: %v", l.Path(), err)
	}
	if want := l.ISA() == "avx512_core_bf16" || l.ISA() == "avx512_core_amx"; l.HasBF16() != want {
		t.Errorf("HasBF16() = %v with ISA %s", l.HasBF16(), l.ISA())
	}
	l2, _ := Load()
	if l2 != l {
		t.Error("Load is not cached")
	}
	t.Logf("oneDNN %s, %s, %s, bf16 %v", l.Version(), l.ISA(), l.Path(), l.HasBF16())
}

// TestLoadMissing runs everywhere: a library that is not there is
// ErrUnsupported with the reason.
func TestLoadMissing(t *testing.T) {
	_, err := load("libdnnl-not-here.so.2")
	if err == nil {
		t.Fatal("load of a missing library succeeded")
	}
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("err = %v, want errors.ErrUnsupported", err)
	}
	var want []string
	switch {
	case !cgoEnabled:
		want = []string{"not available: built without cgo"}
	case !builtWithHeaders():
		want = []string{"built without oneDNN headers (install libdnnl-dev and rebuild)"}
	default:
		want = []string{"libdnnl-not-here.so.2", "cannot open shared object file", "oneDNN 2.x is not installed"}
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %q, want it to say %q", err, w)
		}
	}
	t.Log(err)
}

func TestValidation(t *testing.T) {
	var l *Lib // validation comes first: no library needed
	good := randomMLP(1, 4, 3, 2)
	for name, c := range map[string]struct {
		layers       []DenseF32
		batch, thrds int
		want         string
	}{
		"no layers":  {nil, 1, 0, "no layers"},
		"batch 0":    {good, 0, 0, "batch 0"},
		"threads -1": {good, 1, -1, "threads -1"},
		"chain":      {[]DenseF32{good[0], good[0]}, 1, 0, "layer 1: In 4, but layer 0 has Out 3"},
		"short W":    {[]DenseF32{{In: 2, Out: 2, W: make([]float32, 3)}}, 1, 0, "W has 3 values"},
		"short B":    {[]DenseF32{{In: 2, Out: 2, W: make([]float32, 4), B: make([]float32, 1)}}, 1, 0, "B has 1 values"},
		"not loaded": {good, 1, 0, "library not loaded"},
	} {
		_, err := l.NewF32(c.layers, c.batch, c.thrds)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	q := quantize(good, randomInput(1, 4, 4), 4)
	bad := append([]DenseI8(nil), q...)
	bad[1].WScale = []float32{1, 0}
	if _, err := l.NewInt8(bad, 1, 0); err == nil || !strings.Contains(err.Error(), "WScale[1] 0") {
		t.Errorf("zero weight scale: err = %v", err)
	}
	bad = append([]DenseI8(nil), q...)
	bad[1].InScale = float32(math.NaN())
	if _, err := l.NewInt8(bad, 1, 0); err == nil || !strings.Contains(err.Error(), "layer 1: InScale NaN") {
		t.Errorf("NaN input scale: err = %v", err)
	}
}

// rowCounts are the three paths: the full batch, one row (both fixed
// primitives) and a count in between (the runtime-M primitive).
var rowCounts = []int{16, 1, 7}

func TestF32(t *testing.T) {
	l := lib(t)
	layers := randomMLP(2, 100, 64, 48, 10)
	net, err := l.NewF32(layers, 16, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	for _, rows := range rowCounts {
		x := randomInput(uint64(rows), rows, 100)
		want := refF32(layers, x, rows, nil)
		got := make([]float32, rows*10)
		if err := net.Forward(x, rows, got); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("rows %d: logit %d = %g, want %g", rows, i, got[i], want[i])
			}
		}
	}
	info := net.Info()
	for _, k := range []string{"library", "version", "isa", "threads", "layer0.b16", "layer2.b1", "layer1.bN"} {
		if info[k] == "" {
			t.Errorf("Info()[%q] is empty: %v", k, info)
		}
	}
	t.Log(info)
}

func TestBF16(t *testing.T) {
	l := lib(t)
	if !l.HasBF16() {
		t.Logf("ISA %s: oneDNN may emulate or refuse bf16", l.ISA())
	}
	layers := randomMLP(3, 100, 64, 48, 10)
	net, err := l.NewBF16(layers, 16, 0)
	if err != nil {
		if !l.HasBF16() {
			t.Skipf("bf16 without native support: %v", err)
		}
		t.Fatal(err)
	}
	defer net.Close()
	for _, rows := range rowCounts {
		x := randomInput(uint64(rows)+10, rows, 100)
		want := refF32(layers, x, rows, bf16)
		got := make([]float32, rows*10)
		if err := net.Forward(x, rows, got); err != nil {
			t.Fatal(err)
		}
		// Inputs and weights are rounded the same way on both sides;
		// what differs is the summation order and so, now and then, a
		// hidden activation's bf16 rounding (2⁻⁸ relative).
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 2e-2*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("rows %d: logit %d = %g, want %g", rows, i, got[i], want[i])
			}
		}
	}
	t.Log(net.Info())
}

// tieULPs is how close (in float32 ulps of the summands) to a rounding
// tie a reference activation must be before oneDNN may round it the
// other way: oneDNN computes scale'·(acc + B/(InScale·WScale)) where the
// reference computes (acc·InScale·WScale + B)/next, a few roundings apart.
const tieULPs = 16

// TestInt8TwoLayer checks the int8 semantics exactly on a net whose
// hidden activations the test can see through the reference: every logit
// must equal the reference's bit for bit, except that an activation the
// reference places within tieULPs of a rounding tie may come out one u8
// step the other way, moving each logit by at most that activation's
// weight times the last layer's scale.
func TestInt8TwoLayer(t *testing.T) {
	l := lib(t)
	const rowsMax, in, hid, out = 64, 200, 96, 10
	f := randomMLP(4, in, hid, out)
	q := quantize(f, randomInput(99, 256, in), 256)
	net, err := l.NewInt8(q, rowsMax, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	exact, ties, total := 0, 0, 0
	for _, rows := range []int{64, 1, 9} {
		for rep := range 8 {
			x := randomInput(uint64(1000*rows+rep), rows, in)
			want, tr := refInt8(q, x, rows)
			got := make([]float32, rows*out)
			if err := net.Forward(x, rows, got); err != nil {
				t.Fatal(err)
			}
			eps := tieULPs * 0x1p-24
			for r := range rows {
				// The slack each logit may have: one u8 step of every
				// activation at a tie.
				slack := make([]float64, out)
				for j := range hid {
					v, m := tr.pre[0][r*hid+j], tr.mag[0][r*hid+j]
					if math.Abs(v-math.Floor(v)-0.5) <= eps*m+1e-30 {
						ties++
						for n := range out {
							slack[n] += math.Abs(float64(q[1].W[j*out+n])) * float64(q[1].InScale*q[1].WScale[n])
						}
					}
				}
				for n := range out {
					i := r*out + n
					total++
					if got[i] == want[i] {
						exact++
						continue
					}
					if d := math.Abs(float64(got[i] - want[i])); d > slack[n]*(1+1e-5)+1e-6*math.Abs(float64(want[i])) {
						t.Fatalf("rows %d rep %d: logit [%d,%d] = %g, want %g (slack %g from ties)", rows, rep, r, n, got[i], want[i], slack[n])
					}
				}
			}
		}
	}
	t.Logf("%d of %d logits bit-identical to the reference; %d hidden activations within %d ulps of a tie", exact, total, ties, tieULPs)
}

// TestInt8MLP runs the 784-1024-1024-10 net on 2,048 random inputs. A
// row whose hidden activations are all clear of rounding ties (by
// tieULPs, in the reference) must give bit-identical logits; a row with a
// tie may differ by the few u8 steps it propagates (bounded here by 16
// steps of the largest last-layer weight); the argmax must agree on ≥
// 99.9% of rows.
func TestInt8MLP(t *testing.T) {
	if testing.Short() {
		t.Skip("short: 6 s of pure-Go reference")
	}
	l := lib(t)
	const batch = 256
	f := randomMLP(5, 784, 1024, 1024, 10)
	q := quantize(f, randomInput(7, batch, 784), batch)
	net, err := l.NewInt8(q, batch, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	var step float64
	for n := range 10 {
		step = max(step, 127*float64(q[2].InScale*q[2].WScale[n]))
	}
	eps := tieULPs * 0x1p-24
	agree, total, exactRows, tieRows := 0, 0, 0, 0
	var worst float64
	for rep := range 8 {
		x := randomInput(uint64(500+rep), batch, 784)
		want, tr := refInt8(q, x, batch)
		got := make([]float32, batch*10)
		if err := net.Forward(x, batch, got); err != nil {
			t.Fatal(err)
		}
		for r := range batch {
			tie := false
			for h := range tr.pre {
				for j := range 1024 {
					v, m := tr.pre[h][r*1024+j], tr.mag[h][r*1024+j]
					tie = tie || math.Abs(v-math.Floor(v)-0.5) <= eps*m
				}
			}
			if tie {
				tieRows++
			}
			g, w := got[r*10:r*10+10], want[r*10:r*10+10]
			total++
			if argmax(g) == argmax(w) {
				agree++
			}
			same := true
			for n := range g {
				d := math.Abs(float64(g[n] - w[n]))
				worst = max(worst, d)
				same = same && d == 0
				if !tie && d != 0 {
					t.Errorf("rep %d row %d has no hidden tie, yet logit %d = %g, want %g", rep, r, n, g[n], w[n])
				}
			}
			if same {
				exactRows++
			}
		}
	}
	t.Logf("argmax agrees on %d/%d; %d rows bit-identical; %d rows with a hidden activation within %d ulps of a tie; worst logit difference %.3g (one step of the largest last-layer weight: %.3g)",
		agree, total, exactRows, tieRows, tieULPs, worst, step)
	if float64(agree) < 0.999*float64(total) {
		t.Errorf("argmax agrees on %d/%d, want ≥ 99.9%%", agree, total)
	}
	if worst > 16*step {
		t.Errorf("worst logit difference %g > 16 u8 steps (%g)", worst, 16*step)
	}
}

func TestForwardErrors(t *testing.T) {
	l := lib(t)
	net, err := l.NewF32(randomMLP(6, 8, 4, 2), 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	x, y := make([]float32, 4*8), make([]float32, 4*2)
	for _, c := range []struct {
		x, y []float32
		rows int
		want string
	}{
		{x, y, 0, "0 rows"},
		{x, y, 5, "5 rows"},
		{x[:7], y, 1, "input has 7 values"},
		{x, y[:3], 2, "room for 3 values"},
	} {
		if err := net.Forward(c.x, c.rows, c.y); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	net.Close()
	net.Close()
	if err := net.Forward(x, 1, y); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("after Close: err = %v", err)
	}
}

// TestInputConversion holds the vector and scalar input conversions to
// the reference: quantisation to u8 (ties, clamps, NaN → 0) and bf16
// rounding (ties to even, NaN kept NaN), on lengths with and without a
// scalar tail.
func TestInputConversion(t *testing.T) {
	if !cgoEnabled {
		t.Skip("built without cgo")
	}
	r := rand.New(rand.NewPCG(8, 3))
	const scale = float32(1.0 / 255)
	x := make([]float32, 1003)
	for i := range x {
		switch i % 7 {
		case 0:
			x[i] = (float32(r.IntN(300)) + 0.5) * scale // near a tie
		case 1:
			x[i] = float32(r.NormFloat64() * 10)
		case 2:
			x[i] = math.Float32frombits(r.Uint32()) // anything, NaNs and infinities too
		default:
			x[i] = r.Float32()*1.2 - 0.1
		}
	}
	x[3], x[5], x[6] = float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())
	for _, simd := range []bool{true, false} {
		u8, _ := convertInput(false, simd, x, scale)
		_, bf := convertInput(true, simd, x, scale)
		for i, v := range x {
			want := uint8(0)
			if q := v / scale; q == q { // NaN → 0
				want = clampRound(q)
			}
			if u8[i] != want {
				t.Errorf("simd %v: quantise x[%d] = %g: %d, want %d", simd, i, v, u8[i], want)
			}
			wb := uint16(math.Float32bits(bf16(v)) >> 16)
			if v != v {
				if got := math.Float32frombits(uint32(bf[i]) << 16); got == got {
					t.Errorf("simd %v: bf16 of NaN x[%d] = %#x, not a NaN", simd, i, bf[i])
				}
			} else if bf[i] != wb {
				t.Errorf("simd %v: bf16 x[%d] = %g: %#x, want %#x", simd, i, v, bf[i], wb)
			}
		}
	}
}
