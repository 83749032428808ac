// Package gemm is the CPU matrix-multiply workload: C ← A·B + C for square
// row-major N×N matrices in fp64 or fp32 (gemm-fp64-N, gemm-fp32-N), 2N³
// FLOPs a call.
//
// The BLAS is chosen at run time. A system CBLAS is loaded with dlopen —
// OpenBLAS by default, or BLIS, MKL or any CBLAS named by --blas PATH — so
// that one binary runs the machine's best library without linking it. With
// none found, or with --blas gonum, gonum's pure-Go BLAS does the work, and
// Info says plainly that the figure then describes joulebench's code, not
// the hardware. Info records the provider, the library file, its version,
// the thread count and, for OpenBLAS, the kernel it ran (corename) and who
// chose it: OpenBLAS reads OPENBLAS_CORETYPE only when it is loaded, and on
// an AVX-512 CPU it does not recognise it falls back to an AVX2 kernel, so
// by default joulebench asks for its AVX-512 kernel on AVX-512 CPUs
// (--blas-coretype library turns that off; see below).
//
// # Choosing the OpenBLAS kernel
//
// OpenBLAS picks its kernel from its own CPU table when it is loaded, and an
// OpenBLAS older than the CPU (0.3.21 on Zen 5) runs its AVX2 Haswell kernel
// on an AVX-512 machine, about 1.7x slower. So --blas-coretype (Options.
// BLASCoreType) works like this:
//
//   - "" or auto (the default): an OPENBLAS_CORETYPE already in the
//     environment is respected, once checked as the flag's value is (an
//     AVX-512 kernel on a CPU without AVX-512 is refused, with what to do);
//     otherwise, on a CPU with AVX-512 F, CD, BW,
//     DQ and VL, joulebench asks for SkylakeX, OpenBLAS's AVX-512 GEMM
//     kernel; otherwise OpenBLAS chooses.
//   - library: OpenBLAS chooses, even if OPENBLAS_CORETYPE is set.
//   - any other name (Haswell, Zen, SkylakeX, ...): that kernel.
//
// Whatever happens, Info records the kernel that ran (corename), the
// OPENBLAS_CORETYPE in effect (coretype) and who chose it (coretype_source),
// and a forced kernel that fails the answer check says to retry with
// --blas-coretype library. The variable is set only while the library
// loads; the process environment is left as it was found.
//
// # Checking the answer
//
// A fast wrong answer must fail. Every call accumulates (beta 1), so C
// after k calls holds k products and a skipped call, or a library that
// computes once and then idles, leaves a wrong C. Check verifies every
// call since the last check over the whole product with Freivalds' method
// (C·r against k·A·(B·r) for random vectors r drawn from the run's seed,
// O(N²)), against a tolerance calibrated on what correct libraries show,
// with a verdict of its own when the error is what TF32 or BF16 arithmetic
// gives; then it draws a fresh A and zeroes C, so that no call after the
// check can reuse an answer from before it. (Within one round every call
// has the same inputs, so a library that memoises by comparing them is not
// caught here; docs/gemm-check.md says so.) Every foldEvery calls Run adds C into a float64
// bank and zeroes it, so that the rounding of many accumulations cannot
// grow to the size of TF32's. docs/gemm-check.md has what the check
// proves and what it cannot, its false-accept probability, the
// calibration and its cost.
//
// What it must not do: measure anything (a meter's job, brought in by the
// harness); allocate or check inside Run, which is the measured loop (the
// fold is an add and a clear, once every hundreds of calls at fp32 and
// 65536 at fp64 for OpenBLAS and BLIS); use the library under test to
// check its own answer; load more than one CBLAS per process, or unload
// one; silently fall back to gonum when the user named a library; leave
// OPENBLAS_CORETYPE changed in the environment after loading.
//
// The C program in cref/ calls the same library directly, and
// cref/compare.sh compares the two with benchstat: joulebench must reach at
// least 90% of C's GFLOP/s.
package gemm
