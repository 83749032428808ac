package model

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/joulebench/joulebench/workloads/model/compress"
	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

// Derived is one weights file made from the reference MLP.
type Derived struct {
	File     string
	Weights  *nn.WeightsFile
	Accuracy float64 // on the full test set
	Seconds  float64
	What     string
}

// Recipes of the compressed variants: the fine-tuning after pruning, the
// distillation, the calibration set. Fixed seeds throughout.
const (
	calibImages   = 2048 // training images the int8 activations are calibrated on
	fineTuneLR    = 0.01
	studentEpochs = 10
)

// rankCandidates are the ranks the low-rank variant tries, smallest first.
var rankCandidates = []int{32, 64, 96, 128, 192, 256}

// DeriveAll makes every compressed variant of the reference MLP ref, on
// the training set only (validation for the rank choice is held out from
// it), and reports each variant's test accuracy. progress, if set, is told
// as each one finishes.
func DeriveAll(ctx context.Context, ref *nn.Model, g nn.Gemm, set *mnist.Set, progress func(Derived)) ([]Derived, error) {
	train, val := mlpTrainSet(set), mlpValidationSet(set)
	test := nn.Dataset{X: set.Test.X, Y: set.Test.Y, N: set.Test.N}
	acc := func(m *nn.Model) float64 { return float64(nn.Accuracy(m, g, test, OfflineBatch)) / float64(test.N) }
	var out []Derived
	add := func(file, what string, began time.Time, wf *nn.WeightsFile, a float64) {
		wf.Meta["test_accuracy"] = strconv.FormatFloat(a, 'f', 4, 64)
		wf.Meta["derivation"] = what
		d := Derived{File: file, Weights: wf, Accuracy: a, Seconds: time.Since(began).Seconds(), What: what}
		out = append(out, d)
		if progress != nil {
			progress(d)
		}
	}
	fine := func(m *nn.Model, epochs int, seed uint64) error {
		_, err := nn.Train(ctx, m, g, train, nn.TrainConfig{Epochs: epochs, Batch: 128, LR: fineTuneLR, Momentum: 0.9, LRDecay: 0.7, Seed: seed})
		return err
	}

	// int8: per-channel weight scales, activations calibrated on the
	// first calibImages training images.
	t := time.Now()
	calib := nn.Dataset{X: train.X[:calibImages*784], Y: train.Y[:calibImages], N: calibImages}
	ranges, err := compress.Calibrate(ref, g, calib, OfflineBatch)
	if err != nil {
		return nil, fmt.Errorf("int8 calibration: %w", err)
	}
	q, err := compress.Quantize(ref, ranges)
	if err != nil {
		return nil, fmt.Errorf("int8: %w", err)
	}
	qf := compress.NewQForward(q, OfflineBatch, 0)
	qc := 0
	for s := 0; s < test.N; s += OfflineBatch {
		n := min(OfflineBatch, test.N-s)
		logits := qf.Run(test.X[s*784:(s+n)*784], n)
		for r := 0; r < n; r++ {
			if uint8(nn.Argmax(logits[r*10:r*10+10])) == test.Y[s+r] {
				qc++
			}
		}
	}
	add("mlp-int8.jbw.gz", fmt.Sprintf("post-training int8 of mlp.jbw.gz: per-channel symmetric weights, activations calibrated on %d training images", calibImages),
		t, q.Weights(map[string]string{}), float64(qc)/float64(test.N))

	// Unstructured magnitude pruning, fine-tuned with the mask held.
	for _, p := range []struct {
		file     string
		sparsity float64
		epochs   int
	}{{"mlp-prune50.jbw.gz", 0.5, 2}, {"mlp-prune90.jbw.gz", 0.9, 3}} {
		t := time.Now()
		m := ref.Clone()
		if err := compress.PruneUnstructured(m, p.sparsity); err != nil {
			return nil, err
		}
		if err := fine(m, p.epochs, 11); err != nil {
			return nil, err
		}
		add(p.file, fmt.Sprintf("%.0f%% of weights removed by magnitude per layer, fine-tuned %d epochs (LR %g) with the mask held", 100*p.sparsity, p.epochs, fineTuneLR),
			t, nn.ModelWeights(m, map[string]string{}), acc(m))
	}

	// Structured: half the hidden neurons removed, fine-tuned.
	t = time.Now()
	sm, err := compress.PruneStructured(ref, 0.5)
	if err != nil {
		return nil, err
	}
	if err := fine(sm, 2, 12); err != nil {
		return nil, err
	}
	add("mlp-struct50.jbw.gz", fmt.Sprintf("50%% of the neurons of each hidden layer removed (smallest L2 norm of incoming weights), fine-tuned 2 epochs (LR %g)", fineTuneLR),
		t, nn.ModelWeights(sm, map[string]string{}), acc(sm))

	// Low-rank: both hidden-side layers factorised at rank r, fine-tuned
	// one epoch; the smallest candidate whose accuracy on the held-out
	// validation images is within 1 point of the reference's is kept.
	t = time.Now()
	refVal := float64(nn.Accuracy(ref, g, val, OfflineBatch)) / float64(val.N)
	var lm *nn.Model
	var tried []string
	for _, r := range rankCandidates {
		ranks := make([]int, 0, 3)
		for _, l := range ref.Layers {
			if l.Kind == nn.KindDense {
				ranks = append(ranks, r)
			}
		}
		ranks[len(ranks)-1] = 0 // the 10-class output layer stays whole
		m, err := compress.LowRank(ref, ranks)
		if err != nil {
			return nil, err
		}
		if err := fine(m, 1, 13); err != nil {
			return nil, err
		}
		a := float64(nn.Accuracy(m, g, val, OfflineBatch)) / float64(val.N)
		tried = append(tried, fmt.Sprintf("rank %d: %.4f", r, a))
		if a >= refVal-0.01 {
			lm = m
			add("mlp-lowrank.jbw.gz", fmt.Sprintf("the two hidden-side dense layers factorised by truncated SVD at rank %d and fine-tuned 1 epoch (LR %g): the smallest of %v within 1 point of the reference's %.4f on the %d held-out validation images (%s)",
				r, fineTuneLR, rankCandidates, refVal, val.N, strings.Join(tried, ", ")), t, nn.ModelWeights(m, map[string]string{}), acc(m))
			break
		}
	}
	if lm == nil {
		return nil, fmt.Errorf("low-rank: no rank of %v stays within 1 point of the reference's validation accuracy %.4f (%s)", rankCandidates, refVal, strings.Join(tried, ", "))
	}

	// Distillation: the same student, trained on soft labels and on hard.
	for _, s := range []struct {
		file    string
		teacher *nn.Model
		what    string
	}{
		{"student-distilled.jbw.gz", ref, "student 784-128-10 trained on the reference's soft labels (T=4, 90% soft, 10% hard)"},
		{"student-hard.jbw.gz", nil, "student 784-128-10 trained on hard labels only, same seed and schedule"},
	} {
		t := time.Now()
		m := nn.NewMLP("mnist-mlp-student", []int{784, 128, 10}, 7)
		cfg := nn.TrainConfig{Epochs: studentEpochs, Batch: 128, LR: 0.05, Momentum: 0.9, LRDecay: 0.8, Seed: 7}
		if s.teacher != nil {
			cfg.Teacher, cfg.Temperature, cfg.Alpha = s.teacher, 4, 0.9
		}
		if _, err := nn.Train(ctx, m, g, train, cfg); err != nil {
			return nil, err
		}
		add(s.file, fmt.Sprintf("%s, %d epochs", s.what, studentEpochs), t, nn.ModelWeights(m, map[string]string{}), acc(m))
	}
	return out, nil
}
