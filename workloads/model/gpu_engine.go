package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gpu/cuda"
	"github.com/joulebench/joulebench/workloads/model/compress"
	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

// The GPU variants run the reference MLP (mlp.jbw.gz) in fp32, fp16 and
// bf16, and the int8 variant (mlp-int8.jbw.gz), on one cuBLASLt matmul
// per dense layer. For fp32, fp16 and bf16 the bias and ReLU are fused
// into the matmul's epilogue and the activations stay on the device
// between layers. int8 has no such epilogue in cuBLASLt's plain layout
// (see int8Layers): each int8 matmul gives s32 sums, which the host
// requantises between layers. A call converts the batch on the host to
// the input type, copies it to the device, runs the layers, copies the
// logits back and waits for the device, so that the meters the harness
// reads after Run have seen all the work, the int8 host steps included.
//
// Arithmetic, per kind (what RecomputeAccuracy emulates):
//
//	fp32: fp32 inputs and weights, fp32 accumulation (CUBLAS_COMPUTE_32F,
//	      which does not use TF32), fp32 bias and ReLU.
//	fp16, bf16: inputs, weights and hidden activations rounded to the type
//	      (nearest, ties to even); products accumulated in fp32, the bias
//	      (of the type) added in fp32, ReLU, then rounded to the type; the
//	      last layer writes fp32 logits with an fp32 bias.
//	int8: compress.QMLP's arithmetic (see the compress package comment),
//	      bit for bit: the integer sums on the GPU (u8 activations held as
//	      s8 = u8 − 128, because cuBLASLt's int8 kernels take signed 8-bit
//	      inputs only), the scale, bias, ReLU and requantisation on the
//	      host exactly as compress.QForward does them. See int8Layers.
//
// Batch sizes are the CPU variants' (Offline 256, SingleStream 1), so that
// a GPU figure compares with a CPU one for the same work per call.

// gpuLibDir, when set, is the directory the GPU engines load the CUDA
// libraries from (cuda.LoadFrom) instead of the system search when the
// workload's options name none (--cuda-lib-dir). Only the tests set it,
// to their fakes.
var gpuLibDir string

type gpuLoad struct {
	once sync.Once
	lib  *cuda.Lib
	err  error
}

var gpuLoads sync.Map // gpuLibDir → *gpuLoad

// loadGPU opens the CUDA runtime once per directory and checks that there
// is a GPU.
func loadGPU(dir string) (*cuda.Lib, error) {
	if dir == "" {
		dir = gpuLibDir
	}
	e, _ := gpuLoads.LoadOrStore(dir, &gpuLoad{})
	g := e.(*gpuLoad)
	g.once.Do(func() {
		if dir != "" {
			g.lib, g.err = cuda.LoadFrom(dir)
		} else {
			g.lib, g.err = cuda.Load()
		}
		if g.err == nil {
			_, g.err = g.lib.DeviceCount()
		}
	})
	return g.lib, g.err
}

// gpuValidate says why a GPU variant cannot run here, or nil: it builds
// the variant's engine (libraries, device memory, an algorithm for every
// layer and batch size) and closes it. No CUDA, no GPU, no cuBLASLt or no
// algorithm for the types is workloads.ErrNotHere; anything else is a
// real failure.
func gpuValidate(v variant, wf *nn.WeightsFile, batch int, dir string) error {
	e, err := newGPUEngine(v, wf, batch, dir)
	if err != nil {
		if errors.Is(err, cuda.ErrNoCUDA) || errors.Is(err, errors.ErrUnsupported) {
			return fmt.Errorf("%w: needs a CUDA GPU with cuBLASLt: %w", workloads.ErrNotHere, err)
		}
		return err
	}
	e.close()
	return nil
}

// gpuLayer is one dense layer on the device.
type gpuLayer struct {
	op     *cuda.Dense
	in     cuda.DevPtr // the layer's input: the batch, the previous layer's out, or (int8) codes the host wrote
	out    cuda.DevPtr // OfflineBatch rows of outPad values of the layer's output type
	outPad int
	// q is the host half of an int8 layer (nil for the float kinds).
	q *int8Host
}

// int8Host is what the host does with an int8 layer's s32 sums acc' (of
// the s8 codes q − 128): acc = acc' + corr, y = float32(acc)·cs + b, and
// for a hidden layer the next layer's code clamp(RoundToEven(y/next), 0,
// 255), that is compress.QForward's epilogue.
type int8Host struct {
	out   int       // the layer's outputs; outPad − out are padding
	corr  []int32   // 128·Σ_k W[k,n], which takes the −128 of the codes out again
	cs, b []float32 // InScale·WScale[n] (rounded once, as QForward's) and B[n]
	next  float32   // the next layer's InScale; 0 for the last layer
}

