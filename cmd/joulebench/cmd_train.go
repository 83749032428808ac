package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gemm"
	"github.com/joulebench/joulebench/workloads/model"
	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

// cmdTrain is joulebench train: it trains the reference models as measured
// workloads (suite train: one repetition, a whole training job, under the
// meters, with a record like run's), writes their weights, then derives the
// compressed variants from the reference MLP and writes theirs. make
// models runs it; the files it writes are the ones built into joulebench.
func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", stderr)
	dir := fs.String("models", filepath.Join("workloads", "model", "weights"), "directory the weights files are written to (built into the next build)")
	out := fs.String("out", "results", "directory for the training record: OUT/RUN-ID/record.json")
	meterSel := fs.String("meter", "auto", "meters, as for run")
	threads := fs.Int("threads", 0, "BLAS threads (0 = all logical CPUs)")
	blas := fs.String("blas", "", "CBLAS library, as for run")
	derive := fs.Bool("derive", true, "derive the compressed variants from the reference MLP")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("train takes no arguments, got %q", pos)
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		return usagef("--models %s: not a directory (create it, or run from the repository root)", *dir)
	}
	runArgs := []string{"--suite", "train", "--out", *out, "--meter", *meterSel, "--threads", strconv.Itoa(*threads)}
	if *blas != "" {
		runArgs = append(runArgs, "--blas", *blas)
	}
	recPath, rec, err := measure(ctx, runArgs, stdout, stderr)
	if err != nil {
		return err
	}
	manifest := map[string]map[string]string{}
	write := func(file string, wf *nn.WeightsFile) error {
		path := filepath.Join(*dir, file)
		if err := nn.WriteWeights(path, wf, true); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		entry := map[string]string{"sha256": hex.EncodeToString(sum[:]), "arch": wf.Arch}
		for k, v := range wf.Meta {
			entry[k] = v
		}
		manifest[file] = entry
		fmt.Fprintf(stdout, "wrote %s (%s, %d bytes, test accuracy %s)\n", path, wf.Arch, len(data), wf.Meta["test_accuracy"])
		return nil
	}
	accOf := func(name string) string {
		for _, w := range rec.Workloads {
			if w.Name == name && len(w.Reps) > 0 {
				if a, ok := w.Reps[len(w.Reps)-1].Work.Quality[results.QAccuracy]; ok {
					return strconv.FormatFloat(a, 'f', 4, 64)
				}
			}
		}
		return ""
	}
	meta := func(name string) map[string]string {
		return map[string]string{"trained_by": name, "train_record": rec.RunID, "tool_version": rec.Tool.Version, "test_accuracy": accOf(name)}
	}
	for _, t := range []struct{ name, file string }{
		{"mnist-train-mlp", "mlp.jbw.gz"}, {"mnist-train-cnn", "cnn.jbw.gz"}, {"mnist-transfer-pretrain", "transfer-pretrain.jbw.gz"},
	} {
		m := model.Trained(t.name)
		if m == nil {
			return fmt.Errorf("%s trained no model (record %s)", t.name, recPath)
		}
		if err := write(t.file, nn.ModelWeights(m, meta(t.name))); err != nil {
			return err
		}
	}
	if *derive {
		set, err := loadSet()
		if err != nil {
			return err
		}
		g, err := gemm.NewSgemm(workloads.Options{BLAS: *blas, Threads: *threads})
		if err != nil {
			return err
		}
		g.Begin()
		var werr error
		_, err = model.DeriveAll(ctx, model.Trained("mnist-train-mlp"), g, set, func(d model.Derived) {
			d.Weights.Meta["derived_from"] = "mlp.jbw.gz"
			d.Weights.Meta["train_record"] = rec.RunID
			fmt.Fprintf(stdout, "derived %s in %.1f s: %s\n", d.File, d.Seconds, d.What)
			if err := write(d.File, d.Weights); err != nil && werr == nil {
				werr = err
			}
		})
		if err := errors.Join(err, werr); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return err
	}
	mpath := filepath.Join(*dir, "MANIFEST.json")
	if err := results.WriteFileAtomic(mpath, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; rebuild joulebench (make build) to build these weights in\n", mpath)
	return nil
}

func loadSet() (*mnist.Set, error) {
	dir, err := mnist.DefaultDir()
	if err != nil {
		return nil, usageError{err}
	}
	set, err := mnist.Load(dir)
	if err != nil {
		if errors.Is(err, mnist.ErrData) {
			return nil, usageError{err}
		}
		return nil, err
	}
	return set, nil
}
