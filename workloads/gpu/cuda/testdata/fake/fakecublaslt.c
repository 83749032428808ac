/*
 * fakecublaslt.c: a fake libcublasLt.so for joulebench's tests on machines
 * without a GPU. It implements, on host memory, the cuBLASLt calls that
 * workloads/gpu/cuda/lt.go makes: matmul descriptors, matrix layouts,
 * preferences, the algorithm heuristic and cublasLtMatmul, with the
 * epilogues DEFAULT, RELU, BIAS and RELU_BIAS, alpha as a host scalar or a
 * per-row device vector, and the data types fp32, fp16, bf16, int8 and
 * int32. "Device" pointers are host pointers, as the fake libcudart.so
 * (fakecuda.c) hands them out.
 *
 * The heuristic accepts only the combinations the real library lists for
 * cublasLtMatmul (cuBLAS documentation, "cublasLtMatmul() ... datatypes
 * supported"): 32F compute with 32F scale for 32F, 16F and 16BF inputs
 * (output of the input type); 32I compute with 32F scale for 8I inputs and
 * 8I output, and with 32I scale for 8I inputs and 32I output, both only in
 * the "TN" form (A transposed, B not) with m and k multiples of 4, and
 * with no epilogue but DEFAULT: the table says "Epilogue is not supported"
 * for these rows in the plain column-major layout (the bias epilogue with
 * an 8I output exists only for the IMMA COL32 layouts of Turing and Ampere).
 *
 * Knobs, read at every call, for the tests' cheats and failures:
 *   FAKE_CUBLASLT_LAZY=1    cublasLtMatmul returns success and writes nothing
 *   FAKE_CUBLASLT_NORELU=1  the RELU epilogues skip the ReLU
 *   FAKE_CUBLASLT_NOALGO=1  the heuristic finds no algorithm
 *   FAKE_CUBLASLT_INVALID=1 the heuristic returns CUBLAS_STATUS_INVALID_VALUE
 *   FAKE_CUBLASLT_SPLITK=1  the heuristic chooses split-K in two halves of k,
 *                           with the reduction scheme the preference's
 *                           REDUCTION_SCHEME_MASK allows that rounds most:
 *                           OUTPUT_TYPE, else INPLACE (both keep the partial
 *                           sums in the output type, as cublasLt.h says),
 *                           else COMPUTE_TYPE (fp32 partial sums)
 *   FAKE_CUBLASLT_LOWP=1    float matmuls run in much lower precision than
 *                           their types: each operand rounded to 3 mantissa
 *                           bits (as fp8 e4m3 keeps), every partial sum
 *                           rounded to bf16 after each addition (with
 *                           FAKE_CUBLASLT_SPLITK the split-K sums stand)
 *   FAKE_CUBLASLT_INT8_OFF1=1 integer matmuls add 1 to one output, the first
 *                           element of D (row 0, column 0), of every call
 *
 * -DFAKE_CUDA_MAJOR=N builds it as the cuBLASLt of CUDA N (default 12).
 *
 * Build: cc -O2 -ffp-contract=off -shared -fPIC -o libcublasLt.so fakecublaslt.c -lm
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_CUDA_MAJOR
#define FAKE_CUDA_MAJOR 12
#endif

/* Values from cublas_api.h / cublasLt.h / library_types.h (see lt.go for
 * where each was checked). */
enum { ST_SUCCESS = 0, ST_NOT_INITIALIZED = 1, ST_INVALID_VALUE = 7, ST_NOT_SUPPORTED = 15 };
enum { R_32F = 0, R_64F = 1, R_16F = 2, R_8I = 3, R_32I = 10, R_16BF = 14 };
enum { COMPUTE_32F = 68, COMPUTE_32I = 72 };
enum { ATTR_COMPUTE = 0, ATTR_SCALE = 1, ATTR_POINTER_MODE = 2, ATTR_TRANSA = 3, ATTR_TRANSB = 4,
       ATTR_EPILOGUE = 7, ATTR_BIAS_POINTER = 8, ATTR_BIAS_DATA_TYPE = 26 };
enum { EPI_DEFAULT = 1, EPI_RELU = 2, EPI_BIAS = 4, EPI_RELU_BIAS = 6 };
enum { PM_HOST = 0, PM_ALPHA_VEC_BETA_ZERO = 3, PM_ALPHA_VEC_BETA_HOST = 4 };
enum { PREF_MAX_WORKSPACE_BYTES = 1, PREF_REDUCTION_SCHEME_MASK = 3 };
enum { RED_NONE = 0, RED_INPLACE = 1, RED_COMPUTE_TYPE = 2, RED_OUTPUT_TYPE = 4, RED_MASK = 7 };

static const int magic = 0x4c54;

typedef struct { int magic; } ctx_t;
typedef struct {
	int compute, scale, pointer_mode, transa, transb;
	uint32_t epilogue;
	const void *bias;
	int bias_type; /* -1: the default */
} desc_t;
typedef struct { int type; uint64_t rows, cols; int64_t ld; } layout_t;
typedef struct { uint64_t max_ws; uint32_t reduction_mask; } pref_t;
typedef struct {
	uint64_t algo[8];
	size_t workspaceSize;
	int state;
	float wavesCount;
	int reserved[4];
} heur_t;

static int knob(const char *name) {
	const char *v = getenv(name);
	return v != NULL && strcmp(v, "1") == 0;
}

int cublasLtCreate(void **h) {
	ctx_t *c = malloc(sizeof *c);
	if (c == NULL) return 3;
	c->magic = magic;
	*h = c;
	return ST_SUCCESS;
}
int cublasLtDestroy(void *h) { free(h); return ST_SUCCESS; }
size_t cublasLtGetVersion(void) { return FAKE_CUDA_MAJOR * 10000 + 900; }
const char *cublasLtGetStatusString(int s) {
	switch (s) {
	case ST_SUCCESS: return "the operation completed successfully";
	case ST_NOT_INITIALIZED: return "the library was not initialized";
	case ST_INVALID_VALUE: return "an unsupported value or parameter was passed to the function";
	case ST_NOT_SUPPORTED: return "the functionality requested is not supported";
	}
	return "unknown status";
}

int cublasLtMatmulDescCreate(void **d, int compute, int scale) {
	desc_t *p = calloc(1, sizeof *p);
	if (p == NULL) return 3;
	p->compute = compute;
	p->scale = scale;
	p->epilogue = EPI_DEFAULT;
	p->bias_type = -1;
	*d = p;
	return ST_SUCCESS;
}
int cublasLtMatmulDescDestroy(void *d) { free(d); return ST_SUCCESS; }
int cublasLtMatmulDescSetAttribute(void *d, int attr, const void *buf, size_t size) {
	desc_t *p = d;
	if (buf == NULL) return ST_INVALID_VALUE;
	switch (attr) {
	case ATTR_COMPUTE: if (size != 4) return ST_INVALID_VALUE; memcpy(&p->compute, buf, 4); break;
	case ATTR_SCALE: if (size != 4) return ST_INVALID_VALUE; memcpy(&p->scale, buf, 4); break;
	case ATTR_POINTER_MODE: if (size != 4) return ST_INVALID_VALUE; memcpy(&p->pointer_mode, buf, 4); break;
	case ATTR_TRANSA: if (size != 4) return ST_INVALID_VALUE; memcpy(&p->transa, buf, 4); break;
	case ATTR_TRANSB: if (size != 4) return ST_INVALID_VALUE; memcpy(&p->transb, buf, 4); break;
	case ATTR_EPILOGUE: if (size != 4) return ST_INVALID_VALUE; memcpy(&p->epilogue, buf, 4); break;
	case ATTR_BIAS_POINTER: if (size != sizeof(void *)) return ST_INVALID_VALUE; memcpy(&p->bias, buf, sizeof(void *)); break;
	case ATTR_BIAS_DATA_TYPE: if (size != 4) return ST_INVALID_VALUE; memcpy(&p->bias_type, buf, 4); break;
	default: return ST_INVALID_VALUE;
	}
	return ST_SUCCESS;
}

int cublasLtMatrixLayoutCreate(void **l, int type, uint64_t rows, uint64_t cols, int64_t ld) {
	layout_t *p = malloc(sizeof *p);
	if (p == NULL) return 3;
	p->type = type; p->rows = rows; p->cols = cols; p->ld = ld;
	if ((int64_t)rows > ld) { free(p); return ST_INVALID_VALUE; }
	*l = p;
	return ST_SUCCESS;
}
int cublasLtMatrixLayoutDestroy(void *l) { free(l); return ST_SUCCESS; }

