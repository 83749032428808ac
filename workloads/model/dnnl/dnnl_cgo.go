//go:build cgo

package dnnl

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Data types and input conversions, as dnnl.go numbers them.
enum { JB_F32, JB_BF16, JB_S8, JB_U8, JB_S32 };
enum { JB_IN_F32, JB_IN_BF16, JB_IN_U8 };

// jb_err returns a malloc'd message for Go to free.
static char *jb_err(const char *fmt, ...) {
	char *s = malloc(1024);
	if (s == NULL) {
		return NULL;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, 1024, fmt, ap);
	va_end(ap);
	return s;
}

static const char *jb_status(int s) {
	switch (s) {
	case 0: return "success";
	case 1: return "out of memory";
	case 2: return "invalid arguments";
	case 3: return "unimplemented";
	case 4: return "iterator ends";
	case 5: return "runtime error";
	case 6: return "not required";
	}
	return "unknown status";
}

// jb_quantize and jb_dequantize do what the Go reference does, rounding
// each product and sum to float32: no contraction into FMA.
__attribute__((optimize("fp-contract=off")))
static void jb_quantize_scalar(const float *x, uint8_t *q, size_t len, float scale) {
	for (size_t i = 0; i < len; i++) {
		float v = x[i] / scale;
		// clamp(rne(v), 0, 255) = rne(clamp(v, 0, 255)); NaN → 0.
		if (!(v > 0.0f)) v = 0.0f;
		if (v > 255.0f) v = 255.0f;
		// Adding 2^23 rounds a value in [0, 2^23) to an integer, to
		// nearest even in the default rounding mode.
		v = (v + 8388608.0f) - 8388608.0f;
		q[i] = (uint8_t)v;
	}
}

__attribute__((optimize("fp-contract=off")))
static void jb_dequantize(const int32_t *acc, float *y, int rows, int N, const float *scale, const float *bias, int relu) {
	for (int r = 0; r < rows; r++) {
		for (int j = 0; j < N; j++) {
			float v = (float)acc[(size_t)r * N + j] * scale[j];
			v = v + bias[j];
			if (relu && v < 0.0f) v = 0.0f;
			y[(size_t)r * N + j] = v;
		}
	}
}

// jb_to_bf16_scalar rounds to nearest even, keeping NaNs NaN, as oneDNN
// does.
static void jb_to_bf16_scalar(const float *x, uint16_t *y, size_t len) {
	for (size_t i = 0; i < len; i++) {
		uint32_t u;
		memcpy(&u, &x[i], 4);
		if ((u & 0x7fffffffu) > 0x7f800000u) {
			y[i] = (uint16_t)((u >> 16) | 0x40);
		} else {
			y[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
		}
	}
}

// The input conversion runs on one thread before the matmuls; the scalar
// loops cost a third of an int8 batch-256 pass (a division an element),
// so x86 has AVX2 versions, giving the same bits: vdivps is the IEEE
// division, and roundps rounds to nearest even.
#if defined(__x86_64__)
#include <immintrin.h>

static int jb_avx2(void) {
	static int v = -1;
	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	return v;
}

__attribute__((target("avx2")))
static void jb_quantize_avx2(const float *x, uint8_t *q, size_t len, float scale) {
	const __m256 s = _mm256_set1_ps(scale), lo = _mm256_setzero_ps(), hi = _mm256_set1_ps(255.0f);
	size_t i = 0;
	for (; i + 16 <= len; i += 16) {
		__m256 a = _mm256_div_ps(_mm256_loadu_ps(x + i), s);
		__m256 b = _mm256_div_ps(_mm256_loadu_ps(x + i + 8), s);
		// maxps returns its second operand for a NaN: NaN → 0.
		a = _mm256_min_ps(_mm256_max_ps(a, lo), hi);
		b = _mm256_min_ps(_mm256_max_ps(b, lo), hi);
		__m256i ia = _mm256_cvtps_epi32(_mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
		__m256i ib = _mm256_cvtps_epi32(_mm256_round_ps(b, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
		__m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(ia, ib), 0xD8);
		_mm_storeu_si128((__m128i *)(q + i), _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1)));
	}
	jb_quantize_scalar(x + i, q + i, len - i, scale);
}

__attribute__((target("avx2")))
static void jb_to_bf16_avx2(const float *x, uint16_t *y, size_t len) {
	const __m256i absm = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000),
		bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1), quiet = _mm256_set1_epi32(0x40);
	size_t i = 0;
	for (; i + 16 <= len; i += 16) {
		__m256i r[2];
		for (int h = 0; h < 2; h++) {
			__m256i u = _mm256_loadu_si256((const __m256i *)(x + i + 8 * h));
			__m256i hi = _mm256_srli_epi32(u, 16);
			__m256i rn = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, bias), _mm256_and_si256(hi, one)), 16);
			__m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, absm), inf);
			r[h] = _mm256_blendv_epi8(rn, _mm256_or_si256(hi, quiet), nan);
		}
		_mm256_storeu_si256((__m256i *)(y + i), _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xD8));
	}
	jb_to_bf16_scalar(x + i, y + i, len - i);
}
#endif

