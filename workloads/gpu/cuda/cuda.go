//go:build cgo

package cuda

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

// jb_cuda_open wraps dlopen so that dlerror, which is per OS thread, is
// read on the thread that failed. The error is a malloc'd copy for Go to
// free.
static void *jb_cuda_open(const char *path, char **err) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		*err = strdup(e != NULL ? e : "unknown dlopen error");
	}
	return h;
}

static void *jb_cuda_sym(void *h, const char *name) { return dlsym(h, name); }

// jb_cuda_file returns the file that holds sym (malloc'd), or NULL.
static char *jb_cuda_file(void *sym) {
	Dl_info info;
	if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL) {
		return NULL;
	}
	return strdup(info.dli_fname);
}

// The CUDA runtime keeps the current device per host thread, and Go may
// make each call from a different thread. Every call that touches the
// device therefore first sets it, in the same C call, when the Lib was
// told a device (setdev != NULL).
typedef int (*jb_setdev_t)(int);

static int jb_setdev(void *setdev, int dev) {
	return setdev == NULL ? 0 : ((jb_setdev_t)setdev)(dev);
}

static int jb_call_int_p(void *fn, int *out) { return ((int (*)(int *))fn)(out); }

static int jb_call_int_i(void *fn, int i) { return ((int (*)(int))fn)(i); }

static const char *jb_call_errstr(void *fn, int code) {
	return ((const char *(*)(int))fn)(code);
}

static int jb_call_attr(void *fn, int *out, int attr, int dev) {
	return ((int (*)(int *, int, int))fn)(out, attr, dev);
}

static int jb_call_malloc(void *setdev, int dev, void *fn, unsigned long long *p, size_t n) {
	int e = jb_setdev(setdev, dev);
	if (e != 0) {
		return e;
	}
	void *q = NULL;
	e = ((int (*)(void **, size_t))fn)(&q, n);
	*p = (unsigned long long)(uintptr_t)q;
	return e;
}

static int jb_call_free(void *setdev, int dev, void *fn, unsigned long long p) {
	int e = jb_setdev(setdev, dev);
	if (e != 0) {
		return e;
	}
	return ((int (*)(void *))fn)((void *)(uintptr_t)p);
}

// The host side of a copy is passed as a pointer, so that cgo keeps the
// Go memory where it is for the call.
static int jb_call_htod(void *setdev, int dev, void *fn, unsigned long long dst, const void *src, size_t n) {
	int e = jb_setdev(setdev, dev);
	if (e != 0) {
		return e;
	}
	return ((int (*)(void *, const void *, size_t, int))fn)((void *)(uintptr_t)dst, src, n, 1);
}

static int jb_call_dtoh(void *setdev, int dev, void *fn, void *dst, unsigned long long src, size_t n) {
	int e = jb_setdev(setdev, dev);
	if (e != 0) {
		return e;
	}
	return ((int (*)(void *, const void *, size_t, int))fn)(dst, (const void *)(uintptr_t)src, n, 2);
}

static int jb_call_memset(void *setdev, int dev, void *fn, unsigned long long p, int v, size_t n) {
	int e = jb_setdev(setdev, dev);
	if (e != 0) {
		return e;
	}
	return ((int (*)(void *, int, size_t))fn)((void *)(uintptr_t)p, v, n);
}

static int jb_call_sync(void *setdev, int dev, void *fn) {
	int e = jb_setdev(setdev, dev);
	if (e != 0) {
		return e;
	}
	return ((int (*)(void))fn)();
}

static int jb_call_cublas_create(void *setdev, int dev, void *fn, void **h) {
	int e = jb_setdev(setdev, dev);
	if (e != 0) {
		return -e; // a negative status is a cudaError_t from cudaSetDevice
	}
	return ((int (*)(void **))fn)(h);
}

static int jb_call_cublas_h(void *fn, void *h) { return ((int (*)(void *))fn)(h); }

static int jb_call_cublas_h_int(void *fn, void *h, int v) { return ((int (*)(void *, int))fn)(h, v); }

static int jb_call_cublas_h_intp(void *fn, void *h, int *v) { return ((int (*)(void *, int *))fn)(h, v); }

typedef int (*jb_gemmex_t)(void *, int, int, int, int, int, const void *, const void *, int, int,
	const void *, int, int, const void *, void *, int, int, int, int);

