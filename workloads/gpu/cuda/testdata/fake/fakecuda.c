// fakecuda.c: a fake CUDA runtime (libcudart.so) and cuBLAS (libcublas.so)
// for joulebench's tests. The same file is compiled under both names (and
// as the driver library libcuda.so.1, for cuInit, cuDeviceGet and
// cuDeviceGetName). "Device" memory is host memory from malloc;
// cublasGemmEx is a naive triple loop, correct for the small sizes the
// tests use. -DFAKE_CUDA_MAJOR=N builds it as CUDA N (default 12): the
// versions it reports follow.
//
// Environment variables, read at every call, make it cheat or fail:
//   FAKE_CUDA_NODEVICE=1  cudaGetDeviceCount reports 0 devices (cudaErrorNoDevice)
//   FAKE_CUDA_ERR=N       cudaGetDeviceCount returns the cudaError_t N
//   FAKE_CUDA_DRIVER_MAJOR=N  the driver supports CUDA N at most: a runtime
//                         built for a later major gets cudaErrorInsufficientDriver
//                         (35) from cudaGetDeviceCount
//   FAKE_CUDA_OOM=1       cudaMalloc fails with cudaErrorMemoryAllocation (2)
//   FAKE_CUDA_CC=M.m      the compute capability reported (default 9.0)
//   FAKE_CUBLAS_LAZY=1    every second cublasGemmEx call does nothing
//   FAKE_CUBLAS_TF32=1    fp32 inputs are rounded to TF32 (10-bit mantissa)
//                         when the compute type is CUBLAS_COMPUTE_32F
//   FAKE_CUBLAS_FAIL=1    cublasGemmEx returns CUBLAS_STATUS_EXECUTION_FAILED (13)
//   FAKE_CUBLAS_MEMO=1    cublasGemmEx memoises products: a call whose A and B
//                         pointers, shape and types match a cached call's, and
//                         whose A and B match it in 16 sampled entries each,
//                         adds the cached product instead of computing one (the
//                         cheat a reviewer showed passing the answer check when
//                         every call multiplied the same matrices)
//   FAKE_CUBLAS_MEMO=ptr  the same, keyed on the pointers, shape and types alone
//   FAKE_CUBLAS_MEMO_STATS=PATH  after each call, write "HITS MISSES\n" of the
//                         memo to PATH. A change of FAKE_CUBLAS_MEMO or of
//                         PATH empties the memo and zeroes the counts, so
//                         that a test starts clean in a process whose freed
//                         buffers' addresses come back.
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_CUDA_MAJOR
#define FAKE_CUDA_MAJOR 12
#endif

static int env(const char *name) {
	const char *v = getenv(name);
	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

// ---- CUDA runtime ----

const char *cudaGetErrorString(int code) {
	switch (code) {
	case 0: return "no error";
	case 1: return "invalid argument";
	case 2: return "out of memory";
	case 3: return "initialization error";
	case 35: return "CUDA driver version is insufficient for CUDA runtime version";
	case 36: return "API call requires a newer CUDA driver";
	case 46: return "CUDA-capable device(s) is/are busy or unavailable";
	case 100: return "no CUDA-capable device is detected";
	case 101: return "invalid device ordinal";
	case 803: return "system has unsupported display driver / cuda driver combination";
	case 804: return "forward compatibility was attempted on non supported HW";
	}
	return "unrecognized error code";
}

int cudaGetDeviceCount(int *n) {
	const char *drv = getenv("FAKE_CUDA_DRIVER_MAJOR");
	if (drv != NULL && drv[0] != '\0' && atoi(drv) < FAKE_CUDA_MAJOR) {
		*n = 0;
		return 35;
	}
	const char *e = getenv("FAKE_CUDA_ERR");
	if (e != NULL && e[0] != '\0' && atoi(e) != 0) {
		*n = 0;
		return atoi(e);
	}
	if (env("FAKE_CUDA_NODEVICE")) {
		*n = 0;
		return 100;
	}
	*n = 1;
	return 0;
}

int cudaSetDevice(int dev) { return (dev == 0 && !env("FAKE_CUDA_NODEVICE")) ? 0 : 101; }

int cudaDeviceGetAttribute(int *v, int attr, int dev) {
	if (dev != 0) {
		return 101;
	}
	int major = 9, minor = 0;
	const char *cc = getenv("FAKE_CUDA_CC");
	if (cc != NULL && cc[0] != '\0') {
		major = atoi(cc);
		const char *dot = strchr(cc, '.');
		minor = dot != NULL ? atoi(dot + 1) : 0;
	}
	switch (attr) {
	case 75: *v = major; return 0;
	case 76: *v = minor; return 0;
	}
	return 1;
}

int cudaMalloc(void **p, size_t n) {
	if (env("FAKE_CUDA_OOM")) {
		*p = NULL;
		return 2;
	}
	*p = malloc(n == 0 ? 1 : n);
	return *p == NULL ? 2 : 0;
}

int cudaFree(void *p) {
	free(p);
	return 0;
}

int cudaMemcpy(void *dst, const void *src, size_t n, int kind) {
	(void)kind;
	memcpy(dst, src, n);
	return 0;
}

int cudaMemset(void *p, int v, size_t n) {
	memset(p, v, n);
	return 0;
}

int cudaDeviceSynchronize(void) { return 0; }

int cudaRuntimeGetVersion(int *v) {
	*v = FAKE_CUDA_MAJOR * 1000 + 40;
	return 0;
}

int cudaDriverGetVersion(int *v) {
	*v = FAKE_CUDA_MAJOR * 1000 + 40;
	return 0;
}

// ---- CUDA driver (libcuda.so.1) ----

// A CUdevice is a handle, not an ordinal: the fake's differs from the
// ordinal, so that a caller that skips cuDeviceGet is caught.
enum { fake_cudevice = 0x4a42 };

int cuInit(unsigned int flags) { return flags == 0 ? 0 : 1; }

int cuDeviceGet(int *dev, int ordinal) {
	if (ordinal != 0) {
		return 101; // CUDA_ERROR_INVALID_DEVICE
	}
	*dev = fake_cudevice;
	return 0;
}

int cuDeviceGetName(char *name, int len, int dev) {
	if (dev != fake_cudevice) {
		return 101;
	}
	strncpy(name, "Fake H200", (size_t)len);
	name[len - 1] = '\0';
	return 0;
}

// ---- cuBLAS ----

struct handle {
	int math;
};

int cublasCreate_v2(void **h) {
	struct handle *p = calloc(1, sizeof *p);
	if (p == NULL) {
		return 3;
	}
	*h = p;
	return 0;
}

int cublasDestroy_v2(void *h) {
	free(h);
	return 0;
}

int cublasGetVersion_v2(void *h, int *v) {
	(void)h;
	*v = FAKE_CUDA_MAJOR * 10000 + 402;
	return 0;
}

int cublasSetMathMode(void *h, int mode) {
	((struct handle *)h)->math = mode;
	return 0;
}

enum { R32F = 0, R64F = 1, R16F = 2, R8I = 3, R32I = 10, R16BF = 14 };
enum { C16F = 64, C32F = 68, C64F = 70, C32I = 72, CTF32 = 77 };

static float half_to_float(uint16_t h) {
	int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	float s = (h & 0x8000) ? -1.0f : 1.0f;
	if (e == 0) {
		return s * ldexpf((float)m, -24);
	}
	if (e == 31) {
		return m ? NAN : s * INFINITY;
	}
	return s * ldexpf((float)(m | 0x400), e - 25);
}

static float bf16_to_float(uint16_t h) {
	uint32_t b = (uint32_t)h << 16;
	float f;
	memcpy(&f, &b, 4);
	return f;
}

// round_tf32 rounds f to TF32's 10-bit mantissa, to nearest, ties away
// from zero, as the tensor cores' conversion does.
static float round_tf32(float f) {
	uint32_t b;
	memcpy(&b, &f, 4);
	b = (b + 0x1000) & 0xffffe000u;
	memcpy(&f, &b, 4);
	return f;
}

static double load(const void *p, int type, size_t i, int tf32) {
	switch (type) {
	case R32F: {
		float f = ((const float *)p)[i];
		return tf32 ? round_tf32(f) : f;
	}
	case R64F: return ((const double *)p)[i];
	case R16F: return half_to_float(((const uint16_t *)p)[i]);
	case R16BF: return bf16_to_float(((const uint16_t *)p)[i]);
	case R8I: return ((const int8_t *)p)[i];
	case R32I: return ((const int32_t *)p)[i];
	}
	return NAN;
}

static int lazy_calls;

// The memo of FAKE_CUBLAS_MEMO: a ring of the last memo_slots products.
enum { memo_slots = 64, memo_samples = 16 };

struct memo {
	int used;
	const void *a, *b;
	int ta, tb, m, n, k, lda, ldb, atype, btype, compute;
	double sa[memo_samples], sb[memo_samples];
	double *acc; // m×n, column-major
};

static struct memo memos[memo_slots];
static int memo_next;
static long long memo_hits, memo_misses;

// sample reads memo_samples entries spread over the first count of p.
static void sample(const void *p, int type, size_t count, double *out) {
	for (int i = 0; i < memo_samples; i++) {
		out[i] = count == 0 ? 0 : load(p, type, (size_t)i * (count - 1) / (memo_samples - 1), 0);
	}
}

// memo_epoch empties the memo when FAKE_CUBLAS_MEMO or
// FAKE_CUBLAS_MEMO_STATS changed since the last call.
static void memo_epoch(void) {
	static char last[4096];
	char now[4096];
	const char *m = getenv("FAKE_CUBLAS_MEMO"), *p = getenv("FAKE_CUBLAS_MEMO_STATS");
	snprintf(now, sizeof now, "%s\n%s", m != NULL ? m : "", p != NULL ? p : "");
	if (strcmp(now, last) == 0) {
		return;
	}
	strcpy(last, now);
	for (int s = 0; s < memo_slots; s++) {
		free(memos[s].acc);
		memos[s] = (struct memo){0};
	}
	memo_next = 0;
	memo_hits = memo_misses = 0;
}

static void memo_stats(void) {
	const char *path = getenv("FAKE_CUBLAS_MEMO_STATS");
	if (path == NULL || path[0] == '\0') {
		return;
	}
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fprintf(f, "%lld %lld\n", memo_hits, memo_misses);
		fclose(f);
	}
}

int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha,
	const void *A, int atype, int lda, const void *B, int btype, int ldb,
	const void *beta, void *C, int ctype, int ldc, int compute, int algo) {
	(void)h;
	(void)algo;
	if (env("FAKE_CUBLAS_FAIL")) {
		return 13;
	}
	if (env("FAKE_CUBLAS_LAZY") && (lazy_calls++ & 1) == 1) {
		return 0;
	}
	if (m < 0 || n < 0 || k < 0 || ta < 0 || ta > 1 || tb < 0 || tb > 1) {
		return 7;
	}
	if (compute != C64F && compute != C32I && ctype != R32F) {
		return 15; // 16-bit outputs are not faked
	}
	int tf32 = (compute == CTF32) || (compute == C32F && env("FAKE_CUBLAS_TF32"));
	const char *mv = getenv("FAKE_CUBLAS_MEMO");
	int memo = env("FAKE_CUBLAS_MEMO"), contents = memo && strcmp(mv, "ptr") != 0;
	// The entries A and B span (the stored matrices' extents).
	size_t acount = (size_t)lda * (size_t)(ta ? m : k), bcount = (size_t)ldb * (size_t)(tb ? k : n);
	double sa[memo_samples], sb[memo_samples];
	struct memo *hit = NULL;
	memo_epoch();
	if (memo) {
		sample(A, atype, acount, sa);
		sample(B, btype, bcount, sb);
		for (int s = 0; s < memo_slots && hit == NULL; s++) {
			struct memo *e = &memos[s];
			if (e->used && e->a == A && e->b == B && e->ta == ta && e->tb == tb && e->m == m && e->n == n && e->k == k &&
				e->lda == lda && e->ldb == ldb && e->atype == atype && e->btype == btype && e->compute == compute &&
				(!contents || (memcmp(e->sa, sa, sizeof sa) == 0 && memcmp(e->sb, sb, sizeof sb) == 0))) {
				hit = e;
			}
		}
	}
	double *acc;
	if (hit != NULL) {
		memo_hits++;
		acc = hit->acc;
	} else {
		acc = malloc(sizeof(double) * ((size_t)m * (size_t)n + 1));
		if (acc == NULL) {
			return 3;
		}
		// The accumulator's value, exactly: fp64, fp32 and int32 sums all
		// fit a double.
		for (int j = 0; j < n; j++) {
			for (int i = 0; i < m; i++) {
				double facc = 0;
				float sacc = 0;
				int32_t iacc = 0;
				for (int l = 0; l < k; l++) {
					size_t ai = ta ? (size_t)i * lda + l : (size_t)l * lda + i;
					size_t bi = tb ? (size_t)l * ldb + j : (size_t)j * ldb + l;
					double a = load(A, atype, ai, tf32), b = load(B, btype, bi, tf32);
					switch (compute) {
					case C64F: facc = fma(a, b, facc); break;
					case C32I: iacc = (int32_t)((uint32_t)iacc + (uint32_t)((int32_t)a * (int32_t)b)); break;
					default: sacc = fmaf((float)a, (float)b, sacc); break;
					}
				}
				acc[(size_t)j * m + i] = compute == C64F ? facc : compute == C32I ? (double)iacc : (double)sacc;
			}
		}
		if (memo) {
			memo_misses++;
			struct memo *e = &memos[memo_next];
			memo_next = (memo_next + 1) % memo_slots;
			free(e->acc);
			*e = (struct memo){1, A, B, ta, tb, m, n, k, lda, ldb, atype, btype, compute, {0}, {0}, acc};
			memcpy(e->sa, sa, sizeof sa);
			memcpy(e->sb, sb, sizeof sb);
		}
	}
	for (int j = 0; j < n; j++) {
		for (int i = 0; i < m; i++) {
			size_t ci = (size_t)j * ldc + i;
			double v = acc[(size_t)j * m + i];
			switch (compute) {
			case C64F: {
				double al = *(const double *)alpha, be = *(const double *)beta;
				double *c = (double *)C;
				c[ci] = al * v + (be == 0 ? 0 : be * c[ci]);
				break;
			}
			case C32I: {
				int32_t al = *(const int32_t *)alpha, be = *(const int32_t *)beta;
				int32_t *c = (int32_t *)C;
				c[ci] = (int32_t)((uint32_t)al * (uint32_t)(int32_t)v + (be == 0 ? 0u : (uint32_t)be * (uint32_t)c[ci]));
				break;
			}
			default: {
				float al = *(const float *)alpha, be = *(const float *)beta;
				float *c = (float *)C;
				c[ci] = al * (float)v + (be == 0 ? 0 : be * c[ci]);
			}
			}
		}
	}
	if (!memo) {
		free(acc);
	}
	memo_stats();
	return 0;
}
