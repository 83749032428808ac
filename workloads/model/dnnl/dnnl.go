package dnnl

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"sync"
	"unsafe"
)

// Soname is the file Load opens: the oneDNN v2 runtime library.
const Soname = "libdnnl.so.2"

// Lib is a loaded oneDNN v2. It is never unloaded: the library's OpenMP
// pool and primitive cache do not survive dlclose.
type Lib struct {
	c       unsafe.Pointer // *C.jb_lib
	version string
	isa     string
	isaCode int
	path    string
	omp     bool // omp_set_num_threads was found
}

var (
	loadOnce sync.Once
	loaded   *Lib
	loadErr  error
)

// Load opens libdnnl.so.2 once per process and returns it, or an error
// that wraps errors.ErrUnsupported and says why oneDNN cannot be used:
// not installed, a major version other than 2, built without the headers
// or without cgo.
func Load() (*Lib, error) {
	loadOnce.Do(func() { loaded, loadErr = load(Soname) })
	return loaded, loadErr
}

// Version is the library's version and source hash, e.g. "2.6.3 (hash N/A)".
func (l *Lib) Version() string { return l.version }

// ISA is the instruction set oneDNN dispatches to on this CPU, in
// oneDNN's words (dnnl_get_effective_cpu_isa), e.g. "avx512_core_bf16".
func (l *Lib) ISA() string { return l.isa }

// Path is the file the symbols came from, links resolved.
func (l *Lib) Path() string { return l.path }

// ISA bit masks from dnnl_cpu_isa_t (oneDNN v2, dnnl_types.h): each ISA's
// value contains the bits of those it extends.
const (
	isaAVX512CoreBF16 = 0xe7
)

// HasBF16 reports whether oneDNN runs bf16 natively on this CPU (effective
// ISA avx512_core_bf16 or one that includes it, such as AMX). Without it
// oneDNN emulates bf16 on AVX-512 or refuses it, and a bf16 figure says
// little about the hardware.
func (l *Lib) HasBF16() bool { return l.isaCode&isaAVX512CoreBF16 == isaAVX512CoreBF16 }

// isaName names a dnnl_cpu_isa_t value as oneDNN's documentation does.
func isaName(v int) string {
	switch v {
	case 0x0:
		return "all"
	case 0x1:
		return "sse41"
	case 0x3:
		return "avx"
	case 0x7:
		return "avx2"
	case 0xf:
		return "avx512_mic"
	case 0x1f:
		return "avx512_mic_4ops"
	case 0x27:
		return "avx512_core"
	case 0x67:
		return "avx512_core_vnni"
	case 0xe7:
		return "avx512_core_bf16"
	case 0x3e7:
		return "avx512_core_amx"
	case 0x407:
		return "avx2_vnni"
	}
	return "isa-0x" + strconv.FormatInt(int64(v), 16)
}

// DenseF32 is a dense layer y = x·W + B, then max(y, 0) if ReLU. W is
// In×Out row-major; B has Out entries, or none for no bias.
type DenseF32 struct {
	In, Out int
	W       []float32
	B       []float32
	ReLU    bool
}

// DenseI8 is a quantised dense layer. Its input is u8 with scale InScale
// (x ≈ InScale·q); W is In×Out row-major s8 with scale WScale[n] for
// column n; B (Out entries, or none) is f32. The layer computes, exactly
// as the reference does:
//
//	acc[n] = Σ_k q[k]·W[k,n]                       (int32)
//	y[n]   = float32(acc[n])·(InScale·WScale[n]) + B[n]
//
// The first layer quantises the f32 input: q[k] = clamp(RoundToEven(
// x[k]/InScale), 0, 255). A hidden layer's output is the next layer's
// input, clamp(RoundToEven(max(y, 0)/next.InScale), 0, 255) — so hidden
// layers always rectify, whatever ReLU says. The last layer returns y, or
// max(y, 0) if ReLU, as f32 logits.
type DenseI8 struct {
	In, Out int
	W       []int8
	WScale  []float32
	B       []float32
	InScale float32
	ReLU    bool
}

// Net is an MLP compiled on oneDNN for a fixed maximum batch. Its methods
// may be called from several goroutines; passes run one at a time.
type Net struct {
	mu     sync.Mutex
	c      unsafe.Pointer // *C.jb_net; nil once closed
	batch  int
	in     int
	out    int
	info   map[string]string
	closed bool
}

// Forward computes logits (rows×Out of the last layer, row-major) for x
// (rows×In of the first layer, row-major), 1 ≤ rows ≤ the batch the Net
// was built for. It is one cgo call.
func (n *Net) Forward(x []float32, rows int, logits []float32) error {
	if rows < 1 || rows > n.batch {
		return fmt.Errorf("dnnl: forward: %d rows, want 1 to %d (the batch the net was built for)", rows, n.batch)
	}
	if len(x) < rows*n.in {
		return fmt.Errorf("dnnl: forward: input has %d values, want %d rows × %d", len(x), rows, n.in)
	}
	if len(logits) < rows*n.out {
		return fmt.Errorf("dnnl: forward: logits has room for %d values, want %d rows × %d", len(logits), rows, n.out)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("dnnl: forward: net is closed")
	}
	return forward(n.c, unsafe.SliceData(x), rows, unsafe.SliceData(logits))
}