// gpuEngine runs an MLP on cuBLASLt.
type gpuEngine struct {
	kind    string // "fp32", "fp16", "bf16", "int8"
	lib     *cuda.Lib
	lt      *cuda.Lt
	layers  []gpuLayer
	mem     []cuda.DevPtr // everything to free
	in      cuda.DevPtr   // OfflineBatch rows of inPad inputs
	inN     int           // inputs of the model
	inPad   int
	classes int
	planned map[int]bool

	stage32 []float32 // host staging of the inputs, by type
	stage16 []uint16
	stage8  []uint8
	codes   []uint8   // int8: the host's requantised codes, on their way to the next layer
	out32   []float32 // host copy of the last layer's output
	outI32  []int32   // int8: host copy of a layer's s32 sums
	logits  []float32

	// int8: the pixels' scale.
	inScale float32

	inf map[string]string
}

// padTo16 rounds n up to a multiple of 16: every leading dimension is then
// a multiple of 16 bytes for every element type, and every int8 dimension
// a multiple of 4, as cuBLASLt's tensor-core kernels want (cuBLAS
// documentation, "Tensor Core Usage"; int8 also needs m and k multiples of
// 4). Padded weights are zero, so padded outputs are the epilogue of 0.
func padTo16(n int) int { return (n + 15) &^ 15 }

// newGPUEngine builds the engine of a GPU variant and chooses an
// algorithm for batch rows and OfflineBatch rows (any other n runs as
// OfflineBatch rows, the extra rows ignored).
func newGPUEngine(v variant, wf *nn.WeightsFile, batch int, dir string) (e *gpuEngine, err error) {
	lib, err := loadGPU(dir)
	if err != nil {
		return nil, err
	}
	lt, err := lib.NewLt()
	if err != nil {
		return nil, err
	}
	e = &gpuEngine{kind: v.name, lib: lib, lt: lt, planned: map[int]bool{}}
	defer func() {
		if err != nil {
			e.close()
			e = nil
		}
	}()
	switch v.engine {
	case "gpu-int8":
		q, err := compress.QMLPFromWeights(wf)
		if err != nil {
			return nil, err
		}
		if err := e.int8Layers(q); err != nil {
			return nil, err
		}
	case "gpu-fp32", "gpu-fp16", "gpu-bf16":
		m, err := nn.WeightsModel(wf)
		if err != nil {
			return nil, err
		}
		if err := e.floatLayers(m); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("gpu engine: unknown engine %q", v.engine)
	}
	for _, n := range []int{batch, OfflineBatch} {
		for i, l := range e.layers {
			if err := l.op.Plan(n); err != nil {
				return nil, fmt.Errorf("gpu %s layer %d: %w", e.kind, i, err)
			}
		}
		e.planned[n] = true
	}
	e.logits = make([]float32, OfflineBatch*e.classes)
	e.inf = map[string]string{}
	for k, v := range lib.Info() {
		e.inf[k] = v
	}
	for k, v := range lt.Info() {
		e.inf[k] = v
	}
	e.inf["engine"] = "cublaslt-" + e.kind
	e.inf["provider"] = strings.TrimSpace("cuBLASLt " + e.inf["cublaslt"] + " on GPU " + e.inf["device"])
	e.inf["arithmetic"] = map[string]string{
		"fp32": "fp32 inputs and weights, fp32 accumulation (CUBLAS_COMPUTE_32F, no TF32), bias+ReLU in the epilogue",
		"fp16": "fp16 inputs, weights and activations, fp32 accumulation, bias+ReLU in the epilogue, fp32 logits",
		"bf16": "bf16 inputs, weights and activations, fp32 accumulation, bias+ReLU in the epilogue, fp32 logits",
		"int8": "GPU: every layer s8×s8→s32 on cuBLASLt (CUBLAS_COMPUTE_32I, scale CUDA_R_32I, default epilogue; activations as u8 codes − 128). " +
			"Host, between layers and after the last: the s32 sums copied back, 128·ΣW added back, float32(acc)·(InScale·WScale) + bias, " +
			"then ReLU and rounding to the next layer's u8 code exactly as the CPU int8 model (compress.QForward), the codes copied to the device; " +
			"the copies and the host work are inside the measured time and energy (cuBLASLt has no int8 bias epilogue in this layout)",
	}[e.kind]
	return e, nil
}

