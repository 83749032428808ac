// Package cuda calls the CUDA runtime (libcudart) and cuBLAS (libcublas),
// loaded at run time with dlopen: joulebench builds with no CUDA toolkit
// and no CUDA headers, and runs on machines without a GPU, where Load
// returns an error wrapping ErrNoCUDA (and errors.ErrUnsupported) that
// says which library is missing and how to get it.
//
// It binds only what the GPU workloads need: devices, device memory,
// copies, synchronisation and cublasGemmEx. The enum values it declares
// (DataType, ComputeType, MathMode) are the ones NVIDIA's headers
// define and the cuBLAS documentation prints. Device memory is addressed
// by DevPtr, an integer the Go garbage collector never follows.
//
// The tests load a fake libcudart.so and libcublas.so, compiled from
// testdata/fake/fakecuda.c, that keeps "device" memory in host memory and
// computes GEMMs naively; environment variables make it cheat (skip
// calls, round to TF32) or fail (no device, out of memory), so that the
// workloads' checks can be shown to catch each case.
//
// This package must not measure, decide what a result means, or import
// any other joulebench package: it is a thin, faithful binding.
package cuda