// jb_simd is set by tests to compare the vector and scalar conversions.
static int jb_simd = 1;

static void jb_quantize(const float *x, uint8_t *q, size_t len, float scale) {
#if defined(__x86_64__)
	if (jb_simd && jb_avx2()) {
		jb_quantize_avx2(x, q, len, scale);
		return;
	}
#endif
	jb_quantize_scalar(x, q, len, scale);
}

static void jb_to_bf16(const float *x, uint16_t *y, size_t len) {
#if defined(__x86_64__)
	if (jb_simd && jb_avx2()) {
		jb_to_bf16_avx2(x, y, len);
		return;
	}
#endif
	jb_to_bf16_scalar(x, y, len);
}

// jb_convert_test runs the input conversions for tests: kind 0 quantises
// to u8, 1 rounds to bf16; simd 0 forces the scalar loops.
static void jb_convert_test(int kind, int simd, const float *x, void *y, size_t len, float scale) {
	int old = jb_simd;
	jb_simd = simd;
	if (kind == 0) jb_quantize(x, y, len, scale);
	else jb_to_bf16(x, y, len);
	jb_simd = old;
}

// JB_NO_DNNL (CGO_CFLAGS=-DJB_NO_DNNL) builds the stubs on a machine
// that has the headers, to test what a machine without them says.
#if __has_include(<dnnl.h>) && !defined(JB_NO_DNNL)
#include <dnnl.h>

// Every oneDNN function is called through a pointer found with dlsym;
// the header gives the types only, so nothing links against libdnnl.
#define JB_FNS(X) \
	X(dnnl_version) \
	X(dnnl_get_effective_cpu_isa) \
	X(dnnl_engine_create) \
	X(dnnl_stream_create) \
	X(dnnl_stream_wait) \
	X(dnnl_stream_destroy) \
	X(dnnl_memory_desc_init_by_tag) \
	X(dnnl_memory_desc_equal) \
	X(dnnl_memory_create) \
	X(dnnl_memory_destroy) \
	X(dnnl_memory_set_data_handle) \
	X(dnnl_matmul_desc_init) \
	X(dnnl_primitive_desc_create) \
	X(dnnl_primitive_desc_destroy) \
	X(dnnl_primitive_desc_query) \
	X(dnnl_primitive_desc_query_md) \
	X(dnnl_primitive_create) \
	X(dnnl_primitive_execute) \
	X(dnnl_primitive_destroy) \
	X(dnnl_primitive_attr_create) \
	X(dnnl_primitive_attr_destroy) \
	X(dnnl_primitive_attr_set_output_scales) \
	X(dnnl_primitive_attr_set_post_ops) \
	X(dnnl_post_ops_create) \
	X(dnnl_post_ops_destroy) \
	X(dnnl_post_ops_append_eltwise) \
	X(dnnl_reorder_primitive_desc_create)

#define JB_MEMBER(f) __typeof__(f) *f;

typedef struct {
	void *h;
	JB_FNS(JB_MEMBER)
	void (*omp_set)(int);
	int (*omp_max)(void);
	int omp_default;
	dnnl_engine_t eng;
} jb_lib;

static int jb_have_headers(void) { return 1; }

// jb_load opens soname and resolves oneDNN v2. The version is checked
// before any other symbol, so a v3 library is refused for what it is.
static void *jb_load(const char *soname, char **err) {
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		*err = jb_err("dlopen: %s", e != NULL ? e : "unknown error");
		return NULL;
	}
	jb_lib *l = calloc(1, sizeof *l);
	if (l == NULL) {
		dlclose(h);
		*err = jb_err("out of memory");
		return NULL;
	}
	l->h = h;
	l->dnnl_version = (__typeof__(dnnl_version) *)dlsym(h, "dnnl_version");
	if (l->dnnl_version == NULL) {
		*err = jb_err("%s has no dnnl_version: not a oneDNN library", soname);
		goto fail;
	}
	const dnnl_version_t *v = l->dnnl_version();
	if (v == NULL || v->major != 2) {
		*err = jb_err("oneDNN %d.%d.%d is not supported: joulebench uses the oneDNN v2 C API (v3 changed matmul and scales); install oneDNN 2.x (Debian/Ubuntu: libdnnl2)",
			v ? v->major : -1, v ? v->minor : -1, v ? v->patch : -1);
		goto fail;
	}
