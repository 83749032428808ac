package compress

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

// TestMNISTCheck trains an MLP on MNIST and reports what each compression
// costs in test accuracy: int8 (percentile and maximum calibration),
// unstructured pruning (with and without a short fine-tune), structured
// pruning, and the rank ChooseRanks picks. It takes minutes, so it runs
// only when asked: JOULEBENCH_COMPRESS_CHECK=784-1024-1024-10 (the sizes),
// with JOULEBENCH_TRAIN_EPOCHS (default 1).
func TestMNISTCheck(t *testing.T) {
	arch := os.Getenv("JOULEBENCH_COMPRESS_CHECK")
	if arch == "" {
		t.Skip("set JOULEBENCH_COMPRESS_CHECK=784-1024-1024-10 to train on MNIST and compress")
	}
	var sizes []int
	for _, s := range strings.Split(arch, "-") {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, n)
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
	g := nn.GoGemm{}
	m := nn.NewMLP("mnist-mlp", sizes, 1)
	start := time.Now()
	cfg := nn.TrainConfig{Epochs: epochs, Batch: 128, LR: 0.05, Momentum: 0.9, LRDecay: 0.8, Seed: 1}
	if _, err := nn.Train(context.Background(), m, g, train, cfg); err != nil {
		t.Fatal(err)
	}
	acc := func(m *nn.Model) float64 { return float64(nn.Accuracy(m, g, test, 500)) / float64(test.N) }
	full := acc(m)
	t.Logf("%v, %d epoch(s) in %.0f s: fp32 test accuracy %.4f", sizes, epochs, time.Since(start).Seconds(), full)

	calib := nn.Dataset{X: train.X[:2048*784], Y: train.Y[:2048], N: 2048}
	ranges, err := Calibrate(m, g, calib, 256)
	if err != nil {
		t.Fatal(err)
	}
	maxRanges := maxCalibration(m, calib)
	for _, c := range []struct {
		name   string
		ranges []float32
	}{{"percentile", ranges}, {"maximum", maxRanges}} {
		q, err := Quantize(m, c.ranges)
		if err != nil {
			t.Fatal(err)
		}
		f := NewQForward(q, 500, 2)
		fp := nn.NewForward(m, g, 500)
		correct, agree := 0, 0
		classes := sizes[len(sizes)-1]
		for lo := 0; lo < test.N; lo += 500 {
			x := test.X[lo*784 : (lo+500)*784]
			ql := f.Run(x, 500)
			fl := fp.Run(x, 500)
			for i := range 500 {
				p := nn.Argmax(ql[i*classes : (i+1)*classes])
				if p == int(test.Y[lo+i]) {
					correct++
				}
				if p == nn.Argmax(fl[i*classes:(i+1)*classes]) {
					agree++
				}
			}
		}
		f.Close()
		t.Logf("int8, %s calibration (ranges %v): test accuracy %.4f, top-1 agrees with fp32 on %.2f%%", c.name, c.ranges, float64(correct)/float64(test.N), 100*float64(agree)/float64(test.N))
	}

	for _, sp := range []float64{0.5, 0.9} {
		p := m.Clone()
		if err := PruneUnstructured(p, sp); err != nil {
			t.Fatal(err)
		}
		before := acc(p)
		ft := nn.TrainConfig{MaxSteps: 300, Batch: 128, LR: 0.01, Momentum: 0.9, Seed: 2}
		if _, err := nn.Train(context.Background(), p, g, train, ft); err != nil {
			t.Fatal(err)
		}
		t.Logf("unstructured %.0f%%: test accuracy %.4f, after 300 fine-tuning steps %.4f (sparsity %.4f)", 100*sp, before, acc(p), Sparsity(p))
	}
	for _, frac := range []float64{0.25, 0.5, 0.75} {
		p, err := PruneStructured(m, frac)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("structured %.0f%%: %d params (of %d), test accuracy %.4f", 100*frac, p.Params(), m.Params(), acc(p))
	}
	val := nn.Dataset{X: test.X[:5000*784], Y: test.Y[:5000], N: 5000}
	rest := nn.Dataset{X: test.X[5000*784:], Y: test.Y[5000:], N: 5000}
	ranks, vacc, err := ChooseRanks(m, g, val, []int{8, 16, 32, 64, 128, 256}, 0.01)
	if err != nil {
		t.Logf("low rank: %v", err)
		return
	}
	p, err := LowRank(m, ranks)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("low rank %v (1-point drop allowed): %d params (of %d), validation accuracy %.4f, other half of test %.4f (full model %.4f)",
		ranks, p.Params(), m.Params(), vacc, float64(nn.Accuracy(p, g, rest, 500))/5000, float64(nn.Accuracy(m, g, rest, 500))/5000)
	for i, l := range m.Layers {
		if l.Kind == nn.KindDense && l.Out != sizes[len(sizes)-1] {
			t.Logf("layer %d: SVD error at rank %d: %.3f", i, ranks[0], SVDError(l.W, l.In, l.Out, ranks[0]))
		}
	}
}

// maxCalibration is Calibrate with the maximum instead of the percentile.
func maxCalibration(m *nn.Model, calib nn.Dataset) []float32 {
	ds, _ := denseLayers(m)
	ranges := []float32{1}
	x := calib.X
	for _, d := range ds[:len(ds)-1] {
		l := &m.Layers[d.idx]
		y := make([]float32, calib.N*l.Out)
		for r := range calib.N {
			copy(y[r*l.Out:], l.B)
		}
		nn.GoGemm{}.Sgemm(false, false, calib.N, l.Out, l.In, 1, x, l.In, l.W, l.Out, 1, y, l.Out)
		mx := float32(0)
		for i, v := range y {
			y[i] = max(v, 0)
			mx = max(mx, y[i])
		}
		ranges = append(ranges, mx)
		x = y
	}
	return ranges
}
