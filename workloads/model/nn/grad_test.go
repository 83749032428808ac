package nn

import (
	"math"
	"testing"
)

// checkGradients compares the trainer's analytic gradients of every
// weight and bias with central finite differences of the loss, all GEMMs
// accumulated in float64 (naiveGemm) so that the differences resolve.
func checkGradients(t *testing.T, m *Model, cfg TrainConfig) {
	t.Helper()
	d := blobs(5, m.Inputs(), m.Classes(), 11)
	idx := []int{0, 1, 2, 3, 4}
	cfg.Batch, cfg.Epochs, cfg.LR = len(idx), 1, 1
	tr, err := newTrainer(m, naiveGemm{}, d, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.gradients(idx)
	loss := func() float64 { return tr.gradients(idx) / float64(len(idx)) }
	const eps = 1e-3
	checked := 0
	for i := range m.Layers {
		l := &m.Layers[i]
		if tr.dW[i] == nil {
			continue
		}
		grads := map[string][]float32{"W": append([]float32(nil), tr.dW[i]...), "B": append([]float32(nil), tr.dB[i]...)}
		for name, p := range map[string][]float32{"W": l.W, "B": l.B} {
			g := grads[name]
			var num, diff, scale float64
			for j := range p {
				old := p[j]
				p[j] = old + eps
				up := loss()
				p[j] = old - eps
				down := loss()
				p[j] = old
				num = (up - down) / (2 * eps)
				diff += (num - float64(g[j])) * (num - float64(g[j]))
				scale += num*num + float64(g[j])*float64(g[j])
				checked++
			}
			rel := math.Sqrt(diff / max(scale, 1e-12))
			t.Logf("layer %d %s: %.2g", i, name, rel)
			if rel > 2e-3 {
				t.Errorf("layer %d (%s) %s: relative gradient error %.2g", i, l.Kind, name, rel)
			}
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}

func TestGradients(t *testing.T) {
	checkGradients(t, tinyCNN(1), TrainConfig{})
}

func TestGradientsMLP(t *testing.T) {
	checkGradients(t, NewMLP("mlp", []int{7, 6, 5, 4}, 2), TrainConfig{})
}

func TestGradientsDistillation(t *testing.T) {
	teacher := tinyCNN(8)
	for i := range teacher.Layers { // a confident teacher
		for j := range teacher.Layers[i].W {
			teacher.Layers[i].W[j] *= 2
		}
	}
	checkGradients(t, tinyCNN(1), TrainConfig{Teacher: teacher, Temperature: 3, Alpha: 0.7})
}

func TestGradientsBelowFrozen(t *testing.T) {
	// A frozen middle layer still passes the gradient down.
	m := tinyCNN(1)
	m.Layers[3].Frozen = true
	checkGradients(t, m, TrainConfig{})
}
