// Package transfer is the transfer-learning workload of joulebench's MNIST
// models: what it costs, in energy, to reach a given accuracy on a new task
// from little labelled data, with and without a pretrained model.
//
// The task is split by digit. A model is pretrained on the training images
// of digits 0–4 (Pretrain). The new task is digits 5–9 with only a small
// labelled set (1,000 images by default, balanced per digit, chosen with a
// fixed seed so every machine trains on the same images). Three strategies
// reach for the same accuracy on it (Job):
//
//   - "scratch": a fresh model of the same architecture, every layer trained;
//   - "head": the pretrained model with its last dense layer re-initialised
//     and every other layer frozen, so only the head learns (and backward
//     passes stop at the head);
//   - "full": the pretrained model with a re-initialised head, every layer
//     trained (fine-tuning everything, at the same learning rate).
//
// What is measured is energy-to-target, as in MLPerf Training (Mattson et
// al., "MLPerf Training Benchmark", MLSys 2020, and its rules on the
// quality target and evaluation): a job trains until its accuracy on a
// held-out set reaches Config.Target, and the work counted is everything
// it did to get there. The accuracy is checked on held-out test images of
// 5–9, never the training images, because on 1,000 training images a model
// reaches any accuracy by memorising them, and a target met on the data it
// was trained on says nothing about the task. It is checked at a fixed
// interval of SGD steps (Config.EvalEvery), the same for every strategy and
// seed, so that no job gains by being looked at more often; and the
// evaluations' forward passes are part of the job's work (Result.FLOPs), as
// MLPerf counts evaluation time in time-to-train. A job that has not
// reached the target within its budget (Config.MaxSteps) did not converge:
// Result.Converged is false, and its cost is not a figure to compare, only
// the fact that it failed. Results over several seeds are what a
// comparison rests on; one seed says little.
//
// The pretraining is done once and shared by the head and full jobs; its
// cost is reported apart (the TrainStats Pretrain returns), since whether
// it counts against fine-tuning depends on how often a pretrained model is
// reused, a choice for whoever reads the figures.
//
// What this package must not do: measure energy or time (the harness
// does), read files other than through the mnist package, download
// anything, or change a model it is given: Job trains a copy of the
// pretrained model.
package transfer
