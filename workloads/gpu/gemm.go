package gpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/gemm"
	"github.com/joulebench/joulebench/workloads/gpu/cuda"
)

// Sizes accepted by New; the standard names use 4096, 8192 and 16384.
const (
	MinN = 64
	MaxN = 16384
)

// Version is the workload version in the Spec; it changes whenever the work
// done for a name changes (call shape, types, matrix contents).
const Version = "2"

// WorkUnit names one item of work.
const WorkUnit = "GEMM call"

// Precisions lists the precisions, in the order of the standard names.
var Precisions = []string{"fp64", "fp32", "tf32", "fp16", "bf16", "int8"}

func init() {
	var names []string
	for _, p := range Precisions {
		for _, n := range []int{4096, 8192, 16384} {
			names = append(names, "gpu-gemm-"+p+"-"+strconv.Itoa(n))
		}
	}
	workloads.Register("gpu-gemm-", New, names...)
}

// precision is what one precision calls cuBLAS with and what it needs.
type precision struct {
	name         string
	in, out      cuda.DataType
	compute      cuda.ComputeType
	math         cuda.MathMode
	ccMajor      int // the smallest compute capability that has it
	ccMinor      int
	ccWhy        string
	integer      bool
	opsParamName string // names the kind of operation FLOPsPerItem counts
}

// The precisions. fp16 and bf16 write fp32 outputs (CUBLAS_COMPUTE_32F
// with CUDA_R_16F or CUDA_R_16BF inputs and a CUDA_R_32F C, a combination
// cublasGemmEx supports): the check then sees fp32 accumulation, so that
// arithmetic in 16 bits is caught. int8 is CUDA_R_8I inputs, CUDA_R_32I
// output, CUBLAS_COMPUTE_32I, with A and B from cudaMalloc (aligned far
// beyond 4 bytes) and leading dimensions a multiple of 4 (N is a multiple
// of 16), as cublasGemmEx requires for that path (cuBLAS documentation,
// cublasGemmEx: "CUBLAS_COMPUTE_32I and CUBLAS_COMPUTE_32I_PEDANTIC
// compute types are only supported with A, B being 4-byte aligned and
// lda, ldb being multiples of 4"); alpha and beta are 1.
var precisions = map[string]precision{
	"fp64": {name: "fp64", in: cuda.R64F, out: cuda.R64F, compute: cuda.Compute64F, math: cuda.DefaultMath},
	// fp32 runs in the default math mode: with CUBLAS_COMPUTE_32F cuBLAS
	// uses TF32 only when asked (CUBLAS_TF32_TENSOR_OP_MATH or a _FAST_TF32
	// compute type), and NVIDIA_TF32_OVERRIDE can only turn TF32 off.
	// CUBLAS_PEDANTIC_MATH is not used: NVIDIA documents it as "primarily
	// intended for numerical robustness studies, testing, and debugging"
	// and possibly slower, so it would not measure what fp32 users run. A
	// library that used TF32 anyway would fail the answer check as
	// reduced-precision.
	"fp32": {name: "fp32", in: cuda.R32F, out: cuda.R32F, compute: cuda.Compute32F, math: cuda.DefaultMath},
	"tf32": {name: "tf32", in: cuda.R32F, out: cuda.R32F, compute: cuda.Compute32FFastTF32, math: cuda.DefaultMath,
		ccMajor: 8, ccWhy: "TF32 tensor cores need compute capability 8.0 (Ampere) or later"},
	"fp16": {name: "fp16", in: cuda.R16F, out: cuda.R32F, compute: cuda.Compute32F, math: cuda.DefaultMath,
		ccMajor: 5, ccMinor: 3, ccWhy: "fp16 arithmetic needs compute capability 5.3 or later"},
	"bf16": {name: "bf16", in: cuda.R16BF, out: cuda.R32F, compute: cuda.Compute32F, math: cuda.DefaultMath,
		ccMajor: 8, ccWhy: "bf16 needs compute capability 8.0 (Ampere) or later"},
	"int8": {name: "int8", in: cuda.R8I, out: cuda.R32I, compute: cuda.Compute32I, math: cuda.DefaultMath,
		ccMajor: 6, ccMinor: 1, ccWhy: "int8 GEMM needs compute capability 6.1 or later (tensor cores from 7.5)",
		integer: true, opsParamName: "integer multiply-adds counted as 2 operations each"},
}

