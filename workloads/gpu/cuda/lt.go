//go:build cgo

package cuda

/*
#cgo LDFLAGS: -ldl
#include <stdint.h>
#include <stddef.h>

// cublasLtMatmulHeuristicResult_t (cublasLt.h): the algorithm (64 opaque
// bytes), its workspace size, its state and its waves count.
typedef struct {
	uint64_t algo[8];
	size_t workspaceSize;
	int state;
	float wavesCount;
	int reserved[4];
} jb_lt_heur;

// Each call first sets the Lib's device on this OS thread (see cuda.go):
// a negative return is that cudaError_t, negated.
static int jb_lt_setdev(void *sd, int dev) {
	if (sd == NULL) return 0;
	int e = ((int (*)(int))sd)(dev);
	return e == 0 ? 0 : -e;
}

static int jb_lt_create(void *sd, int dev, void *fn, void **h) {
	int e = jb_lt_setdev(sd, dev);
	return e != 0 ? e : ((int (*)(void **))fn)(h);
}

static int jb_lt_destroy(void *sd, int dev, void *fn, void *h) {
	int e = jb_lt_setdev(sd, dev);
	return e != 0 ? e : ((int (*)(void *))fn)(h);
}

static size_t jb_lt_version(void *fn) { return ((size_t (*)(void))fn)(); }

static const char *jb_lt_status(void *fn, int s) { return ((const char *(*)(int))fn)(s); }

static int jb_lt_desc_create(void *fn, void **d, int compute, int scale) {
	return ((int (*)(void **, int, int))fn)(d, compute, scale);
}

static int jb_lt_set_i32(void *fn, void *obj, int attr, int32_t v) {
	return ((int (*)(void *, int, const void *, size_t))fn)(obj, attr, &v, sizeof v);
}

static int jb_lt_set_u32(void *fn, void *obj, int attr, uint32_t v) {
	return ((int (*)(void *, int, const void *, size_t))fn)(obj, attr, &v, sizeof v);
}

static int jb_lt_set_u64(void *fn, void *obj, int attr, uint64_t v) {
	return ((int (*)(void *, int, const void *, size_t))fn)(obj, attr, &v, sizeof v);
}

static int jb_lt_set_ptr(void *fn, void *obj, int attr, uint64_t p) {
	void *v = (void *)(uintptr_t)p;
	return ((int (*)(void *, int, const void *, size_t))fn)(obj, attr, &v, sizeof v);
}

static int jb_lt_destroy_obj(void *fn, void *obj) { return ((int (*)(void *))fn)(obj); }

static int jb_lt_layout_create(void *fn, void **l, int type, uint64_t rows, uint64_t cols, int64_t ld) {
	return ((int (*)(void **, int, uint64_t, uint64_t, int64_t))fn)(l, type, rows, cols, ld);
}

static int jb_lt_pref_create(void *fn, void **p) { return ((int (*)(void **))fn)(p); }

static int jb_lt_heuristic(void *sd, int dev, void *fn, void *h, void *desc, void *a, void *b, void *c, void *d,
                           void *pref, jb_lt_heur *res, int *count) {
	int e = jb_lt_setdev(sd, dev);
	if (e != 0) return e;
	return ((int (*)(void *, void *, void *, void *, void *, void *, void *, int, jb_lt_heur *, int *))fn)(
		h, desc, a, b, c, d, pref, 1, res, count);
}

typedef int (*jb_lt_matmul_t)(void *, void *, const void *, const void *, void *, const void *, void *,
                              const void *, const void *, void *, void *, void *, const void *, void *, size_t, void *);

// jb_lt_matmul calls cublasLtMatmul on the default stream with C = D
// (beta is 0). alpha is a host scalar, or with alpha_dev a device vector.
static int jb_lt_matmul(void *sd, int dev, void *fn, void *h, void *desc, const void *alpha_host, uint64_t alpha_dev,
                        const void *beta, uint64_t a, void *al, uint64_t b, void *bl, uint64_t d, void *dl,
                        const jb_lt_heur *algo, uint64_t ws, size_t ws_size) {
	int e = jb_lt_setdev(sd, dev);
	if (e != 0) return e;
	const void *alpha = alpha_dev != 0 ? (const void *)(uintptr_t)alpha_dev : alpha_host;
	void *dp = (void *)(uintptr_t)d;
	return ((jb_lt_matmul_t)fn)(h, desc, alpha, (const void *)(uintptr_t)a, al, (const void *)(uintptr_t)b, bl,
	                            beta, dp, dl, dp, dl, algo->algo, (void *)(uintptr_t)ws, ws_size, NULL);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unsafe"
)

// Library file names NewLt tries, newest first, when the Lib's CUDA major
// is not known; the plain name last. After LoadFrom they are files in its
// directory.
var ltNames = []string{"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"}

// ltCandidates is the file names NewLt tries for a Lib whose runtime and
// cuBLAS are of CUDA major (such as "12"): that major's soname, then the
// plain name, whose version NewLt checks. Another major is never tried:
// cuBLAS 12 with cuBLASLt 13 in one process is not a combination NVIDIA
// ships, and libcublas.so.N itself needs libcublasLt.so.N.
func ltCandidates(major string) []string {
	if major == "" {
		return ltNames
	}
	return []string{"libcublasLt.so." + major, "libcublasLt.so"}
}

// Enum values of cublasLt.h. Each was checked against the header text as
// published: CUDA 11's cublasLt.h (copied in ggerganov/llama.cpp,
// include/cuda/cublasLt.h) and the CUDA 12 declarations in Triton's
// third_party cublas_types.h, which agree on every value used here.
const (
	// cublasLtMatmulDescAttributes_t
	ltDescPointerMode = 2
	ltDescTransA      = 3
	ltDescTransB      = 4
	ltDescEpilogue    = 7
	ltDescBiasPointer = 8
	// cublasLtMatmulPreferenceAttributes_t
	ltPrefMaxWorkspaceBytes   = 1
	ltPrefReductionSchemeMask = 3 // uint32_t
	// cublasLtReductionScheme_t, the split-K reductions: INPLACE sums the
	// partial results "using the output buffer (and output data type)",
	// COMPUTE_TYPE keeps them in the compute type in the workspace,
	// OUTPUT_TYPE in the output type. Values and wording from cublasLt.h
	// (CUDA 11, as copied in ggerganov/llama.cpp include/cuda/cublasLt.h:
	// NONE = 0, INPLACE = 1, COMPUTE_TYPE = 2, OUTPUT_TYPE = 4, MASK = 7;
	// CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK = 3, "uint32_t, default:
	// CUBLASLT_REDUCTION_SCHEME_MASK (allows all reduction schemes)"); the
	// same values in the CUDA 12 transcriptions the code search finds
	// (TensorRT's plugin copy of cublasLtReductionScheme_t among them).
	ltReductionInplace     = 1
	ltReductionComputeType = 2
	// cublasLtPointerMode_t: alpha a device vector (one per row of D),
	// beta a host scalar.
	ltPointerModeAlphaVecBetaHost = 4
	// cublasOperation_t
	opN = 0
	opT = 1
)

// Epilogue is a cublasLtEpilogue_t: what cublasLtMatmul does to each
// result before it stores it (cublasLt.h: DEFAULT = 1, RELU = 2, BIAS = 4,
// RELU_BIAS = RELU | BIAS = 6).
type Epilogue uint32

// The epilogues a DenseSpec can ask for.
const (
	EpilogueDefault  Epilogue = 1 // nothing: scale and convert
	EpilogueReLU     Epilogue = 2 // max(x, 0)
	EpilogueBias     Epilogue = 4 // x + bias[row]
	EpilogueReLUBias Epilogue = 6 // max(x + bias[row], 0)
)

// String is the cuBLASLt name of e.
func (e Epilogue) String() string {
	switch e {
	case EpilogueDefault:
		return "CUBLASLT_EPILOGUE_DEFAULT"
	case EpilogueReLU:
		return "CUBLASLT_EPILOGUE_RELU"
	case EpilogueBias:
		return "CUBLASLT_EPILOGUE_BIAS"
	case EpilogueReLUBias:
		return "CUBLASLT_EPILOGUE_RELU_BIAS"
	}
	return "cublasLtEpilogue(" + strconv.Itoa(int(e)) + ")"
}

// LtWorkspace is the device workspace an Lt offers cublasLtMatmul: 32 MiB,
// the size the cuBLAS documentation recommends for Hopper GPUs (4 MiB for
// earlier ones; section "cublasSetWorkspace()").
const LtWorkspace = 32 << 20

// Lt is a cuBLASLt handle (cublasLtHandle_t) on the Lib's device, with its
// workspace. Its operations run on the default stream; they are not safe
// for concurrent use.
type Lt struct {
	l       *Lib
	file    string
	version int
	h       unsafe.Pointer
	ws      DevPtr

	create, destroy, statusString                   unsafe.Pointer
	descCreate, descDestroy, descSet                unsafe.Pointer
	layoutCreate, layoutDestroy                     unsafe.Pointer
	prefCreate, prefDestroy, prefSet, heuristic, mm unsafe.Pointer

	mu   sync.Mutex
	live map[*Dense]bool
}

// NewLt opens cuBLASLt and creates a handle and a workspace of
// LtWorkspace bytes. After Load it opens the cuBLASLt of the runtime's and
// cuBLAS's CUDA major (libcublasLt.so.12 with libcublas.so.12, or a plain
// libcublasLt.so of that version), never another major's; after LoadFrom
// the same names, in its directory only (libcublasLt.so.12 of a pip
// wheel's lib directory, or the tests' plain libcublasLt.so). A missing
// library or symbol, or a cuBLASLt of another major, is an error wrapping
// ErrNoCUDA.
func (l *Lib) NewLt() (*Lt, error) {
	names := ltCandidates(l.major)
	var h unsafe.Pointer
	var file string
	var errs []error
	for _, n := range names {
		p, err := l.Handle(n)
		if err == nil {
			h, file = p, n
			break
		}
		errs = append(errs, err)
	}
	if h == nil {
		where := ""
		if l.Dir() != "" {
			where = " in " + l.Dir()
		}
		return nil, fmt.Errorf("cublasLt: none of %v could be opened%s (install cuBLAS with its Lt library, e.g. Debian's libcublaslt12 or pip's nvidia-cublas-cu12): %w", names, where, errors.Join(errs...))
	}
	t := &Lt{l: l, file: file, live: map[*Dense]bool{}}
	for _, s := range []struct {
		name string
		dst  *unsafe.Pointer
	}{
		{"cublasLtCreate", &t.create},
		{"cublasLtDestroy", &t.destroy},
		{"cublasLtMatmulDescCreate", &t.descCreate},
		{"cublasLtMatmulDescDestroy", &t.descDestroy},
		{"cublasLtMatmulDescSetAttribute", &t.descSet},
		{"cublasLtMatrixLayoutCreate", &t.layoutCreate},
		{"cublasLtMatrixLayoutDestroy", &t.layoutDestroy},
		{"cublasLtMatmulPreferenceCreate", &t.prefCreate},
		{"cublasLtMatmulPreferenceDestroy", &t.prefDestroy},
		{"cublasLtMatmulPreferenceSetAttribute", &t.prefSet},
		{"cublasLtMatmulAlgoGetHeuristic", &t.heuristic},
		{"cublasLtMatmul", &t.mm},
	} {
		p, err := l.Sym(h, s.name)
		if err != nil {
			return nil, fmt.Errorf("cublasLt: %w", err)
		}
		*s.dst = p
	}
	// Optional: only for messages and Info.
	t.statusString, _ = l.Sym(h, "cublasLtGetStatusString")
	if v, err := l.Sym(h, "cublasLtGetVersion"); err == nil {
		t.version = int(C.jb_lt_version(v))
	}
	if l.major != "" && t.version > 0 && strconv.Itoa(t.version/10000) != l.major {
		return nil, fmt.Errorf("cublasLt: %s is version %d but the CUDA runtime and cuBLAS are CUDA %s: one process must not mix CUDA majors; install cuBLASLt %s (libcublasLt.so.%s): %w",
			file, t.version, l.major, l.major, l.major, ErrNoCUDA)
	}
	sd, dev := l.devArgs()
	if err := t.err(int(C.jb_lt_create(sd, dev, t.create, &t.h)), "cublasLtCreate"); err != nil {
		return nil, err
	}
	ws, err := l.Malloc(LtWorkspace)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("cublasLt workspace: %w", err)
	}
	t.ws = ws
	return t, nil
}

// Version is cublasLtGetVersion's number, such as 120903 for 12.9.3; 0
// when the library does not say.
func (t *Lt) Version() int { return t.version }

// Info describes the library: "cublaslt" (its version) and
// "cublaslt_path" (the file).
func (t *Lt) Info() map[string]string {
	m := map[string]string{"cublaslt_path": t.file}
	if t.version > 0 {
		m["cublaslt"] = fmt.Sprintf("%d.%d.%d", t.version/10000, t.version/100%100, t.version%100)
	}
	return m
}

// err turns a cublasStatus_t from fn into an error, with cuBLASLt's own
// description when it has one.
func (t *Lt) err(status int, fn string) error {
	if status == 0 {
		return nil
	}
	err := t.l.blasErr(status, fn)
	if status > 0 && t.statusString != nil {
		if s := C.jb_lt_status(t.statusString, C.int(status)); s != nil {
			err = fmt.Errorf("%w: %s", err, C.GoString(s))
		}
	}
	return err
}

// Close destroys every Dense made from t that is still open, the handle
// and the workspace.
func (t *Lt) Close() error {
	t.mu.Lock()
	live := make([]*Dense, 0, len(t.live))
	for d := range t.live {
		live = append(live, d)
	}
	t.mu.Unlock()
	var errs []error
	for _, d := range live {
		errs = append(errs, d.Close())
	}
	if t.h != nil {
		sd, dev := t.l.devArgs()
		errs = append(errs, t.err(int(C.jb_lt_destroy(sd, dev, t.destroy, t.h)), "cublasLtDestroy"))
		t.h = nil
	}
	if t.ws != 0 {
		errs = append(errs, t.l.Free(t.ws))
		t.ws = 0
	}
	return errors.Join(errs...)
}

// DenseSpec describes one dense layer for a batch of inputs:
//
//	y[r, o] = epilogue(alpha[o] · Σ_i x[r, i]·W[o, i]  (+ bias[o]))
//
// with x (rows of In values), W (Out rows of In values: each output's
// weights contiguous) and y (rows of Out values) row-major in device
// memory. In cuBLASLt's column-major terms this is D = op(A)·B with A = W
// stored In×Out and transposed (TRANSA = T), B = xᵀ stored In×n, D = yᵀ
// Out×n: the "TN" form, the one form cuBLASLt's int8 kernels take.
type DenseSpec struct {
	In, Out int
	// XType is the type of x and W; YType the type of y.
	XType, YType DataType
	Compute      ComputeType
	// Scale is the type of alpha and beta (R32F, or R32I for an int32
	// output).
	Scale    DataType
	Epilogue Epilogue
	W        DevPtr
	// Bias is Out values, required with a bias epilogue: of YType, except
	// for an R8I output, whose bias is of Scale type (cublasLt.h,
	// CUBLASLT_MATMUL_DESC_BIAS_POINTER).
	Bias DevPtr
	// Alpha, when set, is Out values of Scale type on the device: a scale
	// per output (CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_HOST).
	// When 0, alpha is 1.
	Alpha DevPtr
}

func (s DenseSpec) describe() string {
	return fmt.Sprintf("%s×%s→%s (compute %s, scale %s, %s, %d→%d)", s.XType, s.XType, s.YType, s.Compute, s.Scale, s.Epilogue, s.In, s.Out)
}

// Dense is a DenseSpec made into a cuBLASLt matmul descriptor, with an
// algorithm chosen per batch size. Not safe for concurrent use.
type Dense struct {
	t     *Lt
	s     DenseSpec
	desc  unsafe.Pointer
	a     unsafe.Pointer // W's layout
	plans map[int]*densePlan
}

// densePlan is the layouts of x and y for n rows and the algorithm the
// heuristic chose for them.
type densePlan struct {
	b, d unsafe.Pointer
	algo C.jb_lt_heur
}

// NewDense makes the matmul descriptor of s. Algorithms are chosen by
// Plan (or the first Run) for each batch size.
func (t *Lt) NewDense(s DenseSpec) (*Dense, error) {
	if s.In <= 0 || s.Out <= 0 || s.W == 0 {
		return nil, fmt.Errorf("cublasLt dense %s: bad shape or no weights", s.describe())
	}
	if (s.Epilogue == EpilogueBias || s.Epilogue == EpilogueReLUBias) && s.Bias == 0 {
		return nil, fmt.Errorf("cublasLt dense %s: the epilogue needs a bias", s.describe())
	}
	d := &Dense{t: t, s: s, plans: map[int]*densePlan{}}
	what := "cublasLtMatmulDescCreate(" + s.describe() + ")"
	if err := t.err(int(C.jb_lt_desc_create(t.descCreate, &d.desc, C.int(s.Compute), C.int(s.Scale))), what); err != nil {
		return nil, err
	}
	set := func(attr int, v int32, name string) error {
		return t.err(int(C.jb_lt_set_i32(t.descSet, d.desc, C.int(attr), C.int32_t(v))), "cublasLtMatmulDescSetAttribute("+name+")")
	}
	err := errors.Join(
		set(ltDescTransA, opT, "TRANSA"),
		set(ltDescTransB, opN, "TRANSB"),
		set(ltDescEpilogue, int32(s.Epilogue), "EPILOGUE="+s.Epilogue.String()),
	)
	if err == nil && s.Bias != 0 {
		err = t.err(int(C.jb_lt_set_ptr(t.descSet, d.desc, ltDescBiasPointer, C.uint64_t(s.Bias))), "cublasLtMatmulDescSetAttribute(BIAS_POINTER)")
	}
	if err == nil && s.Alpha != 0 {
		err = set(ltDescPointerMode, ltPointerModeAlphaVecBetaHost, "POINTER_MODE=ALPHA_DEVICE_VECTOR_BETA_HOST")
	}
	if err == nil {
		err = t.err(int(C.jb_lt_layout_create(t.layoutCreate, &d.a, C.int(s.XType), C.uint64_t(s.In), C.uint64_t(s.Out), C.int64_t(s.In))), "cublasLtMatrixLayoutCreate(W)")
	}
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("cublasLt dense %s: %w", s.describe(), err)
	}
	t.mu.Lock()
	t.live[d] = true
	t.mu.Unlock()
	return d, nil
}

// Plan chooses the algorithm for batches of n rows with
// cublasLtMatmulAlgoGetHeuristic. When the library has none for the
// types and shape on this GPU, the error wraps errors.ErrUnsupported and
// names them.
func (d *Dense) Plan(n int) error {
	_, err := d.plan(n)
	return err
}

func (d *Dense) plan(n int) (*densePlan, error) {
	if p := d.plans[n]; p != nil {
		return p, nil
	}
	if n <= 0 {
		return nil, fmt.Errorf("cublasLt dense %s: batch of %d rows", d.s.describe(), n)
	}
	t := d.t
	p := &densePlan{}
	free := func() {
		for _, l := range []unsafe.Pointer{p.b, p.d} {
			if l != nil {
				C.jb_lt_destroy_obj(t.layoutDestroy, l)
			}
		}
	}
	err := errors.Join(
		t.err(int(C.jb_lt_layout_create(t.layoutCreate, &p.b, C.int(d.s.XType), C.uint64_t(d.s.In), C.uint64_t(n), C.int64_t(d.s.In))), "cublasLtMatrixLayoutCreate(x)"),
		t.err(int(C.jb_lt_layout_create(t.layoutCreate, &p.d, C.int(d.s.YType), C.uint64_t(d.s.Out), C.uint64_t(n), C.int64_t(d.s.Out))), "cublasLtMatrixLayoutCreate(y)"),
	)
	if err != nil {
		free()
		return nil, fmt.Errorf("cublasLt dense %s: %w", d.s.describe(), err)
	}
	var pref unsafe.Pointer
	if err := t.err(int(C.jb_lt_pref_create(t.prefCreate, &pref)), "cublasLtMatmulPreferenceCreate"); err != nil {
		free()
		return nil, err
	}
	defer C.jb_lt_destroy_obj(t.prefDestroy, pref)
	if err := t.err(int(C.jb_lt_set_u64(t.prefSet, pref, ltPrefMaxWorkspaceBytes, LtWorkspace)), "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)"); err != nil {
		free()
		return nil, err
	}
	mask := reductionMask(d.s.YType)
	if err := t.err(int(C.jb_lt_set_u32(t.prefSet, pref, ltPrefReductionSchemeMask, C.uint32_t(mask))), "cublasLtMatmulPreferenceSetAttribute(REDUCTION_SCHEME_MASK)"); err != nil {
		free()
		return nil, err
	}
	sd, dev := t.l.devArgs()
	var count C.int
	st := int(C.jb_lt_heuristic(sd, dev, t.heuristic, t.h, d.desc, d.a, p.b, p.d, p.d, pref, &p.algo, &count))
	// NOT_SUPPORTED (15) and INVALID_VALUE (7), which the heuristic also
	// answers for a combination of types, layouts and epilogue it does not
	// take, mean "not on this library or GPU", as no algorithm does.
	unsupported := st == 15 || st == 7
	if st < 0 || (st != 0 && !unsupported) {
		free()
		return nil, t.err(st, "cublasLtMatmulAlgoGetHeuristic("+d.s.describe()+")")
	}
	if unsupported || count < 1 || p.algo.state != 0 {
		free()
		why := "no algorithm"
		switch st {
		case 15:
			why = "CUBLAS_STATUS_NOT_SUPPORTED"
		case 7:
			why = "CUBLAS_STATUS_INVALID_VALUE"
		}
		return nil, fmt.Errorf("cublasLt: %s for %s at batch %d on this GPU with %s (this library or GPU does not run the combination): %w",
			why, d.s.describe(), n, t.file, errors.ErrUnsupported)
	}
	d.plans[n] = p
	return p, nil
}

// reductionMask is the split-K reduction schemes a layer with output type
// y may use: never one that keeps partial sums in a 16-bit output type,
// so that the sums stay in the compute type (fp32) as the pure-Go
// emulations assume. INPLACE reduces in the output type, so it is allowed
// only for 32-bit outputs (fp32, int32), where that is the compute type's
// width; COMPUTE_TYPE always. Algorithms without split-K (scheme NONE, 0)
// are not filtered by the mask.
func reductionMask(y DataType) uint32 {
	if y == R32F || y == R32I {
		return ltReductionInplace | ltReductionComputeType
	}
	return ltReductionComputeType
}

// Run computes y for n rows of x (both device pointers, row-major as
// DenseSpec says), choosing the algorithm on the first run of each n. The
// call is asynchronous: y is ready after Lib.Sync or a copy to the host.
func (d *Dense) Run(x, y DevPtr, n int) error {
	p, err := d.plan(n)
	if err != nil {
		return err
	}
	// alpha = 1 and beta = 0 as host scalars of the scale type: an int32
	// 1 or a float 1.0 (0x3f800000); both zeros are all zero bits.
	alpha := [2]uint32{0x3f800000, 0}
	if d.s.Scale == R32I {
		alpha[0] = 1
	}
	var beta [2]uint32
	t := d.t
	sd, dev := t.l.devArgs()
	st := C.jb_lt_matmul(sd, dev, t.mm, t.h, d.desc, unsafe.Pointer(&alpha[0]), C.uint64_t(d.s.Alpha), unsafe.Pointer(&beta[0]),
		C.uint64_t(d.s.W), d.a, C.uint64_t(x), p.b, C.uint64_t(y), p.d, &p.algo, C.uint64_t(t.ws), LtWorkspace)
	if err := t.err(int(st), "cublasLtMatmul("+d.s.describe()+")"); err != nil {
		return err
	}
	return nil
}

// Close destroys the descriptor and the layouts. The device buffers named
// in the spec are the caller's.
func (d *Dense) Close() error {
	t := d.t
	for _, p := range d.plans {
		C.jb_lt_destroy_obj(t.layoutDestroy, p.b)
		C.jb_lt_destroy_obj(t.layoutDestroy, p.d)
	}
	d.plans = map[int]*densePlan{}
	if d.a != nil {
		C.jb_lt_destroy_obj(t.layoutDestroy, d.a)
		d.a = nil
	}
	if d.desc != nil {
		C.jb_lt_destroy_obj(t.descDestroy, d.desc)
		d.desc = nil
	}
	t.mu.Lock()
	delete(t.live, d)
	t.mu.Unlock()
	return nil
}