// jb_call_gemmex calls cublasGemmEx with CUBLAS_GEMM_DEFAULT (-1) and the
// scalars alpha and beta already encoded in the compute type's scalar type.
static int jb_call_gemmex(void *setdev, int dev, void *fn, void *h, int ta, int tb, int m, int n, int k,
	const void *alpha, unsigned long long a, int atype, int lda,
	unsigned long long b, int btype, int ldb, const void *beta,
	unsigned long long c, int ctype, int ldc, int compute) {
	int e = jb_setdev(setdev, dev);
	if (e != 0) {
		return -e;
	}
	return ((jb_gemmex_t)fn)(h, ta, tb, m, n, k, alpha, (const void *)(uintptr_t)a, atype, lda,
		(const void *)(uintptr_t)b, btype, ldb, beta, (void *)(uintptr_t)c, ctype, ldc, compute, -1);
}

// jb_gemmex_loop makes iters cublasGemmEx calls in one C call, so that
// the cgo crossing is paid once: the loop of the Direct baseline and of
// the workload's Run. Call i reads A at a + ((start + i) mod period)·a_step
// (period 1: the same A every time). It stops at the first failure and
// returns its status; *done is the number of calls that succeeded.
static int jb_gemmex_loop(void *setdev, int dev, void *fn, void *h, int ta, int tb, int m, int n, int k,
	const void *alpha, unsigned long long a, int atype, int lda,
	unsigned long long b, int btype, int ldb, const void *beta,
	unsigned long long c, int ctype, int ldc, int compute, long long iters, long long *done,
	unsigned long long a_step, long long period, long long start) {
	int e = jb_setdev(setdev, dev);
	*done = 0;
	if (e != 0) {
		return -e;
	}
	long long s = start % period;
	for (long long i = 0; i < iters; i++) {
		unsigned long long ai = a + (unsigned long long)s * a_step;
		int st = ((jb_gemmex_t)fn)(h, ta, tb, m, n, k, alpha, (const void *)(uintptr_t)ai, atype, lda,
			(const void *)(uintptr_t)b, btype, ldb, beta, (void *)(uintptr_t)c, ctype, ldc, compute, -1);
		if (st != 0) {
			return st;
		}
		(*done)++;
		if (++s == period) {
			s = 0;
		}
	}
	return 0;
}

// cuDeviceGet and cuDeviceGetName from the driver library, for Info only.
// A CUdevice is a handle that cuDeviceGet gives for an ordinal, not the
// ordinal itself.
static int jb_call_cu_init(void *fn) { return ((int (*)(unsigned int))fn)(0); }

static int jb_call_cu_name(void *get, void *name, char *buf, int n, int ordinal) {
	int dev = 0;
	int e = ((int (*)(int *, int))get)(&dev, ordinal);
	if (e != 0) {
		return e;
	}
	return ((int (*)(char *, int, int))name)(buf, n, dev);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Library file names tried by Load, newest first. The versioned names are
// the sonames the CUDA installers and pip wheels ship; the plain names are
// the development links some distributions add.
var (
	cudartNames = []string{"libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"}
	cublasNames = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}
)

// How to get the libraries, for the errors that say they are missing.
const installHint = "install the CUDA runtime and cuBLAS (Debian: apt install nvidia-cuda-toolkit; " +
	"or pip install nvidia-cuda-runtime-cu12 nvidia-cublas-cu12 and add their lib directories to LD_LIBRARY_PATH), " +
	"or name a directory that holds them"

// cudaError_t values this package treats specially (CUDA Runtime API,
// "Data types used by CUDA Runtime", enum cudaError; the values checked
// against transcriptions of driver_types.h found with the code search).
const (
	errMemoryAllocation   = 2
	errInsufficientDriver = 35
	errNoDevice           = 100
)