#define JB_RESOLVE(f) \
	l->f = (__typeof__(f) *)dlsym(h, #f); \
	if (l->f == NULL) { \
		*err = jb_err("%s has no %s (a partial or incompatible oneDNN 2.%d build)", soname, #f, v->minor); \
		goto fail; \
	}
	JB_FNS(JB_RESOLVE)
#undef JB_RESOLVE
	// libdnnl pulls in its OpenMP runtime; dlsym on its handle searches
	// its dependencies too. A TBB or sequential build has none.
	l->omp_set = (void (*)(int))dlsym(h, "omp_set_num_threads");
	l->omp_max = (int (*)(void))dlsym(h, "omp_get_max_threads");
	if (l->omp_set == NULL || l->omp_max == NULL) {
		l->omp_set = NULL;
		l->omp_max = NULL;
	} else {
		l->omp_default = l->omp_max();
	}
	dnnl_status_t s = l->dnnl_engine_create(&l->eng, dnnl_cpu, 0);
	if (s != dnnl_success) {
		*err = jb_err("create CPU engine: %s", jb_status(s));
		goto fail;
	}
	return l;
fail:
	free(l);
	dlclose(h);
	return NULL;
}

// jb_lib_info reports the version, the ISA and whether OpenMP's thread
// count can be set.
static void jb_lib_info(void *lp, int *major, int *minor, int *patch, const char **hash, int *isa, int *omp) {
	jb_lib *l = lp;
	const dnnl_version_t *v = l->dnnl_version();
	*major = v->major;
	*minor = v->minor;
	*patch = v->patch;
	*hash = v->hash;
	*isa = (int)l->dnnl_get_effective_cpu_isa();
	*omp = l->omp_set != NULL;
}

// jb_lib_path returns the file dnnl_version came from (malloc'd), or NULL.
static char *jb_lib_path(void *lp) {
	jb_lib *l = lp;
	Dl_info info;
	if (dladdr((void *)l->dnnl_version, &info) == 0 || info.dli_fname == NULL) {
		return NULL;
	}
	return strdup(info.dli_fname);
}

static dnnl_data_type_t jb_dt(int t) {
	switch (t) {
	case JB_F32: return dnnl_f32;
	case JB_BF16: return dnnl_bf16;
	case JB_S8: return dnnl_s8;
	case JB_U8: return dnnl_u8;
	case JB_S32: return dnnl_s32;
	}
	return dnnl_data_type_undef;
}

static size_t jb_size(int t) {
	switch (t) {
	case JB_BF16: return 2;
	case JB_S8: case JB_U8: return 1;
	}
	return 4;
}

static const char *jb_dt_name(int t) {
	switch (t) {
	case JB_F32: return "f32";
	case JB_BF16: return "bf16";
	case JB_S8: return "s8";
	case JB_U8: return "u8";
	case JB_S32: return "s32";
	}
	return "?";
}

typedef struct {
	int K, N, src, wt, dst, wuser, relu;
	void *w;       // the user's weights, K×N row-major; freed after build
	float *bias;   // N values, or NULL
	float *scales; // N per-column output scales, or NULL
	dnnl_memory_t bmem;
} jb_layer;

typedef struct {
	dnnl_primitive_desc_t pd;
	dnnl_primitive_t prim;
	dnnl_memory_t w; // packed weights for pd
	int w_owned;     // else shared with an earlier plan
	dnnl_memory_t src, dst; // fixed-size plans only
} jb_step;

// A plan is the net's primitives for one row count: rows > 0 fixed, 0
// runtime (DNNL_RUNTIME_DIM_VAL), whose memories are made per pass.
typedef struct {
	int rows;
	jb_step *steps;
} jb_plan;

enum { JB_MAX_PLANS = 3 };

typedef struct {
	jb_lib *lib;
	dnnl_stream_t stream;
	int nl, batch, threads, input;
	float in_scale;
	jb_layer *layers;
	float *epi_scale, *epi_bias; // int8: logits = float(acc)·scale + bias
	int epi_relu;
	void *in_buf; // converted input: bf16 or u8
	void *act[2]; // hidden activations, ping-pong
	void *acc;    // int8: the last layer's s32 output
	jb_plan plans[JB_MAX_PLANS];
	int nplans;
} jb_net;

static void *jb_alloc(size_t n) {
	void *p = NULL;
	if (posix_memalign(&p, 64, n < 64 ? 64 : n) != 0) {
		return NULL;
	}
	return p;
}

static void *jb_dup(const void *p, size_t n) {
	void *q = jb_alloc(n);
	if (q != NULL) {
		memcpy(q, p, n);
	}
	return q;
}

static void *jb_net_new(void *lp, int nl, int batch, int threads, int input, float in_scale) {
	jb_net *n = calloc(1, sizeof *n);
	if (n == NULL) {
		return NULL;
	}
	n->lib = lp;
	n->nl = nl;
	n->batch = batch;
	n->threads = threads;
	n->input = input;
	n->in_scale = in_scale;
	n->layers = calloc(nl, sizeof *n->layers);
	if (n->layers == NULL) {
		free(n);
		return NULL;
	}
	return n;
}

// jb_net_layer copies layer i's parameters out of Go memory.
static char *jb_net_layer(void *np, int i, int K, int N, int src, int wt, int dst, int wuser,
		const void *w, const float *bias, const float *scales, int relu) {
	jb_net *n = np;
	jb_layer *L = &n->layers[i];
	L->K = K; L->N = N; L->src = src; L->wt = wt; L->dst = dst; L->wuser = wuser; L->relu = relu;
	L->w = jb_dup(w, (size_t)K * N * jb_size(wuser));
	L->bias = bias ? jb_dup(bias, (size_t)N * 4) : NULL;
	L->scales = scales ? jb_dup(scales, (size_t)N * 4) : NULL;
	if (L->w == NULL || (bias && L->bias == NULL) || (scales && L->scales == NULL)) {
		return jb_err("layer %d: out of memory", i);
	}
	return NULL;
}

static char *jb_net_epilogue(void *np, const float *scale, const float *bias, int relu) {
	jb_net *n = np;
	int N = n->layers[n->nl - 1].N;
	n->epi_scale = jb_dup(scale, (size_t)N * 4);
	n->epi_bias = jb_dup(bias, (size_t)N * 4);
	n->epi_relu = relu;
	if (n->epi_scale == NULL || n->epi_bias == NULL) {
		return jb_err("out of memory");
	}
	return NULL;
}

static void jb_set_threads(jb_net *n) {
	if (n->lib->omp_set != NULL) {
		n->lib->omp_set(n->threads > 0 ? n->threads : n->lib->omp_default);
	}
}

static dnnl_status_t jb_md(jb_lib *l, dnnl_memory_desc_t *md, int64_t r, int64_t c, int t, dnnl_format_tag_t tag) {
	dnnl_dims_t d = {r, c};
	return l->dnnl_memory_desc_init_by_tag(md, 2, d, jb_dt(t), tag);
}

// jb_pack reorders layer L's user weights into the packed memory m.
static dnnl_status_t jb_pack(jb_net *n, jb_layer *L, dnnl_memory_t m, const dnnl_memory_desc_t *wmd) {
	jb_lib *l = n->lib;
	dnnl_memory_desc_t umd;
	dnnl_memory_t um = NULL;
	dnnl_primitive_desc_t rpd = NULL;
	dnnl_primitive_t r = NULL;
	dnnl_status_t s = jb_md(l, &umd, L->K, L->N, L->wuser, dnnl_ab);
	if (s == dnnl_success) s = l->dnnl_memory_create(&um, &umd, l->eng, L->w);
	if (s == dnnl_success) s = l->dnnl_reorder_primitive_desc_create(&rpd, &umd, l->eng, wmd, l->eng, NULL);
	if (s == dnnl_success) s = l->dnnl_primitive_create(&r, rpd);
	if (s == dnnl_success) {
		dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, um}, {DNNL_ARG_TO, m}};
		s = l->dnnl_primitive_execute(r, n->stream, 2, a);
	}
	if (s == dnnl_success) s = l->dnnl_stream_wait(n->stream);
	if (r) l->dnnl_primitive_destroy(r);
	if (rpd) l->dnnl_primitive_desc_destroy(rpd);
	if (um) l->dnnl_memory_destroy(um);
	return s;
}

