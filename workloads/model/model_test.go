package model

import (
	"context"
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