// workload is C ← A·B + C for N×N matrices on GPU 0 with cublasGemmEx,
// each call with a different A (see window). It is not safe for concurrent
// use.
type workload struct {
	spec workloads.Spec
	prec precision
	n    int
	opts workloads.Options
	// load opens the CUDA libraries; tests replace it with a loader of
	// the fakes.
	load func() (*cuda.Lib, error)

	lib     *cuda.Lib
	blas    *cuda.Blas
	a, b, c cuda.DevPtr
	call    cuda.Gemm
	cc      string

	// offsets is how many different A the calls step through: A is an
	// N×(N+offsets−1) buffer, and call j since the last re-arm reads the N
	// columns from (start + j) mod offsets on (see window). 0 until
	// prepare sets it from defaultOffsets, unless a test set it.
	offsets int64
	start   int64

	seed  uint64
	round uint64
	// calls counts the GEMM calls since the last re-arm, inC those
	// accumulated in C since it was last folded.
	calls, inC int64
	// foldEvery is how many calls C takes before fold moves it to the
	// host; foldSq is the sum of the squares of the fold lengths since the
	// last re-arm (the check's accumulation term).
	foldEvery int64
	foldSq    float64
	folds     int64
	chk       checkState
}

// New makes the workload gpu-gemm-<precision>-<N>.
func New(name string, opts workloads.Options) (workloads.Workload, error) {
	p, n, err := parseName(name)
	if err != nil {
		return nil, err
	}
	load := cuda.Load
	if dir := opts.CUDALibDir; dir != "" {
		load = func() (*cuda.Lib, error) { return cuda.LoadFrom(dir) }
	}
	return &workload{spec: makeSpec(name, p, n), prec: p, n: n, opts: opts, load: load}, nil
}

// parseName splits gpu-gemm-<precision>-<N>. N is written plainly (no
// sign, no leading zeros) so that one amount of work has one name.
func parseName(name string) (precision, int, error) {
	bad := func(why string) (precision, int, error) {
		return precision{}, 0, fmt.Errorf("gpu: workload %q: %s (want gpu-gemm-P-N with P one of %s and %d ≤ N ≤ %d, N a multiple of 16)",
			name, why, strings.Join(Precisions, ", "), MinN, MaxN)
	}
	rest, ok := strings.CutPrefix(name, "gpu-gemm-")
	if !ok {
		return bad("not a gpu-gemm workload")
	}
	ps, size, ok := strings.Cut(rest, "-")
	if !ok {
		return bad("no size")
	}
	p, ok := precisions[ps]
	if !ok {
		return bad(fmt.Sprintf("unknown precision %q", ps))
	}
	n, err := strconv.Atoi(size)
	if err != nil || strconv.Itoa(n) != size {
		return bad(fmt.Sprintf("size %q is not a plain integer", size))
	}
	if n < MinN || n > MaxN {
		return bad(fmt.Sprintf("N = %d out of range", n))
	}
	if n%16 != 0 {
		// int8 needs leading dimensions that are multiples of 4, and
		// tensor cores run best on multiples of 16 bytes; one rule for
		// every precision keeps the names simple.
		return bad(fmt.Sprintf("N = %d is not a multiple of 16", n))
	}
	return p, n, nil
}

func makeSpec(name string, p precision, n int) workloads.Spec {
	params := map[string]string{
		"precision":    p.name,
		"n":            strconv.Itoa(n),
		"device":       "gpu",
		"compute_type": p.compute.String(),
		"input_type":   p.in.String(),
		"output_type":  p.out.String(),
		"math_mode":    p.math.String(),
		"layout":       "C ← Aᵀ(stored)·B + C, column-major, transa=T transb=N",
		"a_offsets":    strconv.FormatInt(defaultOffsets(n, p.in.Size()), 10),
		"inputs":       "A and B drawn afresh at every check; call j reads A at column offset (start + j) mod a_offsets of an N×(N+a_offsets−1) buffer",
	}
	if p.opsParamName != "" {
		params["ops"] = p.opsParamName
	}
	return workloads.Spec{
		Name:         name,
		Version:      Version,
		Params:       params,
		WorkUnit:     WorkUnit,
		Hash:         workloads.SpecHash(name, Version, params),
		FLOPsPerItem: gemm.FLOPs(n),
	}
}