int cublasLtMatmulPreferenceCreate(void **p) {
	pref_t *q = calloc(1, sizeof *q);
	if (q == NULL) return 3;
	q->reduction_mask = RED_MASK; /* the default: every scheme */
	*p = q;
	return ST_SUCCESS;
}
int cublasLtMatmulPreferenceDestroy(void *p) { free(p); return ST_SUCCESS; }
int cublasLtMatmulPreferenceSetAttribute(void *p, int attr, const void *buf, size_t size) {
	pref_t *q = p;
	if (buf == NULL) return ST_INVALID_VALUE;
	if (attr == PREF_MAX_WORKSPACE_BYTES && size == 8) { memcpy(&q->max_ws, buf, 8); return ST_SUCCESS; }
	if (attr == PREF_REDUCTION_SCHEME_MASK && size == 4) { memcpy(&q->reduction_mask, buf, 4); return ST_SUCCESS; }
	return ST_INVALID_VALUE;
}

/* supported reports whether the real library lists this combination. */
static int supported(const desc_t *d, const layout_t *a, const layout_t *b, const layout_t *c, const layout_t *dd) {
	if (a->type != b->type || c->type != dd->type) return 0;
	if (d->compute == COMPUTE_32F && d->scale == R_32F) {
		if (a->type == R_32F) return c->type == R_32F;
		if (a->type == R_16F) return c->type == R_16F || c->type == R_32F;
		if (a->type == R_16BF) return c->type == R_16BF || c->type == R_32F;
		return 0;
	}
	if (d->compute == COMPUTE_32I && a->type == R_8I) {
		int tn = d->transa == 1 && d->transb == 0;
		uint64_t m = dd->rows, k = a->rows; /* A is k×m, transposed */
		if (!tn || m % 4 != 0 || k % 4 != 0) return 0;
		if (d->epilogue != EPI_DEFAULT) return 0;
		if (d->scale == R_32F) return c->type == R_8I;
		if (d->scale == R_32I) return c->type == R_32I;
	}
	return 0;
}

int cublasLtMatmulAlgoGetHeuristic(void *h, void *desc, void *A, void *B, void *C, void *D, void *pref,
                                   int requested, heur_t *res, int *count) {
	if (h == NULL || ((ctx_t *)h)->magic != magic) return ST_NOT_INITIALIZED;
	if (requested <= 0 || pref == NULL) return ST_INVALID_VALUE;
	*count = 0;
	if (knob("FAKE_CUBLASLT_INVALID")) return ST_INVALID_VALUE;
	if (knob("FAKE_CUBLASLT_NOALGO") || !supported(desc, A, B, C, D)) return ST_NOT_SUPPORTED;
	memset(&res[0], 0, sizeof res[0]);
	res[0].algo[0] = 0x66616b65; /* "fake" */
	/* algo[1]: the reduction scheme of a split-K algorithm (the real
	 * library keeps it in the algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME). */
	uint32_t mask = ((pref_t *)pref)->reduction_mask;
	if (knob("FAKE_CUBLASLT_SPLITK")) {
		if (mask & RED_OUTPUT_TYPE) res[0].algo[1] = RED_OUTPUT_TYPE;
		else if (mask & RED_INPLACE) res[0].algo[1] = RED_INPLACE;
		else if (mask & RED_COMPUTE_TYPE) res[0].algo[1] = RED_COMPUTE_TYPE;
	}
	res[0].state = ST_SUCCESS;
	res[0].wavesCount = 1;
	*count = 1;
	return ST_SUCCESS;
}

/* Conversions with round-to-nearest-even, as the GPU's cvt.rn does. */
static float h2f(uint16_t h) {
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, f;
	if (e == 0x1f) f = s | 0x7f800000u | (m << 13);
	else if (e != 0) f = s | ((e + 112) << 23) | (m << 13);
	else if (m == 0) f = s;
	else { float v = ldexpf((float)m, -24); return s ? -v : v; }
	float r; memcpy(&r, &f, 4); return r;
}
static uint16_t f2h(float x) {
	uint32_t b; memcpy(&b, &x, 4);
	uint16_t s = (b >> 16) & 0x8000;
	float a = fabsf(x);
	if (x != x) return s | 0x7e00;
	if (a >= 65520.0f) return s | 0x7c00; /* rounds to Inf */
	if (a < ldexpf(1, -14)) { /* subnormal: steps of 2^-24 */
		float q = nearbyintf(a * ldexpf(1, 24));
		return s | (uint16_t)q;
	}
	uint32_t ab = b & 0x7fffffffu;
	uint32_t e = (ab >> 23) - 112, m = ab & 0x7fffff;
	uint32_t hv = (e << 10) | (m >> 13), rest = m & 0x1fff;
	if (rest > 0x1000 || (rest == 0x1000 && (hv & 1))) hv++;
	return s | (uint16_t)hv;
}
static float b2f(uint16_t v) { uint32_t f = (uint32_t)v << 16; float r; memcpy(&r, &f, 4); return r; }
static uint16_t f2b(float x) {
	uint32_t b; memcpy(&b, &x, 4);
	if (x != x) return (uint16_t)((b >> 16) | 0x40);
	b += 0x7fff + ((b >> 16) & 1);
	return (uint16_t)(b >> 16);
}