// alloc allocates device memory and uploads host data to it (if any).
func (e *gpuEngine) alloc(bytes int, host unsafe.Pointer) (cuda.DevPtr, error) {
	p, err := e.lib.Malloc(bytes)
	if err != nil {
		return 0, err
	}
	e.mem = append(e.mem, p)
	if host != nil {
		if err := e.lib.HtoD(p, host, bytes); err != nil {
			return 0, err
		}
	}
	return p, nil
}

// addLayer makes the layer s reading its input at in, with an output
// buffer of its own.
func (e *gpuEngine) addLayer(s cuda.DenseSpec, in cuda.DevPtr) (*gpuLayer, error) {
	op, err := e.lt.NewDense(s)
	if err != nil {
		return nil, err
	}
	out, err := e.alloc(OfflineBatch*s.Out*s.YType.Size(), nil)
	if err != nil {
		op.Close()
		return nil, err
	}
	e.layers = append(e.layers, gpuLayer{op: op, in: in, out: out, outPad: s.Out})
	return &e.layers[len(e.layers)-1], nil
}

// transposePad returns W (in×out, row-major, nn's layout) as outPad rows
// of inPad values, zero in the padding, each value converted by conv.
func transposePad[T any](w []float32, in, out, inPad, outPad int, conv func(float32) T) []T {
	t := make([]T, inPad*outPad)
	for i := range in {
		for o := range out {
			t[o*inPad+i] = conv(w[i*out+o])
		}
	}
	return t
}

func padVec[T any](v []float32, n int, conv func(float32) T) []T {
	t := make([]T, n)
	for i, x := range v {
		t[i] = conv(x)
	}
	return t
}

// floatLayers uploads an MLP's dense layers in the engine's float type.
func (e *gpuEngine) floatLayers(m *nn.Model) error {
	layers, ok := denseLayers(m)
	if !ok {
		return fmt.Errorf("gpu %s: %s is not an MLP", e.kind, m.Name)
	}
	xt := map[string]cuda.DataType{"fp32": cuda.R32F, "fp16": cuda.R16F, "bf16": cuda.R16BF}[e.kind]
	e.inN, e.inPad = layers[0].In, padTo16(layers[0].In)
	e.classes = layers[len(layers)-1].Out
	in, err := e.alloc(OfflineBatch*e.inPad*xt.Size(), nil)
	if err != nil {
		return err
	}
	e.in = in
	inPad := e.inPad
	for i, l := range layers {
		last := i == len(layers)-1
		outPad := padTo16(l.Out)
		yt := xt
		if last {
			yt = cuda.R32F
		}
		var w, b cuda.DevPtr
		var err error
		switch xt {
		case cuda.R32F:
			wt := transposePad(l.W, l.In, l.Out, inPad, outPad, func(f float32) float32 { return f })
			w, err = e.alloc(len(wt)*4, unsafe.Pointer(&wt[0]))
		default:
			conv := f32ToF16
			if xt == cuda.R16BF {
				conv = f32ToBF16
			}
			wt := transposePad(l.W, l.In, l.Out, inPad, outPad, conv)
			w, err = e.alloc(len(wt)*2, unsafe.Pointer(&wt[0]))
		}
		if err != nil {
			return err
		}
		if yt == cuda.R32F {
			bv := padVec(l.B, outPad, func(f float32) float32 { return f })
			b, err = e.alloc(outPad*4, unsafe.Pointer(&bv[0]))
		} else {
			conv := f32ToF16
			if yt == cuda.R16BF {
				conv = f32ToBF16
			}
			bv := padVec(l.B, outPad, conv)
			b, err = e.alloc(outPad*2, unsafe.Pointer(&bv[0]))
		}
		if err != nil {
			return err
		}
		epi := cuda.EpilogueBias
		if l.ReLU {
			epi = cuda.EpilogueReLUBias
		}
		gl, err := e.addLayer(cuda.DenseSpec{In: inPad, Out: outPad, XType: xt, YType: yt, Compute: cuda.Compute32F, Scale: cuda.R32F,
			Epilogue: epi, W: w, Bias: b}, in)
		if err != nil {
			return err
		}
		in, inPad = gl.out, outPad
	}
	switch xt {
	case cuda.R32F:
		e.stage32 = make([]float32, OfflineBatch*e.inPad)
	default:
		e.stage16 = make([]uint16, OfflineBatch*e.inPad)
	}
	e.out32 = make([]float32, OfflineBatch*e.layers[len(e.layers)-1].outPad)
	return nil
}

