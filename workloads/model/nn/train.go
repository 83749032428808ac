package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// TrainConfig sets a training run. The zero value of an optional field
// means its default.
type TrainConfig struct {
	// Epochs is the number of passes over the data; with MaxSteps > 0 it
	// may be 0, for as many passes as MaxSteps takes.
	Epochs int
	// Batch is the number of examples a step averages over; an epoch's
	// last step takes what is left.
	Batch int
	// LR is the learning rate; Momentum the SGD momentum μ (0 for plain
	// SGD); WeightDecay the L2 coefficient on weights (not biases). The
	// update is PyTorch's: v ← μ·v + (∇W + WeightDecay·W), W ← W − lr·v.
	LR, Momentum, WeightDecay float32
	// Seed sets the order examples are shuffled in each epoch. The same
	// model, data, config and seed on a Gemm that returns the same bits
	// give bit-identical weights.
	Seed uint64
	// MaxSteps, when > 0, caps the number of SGD steps.
	MaxSteps int
	// Teacher, when set, turns on distillation: the loss is
	// Alpha·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) +
	// (1−Alpha)·CE(student, label).
	Teacher *Model
	// Temperature is T for distillation; 0 means 4.
	Temperature float32
	// Alpha weighs the soft targets in distillation, in [0, 1]; 0 with a
	// Teacher means 0.9 (Alpha 0 would ignore the teacher).
	Alpha float32
	// EvalEvery, when > 0, calls Callback every EvalEvery steps; Callback
	// is also called once at the end (unless it stopped the run).
	EvalEvery int
	// Callback, if set, sees the model between steps; returning true stops
	// training (TrainStats.Stopped).
	Callback func(step int, m *Model) (stop bool)
	// LRDecay, when > 0, multiplies the learning rate by it after each
	// epoch: epoch e (from 0) runs at LR·LRDecay^e.
	LRDecay float32
}

// TrainStats says what a training run did.
type TrainStats struct {
	// Steps is the number of SGD steps taken; Examples the examples they
	// used (an example seen in two epochs counts twice).
	Steps    int
	Examples int64
	// FLOPs is the GEMM work of the run, 2 per multiply-add, counted per
	// example from the layers' forward figures (Layer.FLOPs):
	//   - the forward pass of every layer, frozen or not;
	//   - the weight gradient of each trained layer (as much as its
	//     forward);
	//   - the input gradient of each dense or convolution layer above the
	//     lowest trained one (as much as its forward); nothing is
	//     propagated below the lowest trained layer;
	//   - with a teacher, the teacher's forward pass.
	// With every layer trained this is about 3× the forward pass (less the
	// first layer's input gradient); training the head alone costs about
	// the forward pass plus 2× the head. Biases, ReLU, pooling, softmax
	// and the update itself are not counted.
	FLOPs float64
	// Loss is the mean per-example training loss (for distillation, the
	// combined loss) over the steps of the last epoch run, a partial one
	// if training stopped early.
	Loss float64
	// Stopped is true when the callback stopped training.
	Stopped bool
}

