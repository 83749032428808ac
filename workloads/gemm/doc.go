// Package gemm is the CPU matrix-multiply workload: C = A·B for square
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
//     environment is respected; otherwise, on a CPU with AVX-512 F, CD, BW,
//     DQ and VL, joulebench asks for SkylakeX, OpenBLAS's AVX-512 GEMM
//     kernel; otherwise OpenBLAS chooses.
//   - library: OpenBLAS chooses, even if OPENBLAS_CORETYPE is set.
//   - any other name (Haswell, Zen, SkylakeX, ...): that kernel.
//
// Whatever happens, Info records the kernel that ran (corename), the
// OPENBLAS_CORETYPE in effect (coretype) and who chose it (coretype_source),
// and a forced kernel that fails the residual check says to retry with
// --blas-coretype library. The variable is set only while the library
// loads; the process environment is left as it was found.
//
// A residual check on a sample of C makes a fast wrong answer fail.
//
// What it must not do: measure anything (a meter's job, brought in by the
// harness); allocate, copy or check inside Run, which is the measured loop;
// load more than one CBLAS per process, or unload one; silently fall back
// to gonum when the user named a library; leave OPENBLAS_CORETYPE changed
// in the environment after loading.
//
// The C program in cref/ calls the same library directly, and
// cref/compare.sh compares the two with benchstat: joulebench must reach at
// least 90% of C's GFLOP/s.
package gemm