// jb_src_buf and jb_dst_buf are where layer i reads and writes in C
// memory; NULL means the caller's input or logits, set per pass.
static void *jb_src_buf(jb_net *n, int i) {
	if (i == 0) return n->input == JB_IN_F32 ? NULL : n->in_buf;
	return n->act[(i - 1) % 2];
}

static void *jb_dst_buf(jb_net *n, int i) {
	if (i == n->nl - 1) return n->epi_scale != NULL ? n->acc : NULL;
	return n->act[i % 2];
}

static char *jb_plan_build(jb_net *n, int p, int rows) {
	jb_lib *l = n->lib;
	jb_plan *P = &n->plans[p];
	P->rows = rows;
	P->steps = calloc(n->nl, sizeof *P->steps);
	if (P->steps == NULL) return jb_err("out of memory");
	int64_t M = rows > 0 ? rows : DNNL_RUNTIME_DIM_VAL;
	for (int i = 0; i < n->nl; i++) {
		jb_layer *L = &n->layers[i];
		jb_step *S = &P->steps[i];
		dnnl_memory_desc_t smd, wmd, bmd, dmd;
		dnnl_matmul_desc_t mm;
		dnnl_primitive_attr_t attr = NULL;
		dnnl_post_ops_t po = NULL;
		const char *what = "memory descriptors";
		dnnl_status_t s = jb_md(l, &smd, M, L->K, L->src, dnnl_ab);
		if (s == dnnl_success) s = jb_md(l, &wmd, L->K, L->N, L->wt, dnnl_format_tag_any);
		if (s == dnnl_success && L->bias) s = jb_md(l, &bmd, 1, L->N, JB_F32, dnnl_ab);
		if (s == dnnl_success) s = jb_md(l, &dmd, M, L->N, L->dst, dnnl_ab);
		if (s == dnnl_success) { what = "matmul descriptor"; s = l->dnnl_matmul_desc_init(&mm, &smd, &wmd, L->bias ? &bmd : NULL, &dmd); }
		if (s == dnnl_success) { what = "attributes"; s = l->dnnl_primitive_attr_create(&attr); }
		if (s == dnnl_success && L->scales) s = l->dnnl_primitive_attr_set_output_scales(attr, L->N, 1 << 1, L->scales);
		if (s == dnnl_success && L->relu) {
			s = l->dnnl_post_ops_create(&po);
			if (s == dnnl_success) s = l->dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
			if (s == dnnl_success) s = l->dnnl_primitive_attr_set_post_ops(attr, po);
		}
		if (s == dnnl_success) { what = "primitive descriptor"; s = l->dnnl_primitive_desc_create(&S->pd, &mm, attr, l->eng, NULL); }
		if (po) l->dnnl_post_ops_destroy(po);
		if (attr) l->dnnl_primitive_attr_destroy(attr);
		if (s == dnnl_success) { what = "primitive"; s = l->dnnl_primitive_create(&S->prim, S->pd); }
		if (s != dnnl_success) {
			return jb_err("layer %d (%d×%d, %s×%s→%s, %s rows): %s: %s", i, L->K, L->N,
				jb_dt_name(L->src), jb_dt_name(L->wt), jb_dt_name(L->dst),
				rows > 0 ? "fixed" : "runtime", what, jb_status(s));
		}
		// The packed layout may differ between row counts; share it
		// when it does not.
		const dnnl_memory_desc_t *pw = l->dnnl_primitive_desc_query_md(S->pd, dnnl_query_weights_md, 0);
		for (int q = 0; q < p && S->w == NULL; q++) {
			jb_step *T = &n->plans[q].steps[i];
			if (l->dnnl_memory_desc_equal(pw, l->dnnl_primitive_desc_query_md(T->pd, dnnl_query_weights_md, 0))) {
				S->w = T->w;
			}
		}
		if (S->w == NULL) {
			S->w_owned = 1;
			what = "pack weights";
			s = l->dnnl_memory_create(&S->w, pw, l->eng, DNNL_MEMORY_ALLOCATE);
			if (s == dnnl_success) s = jb_pack(n, L, S->w, pw);
			if (s != dnnl_success) {
				return jb_err("layer %d: %s: %s", i, what, jb_status(s));
			}
		}
		if (rows > 0) {
			s = l->dnnl_memory_create(&S->src, &smd, l->eng, jb_src_buf(n, i));
			if (s == dnnl_success) s = l->dnnl_memory_create(&S->dst, &dmd, l->eng, jb_dst_buf(n, i));
			if (s != dnnl_success) {
				return jb_err("layer %d: memory: %s", i, jb_status(s));
			}
		}
	}
	return NULL;
}