// Train trains m in place by minibatch SGD with momentum on softmax
// cross-entropy (or distillation, with cfg.Teacher), on g.
//
// Layer.Mask is honoured: masked weights are set to zero before the first
// step and stay exactly zero (their gradients and momentum are zeroed and
// they are set to zero again after each step). Frozen layers are not
// updated, and the backward pass stops at the lowest layer that is
// trained, so fine-tuning a head costs less than training the whole
// model. ctx is checked before each step; on cancellation Train returns
// the stats so far and an error wrapping ctx.Err().
func Train(ctx context.Context, m *Model, g Gemm, d Dataset, cfg TrainConfig) (TrainStats, error) {
	var st TrainStats
	t, err := newTrainer(m, g, d, &cfg)
	if err != nil {
		return st, err
	}
	perStep := t.flopsPerExample()
	order := make([]int, d.N)
	for i := range order {
		order[i] = i
	}
	r := newRand(cfg.Seed)
	lr := float64(cfg.LR)
	called := -1
	for epoch := 0; cfg.Epochs <= 0 || epoch < cfg.Epochs; epoch++ {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var lossSum float64
		var lossN int64
		for lo := 0; lo < d.N; lo += cfg.Batch {
			if cfg.MaxSteps > 0 && st.Steps >= cfg.MaxSteps {
				return t.finish(&st, called, lossSum, lossN)
			}
			if err := ctx.Err(); err != nil {
				st.Loss = meanOrNaN(lossSum, lossN)
				return st, fmt.Errorf("nn: train %s: %w", m.Name, err)
			}
			n := min(cfg.Batch, d.N-lo)
			lossSum += t.step(order[lo:lo+n], float32(lr))
			lossN += int64(n)
			st.Steps++
			st.Examples += int64(n)
			st.FLOPs += perStep * float64(n)
			if cfg.Callback != nil && cfg.EvalEvery > 0 && st.Steps%cfg.EvalEvery == 0 {
				called = st.Steps
				if cfg.Callback(st.Steps, m) {
					st.Stopped = true
					st.Loss = meanOrNaN(lossSum, lossN)
					return st, nil
				}
			}
		}
		if cfg.LRDecay > 0 {
			lr *= float64(cfg.LRDecay)
		}
		if epoch+1 == cfg.Epochs {
			return t.finish(&st, called, lossSum, lossN)
		}
		st.Loss = meanOrNaN(lossSum, lossN)
	}
	panic("unreachable: the loop returns at its last epoch or step")
}

