// Package model is joulebench's MNIST model workloads: a reference MLP and
// CNN, their compressed variants (int8 and bf16 on oneDNN, magnitude
// pruning on a sparse kernel, structured pruning, low-rank factorisation,
// a distilled student), each in the MLPerf Inference scenarios Offline and
// SingleStream, with the accuracy on the full 10,000-image test set
// measured in every run; and the training jobs (the reference models, and
// transfer learning to a target accuracy) as episodic workloads.
//
// The weights are trained by joulebench's own code (joulebench train, make
// models) and built into the binary from weights/, so that every machine
// runs the identical model; their SHA-256 is part of each workload's spec.
package model

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gemm"
	"github.com/joulebench/joulebench/workloads/model/compress"
	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

// Version of the model inference workloads; it changes whenever the work
// done for a name changes (weights, test set order, batch).
const Version = "1"

// Batch sizes of the scenarios: MLPerf's Offline takes every sample at
// once and lets the system batch; joulebench fixes 256 so that runs
// compare. SingleStream sends one query at a time and measures its
// latency.
const (
	OfflineBatch      = 256
	SingleStreamBatch = 1
)

//go:embed weights
var weightFiles embed.FS

// variant describes one compressed (or reference) form of a model.
type variant struct {
	model  string // family: "mnist-mlp" or "mnist-cnn"
	name   string // "fp32", "int8", ...
	file   string // weights file in weights/
	engine string // "dense", "int8", "bf16", "sparse"
	what   string // one line for docs and Info
}

var variants = []variant{
	{"mnist-mlp", "fp32", "mlp.jbw.gz", "dense", "reference MLP 784-1024-1024-10, fp32 on the fastest fp32 path (BLAS or oneDNN)"},
	{"mnist-mlp", "int8", "mlp-int8.jbw.gz", "int8", "post-training int8: per-channel weight scales, activations calibrated on training images; oneDNN u8×s8"},
	{"mnist-mlp", "bf16", "mlp.jbw.gz", "bf16", "the reference weights in bf16 on oneDNN (CPUs with AVX512_BF16 or AMX)"},
	{"mnist-mlp", "prune50", "mlp-prune50.jbw.gz", "sparse", "50% of weights removed by magnitude, fine-tuned, run on a sparse kernel"},
	{"mnist-mlp", "prune90", "mlp-prune90.jbw.gz", "sparse", "90% of weights removed by magnitude, fine-tuned, run on a sparse kernel"},
	{"mnist-mlp", "struct50", "mlp-struct50.jbw.gz", "dense", "half the hidden neurons removed (smallest L2 norm), fine-tuned, run dense"},
	{"mnist-mlp", "lowrank", "mlp-lowrank.jbw.gz", "dense", "dense layers factorised by truncated SVD, rank chosen to stay within 1 point"},
	{"mnist-mlp", "distilled", "student-distilled.jbw.gz", "dense", "student 784-128-10 trained on the reference's soft labels"},
	{"mnist-mlp", "student", "student-hard.jbw.gz", "dense", "the same student trained on hard labels only (the distillation control)"},
	{"mnist-cnn", "fp32", "cnn.jbw.gz", "dense", "reference CNN (two 3×3 convolutions by im2col + GEMM, pooling, two dense), fp32 on the BLAS"},
	// The GPU variants form their own family, so that the savings table
	// compares them with the GPU fp32, not with a CPU.
	{"mnist-mlp-gpu", "fp32", "mlp.jbw.gz", "gpu-fp32", "reference MLP 784-1024-1024-10 on the GPU: fp32 cuBLASLt matmuls, bias and ReLU fused"},
	{"mnist-mlp-gpu", "fp16", "mlp.jbw.gz", "gpu-fp16", "the reference weights in fp16 on the GPU (cuBLASLt, fp32 accumulation)"},
	{"mnist-mlp-gpu", "bf16", "mlp.jbw.gz", "gpu-bf16", "the reference weights in bf16 on the GPU (cuBLASLt, fp32 accumulation)"},
	{"mnist-mlp-gpu", "int8", "mlp-int8.jbw.gz", "gpu-int8", "the post-training int8 model on the GPU: cuBLASLt s8×s8→s32, requantised in the epilogue"},
}