func (w *workload) Spec() workloads.Spec { return w.spec }

// fixedSeed stands in for Options.Seed 0 (tests), so that a run without a
// seed is still reproducible.
const fixedSeed = 0x6770756a6f756c65 // "gpujoule"

// notHere wraps err so that a suite run leaves the workload out.
func notHere(err error) error {
	return fmt.Errorf("gpu: %w: %w", workloads.ErrNotHere, err)
}

// open loads the libraries and checks that GPU 0 exists and can do the
// precision. Errors that mean "not on this machine" wrap ErrNotHere.
func (w *workload) open() (*cuda.Lib, string, error) {
	lib, err := w.load()
	if err != nil {
		if errors.Is(err, cuda.ErrNoCUDA) {
			return nil, "", notHere(err)
		}
		return nil, "", fmt.Errorf("gpu: %w", err)
	}
	n, err := lib.DeviceCount()
	if err != nil || n == 0 {
		if err == nil || errors.Is(err, cuda.ErrNoCUDA) {
			return nil, "", notHere(fmt.Errorf("no GPU: cudaGetDeviceCount returned 0 devices (%v)", err))
		}
		return nil, "", fmt.Errorf("gpu: %w", err)
	}
	major, minor, err := lib.ComputeCapability(0)
	if err != nil {
		return nil, "", fmt.Errorf("gpu: %w", err)
	}
	cc := strconv.Itoa(major) + "." + strconv.Itoa(minor)
	if p := w.prec; p.ccMajor > 0 && (major < p.ccMajor || major == p.ccMajor && minor < p.ccMinor) {
		return nil, "", notHere(fmt.Errorf("%s on GPU 0 with compute capability %s: %s", p.name, cc, p.ccWhy))
	}
	return lib, cc, nil
}

// Validate loads the CUDA runtime and cuBLAS and checks that GPU 0 is
// there and has the precision, allocating nothing.
func (w *workload) Validate(ctx context.Context) error {
	_, _, err := w.open()
	return err
}

// elemSize is the size of one input element.
func (w *workload) inSize() int  { return w.prec.in.Size() }
func (w *workload) outSize() int { return w.prec.out.Size() }

// Prepare loads the libraries, allocates A's window, B and C on GPU 0,
// draws B and A from the run's seed on the host (chunk by chunk, so that
// host memory stays small) and uploads them, zeroes C, and makes one warm
// call.
func (w *workload) Prepare(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.lib != nil {
		return errors.New("gpu: Prepare called twice")
	}
	lib, cc, err := w.open()
	if err != nil {
		return err
	}
	w.lib, w.cc = lib, cc
	if err := w.prepare(); err != nil {
		return errors.Join(err, w.Close())
	}
	return nil
}

func (w *workload) prepare() error {
	var err error
	if w.blas, err = w.lib.NewBlas(); err != nil {
		return fmt.Errorf("gpu: %w", err)
	}
	if err := w.blas.SetMathMode(w.prec.math); err != nil {
		return fmt.Errorf("gpu: %w", err)
	}
	nn := w.n * w.n
	if w.offsets == 0 {
		w.offsets = defaultOffsets(w.n, w.inSize())
	}
	// B first: the error of a failed allocation names the size of an N×N
	// input.
	for _, m := range []struct {
		p     *cuda.DevPtr
		bytes int
	}{{&w.b, nn * w.inSize()}, {&w.a, w.aCols() * w.n * w.inSize()}, {&w.c, nn * w.outSize()}} {
		if *m.p, err = w.lib.Malloc(m.bytes); err != nil {
			return fmt.Errorf("gpu: %s: %w", w.spec.Name, err)
		}
	}
	w.call = gemmCall(w.prec, w.n, w.a, w.b, w.c)
	w.seed = w.opts.Seed
	if w.seed == 0 {
		w.seed = fixedSeed
	}
	w.foldEvery = foldInterval(w.prec, w.n)
	if err := w.prepareCheck(); err != nil {
		return err
	}
	if _, err := w.Run(context.Background(), 1); err != nil {
		return fmt.Errorf("gpu: warm call: %w", err)
	}
	return nil
}