// jb_net_build creates the stream, the buffers and the plans: batch rows,
// one row, and runtime rows for the rest. It sets the thread count first,
// on this thread, because the kernels are chosen for it.
static char *jb_net_build(void *np, int *threads) {
	jb_net *n = np;
	jb_lib *l = n->lib;
	jb_set_threads(n);
	*threads = l->omp_max != NULL ? l->omp_max() : 0;
	dnnl_status_t s = l->dnnl_stream_create(&n->stream, l->eng, dnnl_stream_default_flags);
	if (s != dnnl_success) return jb_err("create stream: %s", jb_status(s));
	size_t width = 1;
	for (int i = 0; i + 1 < n->nl; i++) {
		if ((size_t)n->layers[i].N > width) width = n->layers[i].N;
	}
	size_t B = n->batch;
	n->act[0] = jb_alloc(B * width * 4);
	n->act[1] = jb_alloc(B * width * 4);
	if (n->input != JB_IN_F32) n->in_buf = jb_alloc(B * n->layers[0].K * 4);
	if (n->epi_scale != NULL) n->acc = jb_alloc(B * n->layers[n->nl - 1].N * 4);
	if (n->act[0] == NULL || n->act[1] == NULL || (n->input != JB_IN_F32 && n->in_buf == NULL) ||
			(n->epi_scale != NULL && n->acc == NULL)) {
		return jb_err("out of memory");
	}
	for (int i = 0; i < n->nl; i++) {
		jb_layer *L = &n->layers[i];
		if (L->bias == NULL) continue;
		dnnl_memory_desc_t bmd;
		s = jb_md(l, &bmd, 1, L->N, JB_F32, dnnl_ab);
		if (s == dnnl_success) s = l->dnnl_memory_create(&L->bmem, &bmd, l->eng, L->bias);
		if (s != dnnl_success) return jb_err("layer %d: bias memory: %s", i, jb_status(s));
	}
	int rows[JB_MAX_PLANS], np_ = 0;
	rows[np_++] = n->batch;
	if (n->batch > 1) rows[np_++] = 1;
	if (n->batch > 2) rows[np_++] = 0;
	for (int p = 0; p < np_; p++) {
		n->nplans = p + 1;
		char *e = jb_plan_build(n, p, rows[p]);
		if (e != NULL) return e;
	}
	for (int i = 0; i < n->nl; i++) {
		free(n->layers[i].w);
		n->layers[i].w = NULL;
	}
	return NULL;
}