// Info describes what runs: library, version, isa, path, the data type,
// the batch, the threads asked for and those OpenMP gives, and the
// implementation oneDNN chose for each primitive ("layer0.b256":
// "brg:avx512_core_vnni"; b1 is the one-row primitive, bN the runtime-M
// one used for other row counts).
func (n *Net) Info() map[string]string { return maps.Clone(n.info) }

// Close frees the net's primitives and buffers. Forward then fails.
func (n *Net) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	n.closed = true
	closeNet(n.c)
	n.c = nil
}

// dtype is a data type as the C side knows it.
type dtype int

const (
	dtF32 dtype = iota
	dtBF16
	dtS8
	dtU8
	dtS32
)

// inputConv is what Forward does to the f32 input before the first matmul.
type inputConv int

const (
	inF32  inputConv = iota // used as it is
	inBF16                  // rounded to bf16, to nearest even
	inU8                    // quantised with the first layer's InScale
)

// layerSpec is one matmul as oneDNN is asked for it.
type layerSpec struct {
	k, n         int
	src, wt, dst dtype
	wUser        dtype // the type of the weights handed over (f32 for bf16 nets)
	wF32         []float32
	wS8          []int8
	bias         []float32 // handed to oneDNN (f32), nil for none
	scales       []float32 // per-column output scales, nil for none
	relu         bool
}

// netSpec is a whole net as the C side builds it.
type netSpec struct {
	kind    string
	batch   int
	threads int
	input   inputConv
	inScale float32
	layers  []layerSpec
	// For int8 the last matmul's dst is s32 and C computes the logits
	// as float32(acc)·epiScale[n] + epiBias[n] (then ReLU), as the
	// reference does; nil otherwise.
	epiScale, epiBias []float32
	epiReLU           bool
}

// NewF32 compiles layers in fp32 for up to batch rows a pass, on threads
// OpenMP threads (0: OpenMP's default).
func (l *Lib) NewF32(layers []DenseF32, batch, threads int) (*Net, error) {
	s, err := specFloat("f32", layers, batch, threads)
	if err != nil {
		return nil, err
	}
	return l.newNet(s)
}

// NewBF16 compiles layers in bf16: the weights are converted to bf16 once
// (rounded to nearest even, in the packing reorder), the f32 input is
// rounded to bf16 by Forward, hidden activations are bf16 and the logits
// f32; bias and accumulation are f32.
func (l *Lib) NewBF16(layers []DenseF32, batch, threads int) (*Net, error) {
	s, err := specFloat("bf16", layers, batch, threads)
	if err != nil {
		return nil, err
	}
	return l.newNet(s)
}

// NewInt8 compiles quantised layers (see DenseI8 for what they compute).
func (l *Lib) NewInt8(layers []DenseI8, batch, threads int) (*Net, error) {
	s, err := specInt8(layers, batch, threads)
	if err != nil {
		return nil, err
	}
	return l.newNet(s)
}

func (l *Lib) newNet(s netSpec) (*Net, error) {
	if l == nil || l.c == nil {
		return nil, fmt.Errorf("dnnl: new %s net: library not loaded: %w", s.kind, errors.ErrUnsupported)
	}
	c, info, err := newNet(l, s)
	if err != nil {
		return nil, fmt.Errorf("dnnl: new %s net: %w", s.kind, err)
	}
	info["library"] = "onednn"
	info["version"] = l.version
	info["isa"] = l.isa
	info["path"] = l.path
	info["dtype"] = s.kind
	info["batch"] = strconv.Itoa(s.batch)
	info["threads_requested"] = strconv.Itoa(s.threads)
	return &Net{c: c, batch: s.batch, in: s.layers[0].k, out: s.layers[len(s.layers)-1].n, info: info}, nil
}

func checkShape(i, in, out, prevOut int) error {
	if in < 1 || out < 1 {
		return fmt.Errorf("layer %d: %d×%d, want positive sizes", i, in, out)
	}
	if i > 0 && in != prevOut {
		return fmt.Errorf("layer %d: In %d, but layer %d has Out %d", i, in, i-1, prevOut)
	}
	if int64(in)*int64(out) > math.MaxInt32 {
		return fmt.Errorf("layer %d: %d×%d is too large", i, in, out)
	}
	return nil
}

func checkRun(nlayers, batch, threads int) error {
	if nlayers == 0 {
		return errors.New("no layers")
	}
	if batch < 1 || batch > 1<<20 {
		return fmt.Errorf("batch %d, want 1 to %d", batch, 1<<20)
	}
	if threads < 0 {
		return fmt.Errorf("threads %d, want ≥ 0 (0: OpenMP's default)", threads)
	}
	return nil
}

