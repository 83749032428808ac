package transfer

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

// set is the real MNIST data, or a skip when this machine has none.
func set(t testing.TB) *mnist.Set {
	t.Helper()
	dir, err := mnist.DefaultDir()
	if err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("no MNIST data here (%v); run go mod download %s", err, mnist.Module)
	}
	s, err := mnist.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// small is a configuration that trains in a fraction of a second.
func small() Config {
	return Config{
		Hidden:         []int{32},
		PretrainEpochs: 1,
		Labelled:       200,
		HeldOut:        300,
		Target:         0.8,
		EvalEvery:      5,
		MaxSteps:       40,
		Batch:          20,
		LR:             0.05,
		Momentum:       0.9,
	}
}

// smallData is small's split, the pretraining set cut to 2,000 images.
func smallData(t testing.TB) Data {
	t.Helper()
	d := Split(set(t), small())
	n := 2000
	d.Pre = nn.Dataset{X: d.Pre.X[:n*mnist.Pixels], Y: d.Pre.Y[:n], N: n}
	return d
}

func images(d nn.Dataset) map[uint64]bool {
	seen := make(map[uint64]bool, d.N)
	for i := range d.N {
		h := fnv.New64a()
		for _, v := range d.X[i*mnist.Pixels : (i+1)*mnist.Pixels] {
			b := math.Float32bits(v)
			h.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
		}
		seen[h.Sum64()] = true
	}
	return seen
}

func TestSplit(t *testing.T) {
	s := set(t)
	cfg := DefaultConfig()
	cfg.Labelled, cfg.HeldOut = 1003, 2000
	d := Split(s, cfg)
	again := Split(s, cfg)
	for name, p := range map[string][2]nn.Dataset{"Pre": {d.Pre, again.Pre}, "Few": {d.Few, again.Few}, "Held": {d.Held, again.Held}, "PreTest": {d.PreTest, again.PreTest}} {
		if p[0].N != p[1].N || !slices.Equal(p[0].Y, p[1].Y) || !slices.Equal(p[0].X, p[1].X) {
			t.Errorf("%s differs between two calls", name)
		}
		if len(p[0].Y) != p[0].N || len(p[0].X) != p[0].N*mnist.Pixels {
			t.Errorf("%s: N %d, %d labels, %d pixels", name, p[0].N, len(p[0].Y), len(p[0].X))
		}
	}
	count := func(d nn.Dataset) []int {
		c := make([]int, Classes)
		for _, y := range d.Y {
			if y >= Classes {
				t.Fatalf("label %d not relabelled to 0-4", y)
			}
			c[y]++
		}
		return c
	}
	if got, want := count(d.Few), []int{201, 201, 201, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("Few per class %v, want %v", got, want)
	}
	if got, want := count(d.Held), []int{400, 400, 400, 400, 400}; !slices.Equal(got, want) {
		t.Errorf("Held per class %v, want %v", got, want)
	}
	count(d.Pre)
	count(d.PreTest)
	var lo int
	for _, y := range s.Train.Y {
		if y < Classes {
			lo++
		}
	}
	if d.Pre.N != lo {
		t.Errorf("Pre has %d images, the training split %d of 0-4", d.Pre.N, lo)
	}
	// Relabelling: each Few image is a training image of digit label+5.
	train := map[uint64]uint8{}
	for i := range s.Train.N {
		h := fnv.New64a()
		for _, v := range s.Train.X[i*mnist.Pixels : (i+1)*mnist.Pixels] {
			b := math.Float32bits(v)
			h.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
		}
		train[h.Sum64()] = s.Train.Y[i]
	}
	for i := range d.Few.N {
		h := fnv.New64a()
		for _, v := range d.Few.X[i*mnist.Pixels : (i+1)*mnist.Pixels] {
			b := math.Float32bits(v)
			h.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
		}
		if y, ok := train[h.Sum64()]; !ok || y != d.Few.Y[i]+Classes {
			t.Fatalf("Few image %d labelled %d: in training split %v as %d", i, d.Few.Y[i], ok, y)
		}
	}
	few, pre := images(d.Few), images(d.Pre)
	if len(few) != d.Few.N {
		t.Errorf("Few holds %d distinct images of %d", len(few), d.Few.N)
	}
	for h := range images(d.Held) {
		if few[h] {
			t.Fatal("an image is in both Few and Held")
		}
	}
	for h := range few {
		if pre[h] {
			t.Fatal("an image is in both Few and Pre")
		}
	}
	// A request past what a digit has is capped, not a panic: every
	// test image of 5-9 (no digit has 2,000).
	var hi int
	for _, y := range s.Test.Y {
		if y >= Classes {
			hi++
		}
	}
	cfg.HeldOut = 10000
	if n := Split(s, cfg).Held.N; n != hi {
		t.Errorf("HeldOut 10000 gave %d images, want all %d", n, hi)
	}
}

