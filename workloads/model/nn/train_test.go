package nn

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func weightBytes(t *testing.T, m *Model) []byte {
	t.Helper()
	b, err := EncodeWeights(ModelWeights(m, nil))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrainDeterministicAndLearns(t *testing.T) {
	d := blobs(300, 12, 4, 1)
	cfg := TrainConfig{Epochs: 5, Batch: 32, LR: 0.05, Momentum: 0.9, WeightDecay: 1e-4, LRDecay: 0.9, Seed: 3}
	var first []byte
	for run, g := range []Gemm{GoGemm{Threads: 1}, GoGemm{Threads: 3}} {
		m := NewMLP("blobs", []int{12, 16, 4}, 1)
		before := MeanLoss(m, g, d, 64)
		st, err := Train(context.Background(), m, g, d, cfg)
		if err != nil {
			t.Fatal(err)
		}
		after := MeanLoss(m, g, d, 64)
		if !(after < before/3) || !(st.Loss < before) {
			t.Errorf("loss %.3f before, %.3f after (%.3f in the last epoch)", before, after, st.Loss)
		}
		if acc := Accuracy(m, g, d, 50); acc < 270 {
			t.Errorf("%d of 300 right after training", acc)
		}
		steps := 5 * 10 // 300/32 → 10 steps an epoch, the last of 12
		if st.Steps != steps || st.Examples != 1500 || st.Stopped {
			t.Errorf("stats %+v, want %d steps of 1500 examples", st, steps)
		}
		// Every layer trained: forward + weight gradients + the input
		// gradient of the second layer.
		if want := 1500 * (2*(12*16+16*4) + 2*(12*16+16*4) + 2*16*4); st.FLOPs != float64(want) {
			t.Errorf("FLOPs %v, want %d", st.FLOPs, want)
		}
		b := weightBytes(t, m)
		if run == 0 {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Error("two runs with the same seed (on 1 and 3 threads) give different weights")
		}
	}
	m := NewMLP("blobs", []int{12, 16, 4}, 1)
	cfg.Seed = 4
	if _, err := Train(context.Background(), m, GoGemm{}, d, cfg); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first, weightBytes(t, m)) {
		t.Error("another shuffling seed gives the same weights")
	}
}