/* round_to rounds v to the type t as a store of it would. */
static float round_to(int t, float v) {
	switch (t) {
	case R_16F: return h2f(f2h(v));
	case R_16BF: return b2f(f2b(v));
	}
	return v;
}

/* round_mant rounds v to bits mantissa bits (after the leading one), to
 * nearest, ties to even; the exponent range is float's. */
static float round_mant(float v, int bits) {
	if (v == 0 || v != v || isinf(v)) return v;
	int e;
	float f = frexpf(v, &e); /* v = f·2^e, 0.5 ≤ |f| < 1 */
	return ldexpf(nearbyintf(ldexpf(f, bits + 1)), e - bits - 1);
}

static double load(int type, const void *p, int64_t i) {
	switch (type) {
	case R_32F: return ((const float *)p)[i];
	case R_64F: return ((const double *)p)[i];
	case R_16F: return h2f(((const uint16_t *)p)[i]);
	case R_16BF: return b2f(((const uint16_t *)p)[i]);
	case R_8I: return ((const int8_t *)p)[i];
	case R_32I: return ((const int32_t *)p)[i];
	}
	return 0;
}
static void store(int type, void *p, int64_t i, float v, int32_t iv, int integer) {
	switch (type) {
	case R_32F: ((float *)p)[i] = v; break;
	case R_16F: ((uint16_t *)p)[i] = f2h(v); break;
	case R_16BF: ((uint16_t *)p)[i] = f2b(v); break;
	case R_32I: ((int32_t *)p)[i] = iv; break;
	case R_8I: {
		float r = integer ? (float)iv : nearbyintf(v);
		if (!(r > -128)) r = -128; /* NaN saturates to the low end here */
		if (r > 127) r = 127;
		((int8_t *)p)[i] = (int8_t)r;
		break;
	}
	}
}