// Scenarios, named as MLPerf Inference names them.
const (
	Offline      = "offline"
	SingleStream = "singlestream"
)

func init() {
	// The GPU variants' names start with "mnist-mlp-" too, so they belong
	// to that prefix's registration.
	byPrefix := map[string][]string{}
	for _, v := range variants {
		p := "mnist-mlp-"
		if v.model == "mnist-cnn" {
			p = "mnist-cnn-"
		}
		for _, sc := range []string{Offline, SingleStream} {
			byPrefix[p] = append(byPrefix[p], v.model+"-"+v.name+"-"+sc)
		}
	}
	workloads.Register("mnist-mlp-", New, byPrefix["mnist-mlp-"]...)
	workloads.Register("mnist-cnn-", New, byPrefix["mnist-cnn-"]...)
}

// Names lists the inference workloads.
func Names() []string {
	var out []string
	for _, v := range variants {
		for _, sc := range []string{Offline, SingleStream} {
			out = append(out, v.model+"-"+v.name+"-"+sc)
		}
	}
	return out
}

func lookup(name string) (variant, string, error) {
	for _, v := range variants {
		for _, sc := range []string{Offline, SingleStream} {
			if name == v.model+"-"+v.name+"-"+sc {
				return v, sc, nil
			}
		}
	}
	return variant{}, "", fmt.Errorf("unknown model workload %q (known: %s)", name, strings.Join(Names(), ", "))
}

// inference is one variant in one scenario. It is not safe for concurrent
// use.
type inference struct {
	spec     workloads.Spec
	v        variant
	scenario string
	batch    int
	opts     workloads.Options
	file     *nn.WeightsFile

	eng     engine
	info    map[string]string
	test    mnist.Split
	x       []float32 // the test images in order's order, so that any batch is a contiguous window
	order   []int     // row r of x is test image order[r]
	pos     int
	pred    []int8 // per test image, the class the measured calls predicted, -1 if none since the last check
	lat     []time.Duration
	refAcc  float64
	lastAcc float64
	lastLat [3]float64
	checks  int
	rng     *rand.Rand

	// ref is the pure-Go forward pass a GPU variant's logits are checked
	// against (see checkLogits); nil for the CPU variants.
	ref     func(x []float32, n int) []float32
	refDone func()
}

// New makes the inference workload called name.
func New(name string, opts workloads.Options) (workloads.Workload, error) {
	v, sc, err := lookup(name)
	if err != nil {
		return nil, err
	}
	wf, sum, err := embedded(v.file)
	if err != nil {
		return nil, err
	}
	batch := OfflineBatch
	if sc == SingleStream {
		batch = SingleStreamBatch
	}
	flops, err := variantFLOPs(v, wf)
	if err != nil {
		return nil, err
	}
	params := map[string]string{
		results.ParamModel:    v.model,
		results.ParamVariant:  v.name,
		results.ParamScenario: sc,
		"batch":               strconv.Itoa(batch),
		"weights":             v.file,
		"weights_sha256":      sum,
		"test_set":            "MNIST t10k, all 10000 images",
		"arch":                wf.Arch,
	}
	params["precision"] = map[string]string{"int8": "int8", "bf16": "bf16"}[v.engine]
	if params["precision"] == "" {
		params["precision"] = "fp32"
	}
	if isGPU(v) {
		params["precision"] = gpuPrecision(v.engine)
		params["device"] = "gpu"
	}
	w := &inference{v: v, scenario: sc, batch: batch, opts: opts, file: wf}
	w.spec = makeSpec(name, params, "inference", flops)
	w.spec.ItemsPerCall = batch
	return w, nil
}

