// Package gpu holds the GPU workloads: dense matrix multiplication with
// cuBLAS (cublasGemmEx) in fp64, fp32, TF32, fp16, bf16 and int8, named
// gpu-gemm-<precision>-<N>.
//
// The CUDA runtime and cuBLAS are loaded at run time (package cuda); on a
// machine without them, or without a GPU, or with a GPU too old for the
// precision, Validate returns an error wrapping workloads.ErrNotHere that
// says why, and a suite run leaves the workload out.
//
// Each call adds A·B to C (beta 1), so that C after k calls holds k
// products and a skipped call shows. Run synchronises the device before it
// returns: the harness reads its meters after the GPU has finished the
// work it measures, not when the calls were queued. Check copies C back
// and checks the whole product by Freivalds' method, on the host, with a
// limit derived from the precision's accumulation (check.go), telling a
// wrong answer from reduced precision; then it draws a fresh A. Direct is
// the same cuBLAS call in a bare loop, the baseline the workload's
// throughput is compared with.
//
// This package must not read meters or decide what a measurement means;
// it does work and checks its own answer.
package gpu