// int8Layers uploads a QMLP. Every layer is one cuBLASLt matmul s8×s8→s32
// (CUBLAS_COMPUTE_32I, scale CUDA_R_32I, alpha 1, the DEFAULT epilogue,
// the "TN" form), a combination cublasLtMatmul's table of supported types
// lists. The s8-output row of that table (scale CUDA_R_32F, which could
// apply a per-row alpha and requantise on the device) says "Epilogue is
// not supported": its bias epilogue exists only for the IMMA COL32
// layouts, which NVIDIA limits to Turing and Ampere. So the requantisation
// runs on the host, and is part of what this variant costs.
//
// The QMLP's activations are u8 codes q in [0, 255] and cuBLASLt's int8
// kernels take s8 only, so the device holds q − 128 in s8, and the host
// takes the shift out again exactly:
//
//	Σ_k (q_k − 128)·W[k,n] = acc[n] − 128·Σ_k W[k,n]
//
// Then, per int8Host, y = float32(acc)·(InScale·WScale[n]) + B[n] in
// float32 and clamp(RoundToEven(y/s'), 0, 255) for the next layer's
// InScale s' (the clamp at 0 is the ReLU), written back as code − 128; the
// last layer's y are the logits. These are compress.QForward's operations
// in its order, so the logits are its logits bit for bit.
func (e *gpuEngine) int8Layers(q *compress.QMLP) error {
	e.inN, e.inPad = q.Layers[0].In, padTo16(q.Layers[0].In)
	e.classes = q.Layers[len(q.Layers)-1].Out
	e.inScale = q.Layers[0].InScale
	in, err := e.alloc(OfflineBatch*e.inPad, nil)
	if err != nil {
		return err
	}
	e.in = in
	inPad, widest := e.inPad, 0
	for i, d := range q.Layers {
		outPad := padTo16(d.Out)
		wt := make([]int8, inPad*outPad)
		h := &int8Host{out: d.Out, corr: make([]int32, d.Out), cs: make([]float32, d.Out), b: d.B}
		for o := range d.Out {
			var sum int32
			for k := range d.In {
				w := d.W[k*d.Out+o]
				wt[o*inPad+k] = w
				sum += int32(w)
			}
			h.corr[o] = 128 * sum
			h.cs[o] = d.InScale * d.WScale[o]
		}
		if i < len(q.Layers)-1 {
			h.next = q.Layers[i+1].InScale
		}
		w, err := e.alloc(len(wt), unsafe.Pointer(&wt[0]))
		if err != nil {
			return err
		}
		gl, err := e.addLayer(cuda.DenseSpec{In: inPad, Out: outPad, XType: cuda.R8I, YType: cuda.R32I, Compute: cuda.Compute32I, Scale: cuda.R32I,
			Epilogue: cuda.EpilogueDefault, W: w}, in)
		if err != nil {
			return err
		}
		gl.q = h
		widest = max(widest, outPad)
		if h.next != 0 {
			// The next layer's input: codes the host writes. It starts as
			// code 0 (s8 −128) everywhere, so that rows a call does not
			// write hold defined values; the padding's weights are 0.
			codes := make([]uint8, OfflineBatch*outPad)
			for j := range codes {
				codes[j] = 0x80
			}
			if in, err = e.alloc(len(codes), unsafe.Pointer(&codes[0])); err != nil {
				return err
			}
		}
		inPad = outPad
	}
	e.stage8 = make([]uint8, OfflineBatch*e.inPad)
	e.codes = make([]uint8, OfflineBatch*widest)
	e.outI32 = make([]int32, OfflineBatch*widest)
	return nil
}

// requantize is the host half of the hidden int8 layer l for n rows: its
// s32 sums copied from the device, turned into the next layer's codes
// (see int8Host) and copied to the next layer's input at dst.
func (e *gpuEngine) requantize(l *gpuLayer, dst cuda.DevPtr, n int) error {
	op, h := l.outPad, l.q
	if err := e.lib.DtoH(unsafe.Pointer(&e.outI32[0]), l.out, n*op*4); err != nil {
		return err
	}
	for r := range n {
		acc, codes := e.outI32[r*op:(r+1)*op], e.codes[r*op:(r+1)*op]
		for j := range h.out {
			y := float32(float32(acc[j]+h.corr[j])*h.cs[j]) + h.b[j]
			codes[j] = quantizeU8(y, h.next) ^ 0x80 // q − 128 as s8
		}
		for j := h.out; j < op; j++ {
			codes[j] = 0x80
		}
	}
	return e.lib.HtoD(dst, unsafe.Pointer(&e.codes[0]), n*op)
}