// gemmCall is the cublasGemmEx call of the workload and of Direct:
// C ← Aᵀ·B + C with A and B stored column-major N×N (A's columns are the
// rows of the product's left factor), the "TN" form that int8 tensor
// cores need and that every other type runs at full speed. a is the first
// A of the window; calls step it by whole columns (see issue).
func gemmCall(p precision, n int, a, b, c cuda.DevPtr) cuda.Gemm {
	return cuda.Gemm{
		TransA: true, TransB: false,
		M: n, N: n, K: n,
		A: a, B: b, C: c,
		AType: p.in, BType: p.in, CType: p.out,
		Lda: n, Ldb: n, Ldc: n,
		Compute: p.compute,
		Alpha:   1, Beta: 1,
	}
}

// Run makes iters cublasGemmEx calls, each adding its A·B to C, and then
// waits for the GPU (cudaDeviceSynchronize): when Run returns, the device
// has finished every call, so the harness's meter reading at the phase's
// edge comes after the work it measures. Every foldEvery calls, C is
// folded into the check's host-side sums and zeroed (see fold). A fold
// runs inside Run, so inside the measured repetition: its copy of C to
// the host, the host's sums and the cudaMemset are in the repetition's
// time and energy, and the GPU idles while the host sums. foldInterval
// keeps folds to about one a second or fewer at N = 4096 and far fewer at
// larger N (Info's fold_every says how many calls a fold takes), a cost of
// a few milliseconds a second at most.
func (w *workload) Run(ctx context.Context, iters int) (workloads.Work, error) {
	if w.blas == nil {
		return workloads.Work{}, errors.New("gpu: Run before Prepare")
	}
	done := 0
	for done < iters {
		if err := ctx.Err(); err != nil {
			return workloads.Work{}, err
		}
		chunk := int64(iters - done)
		if room := w.foldEvery - w.inC; chunk > room {
			chunk = room
		}
		got, err := w.issue(int(chunk))
		done += got
		if err != nil {
			return workloads.Work{}, fmt.Errorf("gpu: %s: %w", w.spec.Name, err)
		}
		if w.inC == w.foldEvery {
			if err := w.fold(); err != nil {
				return workloads.Work{}, err
			}
		}
	}
	if err := w.lib.Sync(); err != nil {
		return workloads.Work{}, fmt.Errorf("gpu: %s: %w", w.spec.Name, err)
	}
	return workloads.Work{FLOPs: float64(iters) * w.spec.FLOPsPerItem, Items: int64(iters)}, nil
}

// issue queues n calls, continuing the cycle of A offsets: call j since
// the last re-arm reads A from column (start + j) mod offsets. Run and
// Direct both call it, so that they make the same sequence of calls.
func (w *workload) issue(n int) (int, error) {
	colBytes := uint64(w.n * w.inSize())
	got, err := w.blas.GemmExCycle(w.call, n, colBytes, w.offsets, w.start+w.calls)
	w.calls += int64(got)
	w.inC += int64(got)
	return got, err
}

// Info says what ran: library paths and versions, device, compute
// capability, types and math mode, how often C was folded, and
// NVIDIA_TF32_OVERRIDE when it was set (with a warning for tf32 when it
// was 0).
func (w *workload) Info() map[string]string {
	m := map[string]string{}
	if w.lib != nil {
		for k, v := range w.lib.Info() {
			m[k] = v
		}
	}
	m["compute_capability"] = w.cc
	m["math_mode"] = w.prec.math.String()
	m["compute_type"] = w.prec.compute.String()
	m["input_type"] = w.prec.in.String()
	m["output_type"] = w.prec.out.String()
	m["fold_every"] = strconv.FormatInt(w.foldEvery, 10)
	m["a_offsets"] = strconv.FormatInt(w.offsets, 10)
	if v, ok := os.LookupEnv(cuda.TF32OverrideEnv); ok {
		m["nvidia_tf32_override"] = v
		if v == "0" && w.prec.name == "tf32" {
			m["warning"] = TF32OverrideWarning
		}
	}
	// The report's library column: what did the arithmetic, and where.
	m["provider"] = strings.TrimSpace("cuBLAS " + m["cublas"] + " on GPU " + m["device"])
	return m
}

