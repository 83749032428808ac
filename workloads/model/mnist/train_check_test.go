package mnist_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

// TestTrainCheck trains a reference model on the whole of MNIST and
// reports test accuracy and time per epoch. It takes minutes, so it runs
// only when asked: JOULEBENCH_TRAIN_CHECK=mlp or cnn, with
// JOULEBENCH_TRAIN_EPOCHS (default 1), JOULEBENCH_TRAIN_LR and
// JOULEBENCH_TRAIN_BATCH to change the recipe.
func TestTrainCheck(t *testing.T) {
	which := os.Getenv("JOULEBENCH_TRAIN_CHECK")
	if which == "" {
		t.Skip("set JOULEBENCH_TRAIN_CHECK=mlp or cnn to train on MNIST")
	}
	epochs, _ := strconv.Atoi(os.Getenv("JOULEBENCH_TRAIN_EPOCHS"))
	epochs = max(epochs, 1)
	dir, err := mnist.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	set, err := mnist.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	train, test := nn.Dataset(set.Train), nn.Dataset(set.Test)
	var m *nn.Model
	cfg := nn.TrainConfig{Epochs: epochs, Batch: 128, LR: 0.05, Momentum: 0.9, LRDecay: 0.8, Seed: 1}
	if which == "cnn" {
		m = nn.NewCNN("mnist-cnn", 1)
		cfg.Batch, cfg.LR = 64, 0.03
	} else {
		m = nn.NewMLP("mnist-mlp", []int{784, 1024, 1024, 10}, 1)
	}
	if v, err := strconv.ParseFloat(os.Getenv("JOULEBENCH_TRAIN_LR"), 32); err == nil {
		cfg.LR = float32(v)
	}
	if v, err := strconv.Atoi(os.Getenv("JOULEBENCH_TRAIN_BATCH")); err == nil {
		cfg.Batch = v
	}
	g := nn.GoGemm{}
	start := time.Now()
	last := start
	cfg.EvalEvery = (train.N + cfg.Batch - 1) / cfg.Batch
	cfg.Callback = func(step int, m *nn.Model) bool {
		now := time.Now()
		acc := float64(nn.Accuracy(m, g, test, 500)) / float64(test.N)
		t.Logf("step %d: %.1f s, test accuracy %.4f", step, now.Sub(last).Seconds(), acc)
		last = time.Now()
		return false
	}
	st, err := nn.Train(context.Background(), m, g, train, cfg)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start).Seconds()
	t.Logf("%s: %d epochs, %.1f s (with evaluation), %.3g FLOPs, last-epoch loss %.4f", m.Name, epochs, el, st.FLOPs, st.Loss)
}