// quantizeU8 is compress's input coding, clamp(RoundToEven(v/s), 0, 255)
// with the division in float32 (the compress package comment), a NaN
// coding as 0.
func quantizeU8(v, s float32) uint8 {
	r := v / s
	if !(r > 0) {
		return 0
	}
	if r >= 255 {
		return 255
	}
	return uint8(math.RoundToEven(float64(r)))
}

func (e *gpuEngine) begin() {}

// forward runs n rows; a batch size the engine has no algorithm for runs
// as OfflineBatch rows (stale rows past n are computed and ignored).
func (e *gpuEngine) forward(x []float32, n int) []float32 {
	if err := e.run(x, n); err != nil {
		// The shapes and algorithms were fixed at Prepare; an error here is
		// a failed device or a bug.
		panic(fmt.Sprintf("gpu %s forward: %v", e.kind, err))
	}
	return e.logits[:n*e.classes]
}

func (e *gpuEngine) run(x []float32, n int) error {
	if n < 1 || n > OfflineBatch || len(x) < n*e.inN {
		return fmt.Errorf("%d rows of %d values for a batch of at most %d", n, len(x)/max(e.inN, 1), OfflineBatch)
	}
	rows := n
	if !e.planned[n] {
		rows = OfflineBatch
	}
	in, pad := e.inN, e.inPad
	var host unsafe.Pointer
	var bytes int
	switch {
	case e.stage32 != nil:
		for r := range n {
			copy(e.stage32[r*pad:r*pad+in], x[r*in:(r+1)*in])
		}
		host, bytes = unsafe.Pointer(&e.stage32[0]), rows*pad*4
	case e.stage16 != nil:
		conv := f32ToF16
		if e.kind == "bf16" {
			conv = f32ToBF16
		}
		for r := range n {
			s := e.stage16[r*pad : r*pad+in]
			for i, v := range x[r*in : (r+1)*in] {
				s[i] = conv(v)
			}
		}
		host, bytes = unsafe.Pointer(&e.stage16[0]), rows*pad*2
	default:
		for r := range n {
			s := e.stage8[r*pad : r*pad+in]
			for i, v := range x[r*in : (r+1)*in] {
				s[i] = quantizeU8(v, e.inScale) ^ 0x80 // q − 128 as s8
			}
		}
		// The padding holds 0 (code 128); its weights are 0 anyway.
		host, bytes = unsafe.Pointer(&e.stage8[0]), rows*pad
	}
	if err := e.lib.HtoD(e.in, host, bytes); err != nil {
		return err
	}
	for i := range e.layers {
		l := &e.layers[i]
		if err := l.op.Run(l.in, l.out, rows); err != nil {
			return err
		}
		if l.q != nil && i < len(e.layers)-1 {
			// Rows past n, when the batch runs as OfflineBatch rows, keep
			// the codes of an earlier call: computed and ignored.
			if err := e.requantize(l, e.layers[i+1].in, n); err != nil {
				return err
			}
		}
	}
	last := &e.layers[len(e.layers)-1]
	c, op := e.classes, last.outPad
	if e.outI32 != nil {
		if err := e.lib.DtoH(unsafe.Pointer(&e.outI32[0]), last.out, n*op*4); err != nil {
			return err
		}
	} else if err := e.lib.DtoH(unsafe.Pointer(&e.out32[0]), last.out, n*op*4); err != nil {
		return err
	}
	// cudaMemcpy to pageable host memory returns once the copy is done,
	// after the work queued before it; the explicit synchronisation also
	// reports any asynchronous failure of the matmuls.
	if err := e.lib.Sync(); err != nil {
		return err
	}
	for r := range n {
		y := e.logits[r*c : (r+1)*c]
		if h := last.q; h != nil {
			for j := range y {
				acc := e.outI32[r*op+j] + h.corr[j]
				y[j] = float32(float32(acc)*h.cs[j]) + h.b[j]
			}
		} else {
			copy(y, e.out32[r*op:r*op+c])
		}
	}
	return nil
}

func (e *gpuEngine) info() map[string]string {
	m := make(map[string]string, len(e.inf))
	for k, v := range e.inf {
		m[k] = v
	}
	return m
}