static int jb_net_plans(void *np) { return ((jb_net *)np)->nplans; }
static int jb_net_plan_rows(void *np, int p) { return ((jb_net *)np)->plans[p].rows; }

static const char *jb_net_impl(void *np, int p, int i) {
	jb_net *n = np;
	const char *impl = NULL;
	if (n->lib->dnnl_primitive_desc_query(n->plans[p].steps[i].pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success) {
		return NULL;
	}
	return impl;
}

// jb_forward runs one pass: the thread count, the input conversion, every
// layer and the int8 output stage, in one call on one thread. It returns
// a dnnl_status_t and the layer that failed.
static int jb_forward(void *np, const float *x, int rows, float *logits, int *failed) {
	jb_net *n = np;
	jb_lib *l = n->lib;
	jb_set_threads(n);
	jb_plan *P = NULL;
	for (int p = 0; p < n->nplans; p++) {
		if (n->plans[p].rows == rows || n->plans[p].rows == 0) {
			P = &n->plans[p];
			break;
		}
	}
	*failed = -1;
	if (P == NULL) return dnnl_invalid_arguments;
	size_t in = (size_t)rows * n->layers[0].K;
	const void *src0 = x;
	if (n->input == JB_IN_BF16) {
		jb_to_bf16(x, n->in_buf, in);
		src0 = n->in_buf;
	} else if (n->input == JB_IN_U8) {
		jb_quantize(x, n->in_buf, in, n->in_scale);
		src0 = n->in_buf;
	}
	dnnl_status_t s = dnnl_success;
	dnnl_memory_t tmp[2] = {NULL, NULL};
	for (int i = 0; i < n->nl && s == dnnl_success; i++) {
		jb_layer *L = &n->layers[i];
		jb_step *S = &P->steps[i];
		*failed = i;
		void *sb = i == 0 ? (void *)src0 : jb_src_buf(n, i);
		void *db = jb_dst_buf(n, i);
		if (db == NULL) db = logits;
		dnnl_memory_t sm = S->src, dm = S->dst;
		if (P->rows == 0) {
			dnnl_memory_desc_t smd, dmd;
			s = jb_md(l, &smd, rows, L->K, L->src, dnnl_ab);
			if (s == dnnl_success) s = jb_md(l, &dmd, rows, L->N, L->dst, dnnl_ab);
			if (s == dnnl_success) s = l->dnnl_memory_create(&tmp[0], &smd, l->eng, sb);
			if (s == dnnl_success) s = l->dnnl_memory_create(&tmp[1], &dmd, l->eng, db);
			sm = tmp[0];
			dm = tmp[1];
		} else {
			// Only the caller's buffers move between passes.
			if (i == 0 && n->input == JB_IN_F32) s = l->dnnl_memory_set_data_handle(sm, sb);
			if (s == dnnl_success && i == n->nl - 1 && n->epi_scale == NULL) s = l->dnnl_memory_set_data_handle(dm, db);
		}
		if (s == dnnl_success) {
			dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, sm}, {DNNL_ARG_WEIGHTS, S->w}, {DNNL_ARG_DST, dm}, {DNNL_ARG_BIAS, L->bmem}};
			s = l->dnnl_primitive_execute(S->prim, n->stream, L->bmem ? 4 : 3, a);
		}
		if (s == dnnl_success) s = l->dnnl_stream_wait(n->stream);
		if (P->rows != 0) {
			// cgo's rule: C keeps no Go pointer after the call returns.
			// The handles are set again at the next pass.
			if (i == 0 && n->input == JB_IN_F32) l->dnnl_memory_set_data_handle(sm, NULL);
			if (i == n->nl - 1 && n->epi_scale == NULL) l->dnnl_memory_set_data_handle(dm, NULL);
		}
		for (int t = 0; t < 2; t++) {
			if (tmp[t] != NULL) {
				l->dnnl_memory_destroy(tmp[t]);
				tmp[t] = NULL;
			}
		}
	}
	if (s != dnnl_success) return s;
	*failed = -1;
	if (n->epi_scale != NULL) {
		jb_layer *L = &n->layers[n->nl - 1];
		jb_dequantize(n->acc, logits, rows, L->N, n->epi_scale, n->epi_bias, n->epi_relu);
	}
	return dnnl_success;
}

