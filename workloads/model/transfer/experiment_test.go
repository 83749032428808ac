package transfer

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gemm"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

var (
	experiment = flag.Bool("experiment", false, "run DefaultConfig's experiment: pretraining, then every strategy for seeds 1..-seeds, on OpenBLAS (slow: minutes)")
	seeds      = flag.Int("seeds", 5, "seeds of -experiment")
	target     = flag.Float64("target", 0, "-experiment's target, 0 for DefaultConfig's")
	lr         = flag.Float64("lr", 0, "-experiment's learning rate, 0 for DefaultConfig's")
	batch      = flag.Int("batch", 0, "-experiment's batch, 0 for DefaultConfig's")
	evalEvery  = flag.Int("evalevery", 0, "-experiment's steps between evaluations, 0 for DefaultConfig's")
	maxSteps   = flag.Int("maxsteps", 0, "-experiment's budget, 0 for DefaultConfig's")
	preEpochs  = flag.Int("preepochs", 0, "-experiment's pretraining epochs, 0 for DefaultConfig's")
	hidden     = flag.Int("hidden", 0, "-experiment's width of both hidden layers, 0 for DefaultConfig's")
	preLR      = flag.Float64("prelr", 0, "-experiment's pretraining learning rate, 0 for DefaultConfig's")
)

// TestExperiment is how DefaultConfig was chosen, kept so that it can be
// run again on another machine:
//
//	go test ./workloads/model/transfer/ -run Experiment -experiment -v
//
// It prints, per strategy and seed, the steps to the target, whether the
// job converged, its accuracy and wall time; the wall times are only a
// guide (the harness measures).
func TestExperiment(t *testing.T) {
	if !*experiment {
		t.Skip("run with -experiment")
	}
	g, err := gemm.NewSgemm(workloads.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	g.Begin()
	t.Logf("BLAS: %v", g.Info())
	cfg := DefaultConfig()
	if *target > 0 {
		cfg.Target = *target
	}
	if *lr > 0 {
		cfg.LR = float32(*lr)
	}
	if *preLR > 0 {
		cfg.PretrainLR = float32(*preLR)
	}
	if *hidden > 0 {
		cfg.Hidden = []int{*hidden, *hidden}
	}
	if *batch > 0 {
		cfg.Batch = *batch
	}
	if *evalEvery > 0 {
		cfg.EvalEvery = *evalEvery
	}
	if *maxSteps > 0 {
		cfg.MaxSteps = *maxSteps
	}
	if *preEpochs > 0 {
		cfg.PretrainEpochs = *preEpochs
	}
	d := Split(set(t), cfg)
	ctx := context.Background()
	t0 := time.Now()
	pre, st, err := Pretrain(ctx, g, d, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	preWall := time.Since(t0)
	acc := float64(nn.Accuracy(pre, g, d.PreTest, evalBatch)) / float64(d.PreTest.N)
	t.Logf("pretraining: %d epochs, %d steps, %.3g FLOPs, %.1f s; accuracy on %d test images of 0-4: %.4f",
		cfg.PretrainEpochs, st.Steps, st.FLOPs, preWall.Seconds(), d.PreTest.N, acc)
	if *curve {
		curves(t, g, pre, d, cfg)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "target %.3f on %d held-out, eval every %d steps, budget %d steps, batch %d, lr %v, momentum %v\n",
		cfg.Target, d.Held.N, cfg.EvalEvery, cfg.MaxSteps, cfg.Batch, cfg.LR, cfg.Momentum)
	fmt.Fprintf(&b, "%-8s %4s %9s %6s %8s %6s %10s %7s\n", "strategy", "seed", "converged", "steps", "accuracy", "evals", "FLOPs", "wall s")
	for _, strategy := range Strategies() {
		for seed := uint64(1); seed <= uint64(*seeds); seed++ {
			t0 := time.Now()
			r, err := Job(ctx, g, strategy, pre, d, cfg, seed)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%-8s %4d %9v %6d %8.4f %6d %10.3g %7.2f\n", strategy, seed, r.Converged, r.Steps, r.Accuracy, r.Evaluations, r.FLOPs, time.Since(t0).Seconds())
		}
	}
	t.Log("\n" + b.String())
}

var curve = flag.Bool("curve", false, "with -experiment: train every strategy for the whole budget and print the held-out accuracy at each evaluation")

// curves prints, per strategy, the accuracy at each evaluation of seed 1,
// and each seed's best: what a target can be set from.
func curves(t *testing.T, g nn.Gemm, pre *nn.Model, d Data, cfg Config) {
	cfg.Target = 1.01
	for _, strategy := range Strategies() {
		var b strings.Builder
		for seed := uint64(1); seed <= uint64(*seeds); seed++ {
			best, at := 0.0, 0
			t0 := time.Now()
			_, _, err := job(context.Background(), g, strategy, pre, d, cfg, seed, func(step int, acc float64) {
				if seed == 1 {
					fmt.Fprintf(&b, " %d:%.3f", step, acc)
				}
				if acc > best {
					best, at = acc, step
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if seed == 1 {
				b.WriteString("\n ")
			}
			fmt.Fprintf(&b, " seed %d: best %.4f at step %d, %d steps in %.1f s", seed, best, at, cfg.MaxSteps, time.Since(t0).Seconds())
		}
		t.Logf("%s (lr %v, batch %d):%s", strategy, cfg.LR, cfg.Batch, b.String())
	}
}