func (e *gpuEngine) close() {
	for _, l := range e.layers {
		l.op.Close()
	}
	e.layers = nil
	for _, p := range e.mem {
		e.lib.Free(p)
	}
	e.mem = nil
	if e.lt != nil {
		e.lt.Close()
		e.lt = nil
	}
}

// f32ToF16 returns the IEEE 754 binary16 encoding of f, rounded to
// nearest, ties to even (as the GPU's cvt.rn.f16.f32 does): magnitudes
// from 65520 up become ±Inf, those below 2⁻²⁴ become subnormals or ±0, a
// NaN stays a (quiet) NaN.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	e := int(b>>23) & 0xff
	m := b & 0x7fffff
	if e == 0xff {
		if m != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	exp := e - 127
	if exp > 15 {
		return sign | 0x7c00
	}
	if exp >= -14 {
		h := uint32(exp+15)<<10 | m>>13
		rem := m & 0x1fff
		if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
			h++ // a carry into the exponent is the right rounding, up to Inf
		}
		return sign | uint16(h)
	}
	// A binary16 subnormal: units of 2⁻²⁴. f32 subnormals are far below.
	shift := uint(-(exp + 1))
	if e == 0 || shift > 24 {
		return sign
	}
	full := m | 0x800000
	h := full >> shift
	rem := full & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || rem == half && h&1 == 1 {
		h++
	}
	return sign | uint16(h)
}

// f16ToF32 returns the value of the binary16 encoding h (exact).
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	e := uint32(h>>10) & 0x1f
	m := uint32(h & 0x3ff)
	switch {
	case e == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | m<<13)
	case e != 0:
		return math.Float32frombits(sign | (e+112)<<23 | m<<13)
	}
	v := float32(m) * 0x1p-24
	if sign != 0 {
		return -v
	}
	return v
}

// f32ToBF16 returns the bfloat16 encoding of f (the upper half of its
// float32 encoding), rounded to nearest, ties to even: magnitudes that
// round past the largest finite bfloat16 become ±Inf, a NaN stays a
// (quiet) NaN.
func f32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// bf16ToF32 returns the value of the bfloat16 encoding h (exact).
func bf16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// halfForward is the pure-Go emulation of the fp16 and bf16 GPU variants
// (see the arithmetic above), for RecomputeAccuracy and the tests: GoGemm
// in fp32 on the rounded weights, each hidden activation rounded to the
// type. The GPU sums the products in another order, so the logits agree
// to rounding, not bit for bit.
type halfForward struct {
	layers  []halfLayer
	g       nn.Gemm
	batch   int
	classes int
	round   func(float32) float32
	buf     [2][]float32
}

type halfLayer struct {
	in, out int
	w, b    []float32 // rounded to the type; the last layer's bias stays fp32
	relu    bool
}

// newHalfForward prepares the emulation of kind ("fp16" or "bf16") of the
// MLP m for up to batch rows on threads goroutines.
func newHalfForward(m *nn.Model, kind string, batch, threads int) (*halfForward, error) {
	layers, ok := denseLayers(m)
	if !ok {
		return nil, fmt.Errorf("%s emulation: %s is not an MLP", kind, m.Name)
	}
	round := func(f float32) float32 { return f16ToF32(f32ToF16(f)) }
	if kind == "bf16" {
		round = func(f float32) float32 { return bf16ToF32(f32ToBF16(f)) }
	} else if kind != "fp16" {
		return nil, fmt.Errorf("no half-precision emulation for %q", kind)
	}
	h := &halfForward{g: nn.GoGemm{Threads: threads}, batch: batch, round: round, classes: layers[len(layers)-1].Out}
	width := layers[0].In
	for i, l := range layers {
		hl := halfLayer{in: l.In, out: l.Out, relu: l.ReLU, w: make([]float32, len(l.W)), b: make([]float32, len(l.B))}
		for j, v := range l.W {
			hl.w[j] = round(v)
		}
		for j, v := range l.B {
			if i == len(layers)-1 {
				hl.b[j] = v
			} else {
				hl.b[j] = round(v)
			}
		}
		h.layers = append(h.layers, hl)
		width = max(width, l.Out)
	}
	h.buf[0] = make([]float32, batch*width)
	h.buf[1] = make([]float32, batch*width)
	return h, nil
}

