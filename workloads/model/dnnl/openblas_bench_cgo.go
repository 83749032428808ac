//go:build cgo && dnnlbench

package dnnl

// This file exists for the benchmarks only (go test -tags dnnlbench): it
// opens OpenBLAS with dlopen so that BenchmarkOpenBLAS can compare
// oneDNN's fp32 with the best fp32 GEMM the machine has. The default build
// neither has it nor links any BLAS.

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

typedef void (*jb_sgemm_t)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static void *jb_blas_open(const char *name) { return dlopen(name, RTLD_NOW | RTLD_LOCAL); }
static void *jb_blas_sym(void *h, const char *s) { return dlsym(h, s); }
static const char *jb_blas_str(void *f) { return f ? ((const char *(*)(void))f)() : ""; }

// jb_blas_mlp runs the three GEMMs of an MLP pass, row-major, with the
// thread count set in the same call.
static void jb_blas_mlp(void *sgemm, void *set, int threads, int nl, const int *dims, int rows,
		const float *x, float *const *w, float *const *act) {
	if (set && threads > 0) ((void (*)(int))set)(threads);
	const float *a = x;
	for (int i = 0; i < nl; i++) {
		((jb_sgemm_t)sgemm)(101, 111, 111, rows, dims[i + 1], dims[i], 1.0f, a, dims[i], w[i], dims[i + 1], 0.0f, act[i], dims[i + 1]);
		a = act[i];
	}
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// blasMLP holds an MLP's fp32 weights in C memory for OpenBLAS.
type blasMLP struct {
	sgemm, set unsafe.Pointer
	threads    int
	dims       *C.int
	nl         int
	w, act     **C.float
	x          *C.float
	desc       string
}

func openBLAS(layers []DenseF32, batch, threads int) (*blasMLP, error) {
	name := C.CString("libopenblas.so.0")
	defer C.free(unsafe.Pointer(name))
	h := C.jb_blas_open(name)
	if h == nil {
		return nil, errors.New("libopenblas.so.0 not found")
	}
	sym := func(s string) unsafe.Pointer {
		cs := C.CString(s)
		defer C.free(unsafe.Pointer(cs))
		return C.jb_blas_sym(h, cs)
	}
	m := &blasMLP{sgemm: sym("cblas_sgemm"), set: sym("openblas_set_num_threads"), threads: threads, nl: len(layers)}
	if m.sgemm == nil {
		return nil, errors.New("libopenblas.so.0 has no cblas_sgemm")
	}
	m.desc = C.GoString(C.jb_blas_str(sym("openblas_get_config"))) + ", core " + C.GoString(C.jb_blas_str(sym("openblas_get_corename")))
	ptrs := func(n int) **C.float { return (**C.float)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(uintptr(0))))) }
	m.w, m.act = ptrs(len(layers)), ptrs(len(layers))
	dims := unsafe.Slice((*C.int)(C.malloc(C.size_t(4*(len(layers)+1)))), len(layers)+1)
	m.dims = &dims[0]
	w, act := unsafe.Slice(m.w, len(layers)), unsafe.Slice(m.act, len(layers))
	for i, d := range layers {
		dims[i], dims[i+1] = C.int(d.In), C.int(d.Out)
		w[i] = (*C.float)(C.malloc(C.size_t(4 * len(d.W))))
		copy(unsafe.Slice((*float32)(unsafe.Pointer(w[i])), len(d.W)), d.W)
		act[i] = (*C.float)(C.malloc(C.size_t(4 * batch * d.Out)))
	}
	m.x = (*C.float)(C.malloc(C.size_t(4 * batch * layers[0].In)))
	return m, nil
}

// input is the C buffer the first GEMM reads.
func (m *blasMLP) input(n int) []float32 { return unsafe.Slice((*float32)(unsafe.Pointer(m.x)), n) }

// output is layer i's result.
func (m *blasMLP) output(i, n int) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.Slice(m.act, m.nl)[i])), n)
}

func (m *blasMLP) run(rows int) {
	C.jb_blas_mlp(m.sgemm, m.set, C.int(m.threads), C.int(m.nl), m.dims, C.int(rows), m.x, m.w, m.act)
}