static void jb_net_free(void *np) {
	jb_net *n = np;
	if (n == NULL) return;
	jb_lib *l = n->lib;
	for (int p = 0; p < n->nplans; p++) {
		jb_plan *P = &n->plans[p];
		if (P->steps == NULL) continue;
		for (int i = 0; i < n->nl; i++) {
			jb_step *S = &P->steps[i];
			if (S->src) l->dnnl_memory_destroy(S->src);
			if (S->dst) l->dnnl_memory_destroy(S->dst);
			if (S->w && S->w_owned) l->dnnl_memory_destroy(S->w);
			if (S->prim) l->dnnl_primitive_destroy(S->prim);
			if (S->pd) l->dnnl_primitive_desc_destroy(S->pd);
		}
		free(P->steps);
	}
	for (int i = 0; i < n->nl; i++) {
		jb_layer *L = &n->layers[i];
		if (L->bmem) l->dnnl_memory_destroy(L->bmem);
		free(L->w);
		free(L->bias);
		free(L->scales);
	}
	free(n->layers);
	if (n->stream) l->dnnl_stream_destroy(n->stream);
	free(n->in_buf);
	free(n->act[0]);
	free(n->act[1]);
	free(n->acc);
	free(n->epi_scale);
	free(n->epi_bias);
	free(n);
}

#else // no oneDNN headers: everything reports that.

static int jb_have_headers(void) { return 0; }
static void *jb_load(const char *soname, char **err) {
	(void)soname;
	*err = jb_err("built without oneDNN headers (install libdnnl-dev and rebuild)");
	return NULL;
}
static void jb_lib_info(void *lp, int *major, int *minor, int *patch, const char **hash, int *isa, int *omp) {
	(void)lp; *major = *minor = *patch = *isa = *omp = 0; *hash = NULL;
}
static char *jb_lib_path(void *lp) { (void)lp; return NULL; }
static void *jb_net_new(void *lp, int nl, int batch, int threads, int input, float in_scale) {
	(void)lp; (void)nl; (void)batch; (void)threads; (void)input; (void)in_scale;
	return NULL;
}
static char *jb_net_layer(void *np, int i, int K, int N, int src, int wt, int dst, int wuser,
		const void *w, const float *bias, const float *scales, int relu) {
	(void)np; (void)i; (void)K; (void)N; (void)src; (void)wt; (void)dst; (void)wuser; (void)w; (void)bias; (void)scales; (void)relu;
	return jb_err("built without oneDNN headers (install libdnnl-dev and rebuild)");
}
static char *jb_net_epilogue(void *np, const float *scale, const float *bias, int relu) {
	(void)np; (void)scale; (void)bias; (void)relu;
	return jb_err("built without oneDNN headers (install libdnnl-dev and rebuild)");
}
static char *jb_net_build(void *np, int *threads) {
	(void)np; *threads = 0;
	return jb_err("built without oneDNN headers (install libdnnl-dev and rebuild)");
}
static int jb_net_plans(void *np) { (void)np; return 0; }
static int jb_net_plan_rows(void *np, int p) { (void)np; (void)p; return 0; }
static const char *jb_net_impl(void *np, int p, int i) { (void)np; (void)p; (void)i; return NULL; }
static int jb_forward(void *np, const float *x, int rows, float *logits, int *failed) {
	(void)np; (void)x; (void)rows; (void)logits; *failed = -1;
	return 3;
}
static void jb_net_free(void *np) { (void)np; }

#endif
*/
import "C"

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// load opens soname; Load caches it for the process, tests call it with
// other names.
func load(soname string) (*Lib, error) {
	cname := C.CString(soname)
	defer C.free(unsafe.Pointer(cname))
	var cerr *C.char
	h := C.jb_load(cname, &cerr)
	if h == nil {
		msg := "out of memory"
		if cerr != nil {
			msg = C.GoString(cerr)
			C.free(unsafe.Pointer(cerr))
		}
		if C.jb_have_headers() != 0 && strings.Contains(msg, "No such file") {
			msg += " (oneDNN 2.x is not installed: on Debian/Ubuntu apt install libdnnl2)"
		}
		return nil, fmt.Errorf("dnnl: load %s: %s: %w", soname, msg, errors.ErrUnsupported)
	}
	var major, minor, patch, isa, omp C.int
	var hash *C.char
	C.jb_lib_info(h, &major, &minor, &patch, &hash, &isa, &omp)
	hs := "unknown"
	if hash != nil && C.GoString(hash) != "" {
		hs = C.GoString(hash)
	}
	l := &Lib{
		c:       h,
		version: fmt.Sprintf("%d.%d.%d (hash %s)", major, minor, patch, hs),
		isaCode: int(isa),
		isa:     isaName(int(isa)),
		path:    soname,
		omp:     omp != 0,
	}
	if p := C.jb_lib_path(h); p != nil {
		l.path = C.GoString(p)
		C.free(unsafe.Pointer(p))
	}
	if r, err := filepath.EvalSymlinks(l.path); err == nil {
		l.path = r
	}
	return l, nil
}