// Run returns the logits of n rows of x, in a buffer the next call
// overwrites.
func (h *halfForward) Run(x []float32, n int) []float32 {
	in := h.layers[0].in
	src := h.buf[0][:n*in]
	for i, v := range x[:n*in] {
		src[i] = h.round(v)
	}
	for i, l := range h.layers {
		dst := h.buf[(i+1)%2][:n*l.out]
		for r := range n {
			copy(dst[r*l.out:(r+1)*l.out], l.b)
		}
		h.g.Sgemm(false, false, n, l.out, l.in, 1, src, l.in, l.w, l.out, 1, dst, l.out)
		if i < len(h.layers)-1 {
			for j, v := range dst {
				if l.relu && v < 0 {
					v = 0
				}
				dst[j] = h.round(v)
			}
		}
		src = dst
	}
	return src[:n*h.classes]
}

// gpuPrecision is the "precision" param of a GPU engine.
func gpuPrecision(eng string) string {
	return map[string]string{"gpu-fp32": "fp32", "gpu-fp16": "fp16", "gpu-bf16": "bf16", "gpu-int8": "int8"}[eng]
}

// isGPU reports whether a variant runs on the GPU.
func isGPU(v variant) bool { return gpuPrecision(v.engine) != "" }

var _ engine = (*gpuEngine)(nil)

// LogitCheckImages is how many test images a GPU variant's check draws,
// afresh at each check from the run's seed, to compare the engine's
// logits with its pure-Go reference's.
const LogitCheckImages = 256

// logitBounds bound, for one GPU precision, how far the engine's logits
// may lie from its pure-Go reference's (recomputeEngine: the dense fp32
// forward pass, halfForward, compress.QForward). An image's error is the
// largest |engine − reference| of its 10 logits divided by the logits'
// scale, the largest |reference logit| among the images checked (about 27
// to 31 on MNIST). median bounds the median image's error, worst every
// image's.
type logitBounds struct{ median, worst float64 }

// logitBound is per GPU precision. Both sides do the arithmetic the
// variant names, so they differ only by the order of the fp32 sums (and
// what that order changes downstream):
//
//	fp32: fp32 operands, fp32 sums of k ≤ 1024 products. Two summation
//	      orders differ by about √k·u = 32·2⁻²⁴ ≈ 1.9e-6 of Σ|a·b| (the
//	      statistical size; the worst case, k·u, is never approached). The
//	      bounds are 5× (median) and 10× (worst) that: 1e-5 and 2e-5.
//	      Measured on the honest fake over all 10,000 test images: median
//	      1.8e-7, worst 1.2e-6. The same fp32 arithmetic with TF32
//	      operands (10 mantissa bits, fp32 sums) gives 2.8e-5 to 1.2e-4,
//	      median 5.5e-5.
//	fp16, bf16: operands, biases and hidden activations are rounded to the
//	      type identically on both sides, so most images differ only as
//	      fp32 does (median bound 1e-5). But a hidden activation whose fp32
//	      sum lies next to a rounding boundary of the type may round the
//	      other way, one unit of the type (2⁻¹¹ relative for fp16, 2⁻⁸ for
//	      bf16), which moves a logit by that unit times |activation ×
//	      weight|; a few images have several such. The worst bound is one
//	      unit of the type: 2⁻¹¹ ≈ 4.9e-4 (fp16), 2⁻⁸ ≈ 3.9e-3 (bf16).
//	      Measured on the honest fake over all 10,000 images: fp16 median
//	      2.8e-7, 99th percentile 1.9e-5, worst 4.7e-5; bf16 median 1.1e-7,
//	      99th percentile 2.7e-5, worst 3.1e-4 (the ratio of the two worsts
//	      is about the ratio of the units, 8). Narrower arithmetic moves
//	      every image: fp16 with fp16 sums gives a median of 2.9e-4, fp16
//	      operands rounded to bf16 4.6e-4, bf16 with fp16 sums 4.0e-4.
//	int8: the integer sums are exact and the host's requantisation is
//	      QForward's, so the logits agree bit for bit: both bounds 0.
//
// Operands rounded to 3 mantissa bits with bf16 sums (FAKE_CUBLASLT_LOWP:
// on the fake it changes 12 to 14 of the 10,000 classes and the accuracy
// by one image, within certify's tolerance) give a median of 7.7e-3 and a
// worst of 1.9e-2 for every float kind: 770× the median bound.
var logitBound = map[string]logitBounds{
	"fp32": {median: 1e-5, worst: 2e-5},
	"fp16": {median: 1e-5, worst: 0x1p-11},
	"bf16": {median: 1e-5, worst: 0x1p-8},
	"int8": {median: 0, worst: 0},
}