// TF32OverrideWarning is the tf32 workload's Info["warning"] when it ran
// with NVIDIA_TF32_OVERRIDE=0: the driver's libraries then never use TF32
// tensor cores, so the workload ran as plain fp32 (its answers still pass
// the check, which bounds the error from above only) and its figures are
// fp32's, not TF32's.
const TF32OverrideWarning = "NVIDIA_TF32_OVERRIDE=0 was set: cuBLAS used no TF32 tensor cores, so this tf32 workload ran as plain fp32 and its figures are fp32's; unset it to measure TF32"

// Close frees the device memory and destroys the cuBLAS handle.
func (w *workload) Close() error {
	if w.lib == nil {
		return nil
	}
	var errs []error
	for _, p := range []*cuda.DevPtr{&w.a, &w.b, &w.c} {
		if *p != 0 {
			errs = append(errs, w.lib.Free(*p))
			*p = 0
		}
	}
	if w.blas != nil {
		errs = append(errs, w.blas.Close())
		w.blas = nil
	}
	errs = append(errs, w.lib.Close())
	w.lib = nil
	return errors.Join(errs...)
}

// Direct is the baseline for scripts/gpu-check.sh: cuBLAS called directly
// in a tight loop for about d (the same cublasGemmEx calls as the workload
// gpu-gemm-<precision>-<n>, on matrices of the same values, stepping
// through the same A offsets in the same order), after one warm call, with
// the device synchronised at the end and the time taken on the host. It returns TFLOP/s (10¹² FLOPs/s, 2n³ a call), to which
// the workload's throughput is compared.
func Direct(ctx context.Context, precision string, n int, d time.Duration, lib *cuda.Lib) (tflops float64, err error) {
	name := "gpu-gemm-" + precision + "-" + strconv.Itoa(n)
	p, n, err := parseName(name)
	if err != nil {
		return 0, err
	}
	w := &workload{spec: makeSpec(name, p, n), prec: p, n: n, load: func() (*cuda.Lib, error) { return lib, nil }}
	lib, w.cc, err = w.open()
	if err != nil {
		return 0, err
	}
	w.lib = lib
	defer func() {
		// Close would close lib, which belongs to the caller.
		for _, q := range []cuda.DevPtr{w.a, w.b, w.c} {
			err = errors.Join(err, lib.Free(q))
		}
		if w.blas != nil {
			err = errors.Join(err, w.blas.Close())
		}
	}()
	if err := w.prepare(); err != nil {
		return 0, err
	}
	// Time one batch to size the loop, then run the loop. A fold (the
	// workload's, not cuBLAS's) is avoided by zeroing C between batches
	// outside the timed region, so that Direct times cublasGemmEx alone;
	// the workload's figure includes its folds (see Run).
	batch := int64(1)
	var calls int64
	var elapsed time.Duration
	for elapsed < d {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if batch > w.foldEvery {
			batch = w.foldEvery
		}
		if err := lib.Memset(w.c, 0, n*n*w.outSize()); err != nil {
			return 0, err
		}
		w.inC = 0
		if err := lib.Sync(); err != nil {
			return 0, err
		}
		t0 := time.Now()
		if _, err := w.issue(int(batch)); err != nil {
			return 0, err
		}
		if err := lib.Sync(); err != nil {
			return 0, err
		}
		elapsed += time.Since(t0)
		calls += batch
		batch *= 2
	}
	return float64(calls) * gemm.FLOPs(n) / elapsed.Seconds() / 1e12, nil
}

// hostPtr is the address of the first element of s, for a copy.
func hostPtr[T any](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }
