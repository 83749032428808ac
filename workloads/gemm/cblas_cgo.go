//go:build cgo

package gemm

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

// CBLAS enum values, fixed by the CBLAS standard.
enum { jbRowMajor = 101, jbNoTrans = 111, jbTrans = 112 };

// Enums stay int in every CBLAS; only the dimensions widen in a 64-bit
// integer (ILP64) build.
typedef void (*jb_dgemm_lp64)(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int);
typedef void (*jb_sgemm_lp64)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*jb_dgemm_ilp64)(int, int, int, long long, long long, long long, double, const double *, long long, const double *, long long, double, double *, long long);
typedef void (*jb_sgemm_ilp64)(int, int, int, long long, long long, long long, float, const float *, long long, const float *, long long, float, float *, long long);
typedef void (*jb_set_int)(int);
typedef int (*jb_get_int)(void);
typedef void (*jb_set_i64)(long long);
typedef long long (*jb_get_i64)(void);
typedef char *(*jb_get_str)(void);
typedef void (*jb_mkl_version)(char *, int);

// jb_open wraps dlopen so that dlerror, which is per OS thread, is read on
// the thread that failed. The error is a malloc'd copy for Go to free.
static void *jb_open(const char *path, int noload, char **err) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | (noload ? RTLD_NOLOAD : 0));
	if (h == NULL) {
		const char *e = dlerror();
		*err = strdup(e != NULL ? e : "unknown dlopen error");
	}
	return h;
}

static void *jb_sym(void *h, const char *name) { return dlsym(h, name); }

static void jb_close(void *h) { dlclose(h); }

// jb_file returns the file that holds sym (malloc'd), or NULL.
static char *jb_file(void *sym) {
	Dl_info info;
	if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL) {
		return NULL;
	}
	return strdup(info.dli_fname);
}

// jb_dgemm and jb_sgemm set c = a·b + beta·c. For OpenBLAS the thread count is set
// in the same C call, on the same OS thread: an OpenMP build of OpenBLAS
// takes its count from the calling thread's OpenMP setting, and Go may make
// each call from a different OS thread. Setting an unchanged count is a few
// stores.
static void jb_dgemm(void *f, int ilp64, void *set, int threads, int n, double beta, const double *a, const double *b, double *c) {
	if (set != NULL) {
		((jb_set_int)set)(threads);
	}
	if (ilp64) {
		((jb_dgemm_ilp64)f)(jbRowMajor, jbNoTrans, jbNoTrans, n, n, n, 1.0, a, n, b, n, beta, c, n);
	} else {
		((jb_dgemm_lp64)f)(jbRowMajor, jbNoTrans, jbNoTrans, n, n, n, 1.0, a, n, b, n, beta, c, n);
	}
}

static void jb_sgemm(void *f, int ilp64, void *set, int threads, int n, float beta, const float *a, const float *b, float *c) {
	if (set != NULL) {
		((jb_set_int)set)(threads);
	}
	if (ilp64) {
		((jb_sgemm_ilp64)f)(jbRowMajor, jbNoTrans, jbNoTrans, n, n, n, 1.0f, a, n, b, n, beta, c, n);
	} else {
		((jb_sgemm_lp64)f)(jbRowMajor, jbNoTrans, jbNoTrans, n, n, n, 1.0f, a, n, b, n, beta, c, n);
	}
}