// body is every layer's weights but the last dense layer's.
func body(m *nn.Model) [][]float32 {
	var w [][]float32
	for _, l := range m.Layers[:len(m.Layers)-1] {
		w = append(w, l.W, l.B)
	}
	return w
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestHeadFreezesBody(t *testing.T) {
	d := smallData(t)
	cfg := small()
	cfg.Target = 1.01
	g := nn.GoGemm{Threads: 2}
	pre := nn.NewMLP(ModelName, cfg.sizes(), 7)
	before := pre.Clone()
	for _, strategy := range []string{Head, Full} {
		r, m, err := job(context.Background(), g, strategy, pre, d, cfg, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Steps != cfg.MaxSteps {
			t.Fatalf("%s: %d steps", strategy, r.Steps)
		}
		changed := false
		for i, w := range body(m) {
			if !sameBits(w, body(before)[i]) {
				changed = true
				if strategy == Head {
					t.Errorf("head: body tensor %d changed", i)
				}
			}
		}
		if strategy == Full && !changed {
			t.Error("full: the body did not change")
		}
		head, ph := m.Layers[len(m.Layers)-1], before.Layers[len(before.Layers)-1]
		if sameBits(head.W, ph.W) {
			t.Errorf("%s: the head was not re-initialised or trained", strategy)
		}
	}
	// Job trains a copy: the pretrained model is untouched.
	for i := range pre.Layers {
		if !sameBits(pre.Layers[i].W, before.Layers[i].W) || !sameBits(pre.Layers[i].B, before.Layers[i].B) || pre.Layers[i].Frozen {
			t.Fatalf("layer %d of the pretrained model changed", i)
		}
	}
}

func TestUnreachableTarget(t *testing.T) {
	d := smallData(t)
	cfg := small()
	cfg.Target = 1.01
	cfg.MaxSteps = 23 // not a multiple of EvalEvery: the end is evaluated too
	g := nn.GoGemm{Threads: 2}
	for _, strategy := range []string{Scratch, Head} {
		r, err := Job(context.Background(), g, strategy, nn.NewMLP(ModelName, cfg.sizes(), 1), d, cfg, 2)
		if err != nil {
			t.Fatal(err)
		}
		if r.Converged || r.Steps != cfg.MaxSteps || r.Evaluations != 5 {
			t.Errorf("%s: %+v; want not converged after %d steps and 5 evaluations", strategy, r, cfg.MaxSteps)
		}
		if !(r.Accuracy > 0.2) || !(r.FLOPs > 0) {
			t.Errorf("%s: %+v", strategy, r)
		}
	}
}

func TestJobDeterministic(t *testing.T) {
	d := smallData(t)
	cfg := small()
	g := nn.GoGemm{Threads: 2}
	ctx := context.Background()
	pre, st, err := Pretrain(ctx, g, d, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := cfg.PretrainEpochs * ((d.Pre.N + cfg.Batch - 1) / cfg.Batch); st.Steps != want {
		t.Errorf("pretraining took %d steps, want %d", st.Steps, want)
	}
	for _, strategy := range Strategies() {
		a, err := Job(ctx, g, strategy, pre, d, cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Job(ctx, g, strategy, pre, d, cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		// The same seed gives the same job; only the clock in the curve
		// differs.
		ac, bc := a.Curve, b.Curve
		a.Curve, b.Curve = nil, nil
		if !reflect.DeepEqual(a, b) || len(ac) != len(bc) || len(ac) != a.Evaluations {
			t.Errorf("%s: %+v then %+v (%d and %d evaluations in the curves)", strategy, a, b, len(ac), len(bc))
		}
		for i := range ac {
			if ac[i].Step != bc[i].Step || ac[i].Accuracy != bc[i].Accuracy || (i > 0 && ac[i].Seconds < ac[i-1].Seconds) {
				t.Errorf("%s: evaluation %d: %+v then %+v", strategy, i, ac[i], bc[i])
			}
		}
		if a.Converged && (a.Accuracy < cfg.Target || a.Steps%cfg.EvalEvery != 0 || a.Evaluations != a.Steps/cfg.EvalEvery) {
			t.Errorf("%s: converged as %+v", strategy, a)
		}
		t.Logf("%s: %+v", strategy, a)
	}
}

func TestJobErrors(t *testing.T) {
	var d Data
	d.Few.N, d.Held.N = 1, 1
	cfg := small()
	g := nn.GoGemm{Threads: 1}
	if _, err := Job(context.Background(), g, "both", nn.NewMLP(ModelName, cfg.sizes(), 1), d, cfg, 1); !errors.Is(err, ErrStrategy) {
		t.Errorf("unknown strategy: %v", err)
	}
	if _, err := Job(context.Background(), g, Head, nil, d, cfg, 1); err == nil {
		t.Error("head without a pretrained model: no error")
	}
	bad := cfg
	bad.EvalEvery, bad.Batch = 0, -1
	if _, err := Job(context.Background(), g, Scratch, nil, d, bad, 1); err == nil {
		t.Error("bad config: no error")
	}
	cnn := nn.NewCNN("cnn", 1)
	if _, err := Job(context.Background(), g, Full, cnn, d, cfg, 1); err == nil {
		t.Error("a CNN as the pretrained model: no error")
	}
}