// noCUDACodes are the cudaError_t values that mean this machine cannot run
// CUDA as it is (no usable driver or device), not that a call failed:
// Err wraps ErrNoCUDA for them, so that a run leaves the GPU work out with
// the reason.
var noCUDACodes = map[int]bool{
	3:                     true, // cudaErrorInitializationError: the driver and runtime could not be initialised
	34:                    true, // cudaErrorStubLibrary: the driver found is the toolkit's stub libcuda.so
	errInsufficientDriver: true, // the driver is older than the runtime
	36:                    true, // cudaErrorCallRequiresNewerDriver
	46:                    true, // cudaErrorDevicesUnavailable: busy or exclusive-process devices
	errNoDevice:           true,
	803:                   true, // cudaErrorSystemDriverMismatch: display driver and CUDA driver differ
	804:                   true, // cudaErrorCompatNotSupportedOnDevice: forward compatibility on a GPU without it
}

// cudaDeviceAttr values for the compute capability (cudaDevAttrComputeCapabilityMajor, ...Minor).
const (
	attrCCMajor = 75
	attrCCMinor = 76
)

// Lib is a CUDA runtime and cuBLAS opened with dlopen. Its methods may be
// called from any goroutine; calls are not serialised beyond what CUDA
// itself does.
type Lib struct {
	dir                    string
	cudart, cublas         unsafe.Pointer
	cudartFile, cublasFile string

	// Runtime and cuBLAS entry points, resolved at load so that a library
	// without one fails at once, with its name.
	getDeviceCount, setDevice, getAttr, malloc, free, memcpy, memset, sync, errStr unsafe.Pointer
	runtimeVersion, driverVersion                                                  unsafe.Pointer
	blasCreate, blasDestroy, blasVersion, blasMathMode, gemmEx                     unsafe.Pointer

	// major is the CUDA major version of the runtime and cuBLAS Load or
	// LoadFrom opened ("12"), so that NewLt opens the cuBLASLt of the same
	// one; "" when the file names do not say.
	major string

	mu      sync.Mutex
	extra   map[string]unsafe.Pointer
	dev     int
	devSet  bool
	blasVer int
	closed  bool
}

// Load opens the CUDA runtime and cuBLAS by the system's library search
// (LD_LIBRARY_PATH, the ld.so cache, the default directories), trying the
// versioned names of CUDA 13, 12 and 11 and then the plain names. A
// runtime whose cudaGetDeviceCount answers cudaErrorInsufficientDriver
// (a driver older than that CUDA major, such as a CUDA 12 driver under
// libcudart.so.13) is passed over for the next name. cuBLAS of the
// runtime's major version is preferred, and NewLt opens cuBLASLt of that
// major too. The error wraps ErrNoCUDA and says which file was missing
// and how to get it.
func Load() (*Lib, error) {
	return loadNames("", "")
}

// loadNames is Load (dir "") or LoadFrom (dir absolute): the same names in
// the same order, as bare names for the system's search or as paths in
// dir. where says where the names were looked for, in errors.
func loadNames(dir, where string) (*Lib, error) {
	path := func(n string) string {
		if dir == "" {
			return n
		}
		return filepath.Join(dir, n)
	}
	paths := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = path(n)
		}
		return out
	}
	rt, rtPath, err := openRuntime(paths(cudartNames), where)
	if err != nil {
		return nil, err
	}
	rtName := filepath.Base(rtPath)
	major := soMajor(rtName)
	names := cublasNames
	if major != "" {
		first := "libcublas.so." + major
		names = []string{first}
		for _, n := range cublasNames {
			if n != first {
				names = append(names, n)
			}
		}
	}
	bl, blPath, err := openFirst(paths(names))
	if err != nil {
		return nil, fmt.Errorf("cuda: no cuBLAS%s: tried %s (%v); %s: %w", where, strings.Join(names, ", "), err, installHint, ErrNoCUDA)
	}
	l, err := newLib(dir, rt, bl)
	if err != nil {
		return nil, err
	}
	// cuBLAS and cuBLASLt ship together: cuBLAS's major decides. A plain
	// libcublas.so says its version in the file it resolves to.
	for _, n := range []string{filepath.Base(blPath), filepath.Base(l.cublasFile), rtName} {
		if l.major = soMajor(n); l.major != "" {
			break
		}
	}
	return l, nil
}

// openRuntime opens the first of names that dlopen finds and whose driver
// can run it: on cudaErrorInsufficientDriver from cudaGetDeviceCount it
// tries the next name (the runtime stays loaded, unused: unloading an
// initialised runtime is not safe). Any other answer, a device count or
// another error, is left for DeviceCount to report. where is "" or " in
// DIR", for the errors.
func openRuntime(names []string, where string) (unsafe.Pointer, string, error) {
	var first error
	var tooNew []string
	for _, n := range names {
		h, err := open(n)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if count := C.jb_cuda_sym(h, countSym); count != nil {
			var c C.int
			if C.jb_call_int_p(count, &c) == errInsufficientDriver {
				tooNew = append(tooNew, filepath.Base(n))
				continue
			}
		}
		return h, n, nil
	}
	if len(tooNew) > 0 {
		return nil, "", fmt.Errorf("cuda: no CUDA runtime%s this driver can run: cudaGetDeviceCount of %s answered cudaErrorInsufficientDriver (35: the NVIDIA driver is older than the runtime); "+
			"update the NVIDIA driver or install the CUDA runtime and cuBLAS of the driver's CUDA version (nvidia-smi shows it): %w", where, strings.Join(tooNew, ", "), ErrNoCUDA)
	}
	return nil, "", fmt.Errorf("cuda: no CUDA runtime%s: tried %s (%v); %s: %w", where, strings.Join(cudartNames, ", "), first, installHint, ErrNoCUDA)
}

// countSym is "cudaGetDeviceCount", kept in C memory for openRuntime.
var countSym = C.CString("cudaGetDeviceCount")

// LoadFrom opens the CUDA runtime and cuBLAS from dir and nothing else:
// the fakes of the tests, an installation directory, or the lib directory
// of NVIDIA's pip wheels (nvidia-cuda-runtime-cu12 and nvidia-cublas-cu12
// put libcudart.so.12, libcublas.so.12 and libcublasLt.so.12 there, with
// no plain names). It tries the names Load does, in Load's order, as files
// in dir (libcudart.so.13, .so.12, .so.11.0, then libcudart.so; cuBLAS of
// the runtime's major first), and NewLt then opens the directory's
// cuBLASLt of that major. Both libraries must be in dir; the error names
// every file tried there.
func LoadFrom(dir string) (*Lib, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cuda: load from %s: %w", dir, err)
	}
	return loadNames(abs, " in "+abs)
}

// soMajor returns "12" for "libcudart.so.12" or "libcudart.so.12.4", "" for
// an unversioned name; 11.0 maps to cuBLAS's "11".
func soMajor(name string) string {
	_, v, ok := strings.Cut(name, ".so.")
	if !ok {
		return ""
	}
	major, _, _ := strings.Cut(v, ".")
	return major
}

func open(path string) (unsafe.Pointer, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	h := C.jb_cuda_open(cpath, &cerr)
	if h == nil {
		defer C.free(unsafe.Pointer(cerr))
		return nil, errors.New(C.GoString(cerr))
	}
	return h, nil
}

// openFirst opens the first of names that dlopen finds. The error holds
// the first name's dlopen message, which says why the most wanted file
// could not be used.
func openFirst(names []string) (unsafe.Pointer, string, error) {
	var first error
	for _, n := range names {
		h, err := open(n)
		if err == nil {
			return h, n, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, "", first
}

func newLib(dir string, rt, bl unsafe.Pointer) (*Lib, error) {
	l := &Lib{dir: dir, cudart: rt, cublas: bl, extra: map[string]unsafe.Pointer{}}
	syms := []struct {
		h    unsafe.Pointer
		name string
		dst  *unsafe.Pointer
	}{
		{rt, "cudaGetDeviceCount", &l.getDeviceCount},
		{rt, "cudaSetDevice", &l.setDevice},
		{rt, "cudaDeviceGetAttribute", &l.getAttr},
		{rt, "cudaMalloc", &l.malloc},
		{rt, "cudaFree", &l.free},
		{rt, "cudaMemcpy", &l.memcpy},
		{rt, "cudaMemset", &l.memset},
		{rt, "cudaDeviceSynchronize", &l.sync},
		{rt, "cudaGetErrorString", &l.errStr},
		{rt, "cudaRuntimeGetVersion", &l.runtimeVersion},
		{rt, "cudaDriverGetVersion", &l.driverVersion},
		{bl, "cublasCreate_v2", &l.blasCreate},
		{bl, "cublasDestroy_v2", &l.blasDestroy},
		{bl, "cublasGetVersion_v2", &l.blasVersion},
		{bl, "cublasSetMathMode", &l.blasMathMode},
		{bl, "cublasGemmEx", &l.gemmEx},
	}
	for _, s := range syms {
		p, err := l.Sym(s.h, s.name)
		if err != nil {
			return nil, err
		}
		*s.dst = p
	}
	l.cudartFile = symFile(l.getDeviceCount)
	l.cublasFile = symFile(l.gemmEx)
	return l, nil
}

// symFile is the file a symbol was loaded from, "" if unknown.
func symFile(sym unsafe.Pointer) string {
	c := C.jb_cuda_file(sym)
	if c == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(c))
	return C.GoString(c)
}

// Dir is the directory LoadFrom used, "" after Load's system search.
func (l *Lib) Dir() string { return l.dir }

// Handle returns the dlopen handle of another library by file name (such
// as libcublasLt.so), opened from Dir when LoadFrom was used and by the
// system search otherwise. The handle stays valid as long as the process:
// see Close.
func (l *Lib) Handle(name string) (unsafe.Pointer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.extra[name]; ok {
		return h, nil
	}
	path := name
	if l.dir != "" {
		path = filepath.Join(l.dir, name)
	}
	h, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("cuda: load %s: %v; %s: %w", path, err, installHint, ErrNoCUDA)
	}
	l.extra[name] = h
	return h, nil
}

// Sym returns the address of the symbol name in the library handle.
func (l *Lib) Sym(handle unsafe.Pointer, name string) (unsafe.Pointer, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	p := C.jb_cuda_sym(handle, cname)
	if p == nil {
		lib := l.handleName(handle)
		return nil, fmt.Errorf("cuda: %s has no symbol %s (too old a version, or not the NVIDIA library): %w", lib, name, ErrNoCUDA)
	}
	return p, nil
}

// handleName names the library behind handle for error messages.
func (l *Lib) handleName(h unsafe.Pointer) string {
	switch h {
	case l.cudart:
		return "the CUDA runtime (" + l.cudartFile + ")"
	case l.cublas:
		return "cuBLAS (" + l.cublasFile + ")"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for n, x := range l.extra {
		if x == h {
			return n
		}
	}
	return "the library"
}

// Err turns a cudaError_t returned by the runtime function fn into an
// error naming fn, with the runtime's own description. 0 is nil. Errors
// that mean there is no usable GPU or driver wrap ErrNoCUDA.
func (l *Lib) Err(code int, fn string) error {
	if code == 0 {
		return nil
	}
	msg := "unknown error"
	if l.errStr != nil {
		if s := C.jb_call_errstr(l.errStr, C.int(code)); s != nil {
			msg = C.GoString(s)
		}
	}
	err := fmt.Errorf("cuda: %s: %s (cudaError %d)", fn, msg, code)
	if noCUDACodes[code] {
		err = fmt.Errorf("%w: %w", err, ErrNoCUDA)
	}
	return err
}

// devArgs returns the device to set before each call, and the cudaSetDevice
// pointer to set it with, nil when SetDevice was never called (the
// runtime's default, device 0, on every thread).
func (l *Lib) devArgs() (unsafe.Pointer, C.int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.devSet {
		return nil, 0
	}
	return l.setDevice, C.int(l.dev)
}

// DeviceCount returns the number of CUDA devices. With none, it returns 0
// and an error wrapping ErrNoCUDA.
func (l *Lib) DeviceCount() (int, error) {
	var n C.int
	code := int(C.jb_call_int_p(l.getDeviceCount, &n))
	if code != 0 {
		return 0, l.Err(code, "cudaGetDeviceCount")
	}
	if n == 0 {
		return 0, fmt.Errorf("cuda: cudaGetDeviceCount returned 0 devices: %w", ErrNoCUDA)
	}
	return int(n), nil
}

// SetDevice makes device i the one every later call of this Lib uses,
// whatever OS thread it runs on.
func (l *Lib) SetDevice(i int) error {
	if err := l.Err(int(C.jb_call_int_i(l.setDevice, C.int(i))), fmt.Sprintf("cudaSetDevice(%d)", i)); err != nil {
		return err
	}
	l.mu.Lock()
	l.dev, l.devSet = i, true
	l.mu.Unlock()
	return nil
}

// ComputeCapability returns device dev's compute capability, such as 9.0.
func (l *Lib) ComputeCapability(dev int) (major, minor int, err error) {
	var ma, mi C.int
	if err := l.Err(int(C.jb_call_attr(l.getAttr, &ma, attrCCMajor, C.int(dev))), "cudaDeviceGetAttribute(ComputeCapabilityMajor)"); err != nil {
		return 0, 0, err
	}
	if err := l.Err(int(C.jb_call_attr(l.getAttr, &mi, attrCCMinor, C.int(dev))), "cudaDeviceGetAttribute(ComputeCapabilityMinor)"); err != nil {
		return 0, 0, err
	}
	return int(ma), int(mi), nil
}

// Malloc allocates bytes of device memory.
func (l *Lib) Malloc(bytes int) (DevPtr, error) {
	if bytes < 0 {
		return 0, fmt.Errorf("cuda: cudaMalloc: negative size %d", bytes)
	}
	sd, dev := l.devArgs()
	var p C.ulonglong
	code := int(C.jb_call_malloc(sd, dev, l.malloc, &p, C.size_t(bytes)))
	if code != 0 {
		err := l.Err(code, fmt.Sprintf("cudaMalloc(%d bytes, %s)", bytes, sizeText(bytes)))
		if code == errMemoryAllocation {
			err = fmt.Errorf("%w: the device has too little free memory; use a smaller size or free the GPU", err)
		}
		return 0, err
	}
	return DevPtr(p), nil
}

// sizeText writes a byte count in binary units.
func sizeText(n int) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 2, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 2, 64) + " MiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<10), 'f', 2, 64) + " KiB"
}

// Free releases device memory from Malloc. Freeing 0 does nothing.
func (l *Lib) Free(p DevPtr) error {
	if p == 0 {
		return nil
	}
	sd, dev := l.devArgs()
	return l.Err(int(C.jb_call_free(sd, dev, l.free, C.ulonglong(p))), "cudaFree")
}

// HtoD copies bytes from host memory at src to device memory at dst
// (cudaMemcpy, cudaMemcpyHostToDevice = 1). src may be Go memory that
// holds no Go pointers, such as a slice's first element.
func (l *Lib) HtoD(dst DevPtr, src unsafe.Pointer, bytes int) error {
	sd, dev := l.devArgs()
	code := C.jb_call_htod(sd, dev, l.memcpy, C.ulonglong(dst), src, C.size_t(bytes))
	return l.Err(int(code), fmt.Sprintf("cudaMemcpy(host to device, %d bytes)", bytes))
}

// DtoH copies bytes from device memory at src to host memory at dst
// (cudaMemcpy, cudaMemcpyDeviceToHost = 2), after the work queued before
// it has finished.
func (l *Lib) DtoH(dst unsafe.Pointer, src DevPtr, bytes int) error {
	sd, dev := l.devArgs()
	code := C.jb_call_dtoh(sd, dev, l.memcpy, dst, C.ulonglong(src), C.size_t(bytes))
	return l.Err(int(code), fmt.Sprintf("cudaMemcpy(device to host, %d bytes)", bytes))
}

// Memset sets bytes of device memory at p to the byte value v.
func (l *Lib) Memset(p DevPtr, v byte, bytes int) error {
	sd, dev := l.devArgs()
	code := C.jb_call_memset(sd, dev, l.memset, C.ulonglong(p), C.int(v), C.size_t(bytes))
	return l.Err(int(code), fmt.Sprintf("cudaMemset(%d bytes)", bytes))
}

// Sync waits until the device has finished all work queued so far
// (cudaDeviceSynchronize). An error of an earlier asynchronous call, such
// as a failed kernel, is reported here.
func (l *Lib) Sync() error {
	sd, dev := l.devArgs()
	return l.Err(int(C.jb_call_sync(sd, dev, l.sync)), "cudaDeviceSynchronize")
}

// versionText writes a CUDA version number 12040 as "12.4".
func versionText(v int) string {
	return strconv.Itoa(v/1000) + "." + strconv.Itoa(v%1000/10)
}

// Info describes the libraries and the device: "cuda_runtime",
// "cuda_driver" and "cublas" versions, "cudart_path" and "cublas_path",
// "device" and "compute_capability", and "nvidia_tf32_override" when
// NVIDIA_TF32_OVERRIDE is set. Values it cannot find are left out.
func (l *Lib) Info() map[string]string {
	m := map[string]string{}
	if v, ok := os.LookupEnv(TF32OverrideEnv); ok {
		m["nvidia_tf32_override"] = v
	}
	var v C.int
	if C.jb_call_int_p(l.runtimeVersion, &v) == 0 {
		m["cuda_runtime"] = versionText(int(v))
	}
	if C.jb_call_int_p(l.driverVersion, &v) == 0 && v > 0 {
		m["cuda_driver"] = versionText(int(v))
	}
	l.mu.Lock()
	bv, dev := l.blasVer, l.dev
	l.mu.Unlock()
	if bv > 0 {
		// CUBLAS_VERSION is major·10000 + minor·100 + patch since cuBLAS 10.1.
		m["cublas"] = fmt.Sprintf("%d.%d.%d", bv/10000, bv%10000/100, bv%100)
	}
	if l.cudartFile != "" {
		m["cudart_path"] = l.cudartFile
	}
	if l.cublasFile != "" {
		m["cublas_path"] = l.cublasFile
	}
	m["device"] = strconv.Itoa(dev)
	if name := l.deviceName(dev); name != "" {
		m["device"] += " " + name
	}
	if ma, mi, err := l.ComputeCapability(dev); err == nil {
		m["compute_capability"] = strconv.Itoa(ma) + "." + strconv.Itoa(mi)
	}
	return m
}

// deviceName asks the driver library (libcuda.so.1, which the runtime
// loads itself) for the device's marketing name; "" when it cannot.
func (l *Lib) deviceName(dev int) string {
	if l.dir != "" {
		// An explicit directory (the tests' fakes) has no driver to ask,
		// and a system driver must not describe a fake device.
		return ""
	}
	h, err := open("libcuda.so.1")
	if err != nil {
		return ""
	}
	initFn, err1 := l.Sym(h, "cuInit")
	getFn, err2 := l.Sym(h, "cuDeviceGet")
	nameFn, err3 := l.Sym(h, "cuDeviceGetName")
	if err1 != nil || err2 != nil || err3 != nil || C.jb_call_cu_init(initFn) != 0 {
		return ""
	}
	var buf [256]C.char
	if C.jb_call_cu_name(getFn, nameFn, &buf[0], C.int(len(buf)), C.int(dev)) != 0 {
		return ""
	}
	return C.GoString(&buf[0])
}

// Close marks the Lib closed. The libraries themselves stay loaded for the
// life of the process: the CUDA runtime registers exit handlers, and
// unloading it under them can crash the process at exit.
func (l *Lib) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return nil
}

// Blas is a cuBLAS handle (cublasHandle_t) bound to the Lib's device.
type Blas struct {
	l *Lib
	h unsafe.Pointer
}

// cuBLAS status names and meanings (cublasStatus_t, cuBLAS documentation).
var blasStatus = map[int]string{
	1:  "CUBLAS_STATUS_NOT_INITIALIZED (the CUDA runtime could not start: check the driver)",
	3:  "CUBLAS_STATUS_ALLOC_FAILED (out of device memory)",
	7:  "CUBLAS_STATUS_INVALID_VALUE (an unsupported parameter or combination of types)",
	8:  "CUBLAS_STATUS_ARCH_MISMATCH (the GPU lacks a feature the call needs)",
	11: "CUBLAS_STATUS_MAPPING_ERROR",
	13: "CUBLAS_STATUS_EXECUTION_FAILED (a kernel failed to launch or run)",
	14: "CUBLAS_STATUS_INTERNAL_ERROR",
	15: "CUBLAS_STATUS_NOT_SUPPORTED (this combination of types or this GPU is not supported)",
	16: "CUBLAS_STATUS_LICENSE_ERROR",
}

// blasErr turns a cublasStatus_t from fn into an error. A negative status
// is a cudaError_t from setting the device before the call.
func (l *Lib) blasErr(status int, fn string) error {
	if status == 0 {
		return nil
	}
	if status < 0 {
		return l.Err(-status, "cudaSetDevice before "+fn)
	}
	msg, ok := blasStatus[status]
	if !ok {
		msg = "unknown cuBLAS status"
	}
	return fmt.Errorf("cuda: %s: %s (cublasStatus %d)", fn, msg, status)
}

