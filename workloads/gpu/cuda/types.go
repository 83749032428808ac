package cuda

import (
	"errors"
	"math"
	"strconv"
)

// DevPtr is an address in device memory, as cudaMalloc returns it. It is
// an integer, not a Go pointer: the garbage collector must never follow it.
type DevPtr uintptr

// DataType is a cudaDataType_t: the element type of a matrix.
type DataType int32

// cudaDataType_t values, as NVIDIA's library_types.h defines them:
// CUDA_R_32F = 0, CUDA_R_64F = 1, CUDA_R_16F = 2, CUDA_R_8I = 3,
// CUDA_R_32I = 10, CUDA_R_16BF = 14. Checked against transcriptions of
// that header in public Java bindings of cuBLAS (enums cudaDataType_t and
// CudaDataType, found with the code search), not against the header itself.
const (
	R32F  DataType = 0
	R64F  DataType = 1
	R16F  DataType = 2
	R8I   DataType = 3
	R32I  DataType = 10
	R16BF DataType = 14
)

// Size is the size in bytes of one element of t, 0 for a type this
// package does not know.
func (t DataType) Size() int {
	switch t {
	case R8I:
		return 1
	case R16F, R16BF:
		return 2
	case R32F, R32I:
		return 4
	case R64F:
		return 8
	}
	return 0
}

// String is the CUDA name of t.
func (t DataType) String() string {
	switch t {
	case R32F:
		return "CUDA_R_32F"
	case R64F:
		return "CUDA_R_64F"
	case R16F:
		return "CUDA_R_16F"
	case R8I:
		return "CUDA_R_8I"
	case R32I:
		return "CUDA_R_32I"
	case R16BF:
		return "CUDA_R_16BF"
	}
	return "cudaDataType(" + strconv.Itoa(int(t)) + ")"
}

// ComputeType is a cublasComputeType_t: the arithmetic cuBLAS uses.
type ComputeType int32

// cublasComputeType_t values, as cublas_api.h defines them:
// CUBLAS_COMPUTE_16F = 64, CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_64F = 70,
// CUBLAS_COMPUTE_32I = 72, CUBLAS_COMPUTE_32F_FAST_TF32 = 77. Checked the
// same way (enums cublasComputeType_t and CublasComputeType).
const (
	Compute16F         ComputeType = 64
	Compute32F         ComputeType = 68
	Compute64F         ComputeType = 70
	Compute32I         ComputeType = 72
	Compute32FFastTF32 ComputeType = 77
)

// String is the cuBLAS name of c.
func (c ComputeType) String() string {
	switch c {
	case Compute16F:
		return "CUBLAS_COMPUTE_16F"
	case Compute32F:
		return "CUBLAS_COMPUTE_32F"
	case Compute64F:
		return "CUBLAS_COMPUTE_64F"
	case Compute32I:
		return "CUBLAS_COMPUTE_32I"
	case Compute32FFastTF32:
		return "CUBLAS_COMPUTE_32F_FAST_TF32"
	}
	return "cublasComputeType(" + strconv.Itoa(int(c)) + ")"
}

// MathMode is a cublasMath_t, set on a handle with Blas.SetMathMode.
type MathMode int32

// cublasMath_t values (cuBLAS documentation, "cublasMath_t").
const (
	// DefaultMath lets the compute type decide; with CUBLAS_COMPUTE_32F it
	// does not use TF32 tensor cores.
	DefaultMath MathMode = 0
	// PedanticMath forces the prescribed compute type's precision in every
	// step (no tensor-core shortcuts).
	PedanticMath MathMode = 2
	// TF32TensorOpMath lets single-precision routines use TF32 tensor cores.
	TF32TensorOpMath MathMode = 3
)

// String is the cuBLAS name of m.
func (m MathMode) String() string {
	switch m {
	case DefaultMath:
		return "CUBLAS_DEFAULT_MATH"
	case PedanticMath:
		return "CUBLAS_PEDANTIC_MATH"
	case TF32TensorOpMath:
		return "CUBLAS_TF32_TENSOR_OP_MATH"
	}
	return "cublasMath(" + strconv.Itoa(int(m)) + ")"
}

// TF32OverrideEnv is the environment variable with which NVIDIA's
// libraries let the user override their TF32 choice: set to 0, no FP32
// computation in the process is accelerated with TF32 tensor cores,
// whatever cuBLAS was asked (CUDA documentation, "NVIDIA_TF32_OVERRIDE").
const TF32OverrideEnv = "NVIDIA_TF32_OVERRIDE"

// Gemm is one cublasGemmEx call: C = Alpha·op(A)·op(B) + Beta·C, with
// column-major matrices as cuBLAS has them. op(A) is M×K, op(B) K×N, C M×N.
type Gemm struct {
	TransA, TransB      bool
	M, N, K             int
	A, B, C             DevPtr
	AType, BType, CType DataType
	Lda, Ldb, Ldc       int
	Compute             ComputeType
	// Alpha and Beta are converted to the compute type's scalar: double
	// for Compute64F, int32 for Compute32I, half for Compute16F, float
	// otherwise.
	Alpha, Beta float64
}

// ErrNoCUDA is wrapped by every error that means CUDA cannot be used on
// this machine at all: no runtime or cuBLAS library, no driver, no GPU.
// errors.Is(err, errors.ErrUnsupported) holds for it too.
var ErrNoCUDA error = noCUDA{}

type noCUDA struct{}

func (noCUDA) Error() string { return "CUDA is not available" }
func (noCUDA) Unwrap() error { return errors.ErrUnsupported }

// HalfBits returns the IEEE 754 binary16 encoding of f, rounded to
// nearest, ties to even; out-of-range values become ±Inf.
func HalfBits(f float64) uint16 {
	b := math.Float32bits(float32(f))
	sign := uint16(b>>16) & 0x8000
	exp := int((b>>23)&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case (b>>23)&0xff == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp >= 0x1f:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - exp)
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, which is the right rounding
	}
	return sign | uint16(h)
}

// HalfValue returns the value of the binary16 encoding h.
func HalfValue(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * mant * 0x1p-24
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * (1 + mant/1024) * math.Ldexp(1, exp-15)
}

// BFloat16Bits returns the bfloat16 encoding of f (the upper half of its
// float32 encoding), rounded to nearest, ties to even.
func BFloat16Bits(f float64) uint16 {
	b := math.Float32bits(float32(f))
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40 // quiet NaN
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// BFloat16Value returns the value of the bfloat16 encoding h.
func BFloat16Value(h uint16) float64 {
	return float64(math.Float32frombits(uint32(h) << 16))
}