// logitBoundWhy says in a Detail where each precision's bounds come from.
var logitBoundWhy = map[string]string{
	"fp32": "the bounds are those of fp32 sums in another order",
	"fp16": "the bounds are those of fp32 sums in another order, and of a few hidden activations rounding to fp16 the other way",
	"bf16": "the bounds are those of fp32 sums in another order, and of a few hidden activations rounding to bf16 the other way",
	"int8": "int8 sums are exact: the logits must agree bit for bit",
}

// logitReducedCeiling: a failed logit check whose median image is over
// its bound (the error is spread over most images, as narrower arithmetic
// spreads it) and whose worst image is within this share of the scale is
// VerdictReducedPrecision. The narrowest float type a GPU computes in,
// fp4 (e2m1), rounds each operand by up to 2⁻² = 0.25; the 3-bit rounding
// above reaches 0.019. Anything larger (an engine that skipped its work,
// 0.98 to 1.0; one without the ReLU, 2.3), or an error confined to a few
// images, is VerdictWrong.
const logitReducedCeiling = 0.25

// checkLogits runs LogitCheckImages test images, drawn from the run's
// seed, through the engine and its pure-Go reference, and holds the
// differences of their logits to logitBound. Called by Check, outside the
// measured time.
func (w *inference) checkLogits() workloads.Check {
	const in, c = mnist.Pixels, 10
	n := min(LogitCheckImages, w.test.N)
	imgs := w.rng.Perm(w.test.N)[:n]
	x := make([]float32, n*in)
	for r, img := range imgs {
		copy(x[r*in:(r+1)*in], w.test.X[img*in:(img+1)*in])
	}
	w.eng.begin()
	got := slices.Clone(w.eng.forward(x, n))
	want := w.ref(x, n)
	prec := gpuPrecision(w.v.engine)
	b := logitBound[prec]

	scale, nonFinite := 0.0, 0
	for i := range n * c {
		scale = max(scale, math.Abs(float64(want[i])))
		if g := float64(got[i]); math.IsNaN(g) || math.IsInf(g, 0) {
			nonFinite++
		}
	}
	errs := make([]float64, n) // per image, the largest difference / scale
	worstRow := 0
	for r := range n {
		e := 0.0
		for j := r * c; j < (r+1)*c; j++ {
			d := math.Abs(float64(got[j]) - float64(want[j]))
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
			e = max(e, d)
		}
		if scale > 0 {
			e /= scale
		} else if e > 0 {
			e = math.Inf(1)
		}
		errs[r] = e
		if e > errs[worstRow] {
			worstRow = r
		}
	}
	worst := errs[worstRow]
	sorted := slices.Clone(errs)
	slices.Sort(sorted)
	median := sorted[n/2]
	over := 0
	for _, e := range errs {
		if e > b.worst {
			over++
		}
	}
	chk := workloads.Check{
		Name:  "logits against the pure-Go " + prec + " reference",
		Value: worst,
		Limit: b.worst,
		OK:    nonFinite == 0 && median <= b.median && worst <= b.worst,
		Detail: fmt.Sprintf("%d test images drawn from the seed; per image the largest logit difference over the logits' scale %.4g: median %.3g (bound %.3g), worst %.3g (image %d; bound %.3g), %d images over the bound; %s",
			n, scale, median, b.median, worst, imgs[worstRow], b.worst, over, logitBoundWhy[prec]),
	}
	if median > b.median {
		chk.Value, chk.Limit = median, b.median
	}
	if chk.OK {
		return chk
	}
	switch {
	case nonFinite > 0:
		chk.Verdict = workloads.VerdictWrong
		chk.Detail += fmt.Sprintf(": %d logits are NaN or infinite", nonFinite)
	case median > b.median && worst <= logitReducedCeiling:
		chk.Verdict = workloads.VerdictReducedPrecision
		chk.Detail += fmt.Sprintf(": the error is spread over most images and within %g of the scale, the size arithmetic narrower than %s gives (3-bit operands with bf16 sums: median 7.7e-3, worst 1.9e-2)", logitReducedCeiling, prec)
	case median > b.median:
		chk.Verdict = workloads.VerdictWrong
		chk.Detail += fmt.Sprintf(": the error exceeds %g of the scale, more than narrower arithmetic gives (a skipped or stale computation, or a missing step)", logitReducedCeiling)
	default:
		chk.Verdict = workloads.VerdictWrong
		chk.Detail += ": a few images' logits are wrong, the rest right"
	}
	return chk
}