int cublasLtMatmul(void *h, void *desc, const void *alpha, const void *A, void *Ad, const void *B, void *Bd,
                   const void *beta, const void *C, void *Cd, void *D, void *Dd, const void *algo,
                   void *ws, size_t wsSize, void *stream) {
	(void)ws; (void)wsSize; (void)stream; (void)Cd;
	desc_t *d = desc;
	layout_t *a = Ad, *b = Bd, *dl = Dd;
	if (h == NULL || ((ctx_t *)h)->magic != magic) return ST_NOT_INITIALIZED;
	if (algo == NULL || alpha == NULL || A == NULL || B == NULL || D == NULL) return ST_INVALID_VALUE;
	if (!supported(d, a, b, Cd, Dd)) return ST_NOT_SUPPORTED;
	if (knob("FAKE_CUBLASLT_LAZY")) return ST_SUCCESS;
	uint64_t m = dl->rows, n = dl->cols;
	uint64_t k = d->transa ? a->rows : a->cols;
	if ((d->transa ? a->cols : a->rows) != m || (d->transb ? b->rows : b->cols) != n ||
	    (d->transb ? b->cols : b->rows) != k)
		return ST_INVALID_VALUE;
	int vec = d->pointer_mode == PM_ALPHA_VEC_BETA_ZERO || d->pointer_mode == PM_ALPHA_VEC_BETA_HOST;
	int integer = d->scale == R_32I;
	double bet = 0;
	if (d->pointer_mode != PM_ALPHA_VEC_BETA_ZERO && beta != NULL)
		bet = integer ? *(const int32_t *)beta : *(const float *)beta;
	int relu = (d->epilogue & EPI_RELU) && !knob("FAKE_CUBLASLT_NORELU");
	int bias = (d->epilogue & EPI_BIAS) != 0;
	if (bias && d->bias == NULL) return ST_INVALID_VALUE;
	int btype = d->bias_type >= 0 ? d->bias_type : (dl->type == R_8I ? d->scale : dl->type);
	/* op(A) row i and op(B) column j, converted once and laid out along k,
	 * so that each result is one dot product of contiguous values; the dot
	 * products use 8 partial sums (the order a GPU sums in is not k's
	 * either), which lets the compiler vectorise them. */
	int isint = d->compute == COMPUTE_32I;
	uint64_t scheme = ((const uint64_t *)algo)[1]; /* the algo is heur_t.algo */
	int lowp = !isint && knob("FAKE_CUBLASLT_LOWP");
	int off1 = isint && knob("FAKE_CUBLASLT_INT8_OFF1");
	size_t esz = isint ? sizeof(int32_t) : sizeof(float);
	void *ra = malloc(m * k * esz + 1), *rb = malloc(n * k * esz + 1);
	if (ra == NULL || rb == NULL) { free(ra); free(rb); return 3; }
	for (uint64_t i = 0; i < m; i++)
		for (uint64_t p = 0; p < k; p++) {
			int64_t ia = d->transa ? (int64_t)(i * a->ld + p) : (int64_t)(p * a->ld + i);
			if (isint) ((int32_t *)ra)[i * k + p] = (int32_t)load(a->type, A, ia);
			else ((float *)ra)[i * k + p] = lowp ? round_mant((float)load(a->type, A, ia), 3) : (float)load(a->type, A, ia);
		}
	for (uint64_t j = 0; j < n; j++)
		for (uint64_t p = 0; p < k; p++) {
			int64_t ib = d->transb ? (int64_t)(p * b->ld + j) : (int64_t)(j * b->ld + p);
			if (isint) ((int32_t *)rb)[j * k + p] = (int32_t)load(b->type, B, ib);
			else ((float *)rb)[j * k + p] = lowp ? round_mant((float)load(b->type, B, ib), 3) : (float)load(b->type, B, ib);
		}
	for (uint64_t j = 0; j < n; j++) {
		for (uint64_t i = 0; i < m; i++) {
			float accf = 0;
			int32_t acci = 0;
			if (isint) {
				const int32_t *x = (const int32_t *)ra + i * k, *y = (const int32_t *)rb + j * k;
				int32_t s[8] = {0};
				uint64_t p = 0;
				for (; p + 8 <= k; p += 8)
					for (int q = 0; q < 8; q++) s[q] += x[p + q] * y[p + q];
				for (; p < k; p++) s[0] += x[p] * y[p];
				for (int q = 0; q < 8; q++) acci += s[q];
				if (off1 && i == 0 && j == 0) acci += 1;
			} else {
				const float *x = (const float *)ra + i * k, *y = (const float *)rb + j * k;
				if (scheme != RED_NONE) {
					/* split-K: two halves of k, each summed in fp32; an
					 * output-type scheme keeps each partial sum in D's type. */
					float part[2] = {0, 0};
					for (uint64_t p = 0; p < k; p++) part[p >= k / 2] += x[p] * y[p];
					if (scheme != RED_COMPUTE_TYPE)
						for (int q = 0; q < 2; q++) part[q] = round_to(dl->type, part[q]);
					accf = part[0] + part[1];
				} else if (lowp) {
					/* The products of 4-bit significands are exact in
					 * bf16's 8; each sum is rounded to bf16. */
					float s[8] = {0};
					uint64_t p = 0;
					for (; p + 8 <= k; p += 8)
						for (int q = 0; q < 8; q++) s[q] = round_to(R_16BF, s[q] + x[p + q] * y[p + q]);
					for (; p < k; p++) s[0] = round_to(R_16BF, s[0] + x[p] * y[p]);
					for (int q = 1; q < 8; q++) s[0] = round_to(R_16BF, s[0] + s[q]);
					accf = s[0];
				} else {
					float s[8] = {0};
					uint64_t p = 0;
					for (; p + 8 <= k; p += 8)
						for (int q = 0; q < 8; q++) s[q] += x[p + q] * y[p + q];
					for (; p < k; p++) s[0] += x[p] * y[p];
					accf = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
				}
			}
			int64_t io = (int64_t)(j * dl->ld + i);
			if (integer) {
				int32_t al = vec ? ((const int32_t *)alpha)[i] : *(const int32_t *)alpha;
				int32_t v = al * acci;
				if (bet != 0) v += (int32_t)bet * (int32_t)load(dl->type, C, io);
				store(dl->type, D, io, 0, v, 1);
				continue;
			}
			float al = vec ? ((const float *)alpha)[i] : *(const float *)alpha;
			float v = isint ? al * (float)acci : al * accf;
			if (bet != 0) v += (float)bet * (float)load(dl->type, C, io);
			if (bias) v += (float)load(btype, d->bias, (int64_t)i);
			if (relu && v < 0) v = 0;
			store(dl->type, D, io, v, 0, 0);
		}
	}
	free(ra);
	free(rb);
	return ST_SUCCESS;
}