func meanOrNaN(sum float64, n int64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// finish calls the callback a last time, unless it has just seen this
// step, and sets the loss.
func (t *trainer) finish(st *TrainStats, called int, lossSum float64, lossN int64) (TrainStats, error) {
	if lossN > 0 {
		st.Loss = lossSum / float64(lossN)
	}
	if t.cfg.Callback != nil && called != st.Steps {
		st.Stopped = t.cfg.Callback(st.Steps, t.m)
	}
	return *st, nil
}

// trainer holds a training run's buffers, allocated once.
type trainer struct {
	m       *Model
	g       Gemm
	d       Dataset
	cfg     *TrainConfig
	batch   int
	lowest  int         // the lowest trained layer; no gradient below it
	acts    [][]float32 // acts[0] the input batch, acts[i+1] layer i's output
	grads   [][]float32 // grads[i] the gradient of acts[i], for i > lowest
	cols    [][]float32 // each convolution's im2col matrix
	args    [][]int32   // each max-pool's argmax
	dW, dB  [][]float32 // each trained layer's gradients
	vW, vB  [][]float32 // and momentum
	teacher *Forward
	soft    []float32 // the teacher's softened probabilities, batch×classes
	temp    float64
	alpha   float64
}

func newTrainer(m *Model, g Gemm, d Dataset, cfg *TrainConfig) (*trainer, error) {
	shapes, err := m.check(true)
	if err != nil {
		return nil, err
	}
	if err := d.check(m); err != nil {
		return nil, err
	}
	switch {
	case d.N == 0:
		return nil, errors.New("nn: train: the dataset is empty")
	case cfg.Batch <= 0:
		return nil, fmt.Errorf("nn: train: Batch is %d, must be positive", cfg.Batch)
	case cfg.Epochs <= 0 && cfg.MaxSteps <= 0:
		return nil, errors.New("nn: train: set Epochs or MaxSteps")
	case !(cfg.LR > 0) || math.IsInf(float64(cfg.LR), 0):
		return nil, fmt.Errorf("nn: train: LR is %v, must be positive", cfg.LR)
	case !(cfg.Momentum >= 0 && cfg.Momentum < 1):
		return nil, fmt.Errorf("nn: train: Momentum is %v, must be in [0, 1)", cfg.Momentum)
	case !(cfg.WeightDecay >= 0) || math.IsInf(float64(cfg.WeightDecay), 0):
		return nil, fmt.Errorf("nn: train: WeightDecay is %v, must be finite and not negative", cfg.WeightDecay)
	case !(cfg.LRDecay >= 0) || math.IsInf(float64(cfg.LRDecay), 0):
		return nil, fmt.Errorf("nn: train: LRDecay is %v, must be finite and not negative", cfg.LRDecay)
	}
	t := &trainer{m: m, g: g, d: d, cfg: cfg, batch: min(cfg.Batch, d.N), lowest: -1}
	for i := range m.Layers {
		l := &m.Layers[i]
		if (l.Kind == KindDense || l.Kind == KindConv) && !l.Frozen {
			t.lowest = i
			break
		}
	}
	if t.lowest < 0 {
		return nil, fmt.Errorf("nn: train %s: every layer is frozen, nothing to train", m.Name)
	}
	if cfg.Teacher != nil {
		tm := cfg.Teacher
		if err := tm.Validate(); err != nil {
			return nil, fmt.Errorf("nn: train: teacher: %w", err)
		}
		if tm.InH != m.InH || tm.InW != m.InW || tm.InC != m.InC || tm.Classes() != m.Classes() {
			return nil, fmt.Errorf("nn: train: teacher %q takes %d×%d×%d to %d classes, the student %q %d×%d×%d to %d",
				tm.Name, tm.InH, tm.InW, tm.InC, tm.Classes(), m.Name, m.InH, m.InW, m.InC, m.Classes())
		}
		t.temp, t.alpha = float64(cfg.Temperature), float64(cfg.Alpha)
		if t.temp == 0 {
			t.temp = 4
		}
		if t.alpha == 0 {
			t.alpha = 0.9
		}
		if !(t.temp > 0) || math.IsInf(t.temp, 0) || !(t.alpha > 0 && t.alpha <= 1) {
			return nil, fmt.Errorf("nn: train: Temperature %v must be positive and Alpha %v in [0, 1]", cfg.Temperature, cfg.Alpha)
		}
		t.teacher = NewForward(tm, g, t.batch)
		t.soft = make([]float32, t.batch*m.Classes())
	}
	n := len(m.Layers)
	t.acts = make([][]float32, n+1)
	t.grads = make([][]float32, n+1)
	t.cols = make([][]float32, n)
	t.args = make([][]int32, n)
	t.dW, t.dB = make([][]float32, n), make([][]float32, n)
	t.vW, t.vB = make([][]float32, n), make([][]float32, n)
	t.acts[0] = make([]float32, t.batch*m.Inputs())
	for i := range m.Layers {
		l := &m.Layers[i]
		size := t.batch * shapes[i].size()
		t.acts[i+1] = make([]float32, size)
		if i+1 > t.lowest {
			t.grads[i+1] = make([]float32, size)
		}
		switch l.Kind {
		case KindConv:
			t.cols[i] = make([]float32, t.batch*l.Height*l.Width*l.K*l.K*l.InC)
		case KindMaxPool:
			t.args[i] = make([]int32, size)
		}
		if (l.Kind == KindDense || l.Kind == KindConv) && !l.Frozen {
			t.dW[i], t.dB[i] = make([]float32, len(l.W)), make([]float32, len(l.B))
			t.vW[i], t.vB[i] = make([]float32, len(l.W)), make([]float32, len(l.B))
			for j, k := range l.Mask {
				if k == 0 {
					l.W[j] = 0
				}
			}
		}
	}
	return t, nil
}

// flopsPerExample is one training example's GEMM work, as TrainStats.FLOPs
// says.
func (t *trainer) flopsPerExample() float64 {
	f := t.m.FLOPsPerExample()
	for i := range t.m.Layers {
		l := &t.m.Layers[i]
		if t.dW[i] != nil {
			f += l.FLOPs()
		}
		if i > t.lowest {
			f += l.FLOPs()
		}
	}
	if t.cfg.Teacher != nil {
		f += t.cfg.Teacher.FLOPsPerExample()
	}
	return f
}

// step runs one SGD step on the examples idx and returns their summed
// loss.
func (t *trainer) step(idx []int, lr float32) float64 {
	loss := t.gradients(idx)
	for i := range t.m.Layers {
		if t.dW[i] != nil {
			t.update(&t.m.Layers[i], i, lr)
		}
	}
	return loss
}

// gradients runs the forward and backward passes on the examples idx,
// leaving the gradients of the batch's mean loss in dW and dB, and
// returns the summed loss.
func (t *trainer) gradients(idx []int) float64 {
	m, n, in := t.m, len(idx), t.m.Inputs()
	x := t.acts[0]
	for r, j := range idx {
		copy(x[r*in:(r+1)*in], t.d.X[j*in:(j+1)*in])
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		a, out := t.acts[i][:n*len(t.acts[i])/t.batch], t.acts[i+1]
		switch l.Kind {
		case KindDense:
			denseForward(t.g, l, a, n, out)
		case KindConv:
			convForward(t.g, l, a, n, t.cols[i], out)
		case KindMaxPool:
			maxPoolForward(l, a, n, out, t.args[i])
		case KindReLU:
			reluForward(a, out)
		}
	}
	loss := t.lossGrad(idx)
	for i := len(m.Layers) - 1; i >= t.lowest; i-- {
		l := &m.Layers[i]
		rows := func(s []float32) []float32 {
			if s == nil {
				return nil
			}
			return s[:n*len(s)/t.batch]
		}
		x, y, dy, dx := rows(t.acts[i]), rows(t.acts[i+1]), rows(t.grads[i+1]), rows(t.grads[i])
		switch l.Kind {
		case KindDense:
			denseBackward(t.g, l, x, dy, n, t.dW[i], t.dB[i], dx)
		case KindConv:
			convBackward(t.g, l, t.cols[i], dy, n, t.dW[i], t.dB[i], dx)
		case KindMaxPool:
			maxPoolBackward(dy, t.args[i], dx)
		case KindReLU:
			reluBackward(y, dy, dx)
		}
	}
	return loss
}

// lossGrad writes the gradient of the batch's mean loss with respect to
// the logits into the last gradient buffer and returns the summed loss.
func (t *trainer) lossGrad(idx []int) float64 {
	n, k := len(idx), t.m.Classes()
	z := t.acts[len(t.acts)-1][:n*k]
	dz := t.grads[len(t.grads)-1][:n*k]
	var soft []float32
	if t.teacher != nil {
		soft = t.teacher.Run(t.acts[0], n)
	}
	inv := 1 / float64(n)
	total := 0.0
	for r := range n {
		zr, dr := z[r*k:(r+1)*k], dz[r*k:(r+1)*k]
		y := int(t.d.Y[idx[r]])
		lse := logSumExp(zr, 1)
		ce := lse - float64(zr[y])
		if t.teacher == nil {
			for j, v := range zr {
				p := math.Exp(float64(v) - lse)
				if j == y {
					p--
				}
				dr[j] = float32(p * inv)
			}
			total += ce
			continue
		}
		// Distillation: q = softmax(teacher/T), p_T = softmax(z/T);
		// ∂(T²·KL(q‖p_T))/∂z = T·(p_T − q).
		tr := soft[r*k : (r+1)*k]
		T, a := t.temp, t.alpha
		lseS, lseT := logSumExp(zr, T), logSumExp(tr, T)
		kl := 0.0
		for j, v := range zr {
			logq := float64(tr[j])/T - lseT
			q := math.Exp(logq)
			logpT := float64(v)/T - lseS
			if q > 0 {
				kl += q * (logq - logpT)
			}
			p := math.Exp(float64(v) - lse)
			if j == y {
				p--
			}
			dr[j] = float32((a*T*(math.Exp(logpT)-q) + (1-a)*p) * inv)
		}
		total += a*T*T*kl + (1-a)*ce
	}
	return total
}

// update applies momentum SGD to a trained layer, holding masked weights
// at exactly zero.
func (t *trainer) update(l *Layer, i int, lr float32) {
	mu, wd := t.cfg.Momentum, t.cfg.WeightDecay
	dW, vW := t.dW[i], t.vW[i]
	for j, w := range l.W {
		if l.Mask != nil && l.Mask[j] == 0 {
			l.W[j], vW[j] = 0, 0
			continue
		}
		v := mu*vW[j] + dW[j] + wd*w
		vW[j] = v
		l.W[j] = w - lr*v
	}
	dB, vB := t.dB[i], t.vB[i]
	for j, b := range l.B {
		v := mu*vB[j] + dB[j]
		vB[j] = v
		l.B[j] = b - lr*v
	}
}
