package model

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gemm"
	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
	"github.com/joulebench/joulebench/workloads/model/transfer"
)

// Recipe is how a reference model is trained: the same recipe, seed and
// BLAS give the same weights bit for bit.
type Recipe struct {
	Name  string
	Build func() *nn.Model
	Train nn.TrainConfig
}

// MLPTrainImages is how many of the 60,000 training images the MLP and
// its compressed variants are trained on; the last ValidationImages are
// held out to choose the low-rank variant's rank, so that no choice is
// made on the test set or on images the model has seen.
const (
	MLPTrainImages   = 50000
	ValidationImages = 10000
)

// Recipes of the reference models. They reach the accuracy bars
// (MLP ≥ 98%, CNN ≥ 99% on the test set): the CNN on all 60,000 training
// images, the MLP on the first MLPTrainImages.
var (
	MLPRecipe = Recipe{
		Name:  "mnist-mlp",
		Build: func() *nn.Model { return nn.NewMLP("mnist-mlp", []int{784, 1024, 1024, 10}, 1) },
		Train: nn.TrainConfig{Epochs: 8, Batch: 128, LR: 0.05, Momentum: 0.9, LRDecay: 0.8, Seed: 1},
	}
	CNNRecipe = Recipe{
		Name:  "mnist-cnn",
		Build: func() *nn.Model { return nn.NewCNN("mnist-cnn", 1) },
		Train: nn.TrainConfig{Epochs: 4, Batch: 64, LR: 0.03, Momentum: 0.9, LRDecay: 0.7, Seed: 1},
	}
)

func init() {
	workloads.Register("mnist-train-", newTrain, "mnist-train-mlp", "mnist-train-cnn")
	workloads.Register("mnist-transfer-", newTransfer, "mnist-transfer-pretrain", "mnist-transfer-scratch", "mnist-transfer-head", "mnist-transfer-full")
}

// trained keeps the last model each training workload produced in this
// process, for joulebench train to write.
var trained struct {
	sync.Mutex
	m map[string]*nn.Model
}

// Trained returns the model the named training workload last trained in
// this process, or nil.
func Trained(name string) *nn.Model {
	trained.Lock()
	defer trained.Unlock()
	return trained.m[name]
}

func keepTrained(name string, m *nn.Model) {
	trained.Lock()
	defer trained.Unlock()
	if trained.m == nil {
		trained.m = map[string]*nn.Model{}
	}
	trained.m[name] = m
}

// trainWork trains a reference model from scratch per call: an episodic
// workload, one whole training job per repetition.
type trainWork struct {
	spec    workloads.Spec
	recipe  Recipe
	opts    workloads.Options
	g       *gemm.Sgemm
	train   nn.Dataset
	test    nn.Dataset
	last    *nn.Model
	lastAcc float64
}

func newTrain(name string, opts workloads.Options) (workloads.Workload, error) {
	var r Recipe
	switch name {
	case "mnist-train-mlp":
		r = MLPRecipe
	case "mnist-train-cnn":
		r = CNNRecipe
	default:
		return nil, fmt.Errorf("unknown training workload %q (known: mnist-train-mlp, mnist-train-cnn)", name)
	}
	c := r.Train
	params := map[string]string{
		results.ParamModel: r.Name, "epochs": strconv.Itoa(c.Epochs), "batch": strconv.Itoa(c.Batch),
		"lr": fmt.Sprint(c.LR), "momentum": fmt.Sprint(c.Momentum), "lr_decay": fmt.Sprint(c.LRDecay), "seed": strconv.FormatUint(c.Seed, 10),
		"train_set": "MNIST train, all 60000 images",
	}
	if r.Name == "mnist-mlp" {
		params["train_set"] = fmt.Sprintf("MNIST train, the first %d images (the last %d are held out for validation)", MLPTrainImages, ValidationImages)
	}
	return &trainWork{spec: makeSpec(name, params, "training job (the whole recipe)", 0), recipe: r, opts: opts}, nil
}

func (w *trainWork) Spec() workloads.Spec { return w.spec }
func (w *trainWork) Episodic() bool       { return true }

