package model

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

func testSet(t *testing.T) *mnist.Set {
	t.Helper()
	set, err := loadMNIST()
	if err != nil {
		t.Fatalf("MNIST: %v", err)
	}
	return set
}

func prepared(t *testing.T, name string) *inference {
	t.Helper()
	w, err := workloads.New(name, workloads.Options{Threads: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := w.(workloads.Validator); ok {
		if err := v.Validate(context.Background()); err != nil {
			t.Skipf("%s cannot run here: %v", name, err)
		}
	}
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.(workloads.Closer).Close() })
	return w.(*inference)
}

// independentForward is a plain float64 forward pass of an MLP, written
// apart from package nn, so that the workload's count is checked against
// code that shares nothing with it but the weights.
func independentForward(m *nn.Model, x []float32) int {
	act := make([]float64, len(x))
	for i, v := range x {
		act[i] = float64(v)
	}
	for _, l := range m.Layers {
		switch l.Kind {
		case nn.KindDense:
			out := make([]float64, l.Out)
			for o := 0; o < l.Out; o++ {
				s := float64(l.B[o])
				for i := 0; i < l.In; i++ {
					s += act[i] * float64(l.W[i*l.Out+o])
				}
				out[o] = s
			}
			act = out
		case nn.KindReLU:
			for i, v := range act {
				if v < 0 {
					act[i] = 0
				}
			}
		}
	}
	best := 0
	for i, v := range act {
		if v > act[best] {
			best = i
		}
	}
	return best
}

