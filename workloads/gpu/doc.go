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
// products and a skipped call shows; each call of a repetition reads a
// different A, a window of N columns stepping through an N×(N+M−1) buffer
// (check.go, window), so that a library that memoises products by pointer
// gains nothing. Run synchronises the device before it returns: the
// harness reads its meters after the GPU has finished the work it
// measures, not when the calls were queued. Every so many calls (Info's
// fold_every) Run folds C: copies it to the host, adds C·r to the check's
// sums and zeroes it. The folds run inside the measured repetition, so
// their time and energy are in its figures; they are rare (about once a
// second at N = 4096, seldom at larger N). Check copies C back and checks
// the whole product by Freivalds' method, on the host, with a limit
// derived from the precision's accumulation (check.go), telling a wrong
// answer from reduced precision; then it draws a fresh A and B and a
// fresh first offset, outside the measured time. Direct is the same
// sequence of cuBLAS calls in a bare loop, without folds, the baseline the
// workload's throughput is compared with.
//
// This package must not read meters or decide what a measurement means;
// it does work and checks its own answer.
package gpu