func (w *trainWork) Validate(ctx context.Context) error {
	_, err := loadMNIST()
	return err
}

func (w *trainWork) Prepare(ctx context.Context) error {
	set, err := loadMNIST()
	if err != nil {
		return err
	}
	w.train = nn.Dataset{X: set.Train.X, Y: set.Train.Y, N: set.Train.N}
	if w.recipe.Name == "mnist-mlp" {
		w.train = mlpTrainSet(set)
	}
	w.test = nn.Dataset{X: set.Test.X, Y: set.Test.Y, N: set.Test.N}
	w.g, err = gemm.NewSgemm(w.opts)
	return err
}

func (w *trainWork) Info() map[string]string {
	if w.g == nil {
		return nil
	}
	m := w.g.Info()
	m["recipe"] = fmt.Sprintf("%+v", w.recipe.Train)
	return m
}

func (w *trainWork) Run(ctx context.Context, iters int) (workloads.Work, error) {
	var work workloads.Work
	for i := 0; i < iters; i++ {
		m := w.recipe.Build()
		w.g.Begin()
		st, err := nn.Train(ctx, m, w.g, w.train, w.recipe.Train)
		if err != nil {
			return work, err
		}
		// A job's FLOPs depend on how it went (steps to a target), so
		// the spec counts none per item and the figure is kept as a
		// quality measure instead.
		work.Quality = map[string]float64{"train_gflop": st.FLOPs / 1e9}
		work.Items++
		w.last = m
	}
	return work, nil
}

// RepQuality is the trained model's test accuracy, computed after the job
// and outside its measured time.
func (w *trainWork) RepQuality() map[string]float64 {
	if w.last == nil {
		return nil
	}
	w.g.Begin()
	c := nn.Accuracy(w.last, w.g, w.test, OfflineBatch)
	w.lastAcc = float64(c) / float64(w.test.N)
	keepTrained(w.spec.Name, w.last)
	return map[string]float64{results.QAccuracy: w.lastAcc}
}

// transferWork is one transfer-learning strategy, or the pretraining: one
// job per call, the job's seed being its repetition number (1, 2, ...), so
// that every strategy sees the same seeds.
type transferWork struct {
	spec     workloads.Spec
	strategy string
	opts     workloads.Options
	cfg      transfer.Config
	g        *gemm.Sgemm
	data     transfer.Data
	pre      *nn.Model
	calls    uint64
	last     transfer.Result
	lastSeed uint64
	lastPre  *nn.Model
}

func newTransfer(name string, opts workloads.Options) (workloads.Workload, error) {
	st := name[len("mnist-transfer-"):]
	switch st {
	case "pretrain", "scratch", "head", "full":
	default:
		return nil, fmt.Errorf("unknown transfer workload %q (known: mnist-transfer-pretrain, -scratch, -head, -full)", name)
	}
	cfg := transfer.DefaultConfig()
	params := map[string]string{
		results.ParamStrategy: st, results.ParamModel: "mnist-transfer",
		"target":     strconv.FormatFloat(cfg.Target, 'f', -1, 64),
		"labelled":   strconv.Itoa(cfg.Labelled),
		"held_out":   strconv.Itoa(cfg.HeldOut),
		"eval_every": strconv.Itoa(cfg.EvalEvery),
		"max_steps":  strconv.Itoa(cfg.MaxSteps),
		"hidden":     fmt.Sprint(cfg.Hidden),
		"lr":         fmt.Sprint(cfg.LR),
		"batch":      strconv.Itoa(cfg.Batch),
	}
	unit := "fine-tuning job (to the target accuracy)"
	if st == "pretrain" {
		unit = "pretraining job (digits 0–4)"
		params["pretrain_epochs"] = strconv.Itoa(cfg.PretrainEpochs)
		params["pretrain_lr"] = fmt.Sprint(cfg.PretrainLR)
	} else {
		wf, sum, err := embedded("transfer-pretrain.jbw.gz")
		if err == nil {
			params["pretrained_sha256"] = sum
			_ = wf
		}
	}
	return &transferWork{spec: makeSpec(name, params, unit, 0), strategy: st, opts: opts, cfg: cfg}, nil
}

