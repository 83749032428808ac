package model

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/joulebench/joulebench/workloads/model/compress"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

// RecomputeAccuracy is the variant's accuracy on the full test set and its
// fp32 reference's, computed by joulebench's pure-Go kernels (GoGemm, the
// pure-Go int8 and sparse kernels; bf16 approximated by rounding the
// weights to bf16, the activations staying fp32; the GPU's fp16 and bf16
// emulated by halfForward): no library is loaded, so a certifier can check a
// record's stated accuracy without trusting the machine that made it. The
// pure-Go arithmetic rounds differently from oneDNN and OpenBLAS, so a few
// borderline images may change class; certify allows for that
// (workloads.AccuracyTolerance).
func (w *inference) RecomputeAccuracy(ctx context.Context) (acc, ref float64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if acc, err = recomputed(w.v.file, recomputeEngine(w.v.engine)); err != nil {
		return 0, 0, err
	}
	refFile := "mlp.jbw.gz"
	if w.v.model == "mnist-cnn" {
		refFile = "cnn.jbw.gz"
	}
	ref, err = recomputed(refFile, "dense")
	return acc, ref, err
}

// recomputeEngine is the pure-Go kernel that stands for an engine: the
// GPU's fp32 is the dense fp32 forward pass, its int8 the pure-Go int8
// kernel (the same QMLP arithmetic: the GPU's integer sums are exact and
// its requantisation runs on the host as the CPU's does, so the two agree
// bit for bit), its fp16 and bf16 their emulation
// (halfForward).
func recomputeEngine(eng string) string {
	switch eng {
	case "gpu-fp32":
		return "dense"
	case "gpu-int8":
		return "int8"
	}
	return eng
}

var recomputeCache sync.Map // file+engine → *refEntry

func recomputed(file, eng string) (float64, error) {
	e, _ := recomputeCache.LoadOrStore(file+"|"+eng, &refEntry{})
	ent := e.(*refEntry)
	ent.once.Do(func() { ent.acc, ent.err = recompute(file, eng) })
	return ent.acc, ent.err
}

func recompute(file, eng string) (float64, error) {
	wf, _, err := embedded(file)
	if err != nil {
		return 0, err
	}
	set, err := loadMNIST()
	if err != nil {
		return 0, err
	}
	fwd, done, err := pureGoForward(wf, eng, OfflineBatch, runtime.NumCPU())
	if err != nil {
		return 0, fmt.Errorf("recompute accuracy: %w", err)
	}
	defer done()
	correct := 0
	x := set.Test.X
	for s := 0; s < set.Test.N; s += OfflineBatch {
		n := min(OfflineBatch, set.Test.N-s)
		logits := fwd(x[s*784:(s+n)*784], n)
		for r := 0; r < n; r++ {
			if uint8(nn.Argmax(logits[r*10:r*10+10])) == set.Test.Y[s+r] {
				correct++
			}
		}
	}
	return float64(correct) / float64(set.Test.N), nil
}

// pureGoForward is the pure-Go forward pass of the weights wf that stands
// for the engine eng (a recomputeEngine name), for up to batch rows on
// threads goroutines: what RecomputeAccuracy counts on, and what the GPU
// variants' check compares their logits with. done releases it.
func pureGoForward(wf *nn.WeightsFile, eng string, batch, threads int) (fwd func(x []float32, n int) []float32, done func(), err error) {
	done = func() {}
	switch eng {
	case "int8":
		q, err := compress.QMLPFromWeights(wf)
		if err != nil {
			return nil, nil, err
		}
		f := compress.NewQForward(q, batch, threads)
		return f.Run, f.Close, nil
	case "sparse":
		m, err := nn.WeightsModel(wf)
		if err != nil {
			return nil, nil, err
		}
		s, err := compress.NewSparseMLP(m)
		if err != nil {
			return nil, nil, err
		}
		f := compress.NewSparseForward(s, batch, threads)
		return f.Run, f.Close, nil
	case "gpu-fp16", "gpu-bf16":
		m, err := nn.WeightsModel(wf)
		if err != nil {
			return nil, nil, err
		}
		h, err := newHalfForward(m, gpuPrecision(eng), batch, threads)
		if err != nil {
			return nil, nil, err
		}
		return h.Run, done, nil
	case "dense", "bf16":
		m, err := nn.WeightsModel(wf)
		if err != nil {
			return nil, nil, err
		}
		if eng == "bf16" {
			for i := range m.Layers {
				roundBF16(m.Layers[i].W)
			}
		}
		return nn.NewForward(m, nn.GoGemm{Threads: threads}, batch).Run, done, nil
	}
	return nil, nil, fmt.Errorf("no pure-Go kernel for engine %q", eng)
}

// roundBF16 rounds each value to the nearest bfloat16 (ties to even), as
// oneDNN's f32→bf16 reorder does, and keeps it in float32.
func roundBF16(v []float32) {
	for i, f := range v {
		v[i] = bf16ToF32(f32ToBF16(f))
	}
}