// NewBlas creates a cuBLAS handle on the Lib's device.
func (l *Lib) NewBlas() (*Blas, error) {
	sd, dev := l.devArgs()
	var h unsafe.Pointer
	if err := l.blasErr(int(C.jb_call_cublas_create(sd, dev, l.blasCreate, &h)), "cublasCreate_v2"); err != nil {
		return nil, err
	}
	var v C.int
	if C.jb_call_cublas_h_intp(l.blasVersion, h, &v) == 0 {
		l.mu.Lock()
		l.blasVer = int(v)
		l.mu.Unlock()
	}
	return &Blas{l: l, h: h}, nil
}

// SetMathMode sets the handle's math mode (cublasSetMathMode).
func (b *Blas) SetMathMode(m MathMode) error {
	return b.l.blasErr(int(C.jb_call_cublas_h_int(b.l.blasMathMode, b.h, C.int(m))), "cublasSetMathMode("+m.String()+")")
}

// scalar encodes x as compute type c's scalar, in 8 bytes.
func scalar(c ComputeType, x float64) (s [8]byte) {
	switch c {
	case Compute64F:
		*(*float64)(unsafe.Pointer(&s[0])) = x
	case Compute32I:
		*(*int32)(unsafe.Pointer(&s[0])) = int32(math.Round(x))
	case Compute16F:
		*(*uint16)(unsafe.Pointer(&s[0])) = HalfBits(x)
	default:
		*(*float32)(unsafe.Pointer(&s[0])) = float32(x)
	}
	return s
}

func (g Gemm) describe() string {
	return fmt.Sprintf("cublasGemmEx(m=%d n=%d k=%d, %s·%s→%s, %s)", g.M, g.N, g.K, g.AType, g.BType, g.CType, g.Compute)
}

// GemmEx calls cublasGemmEx once with CUBLAS_GEMM_DEFAULT. The call is
// asynchronous: the product is ready after Lib.Sync.
func (b *Blas) GemmEx(g Gemm) error {
	_, err := b.GemmExN(g, 1)
	return err
}

// GemmExN makes iters identical GemmEx calls in one crossing into C, and
// returns how many were issued without error. The calls are asynchronous.
func (b *Blas) GemmExN(g Gemm, iters int) (int, error) {
	return b.GemmExCycle(g, iters, 0, 1, 0)
}

// GemmExCycle makes iters GemmEx calls in one crossing into C, call i with
// A at g.A + ((start + i) mod period)·aStep bytes and everything else as
// g says, and returns how many were issued without error. The calls are
// asynchronous. The caller allocates A large enough for every offset.
func (b *Blas) GemmExCycle(g Gemm, iters int, aStep uint64, period, start int64) (int, error) {
	if period < 1 || start < 0 {
		return 0, fmt.Errorf("cuda: GemmExCycle: period %d, start %d", period, start)
	}
	alpha, beta := scalar(g.Compute, g.Alpha), scalar(g.Compute, g.Beta)
	sd, dev := b.l.devArgs()
	var done C.longlong
	st := C.jb_gemmex_loop(sd, dev, b.l.gemmEx, b.h, cbool(g.TransA), cbool(g.TransB), C.int(g.M), C.int(g.N), C.int(g.K),
		unsafe.Pointer(&alpha[0]), C.ulonglong(g.A), C.int(g.AType), C.int(g.Lda),
		C.ulonglong(g.B), C.int(g.BType), C.int(g.Ldb), unsafe.Pointer(&beta[0]),
		C.ulonglong(g.C), C.int(g.CType), C.int(g.Ldc), C.int(g.Compute), C.longlong(iters), &done,
		C.ulonglong(aStep), C.longlong(period), C.longlong(start))
	return int(done), b.l.blasErr(int(st), g.describe())
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Close destroys the handle.
func (b *Blas) Close() error {
	if b.h == nil {
		return nil
	}
	err := b.l.blasErr(int(C.jb_call_cublas_h(b.l.blasDestroy, b.h)), "cublasDestroy_v2")
	b.h = nil
	return err
}