func (w *transferWork) Spec() workloads.Spec { return w.spec }
func (w *transferWork) Episodic() bool       { return true }

func (w *transferWork) Validate(ctx context.Context) error {
	if _, err := loadMNIST(); err != nil {
		return err
	}
	if w.strategy != "pretrain" && w.strategy != "scratch" {
		_, _, err := embedded("transfer-pretrain.jbw.gz")
		return err
	}
	return nil
}

func (w *transferWork) Prepare(ctx context.Context) error {
	set, err := loadMNIST()
	if err != nil {
		return err
	}
	w.data = transfer.Split(set, w.cfg)
	if w.g, err = gemm.NewSgemm(w.opts); err != nil {
		return err
	}
	if w.strategy == "head" || w.strategy == "full" {
		wf, _, err := embedded("transfer-pretrain.jbw.gz")
		if err != nil {
			return err
		}
		if w.pre, err = nn.WeightsModel(wf); err != nil {
			return err
		}
	}
	return nil
}

func (w *transferWork) Info() map[string]string {
	if w.g == nil {
		return nil
	}
	m := w.g.Info()
	m["transfer"] = fmt.Sprintf("%+v", w.cfg)
	return m
}

func (w *transferWork) Run(ctx context.Context, iters int) (workloads.Work, error) {
	var work workloads.Work
	for i := 0; i < iters; i++ {
		w.calls++
		seed := w.calls
		w.g.Begin()
		if w.strategy == "pretrain" {
			m, st, err := transfer.Pretrain(ctx, w.g, w.data, w.cfg, seed)
			if err != nil {
				return work, err
			}
			w.lastPre = m
			w.last = transfer.Result{Converged: true, Steps: st.Steps, FLOPs: st.FLOPs}
		} else {
			r, err := transfer.Job(ctx, w.g, w.strategy, w.pre, w.data, w.cfg, seed)
			if err != nil {
				return work, err
			}
			w.last = r
		}
		w.lastSeed = seed
		work.Quality = map[string]float64{"train_gflop": w.last.FLOPs / 1e9}
		work.Items++
	}
	return work, nil
}

func (w *transferWork) RepQuality() map[string]float64 {
	q := map[string]float64{results.QSeed: float64(w.lastSeed), results.QSteps: float64(w.last.Steps)}
	if w.strategy == "pretrain" {
		keepTrained(w.spec.Name, w.lastPre)
		if w.lastPre != nil && w.data.PreTest.N > 0 {
			// Outside the measured time: the pretrained model on the
			// test images of digits 0–4.
			c := nn.Accuracy(w.lastPre, w.g, w.data.PreTest, OfflineBatch)
			q[results.QAccuracy] = float64(c) / float64(w.data.PreTest.N)
		}
		return q
	}
	q[results.QTarget] = w.cfg.Target
	// The evaluations, for the energy-to-accuracy curve: seconds since
	// the job began and accuracy, numbered in order.
	for i, e := range w.last.Curve {
		q[fmt.Sprintf("%s%04d_s", results.QCurvePrefix, i)] = e.Seconds
		q[fmt.Sprintf("%s%04d_acc", results.QCurvePrefix, i)] = e.Accuracy
	}
	q[results.QAccuracy+"_at_stop"] = w.last.Accuracy
	if w.last.Converged {
		q[results.QConverged] = 1
	} else {
		q[results.QConverged] = 0
	}
	return q
}

// mlpTrainSet is the MLP's training images; mlpValidationSet the held-out
// rest.
func mlpTrainSet(set *mnist.Set) nn.Dataset {
	return nn.Dataset{X: set.Train.X[:MLPTrainImages*mnist.Pixels], Y: set.Train.Y[:MLPTrainImages], N: MLPTrainImages}
}

func mlpValidationSet(set *mnist.Set) nn.Dataset {
	return nn.Dataset{X: set.Train.X[MLPTrainImages*mnist.Pixels:], Y: set.Train.Y[MLPTrainImages:], N: set.Train.N - MLPTrainImages}
}