func specFloat(kind string, layers []DenseF32, batch, threads int) (netSpec, error) {
	if err := checkRun(len(layers), batch, threads); err != nil {
		return netSpec{}, fmt.Errorf("dnnl: new %s net: %w", kind, err)
	}
	s := netSpec{kind: kind, batch: batch, threads: threads, input: inF32}
	act := dtF32
	if kind == "bf16" {
		s.input, act = inBF16, dtBF16
	}
	prev := 0
	for i, d := range layers {
		if err := checkShape(i, d.In, d.Out, prev); err != nil {
			return netSpec{}, fmt.Errorf("dnnl: new %s net: %w", kind, err)
		}
		if len(d.W) != d.In*d.Out {
			return netSpec{}, fmt.Errorf("dnnl: new %s net: layer %d: W has %d values, want %d×%d", kind, i, len(d.W), d.In, d.Out)
		}
		if len(d.B) != 0 && len(d.B) != d.Out {
			return netSpec{}, fmt.Errorf("dnnl: new %s net: layer %d: B has %d values, want %d or none", kind, i, len(d.B), d.Out)
		}
		last := i == len(layers)-1
		ls := layerSpec{k: d.In, n: d.Out, src: act, wt: act, dst: act, wUser: dtF32, wF32: d.W, relu: d.ReLU}
		if len(d.B) > 0 {
			ls.bias = d.B
		}
		if last {
			ls.dst = dtF32
		}
		s.layers = append(s.layers, ls)
		prev = d.Out
	}
	return s, nil
}

func positive(f float32) bool { return f > 0 && !math.IsInf(float64(f), 1) }

func specInt8(layers []DenseI8, batch, threads int) (netSpec, error) {
	fail := func(format string, a ...any) (netSpec, error) {
		return netSpec{}, fmt.Errorf("dnnl: new int8 net: "+format, a...)
	}
	if err := checkRun(len(layers), batch, threads); err != nil {
		return fail("%w", err)
	}
	s := netSpec{kind: "int8", batch: batch, threads: threads, input: inU8, inScale: layers[0].InScale}
	prev := 0
	for i, d := range layers {
		if err := checkShape(i, d.In, d.Out, prev); err != nil {
			return fail("%w", err)
		}
		if len(d.W) != d.In*d.Out {
			return fail("layer %d: W has %d values, want %d×%d", i, len(d.W), d.In, d.Out)
		}
		if len(d.WScale) != d.Out {
			return fail("layer %d: WScale has %d values, want %d", i, len(d.WScale), d.Out)
		}
		if len(d.B) != 0 && len(d.B) != d.Out {
			return fail("layer %d: B has %d values, want %d or none", i, len(d.B), d.Out)
		}
		if !positive(d.InScale) {
			return fail("layer %d: InScale %g, want a positive finite scale", i, d.InScale)
		}
		// A zero weight scale would make the hidden layers' pre-divided
		// bias infinite (oneDNN v2 adds the bias before the scale).
		for n, w := range d.WScale {
			if !positive(w) || !positive(d.InScale*w) {
				return fail("layer %d: WScale[%d] %g, want positive finite scales (InScale·WScale > 0)", i, n, w)
			}
		}
		ls := layerSpec{k: d.In, n: d.Out, src: dtU8, wt: dtS8, wUser: dtS8, wS8: d.W}
		accScale := make([]float32, d.Out)
		for n := range accScale {
			accScale[n] = d.InScale * d.WScale[n]
		}
		if i == len(layers)-1 {
			// s32 out; C dequantises exactly as the reference.
			ls.dst = dtS32
			s.epiScale = accScale
			s.epiBias = d.B
			if len(d.B) == 0 {
				s.epiBias = make([]float32, d.Out)
			}
			s.epiReLU = d.ReLU
		} else {
			// u8 out: q = sat(rne(scale·(acc + bias))) with scale =
			// InScale·WScale/next and bias = B/(InScale·WScale), so that
			// scale·(acc + bias) = (acc·InScale·WScale + B)/next. The
			// saturation at 0 is the ReLU.
			next := layers[i+1].InScale
			if !positive(next) {
				return fail("layer %d: InScale %g, want a positive finite scale", i+1, next)
			}
			ls.dst = dtU8
			ls.scales = make([]float32, d.Out)
			for n := range ls.scales {
				ls.scales[n] = accScale[n] / next
			}
			if len(d.B) > 0 {
				ls.bias = make([]float32, d.Out)
				for n := range ls.bias {
					ls.bias[n] = d.B[n] / accScale[n]
				}
			}
		}
		s.layers = append(s.layers, ls)
		prev = d.Out
	}
	return s, nil
}

// MLPOps is the operations one row costs in a dense MLP: 2·In·Out a layer
// (a multiply and an add per weight), bias and activations not counted.
func MLPOps(sizes ...int) float64 {
	var ops float64
	for i := 1; i < len(sizes); i++ {
		ops += 2 * float64(sizes[i-1]) * float64(sizes[i])
	}
	return ops
}