// The accuracy a workload reports matches an independent count on a fixed
// slice of 100 test images, for the reference and for a variant on
// another kernel.
func TestAccuracyMatchesIndependentCount(t *testing.T) {
	set := testSet(t)
	slice := set.Test.Subset(seq(100))
	for _, tc := range []struct{ name, file string }{
		{"mnist-mlp-fp32-offline", "mlp.jbw.gz"},
		{"mnist-mlp-struct50-singlestream", "mlp-struct50.jbw.gz"},
	} {
		w := prepared(t, tc.name)
		w.setTest(slice)
		wf, _, err := embedded(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		m, err := nn.WeightsModel(wf)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for i := 0; i < slice.N; i++ {
			if independentForward(m, slice.X[i*mnist.Pixels:(i+1)*mnist.Pixels]) == int(slice.Y[i]) {
				want++
			}
		}
		if _, err := w.Run(context.Background(), 3); err != nil {
			t.Fatal(err)
		}
		c, err := w.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !c.OK {
			t.Errorf("%s: check failed: %+v", tc.name, c)
		}
		q := w.RepQuality()
		if got := q[results.QAccuracy]; got != float64(want)/100 {
			t.Errorf("%s: accuracy %g on the 100-image slice, independent count %d/100", tc.name, got, want)
		}
		if want < 90 {
			t.Errorf("%s: only %d of 100 right: the model is not trained", tc.name, want)
		}
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// staleEngine is a lazy kernel: it computes the first batch it is given
// and returns those logits for every later call.
type staleEngine struct {
	engine
	cached []float32
}

func (e *staleEngine) forward(x []float32, n int) []float32 {
	if e.cached == nil {
		e.cached = append([]float32(nil), e.engine.forward(x, n)...)
	}
	out := make([]float32, n*10)
	copy(out, e.cached)
	return out
}

// skipEngine skips the work for every other call, returning zeros.
type skipEngine struct {
	engine
	calls int
}

func (e *skipEngine) forward(x []float32, n int) []float32 {
	e.calls++
	if e.calls%2 == 0 {
		return make([]float32, n*10)
	}
	return e.engine.forward(x, n)
}

// A kernel that returns stale logits, or skips calls, fails the check,
// though the check pass itself runs on the honest engine.
func TestLazyKernelFailsCheck(t *testing.T) {
	for _, cheat := range []string{"stale", "skip"} {
		w := prepared(t, "mnist-mlp-fp32-offline")
		honest := w.eng
		if cheat == "stale" {
			w.eng = &staleEngine{engine: honest}
		} else {
			w.eng = &skipEngine{engine: honest}
		}
		if _, err := w.Run(context.Background(), 20); err != nil {
			t.Fatal(err)
		}
		w.eng = honest
		c, err := w.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c.OK || c.Value < 0.1 {
			t.Errorf("%s kernel passed: %+v", cheat, c)
		}
	}
}

// Every standard name makes a workload whose spec names its weights by
// SHA-256 and counts items per call as the scenario's batch.
func TestSpecs(t *testing.T) {
	for _, name := range Names() {
		s, err := workloads.SpecOf(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(s.Params["weights_sha256"]) != 64 || s.FLOPsPerItem <= 0 {
			t.Errorf("%s: spec %+v", name, s)
		}
		want := OfflineBatch
		if strings.HasSuffix(name, "-singlestream") {
			want = SingleStreamBatch
		}
		if s.ItemsPerCall != want {
			t.Errorf("%s: %d items per call, want %d", name, s.ItemsPerCall, want)
		}
	}
	if _, err := workloads.New("mnist-mlp-fp16-offline", workloads.Options{}); err == nil {
		t.Error("an unknown variant was accepted")
	}
}

func TestPercentiles(t *testing.T) {
	var d []int
	for i := 1; i <= 100; i++ {
		d = append(d, i)
	}
	p := percentiles(durations(d))
	if p != [3]float64{50, 90, 99} {
		t.Errorf("nearest-rank percentiles of 1..100 ms: %v", p)
	}
}

func durations(ms []int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, v := range ms {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func workloadsOptions() workloads.Options { return workloads.Options{Seed: 1} }

// The pure-Go recomputation certify relies on agrees with what each
// variant's own engine measures, within the tolerance certify allows: the
// tolerance is not so tight that honest records fail.
func TestRecomputeAgreesWithEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every variant over the test set twice")
	}
	for _, name := range Names() {
		if !strings.HasSuffix(name, "-offline") {
			continue
		}
		if w, err := workloads.New(name, workloads.Options{Seed: 1}); err != nil {
			t.Fatal(err)
		} else if err := w.(workloads.Validator).Validate(context.Background()); errors.Is(err, workloads.ErrNotHere) {
			t.Logf("%s left out: %v", name, err) // bf16 without native bf16, the GPU variants without a GPU
			continue
		}
		w := prepared(t, name)
		if _, err := w.Run(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
		acc, ref, err := w.RecomputeAccuracy(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		q := w.RepQuality()
		if d := math.Abs(acc - q[results.QAccuracy]); d > workloads.AccuracyTolerance {
			t.Errorf("%s: engine %s measured %.4f, pure Go %.4f", name, w.info["engine"], q[results.QAccuracy], acc)
		}
		if d := math.Abs(ref - q[results.QReferenceAccuracy]); d > workloads.AccuracyTolerance {
			t.Errorf("%s: reference %.4f on the BLAS, %.4f in pure Go", name, q[results.QReferenceAccuracy], ref)
		}
		t.Logf("%s (%s): engine %.4f, pure Go %.4f", name, w.info["engine"], q[results.QAccuracy], acc)
	}
}

// After every check the calls get fresh inputs: a new buffer, the images
// in a new order, a new start, so nothing an engine kept from one
// repetition (by address or by position) serves the next.
func TestFreshInputsEachCheck(t *testing.T) {
	w := prepared(t, "mnist-mlp-int8-offline")
	x0, order0 := &w.x[0], append([]int(nil), w.order[:50]...)
	if _, err := w.Run(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if &w.x[0] == x0 {
		t.Error("the calls' input buffer is the same after a check")
	}
	same := 0
	for i, v := range order0 {
		if w.order[i] == v {
			same++
		}
	}
	if same > 5 {
		t.Errorf("%d of the first 50 images in the same place after a check", same)
	}
	// The buffer holds the images its order says.
	for _, r := range []int{0, 17, w.test.N - 1, w.test.N + 3} {
		img := w.order[r]
		if w.x[r*mnist.Pixels+300] != w.test.X[img*mnist.Pixels+300] {
			t.Fatalf("row %d does not hold image %d", r, img)
		}
	}
}

// A weights file whose checksum or shapes are wrong is refused, naming
// the file.
func TestBadWeightsRefused(t *testing.T) {
	data, err := weightFiles.ReadFile("weights/mlp-struct50.jbw.gz")
	if err != nil {
		t.Fatal(err)
	}
	wf, err := decodeWeights(data, "weights/mlp-struct50.jbw.gz")
	if err != nil {
		t.Fatal(err)
	}
	// A shape that disagrees with the arch: the first layer's weights
	// claimed as 512×784 instead of 784×512, same bytes.
	wf.Tensors[0].Shape = []int{512, 784}
	bad, err := nn.EncodeWeights(wf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeWeights(bad, "weights/evil.jbw"); err == nil || !strings.Contains(err.Error(), "weights/evil.jbw") {
		t.Errorf("a shape that disagrees with the arch: %v", err)
	}
	// A flipped payload byte: the checksum no longer matches.
	good, _ := nn.EncodeWeights(mustDecode(t, data))
	good[len(good)-100] ^= 1
	if _, err := decodeWeights(good, "weights/flipped.jbw"); err == nil || !strings.Contains(err.Error(), "weights/flipped.jbw") || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("a flipped byte: %v", err)
	}
}

func mustDecode(t *testing.T, data []byte) *nn.WeightsFile {
	t.Helper()
	wf, err := decodeWeights(data, "x")
	if err != nil {
		t.Fatal(err)
	}
	return wf
}