// builtWithHeaders reports whether the oneDNN headers were there at build.
func builtWithHeaders() bool { return C.jb_have_headers() != 0 }

func cerror(e *C.char) error {
	if e == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(e))
	return errors.New(C.GoString(e))
}

func floats(f []float32) *C.float {
	if len(f) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(unsafe.SliceData(f)))
}

func newNet(l *Lib, s netSpec) (unsafe.Pointer, map[string]string, error) {
	c := C.jb_net_new(l.c, C.int(len(s.layers)), C.int(s.batch), C.int(s.threads), C.int(s.input), C.float(s.inScale))
	if c == nil {
		return nil, nil, errors.New("out of memory")
	}
	fail := func(err error) (unsafe.Pointer, map[string]string, error) {
		C.jb_net_free(c)
		return nil, nil, err
	}
	for i, ls := range s.layers {
		w := unsafe.Pointer(unsafe.SliceData(ls.wF32))
		if ls.wUser == dtS8 {
			w = unsafe.Pointer(unsafe.SliceData(ls.wS8))
		}
		relu := C.int(0)
		if ls.relu {
			relu = 1
		}
		if err := cerror(C.jb_net_layer(c, C.int(i), C.int(ls.k), C.int(ls.n), C.int(ls.src), C.int(ls.wt), C.int(ls.dst), C.int(ls.wUser),
			w, floats(ls.bias), floats(ls.scales), relu)); err != nil {
			return fail(err)
		}
	}
	if s.epiScale != nil {
		relu := C.int(0)
		if s.epiReLU {
			relu = 1
		}
		if err := cerror(C.jb_net_epilogue(c, floats(s.epiScale), floats(s.epiBias), relu)); err != nil {
			return fail(err)
		}
	}
	// Kernels are chosen for the thread count, set on this OS thread in
	// the same call.
	runtime.LockOSThread()
	var threads C.int
	err := cerror(C.jb_net_build(c, &threads))
	runtime.UnlockOSThread()
	if err != nil {
		return fail(err)
	}
	info := map[string]string{}
	if l.omp {
		info["threads"] = strconv.Itoa(int(threads))
		info["threading"] = "openmp"
	} else {
		info["threads"] = "unknown"
		info["threading"] = "not openmp (thread count left to the library)"
	}
	for p := range int(C.jb_net_plans(c)) {
		tag := "bN"
		if r := int(C.jb_net_plan_rows(c, C.int(p))); r > 0 {
			tag = "b" + strconv.Itoa(r)
		}
		for i := range s.layers {
			if impl := C.jb_net_impl(c, C.int(p), C.int(i)); impl != nil {
				info[fmt.Sprintf("layer%d.%s", i, tag)] = C.GoString(impl)
			}
		}
	}
	return c, info, nil
}

func forward(c unsafe.Pointer, x *float32, rows int, logits *float32) error {
	// OpenMP keeps a thread pool and a thread count per calling OS thread:
	// one C call sets the count and runs the pass on the same thread.
	runtime.LockOSThread()
	var failed C.int
	s := C.jb_forward(c, (*C.float)(unsafe.Pointer(x)), C.int(rows), (*C.float)(unsafe.Pointer(logits)), &failed)
	runtime.UnlockOSThread()
	if s != 0 {
		if failed >= 0 {
			return fmt.Errorf("dnnl: forward: layer %d: %s", failed, C.GoString(C.jb_status(C.int(s))))
		}
		return fmt.Errorf("dnnl: forward: %s", C.GoString(C.jb_status(C.int(s))))
	}
	return nil
}

func closeNet(c unsafe.Pointer) { C.jb_net_free(c) }

// convertInput runs Forward's input conversion on x, with the vector code
// or the scalar loop, for tests: to u8 with scale, or to bf16 bits.
func convertInput(toBF16, simd bool, x []float32, scale float32) (u8 []uint8, bf []uint16) {
	b := func(v bool) C.int {
		if v {
			return 1
		}
		return 0
	}
	if toBF16 {
		bf = make([]uint16, len(x))
		C.jb_convert_test(1, b(simd), (*C.float)(unsafe.Pointer(unsafe.SliceData(x))), unsafe.Pointer(unsafe.SliceData(bf)), C.size_t(len(x)), C.float(scale))
		return nil, bf
	}
	u8 = make([]uint8, len(x))
	C.jb_convert_test(0, b(simd), (*C.float)(unsafe.Pointer(unsafe.SliceData(x))), unsafe.Pointer(unsafe.SliceData(u8)), C.size_t(len(x)), C.float(scale))
	return u8, nil
}