func TestTrainCNN(t *testing.T) {
	d := blobs(120, 72, 3, 2)
	m := tinyCNN(2)
	before := MeanLoss(m, GoGemm{}, d, 64)
	if _, err := Train(context.Background(), m, GoGemm{}, d, TrainConfig{Epochs: 8, Batch: 16, LR: 0.02, Momentum: 0.9, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if after := MeanLoss(m, GoGemm{}, d, 64); !(after < before/2) {
		t.Errorf("CNN loss %.3f before, %.3f after", before, after)
	}
}

func TestTrainMask(t *testing.T) {
	d := blobs(100, 72, 3, 2)
	m := tinyCNN(4)
	for _, i := range []int{0, 3} {
		l := &m.Layers[i]
		l.Mask = make([]float32, len(l.W))
		for j := range l.Mask {
			if j%3 != 0 {
				l.Mask[j] = 1
			}
		}
	}
	if _, err := Train(context.Background(), m, GoGemm{}, d, TrainConfig{Epochs: 2, Batch: 16, LR: 0.05, Momentum: 0.9, WeightDecay: 1e-3, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 3} {
		l := &m.Layers[i]
		for j, w := range l.W {
			if l.Mask[j] == 0 && math.Float32bits(w) != 0 {
				t.Fatalf("layer %d: masked weight %d is %v (bits %#x), want +0", i, j, w, math.Float32bits(w))
			}
			if l.Mask[j] == 1 && w == 0 {
				t.Fatalf("layer %d: kept weight %d is 0", i, j)
			}
		}
	}
}

func TestTrainFrozen(t *testing.T) {
	d := blobs(100, 72, 3, 2)
	base := tinyCNN(4)
	full, err := Train(context.Background(), base.Clone(), GoGemm{}, d, TrainConfig{Epochs: 1, Batch: 10, LR: 0.05, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := base.Clone()
	m.Layers[0].Frozen, m.Layers[3].Frozen = true, true
	head, err := Train(context.Background(), m, GoGemm{}, d, TrainConfig{Epochs: 1, Batch: 10, LR: 0.05, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 3} {
		if !bytesEqualF32(m.Layers[i].W, base.Layers[i].W) || !bytesEqualF32(m.Layers[i].B, base.Layers[i].B) {
			t.Errorf("frozen layer %d changed", i)
		}
	}
	if bytesEqualF32(m.Layers[5].W, base.Layers[5].W) {
		t.Error("the head did not train")
	}
	// Head only: forward plus the head's weight gradient.
	if want := 100 * (base.FLOPsPerExample() + 2*5*3); head.FLOPs != want {
		t.Errorf("head-only FLOPs %v, want %v", head.FLOPs, want)
	}
	if !(head.FLOPs < full.FLOPs/2) {
		t.Errorf("head-only training costs %v FLOPs, the whole model %v", head.FLOPs, full.FLOPs)
	}
	for i := range m.Layers {
		m.Layers[i].Frozen = true
	}
	if _, err := Train(context.Background(), m, GoGemm{}, d, TrainConfig{Epochs: 1, Batch: 10, LR: 0.05}); err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("all frozen: %v", err)
	}
}

func bytesEqualF32(a, b []float32) bool {
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

func TestTrainStopsAndCallsBack(t *testing.T) {
	d := blobs(100, 12, 4, 1)
	m := NewMLP("blobs", []int{12, 8, 4}, 1)
	var calls []int
	cb := func(step int, _ *Model) bool { calls = append(calls, step); return false }
	st, err := Train(context.Background(), m, GoGemm{}, d, TrainConfig{MaxSteps: 7, Batch: 10, LR: 0.05, EvalEvery: 3, Callback: cb})
	if err != nil || st.Steps != 7 || len(calls) != 3 || calls[0] != 3 || calls[1] != 6 || calls[2] != 7 {
		t.Errorf("MaxSteps 7, EvalEvery 3: %+v, %v, callbacks at %v (want 3 6 7)", st, err, calls)
	}
	calls = nil
	st, err = Train(context.Background(), m, GoGemm{}, d, TrainConfig{Epochs: 3, Batch: 10, LR: 0.05, EvalEvery: 10, Callback: cb})
	if err != nil || st.Steps != 30 || len(calls) != 3 {
		t.Errorf("3 epochs, EvalEvery 10: %+v, %v, callbacks at %v (want 10 20 30)", st, err, calls)
	}
	stop := func(step int, _ *Model) bool { return step == 4 }
	st, err = Train(context.Background(), m, GoGemm{}, d, TrainConfig{Epochs: 3, Batch: 10, LR: 0.05, EvalEvery: 2, Callback: stop})
	if err != nil || st.Steps != 4 || !st.Stopped {
		t.Errorf("stop at 4: %+v, %v", st, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	cancelAt := func(step int, _ *Model) bool {
		if n++; n == 2 {
			cancel()
		}
		return false
	}
	st, err = Train(ctx, m, GoGemm{}, d, TrainConfig{Epochs: 3, Batch: 10, LR: 0.05, EvalEvery: 1, Callback: cancelAt})
	if !errors.Is(err, context.Canceled) || st.Steps != 2 {
		t.Errorf("cancelled after step 2: %+v, %v", st, err)
	}
}

func TestTrainDistillation(t *testing.T) {
	d := blobs(200, 12, 4, 1)
	teacher := NewMLP("teacher", []int{12, 32, 4}, 1)
	if _, err := Train(context.Background(), teacher, GoGemm{}, d, TrainConfig{Epochs: 5, Batch: 20, LR: 0.05, Momentum: 0.9}); err != nil {
		t.Fatal(err)
	}
	student := NewMLP("student", []int{12, 4, 4}, 2)
	st, err := Train(context.Background(), student, GoGemm{}, d, TrainConfig{Epochs: 5, Batch: 20, LR: 0.05, Momentum: 0.9, Teacher: teacher})
	if err != nil {
		t.Fatal(err)
	}
	if acc := Accuracy(student, GoGemm{}, d, 50); acc < 170 {
		t.Errorf("distilled student gets %d of 200", acc)
	}
	student2 := NewMLP("student", []int{12, 4, 4}, 2)
	plain, _ := Train(context.Background(), student2, GoGemm{}, d, TrainConfig{Epochs: 5, Batch: 20, LR: 0.05, Momentum: 0.9})
	if want := plain.FLOPs + 1000*teacher.FLOPsPerExample(); st.FLOPs != want {
		t.Errorf("distillation FLOPs %v, want %v (the student's plus the teacher's forward)", st.FLOPs, want)
	}
	wrong := NewMLP("wrong", []int{12, 5}, 1)
	if _, err := Train(context.Background(), student, GoGemm{}, d, TrainConfig{Epochs: 1, Batch: 20, LR: 0.05, Teacher: wrong}); err == nil {
		t.Error("a teacher of 5 classes for a student of 4 was accepted")
	}
}

func TestTrainRefusesConfig(t *testing.T) {
	d := blobs(10, 4, 2, 1)
	for _, cfg := range []TrainConfig{
		{Epochs: 1, LR: 0.1},
		{Batch: 2, LR: 0.1},
		{Epochs: 1, Batch: 2},
		{Epochs: 1, Batch: 2, LR: float32(math.NaN())},
		{Epochs: 1, Batch: 2, LR: 0.1, Momentum: 1},
	} {
		if _, err := Train(context.Background(), NewMLP("m", []int{4, 2}, 1), GoGemm{}, d, cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	bad := d
	bad.Y = append([]uint8(nil), d.Y...)
	bad.Y[3] = 2
	if _, err := Train(context.Background(), NewMLP("m", []int{4, 2}, 1), GoGemm{}, bad, TrainConfig{Epochs: 1, Batch: 2, LR: 0.1}); err == nil {
		t.Error("label 2 of a 2-class model accepted")
	}
}