// jb_sgemm_full is the general row-major sgemm the model workloads use:
// C = alpha·op(A)·op(B) + beta·C, with the thread count set in the same
// call for the reason given above jb_dgemm.
static void jb_sgemm_full(void *f, int ilp64, void *set, int threads, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
	if (set != NULL) {
		((jb_set_int)set)(threads);
	}
	int opa = ta ? jbTrans : jbNoTrans, opb = tb ? jbTrans : jbNoTrans;
	if (ilp64) {
		((jb_sgemm_ilp64)f)(jbRowMajor, opa, opb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
	} else {
		((jb_sgemm_lp64)f)(jbRowMajor, opa, opb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
	}
}

static void jb_call_set_int(void *f, int n) { ((jb_set_int)f)(n); }
static int jb_call_get_int(void *f) { return ((jb_get_int)f)(); }
static void jb_call_set_i64(void *f, long long n) { ((jb_set_i64)f)(n); }
static long long jb_call_get_i64(void *f) { return ((jb_get_i64)f)(); }
static const char *jb_call_str(void *f) { return ((jb_get_str)f)(); }
static void jb_call_mkl_version(void *f, char *buf, int len) { ((jb_mkl_version)f)(buf, len); }
*/
import "C"

import (
	"fmt"
	"path/filepath"
	"strings"
	"unsafe"
)

// dlLibrary is a CBLAS opened with dlopen. It is never closed: a BLAS's
// thread pool and constructors do not survive being unloaded, and a
// process loads only one.
type dlLibrary struct {
	name string // provider
	file string
	// dgemmFn and sgemmFn are cblas_dgemm and cblas_sgemm.
	dgemmFn, sgemmFn unsafe.Pointer
	ilp64            bool
	// perCallThreads is passed to every call (OpenBLAS's
	// openblas_set_num_threads); nil for other libraries.
	perCallThreads unsafe.Pointer
	// setInt/getInt take and return C int (OpenBLAS, MKL), setI64/getI64
	// BLIS's 64-bit dim_t.
	setInt, getInt, setI64, getI64 unsafe.Pointer
	desc                           map[string]string
}

var _ cblasLibrary = (*dlLibrary)(nil)

// dlopenCBLAS opens the library called name and finds its CBLAS.
func dlopenCBLAS(name string) (cblasLibrary, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var cerr *C.char
	h := C.jb_open(cname, 0, &cerr)
	if h == nil {
		defer C.free(unsafe.Pointer(cerr))
		return nil, fmt.Errorf("cblas: load %s: dlopen: %s", name, C.GoString(cerr))
	}
	sym := func(s string) unsafe.Pointer {
		cs := C.CString(s)
		defer C.free(unsafe.Pointer(cs))
		return C.jb_sym(h, cs)
	}
	l := &dlLibrary{dgemmFn: sym("cblas_dgemm"), sgemmFn: sym("cblas_sgemm"), desc: map[string]string{}}
	if l.dgemmFn == nil || l.sgemmFn == nil {
		C.jb_close(h)
		return nil, fmt.Errorf("cblas: load %s: no cblas_dgemm/cblas_sgemm (a Fortran-only BLAS? joulebench needs the CBLAS interface)", name)
	}
	l.file = name
	if f := C.jb_file(l.dgemmFn); f != nil {
		l.file = C.GoString(f)
		C.free(unsafe.Pointer(f))
	}
	if r, err := filepath.EvalSymlinks(l.file); err == nil {
		l.file = r
	}

	switch {
	case sym("openblas_get_config") != nil:
		l.name = "openblas"
		cfg := C.GoString(C.jb_call_str(sym("openblas_get_config")))
		l.desc["config"] = cfg
		l.desc["version"] = openBLASVersion(cfg)
		// An INTERFACE64 build takes 64-bit dimensions; passing int would
		// leave the upper halves of the registers undefined.
		l.ilp64 = strings.Contains(cfg, "USE64BITINT")
		if f := sym("openblas_get_corename"); f != nil {
			l.desc["corename"] = C.GoString(C.jb_call_str(f))
		}
		l.setInt, l.getInt = sym("openblas_set_num_threads"), sym("openblas_get_num_threads")
		l.perCallThreads = l.setInt
	case sym("bli_info_get_version_str") != nil:
		l.name = "blis"
		l.desc["version"] = C.GoString(C.jb_call_str(sym("bli_info_get_version_str")))
		l.setI64, l.getI64 = sym("bli_thread_set_num_threads"), sym("bli_thread_get_num_threads")
	case sym("MKL_Get_Version_String") != nil:
		l.name = "mkl"
		buf := make([]byte, 256)
		C.jb_call_mkl_version(sym("MKL_Get_Version_String"), (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
		l.desc["version"] = strings.TrimSpace(C.GoString((*C.char)(unsafe.Pointer(&buf[0]))))
		l.setInt, l.getInt = sym("MKL_Set_Num_Threads"), sym("MKL_Get_Max_Threads")
	default:
		l.name = "cblas"
		l.desc["version"] = "unknown (library exports no version call)"
	}
	return l, nil
}

// openBLASVersion takes "0.3.21" out of "OpenBLAS 0.3.21 NO_LAPACKE ...".
func openBLASVersion(cfg string) string {
	f := strings.Fields(cfg)
	if len(f) >= 2 && f[0] == "OpenBLAS" {
		return f[1]
	}
	return cfg
}

// loadedPath returns the file of the library name if the dynamic loader
// already has it loaded, else "". It never loads anything.
func loadedPath(name string) string {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var cerr *C.char
	h := C.jb_open(cname, 1, &cerr)
	if h == nil {
		C.free(unsafe.Pointer(cerr))
		return ""
	}
	defer C.jb_close(h) // drops only the reference NOLOAD took
	cs := C.CString("cblas_dgemm")
	defer C.free(unsafe.Pointer(cs))
	f := C.jb_file(C.jb_sym(h, cs))
	if f == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(f))
	p := C.GoString(f)
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return p
}

func (l *dlLibrary) provider() string { return l.name }
func (l *dlLibrary) path() string     { return l.file }

func (l *dlLibrary) describe() map[string]string {
	m := make(map[string]string, len(l.desc)+8)
	for k, v := range l.desc {
		m[k] = v
	}
	return m
}

func (l *dlLibrary) setThreads(n int) int {
	switch {
	case l.setInt != nil:
		C.jb_call_set_int(l.setInt, C.int(n))
	case l.setI64 != nil:
		C.jb_call_set_i64(l.setI64, C.longlong(n))
	}
	switch {
	case l.getInt != nil:
		return int(C.jb_call_get_int(l.getInt))
	case l.getI64 != nil:
		return int(C.jb_call_get_i64(l.getI64))
	}
	return 0
}

func (l *dlLibrary) dgemm(n, threads int, beta float64, a, b, c []float64) {
	C.jb_dgemm(l.dgemmFn, cbool(l.ilp64), l.perCallThreads, C.int(threads), C.int(n), C.double(beta),
		(*C.double)(unsafe.Pointer(unsafe.SliceData(a))),
		(*C.double)(unsafe.Pointer(unsafe.SliceData(b))),
		(*C.double)(unsafe.Pointer(unsafe.SliceData(c))))
}

func (l *dlLibrary) sgemm(n, threads int, beta float32, a, b, c []float32) {
	C.jb_sgemm(l.sgemmFn, cbool(l.ilp64), l.perCallThreads, C.int(threads), C.int(n), C.float(beta),
		(*C.float)(unsafe.Pointer(unsafe.SliceData(a))),
		(*C.float)(unsafe.Pointer(unsafe.SliceData(b))),
		(*C.float)(unsafe.Pointer(unsafe.SliceData(c))))
}

func (l *dlLibrary) sgemmFull(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	C.jb_sgemm_full(l.sgemmFn, cbool(l.ilp64), l.perCallThreads, C.int(threads), cbool(transA), cbool(transB),
		C.int(m), C.int(n), C.int(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(unsafe.SliceData(a))), C.int(lda),
		(*C.float)(unsafe.Pointer(unsafe.SliceData(b))), C.int(ldb), C.float(beta),
		(*C.float)(unsafe.Pointer(unsafe.SliceData(c))), C.int(ldc))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