// makeSpec builds a Spec whose Hash is the SHA-256 of the canonical JSON
// of name, version and params, as the GEMM workloads' is.
func makeSpec(name string, params map[string]string, unit string, flops float64) workloads.Spec {
	return workloads.Spec{Name: name, Version: Version, Params: params, WorkUnit: unit, Hash: workloads.SpecHash(name, Version, params), FLOPsPerItem: flops}
}

var embeddedCache sync.Map // file → *embeddedEntry

type embeddedEntry struct {
	once sync.Once
	wf   *nn.WeightsFile
	sum  string
	err  error
}

// embedded decodes a built-in weights file once per process.
func embedded(file string) (*nn.WeightsFile, string, error) {
	e, _ := embeddedCache.LoadOrStore(file, &embeddedEntry{})
	ent := e.(*embeddedEntry)
	ent.once.Do(func() {
		data, err := weightFiles.ReadFile("weights/" + file)
		if err != nil {
			ent.err = fmt.Errorf("weights %s: not built into this binary (run make models, then rebuild): %w", file, err)
			return
		}
		s := sha256.Sum256(data)
		ent.sum = hex.EncodeToString(s[:])
		ent.wf, ent.err = decodeWeights(data, "weights/"+file)
	})
	return ent.wf, ent.sum, ent.err
}

// decodeWeights decodes a weights file and checks that it builds the model
// its arch names (every tensor's shape against the arch), so that a bad
// file is refused once, here, naming src.
func decodeWeights(data []byte, src string) (*nn.WeightsFile, error) {
	wf, err := nn.DecodeWeights(data, src)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(wf.Arch, "qmlp:") {
		_, err = compress.QMLPFromWeights(wf)
	} else {
		_, err = nn.WeightsModel(wf)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return wf, nil
}

func (w *inference) Spec() workloads.Spec { return w.spec }

// Validate says early when a variant cannot run here (no oneDNN for bf16,
// no native bf16; no CUDA GPU, cuBLASLt or algorithm for a GPU variant),
// before anything is measured.
func (w *inference) Validate(ctx context.Context) error {
	if _, err := loadMNIST(); err != nil {
		return err
	}
	if w.v.engine == "bf16" {
		return bf16Available()
	}
	if isGPU(w.v) {
		return gpuValidate(w.v, w.file, w.batch, w.opts.CUDALibDir)
	}
	return nil
}

func (w *inference) threads() int {
	if w.opts.Threads > 0 {
		return w.opts.Threads
	}
	return runtime.NumCPU()
}

func (w *inference) Prepare(ctx context.Context) error {
	set, err := loadMNIST()
	if err != nil {
		return err
	}
	w.rng = rand.New(rand.NewPCG(w.opts.Seed, 0x6d6e697374))
	w.setTest(set.Test)
	if w.refAcc, err = referenceAccuracy(w.v.model, w.opts); err != nil {
		return fmt.Errorf("fp32 reference accuracy: %w", err)
	}
	w.eng, err = newEngine(w.v, w.file, w.batch, w.opts, w.threads())
	if err != nil {
		return err
	}
	if isGPU(w.v) {
		w.ref, w.refDone, err = pureGoForward(w.file, recomputeEngine(w.v.engine), OfflineBatch, w.threads())
		if err != nil {
			return fmt.Errorf("pure-Go reference of %s: %w", w.v.engine, err)
		}
	}
	w.info = w.eng.info()
	w.info["variant"] = w.v.what
	w.info["reference_accuracy"] = strconv.FormatFloat(w.refAcc, 'f', 4, 64)
	return nil
}

// setTest makes s the images the calls cycle through and the check counts
// on: the test set, or in tests a slice of it.
func (w *inference) setTest(s mnist.Split) {
	w.test = s
	w.pred = make([]int8, s.N)
	for i := range w.pred {
		w.pred[i] = -1
	}
	w.shuffle()
}

// shuffle gives the calls fresh inputs: the test images in a new random
// order (from the run's seed), in a newly allocated buffer, from a new
// random start. An engine that remembered its answers by where the input
// was, or in which order the images came, has nothing to reuse. Called
// outside the measured time.
func (w *inference) shuffle() {
	n := w.test.N
	perm := w.rng.Perm(n)
	for len(perm) < n+OfflineBatch {
		perm = append(perm, perm[:min(n, n+OfflineBatch-len(perm))]...)
	}
	w.order = perm
	w.x = make([]float32, len(perm)*mnist.Pixels)
	for r, img := range perm {
		copy(w.x[r*mnist.Pixels:(r+1)*mnist.Pixels], w.test.X[img*mnist.Pixels:(img+1)*mnist.Pixels])
	}
	w.pos = w.rng.IntN(n)
}

func (w *inference) Info() map[string]string { return w.info }

func (w *inference) Close() error {
	if w.eng != nil {
		w.eng.close()
		w.eng = nil
	}
	if w.refDone != nil {
		w.refDone()
		w.ref, w.refDone = nil, nil
	}
	return nil
}

// Run makes iters calls, each one batch of test images (a query of one
// image in SingleStream), cycling through the test set, and keeps each
// image's predicted class for the check.
func (w *inference) Run(ctx context.Context, iters int) (workloads.Work, error) {
	in := mnist.Pixels
	n := w.test.N
	correct := 0
	w.eng.begin()
	for i := 0; i < iters; i++ {
		if i&63 == 0 && ctx.Err() != nil {
			return workloads.Work{}, ctx.Err()
		}
		var t0 time.Time
		if w.batch == 1 {
			t0 = time.Now()
		}
		logits := w.eng.forward(w.x[w.pos*in:(w.pos+w.batch)*in], w.batch)
		if w.batch == 1 {
			w.lat = append(w.lat, time.Since(t0))
		}
		for r := 0; r < w.batch; r++ {
			img := w.order[w.pos+r]
			c := nn.Argmax(logits[r*10 : r*10+10])
			w.pred[img] = int8(c)
			if uint8(c) == w.test.Y[img] {
				correct++
			}
		}
		w.pos = (w.pos + w.batch) % n
	}
	items := int64(iters * w.batch)
	q := map[string]float64{}
	if items > 0 {
		q[results.QAccuracyMeasured] = float64(correct) / float64(items)
	}
	return workloads.Work{FLOPs: float64(items) * w.spec.FLOPsPerItem, Items: items, Quality: q}, nil
}

// DisagreementLimit is the largest share of the measured queries whose
// class may differ from the check pass's. The check pass runs the same
// weights on the same kernel at batch 256; batch 1 may round differently
// in a few borderline images, a skipped or stale computation differs in
// most.
const DisagreementLimit = 0.002

// Check runs the whole test set through the same engine at batch 256,
// outside the measured time, from the test set's own buffer in its own
// order: its accuracy is the repetition's accuracy, and every image the
// measured calls classified since the last check must get the same class
// (a kernel that skipped work or returned stale logits does not). A GPU
// variant's logits are then held to its pure-Go reference on a fresh
// random subset of the test set (checkLogits), so that a library computing
// in lower precision than the variant names, which barely moves the
// classes, fails too. It then gives the calls fresh inputs (shuffle).
func (w *inference) Check(ctx context.Context) (workloads.Check, error) {
	in := mnist.Pixels
	n := w.test.N
	correct, seen, differ := 0, 0, 0
	w.eng.begin()
	for s := 0; s < n; s += OfflineBatch {
		rows := min(OfflineBatch, n-s)
		logits := w.eng.forward(w.test.X[s*in:(s+rows)*in], rows)
		for r := 0; r < rows; r++ {
			c := int8(nn.Argmax(logits[r*10 : r*10+10]))
			if uint8(c) == w.test.Y[s+r] {
				correct++
			}
			if p := w.pred[s+r]; p >= 0 {
				seen++
				if p != c {
					differ++
				}
				w.pred[s+r] = -1
			}
		}
	}
	w.lastAcc = float64(correct) / float64(n)
	w.lastLat = percentiles(w.lat)
	w.lat = w.lat[:0]
	var logits *workloads.Check
	if w.ref != nil {
		c := w.checkLogits()
		logits = &c
	}
	w.shuffle()
	w.checks++
	frac := 0.0
	if seen > 0 {
		frac = float64(differ) / float64(seen)
	}
	chk := workloads.Check{
		Name:   "class agreement with a full test-set pass",
		Value:  frac,
		Limit:  DisagreementLimit,
		OK:     seen > 0 && frac <= DisagreementLimit,
		Detail: fmt.Sprintf("%d of %d images classified by the measured calls got another class in the check pass; test-set accuracy %.4f", differ, seen, w.lastAcc),
	}
	if logits == nil {
		return chk, nil
	}
	// One check to report: the class agreement's when it fails (a skipped
	// or stale call), else the logits' when they fail; when both pass, the
	// class agreement's, saying the logits passed too.
	if chk.OK && !logits.OK {
		logits.Detail += "; " + chk.Detail
		return *logits, nil
	}
	chk.Detail += "; " + logits.Name + ": " + logits.Detail
	if !chk.OK {
		chk.Verdict = workloads.VerdictWrong
	}
	return chk, nil
}

// RepQuality gives the repetition's accuracy on the full test set, the
// reference's, and in SingleStream the latency percentiles.
func (w *inference) RepQuality() map[string]float64 {
	q := map[string]float64{
		results.QAccuracy:          w.lastAcc,
		results.QReferenceAccuracy: w.refAcc,
	}
	if w.batch == 1 {
		q[results.QLatencyP50], q[results.QLatencyP90], q[results.QLatencyP99] = w.lastLat[0], w.lastLat[1], w.lastLat[2]
	}
	return q
}

// percentiles returns p50, p90 and p99 of d in milliseconds, by the
// nearest-rank method (MLPerf LoadGen reports nearest-rank percentiles);
// NaN for none.
func percentiles(d []time.Duration) [3]float64 {
	if len(d) == 0 {
		return [3]float64{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) float64 {
		k := int(math.Ceil(p*float64(len(s)))) - 1
		k = max(0, min(k, len(s)-1))
		return float64(s[k]) / float64(time.Millisecond)
	}
	return [3]float64{at(0.50), at(0.90), at(0.99)}
}

// loadMNIST reads the MNIST files from JOULEBENCH_MNIST or the module
// cache, checking their SHA-256 (mnist.Load caches a good set per
// directory, so this is cheap after the first call).
func loadMNIST() (*mnist.Set, error) {
	dir, err := mnist.DefaultDir()
	if err != nil {
		return nil, err
	}
	return mnist.Load(dir)
}

var refCache sync.Map // model → *refEntry

type refEntry struct {
	once sync.Once
	acc  float64
	err  error
}

// referenceAccuracy is the fp32 reference model's accuracy on the full test
// set, computed once per process on the BLAS.
func referenceAccuracy(model string, opts workloads.Options) (float64, error) {
	e, _ := refCache.LoadOrStore(model, &refEntry{})
	ent := e.(*refEntry)
	ent.once.Do(func() {
		file := "mlp.jbw.gz"
		if model == "mnist-cnn" {
			file = "cnn.jbw.gz"
		}
		wf, _, err := embedded(file)
		if err != nil {
			ent.err = err
			return
		}
		m, err := nn.WeightsModel(wf)
		if err != nil {
			ent.err = err
			return
		}
		g, err := gemm.NewSgemm(opts)
		if err != nil {
			ent.err = err
			return
		}
		set, err := loadMNIST()
		if err != nil {
			ent.err = err
			return
		}
		g.Begin()
		c := nn.Accuracy(m, g, nn.Dataset{X: set.Test.X, Y: set.Test.Y, N: set.Test.N}, OfflineBatch)
		ent.acc = float64(c) / float64(set.Test.N)
	})
	return ent.acc, ent.err
}
