// cref calls a CBLAS library's cblas_dgemm/cblas_sgemm directly from C, the
// way joulebench's gemm workload (version 2) does (dlopen, row-major,
// NoTrans, alpha 1, beta 1: C <- A*B + C, square N, and every -fold calls C
// added into a double bank and zeroed, as the workload's fold does), and
// prints Go benchmark lines under the same names as BenchmarkGEMM, so that
// benchstat compares the two directly:
//
//   BenchmarkGEMM/prec=fp64/n=2048-2   5   190000000 ns/op   90.4 GFLOP/s
//
// It is the reference for the target "joulebench reaches at least 90% of
// the GFLOP/s of the same library called from C". Timing follows
// testing.B.Loop: one untimed warm-up call, then calls until -benchtime has
// passed, reporting the mean over all of them.
//
// Build: gcc -O2 -o cref cref.c -ldl
// Usage: cref -lib libopenblas.so.0 -threads 2 -prec fp64 -n 2048 -count 5
//             [-benchtime 1] [-procs P] [-cpu NAME] [-fold M]
// -procs is the -P suffix on the name; Go uses GOMAXPROCS, by default the
// number of CPUs this process may run on, and so does cref. -cpu is the
// cpu: line (default: /proc/cpuinfo's model name); benchstat puts files
// with different goos/goarch/pkg/cpu lines in different tables. -fold is
// the workload's fold interval (compare.sh passes the one the Go side
// logs; 0, the default, never folds).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// The goos/goarch/pkg lines match the Go side's, so that benchstat puts
// both files in one table.
#if defined(__x86_64__)
#define GOARCH "amd64"
#elif defined(__aarch64__)
#define GOARCH "arm64"
#else
#define GOARCH "unknown"
#endif

typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int);
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*set_int_fn)(int);
typedef int (*get_int_fn)(void);
typedef char *(*get_str_fn)(void);

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// splitmix64: any fixed fill does; values in [-1, 1) like joulebench's.
static uint64_t rng_state = 0x6a6f756c65;
static double uniform(void) {
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return 2.0 * (double)(z >> 11) * 0x1p-53 - 1.0;
}

// fold_c adds C into the bank and zeroes C, as the workload's fold does.
static void fold_c(int fp64, void *c, double *bank, size_t nn) {
	for (size_t i = 0; i < nn; i++) {
		bank[i] += fp64 ? ((double *)c)[i] : (double)((float *)c)[i];
	}
	memset(c, 0, nn * (fp64 ? sizeof(double) : sizeof(float)));
}

static void *must_alloc(size_t bytes) {
	void *p = NULL;
	if (posix_memalign(&p, 4096, bytes) != 0) {
		fprintf(stderr, "cref: out of memory (%zu bytes)\n", bytes);
		exit(1);
	}
	return p;
}

// model_name is /proc/cpuinfo's "model name", which is what Go prints as
// cpu: on most machines (compare.sh passes Go's own line with -cpu).
static const char *model_name(char *buf, size_t len) {
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[1024];
	if (f == NULL) return "";
	while (fgets(line, sizeof line, f) != NULL) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			colon++;
			while (*colon == ' ' || *colon == '\t') colon++;
			colon[strcspn(colon, "\n")] = 0;
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	fclose(f);
	return buf;
}

static void usage(void) {
	fprintf(stderr, "usage: cref -lib LIB -threads T -prec fp64|fp32 -n N [-count C] [-benchtime SECONDS] [-procs P] [-cpu NAME] [-fold M]\n");
	exit(2);
}

int main(int argc, char **argv) {
	const char *lib = "libopenblas.so.0", *prec = "fp64", *cpu = NULL;
	int threads = 0, n = 2048, count = 1, procs = 0, fold = 0;
	double benchtime = 1.0;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc) usage();
		const char *k = argv[i], *v = argv[++i];
		if (!strcmp(k, "-lib")) lib = v;
		else if (!strcmp(k, "-threads")) threads = atoi(v);
		else if (!strcmp(k, "-prec")) prec = v;
		else if (!strcmp(k, "-n")) n = atoi(v);
		else if (!strcmp(k, "-count")) count = atoi(v);
		else if (!strcmp(k, "-benchtime")) benchtime = atof(v);
		else if (!strcmp(k, "-procs")) procs = atoi(v);
		else if (!strcmp(k, "-cpu")) cpu = v;
		else if (!strcmp(k, "-fold")) fold = atoi(v);
		else usage();
	}
	int fp64 = !strcmp(prec, "fp64");
	if ((!fp64 && strcmp(prec, "fp32")) || n < 1 || count < 1 || benchtime <= 0 || fold < 0) usage();
	if (procs <= 0) {
		cpu_set_t set;
		procs = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
	}
	if (threads <= 0) threads = procs;

	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "cref: dlopen %s: %s\n", lib, dlerror());
		return 1;
	}
	dgemm_fn dgemm = (dgemm_fn)dlsym(h, "cblas_dgemm");
	sgemm_fn sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
	if (dgemm == NULL || sgemm == NULL) {
		fprintf(stderr, "cref: %s has no cblas_dgemm/cblas_sgemm\n", lib);
		return 1;
	}
	set_int_fn set_threads = (set_int_fn)dlsym(h, "openblas_set_num_threads");
	get_int_fn get_threads = (get_int_fn)dlsym(h, "openblas_get_num_threads");
	get_str_fn corename = (get_str_fn)dlsym(h, "openblas_get_corename");
	get_str_fn config = (get_str_fn)dlsym(h, "openblas_get_config");
	if (set_threads != NULL) set_threads(threads);
	Dl_info info;
	const char *file = dladdr((void *)dgemm, &info) && info.dli_fname ? info.dli_fname : lib;
	char *real = realpath(file, NULL);
	// On stderr, so that the benchmark output stays benchstat input.
	fprintf(stderr, "cref: library=%s config=%s corename=%s threads=%d\n",
		real ? real : file, config ? config() : "?", corename ? corename() : "?",
		get_threads ? get_threads() : -1);

	size_t nn = (size_t)n * (size_t)n, esz = fp64 ? sizeof(double) : sizeof(float);
	void *a = must_alloc(nn * esz), *b = must_alloc(nn * esz), *c = must_alloc(nn * esz);
	double *bank = must_alloc(nn * sizeof(double));
	memset(bank, 0, nn * sizeof(double));
	for (size_t i = 0; i < nn; i++) {
		if (fp64) {
			((double *)a)[i] = uniform();
		} else {
			((float *)a)[i] = (float)uniform();
		}
	}
	for (size_t i = 0; i < nn; i++) {
		if (fp64) {
			((double *)b)[i] = uniform();
		} else {
			((float *)b)[i] = (float)uniform();
		}
	}
	memset(c, 0, nn * esz);

	// 101 = CblasRowMajor, 111 = CblasNoTrans. in_c counts the calls
	// accumulated in C since the last fold.
	long in_c = 0;
#define CALL()                                                                          \
	do {                                                                            \
		if (fp64)                                                               \
			dgemm(101, 111, 111, n, n, n, 1.0, a, n, b, n, 1.0, c, n);      \
		else                                                                    \
			sgemm(101, 111, 111, n, n, n, 1.0f, a, n, b, n, 1.0f, c, n);    \
		if (fold > 0 && ++in_c == fold) {                                       \
			fold_c(fp64, c, bank, nn);                                      \
			in_c = 0;                                                       \
		}                                                                       \
	} while (0)

	CALL(); // warm-up: page faults, thread pool start
	printf("goos: linux\ngoarch: %s\npkg: github.com/joulebench/joulebench/workloads/gemm\n", GOARCH);
	char model[256] = "";
	if (cpu == NULL) {
		cpu = model_name(model, sizeof model);
	}
	if (*cpu != 0) { // Go prints no cpu: line when it cannot tell
		printf("cpu: %s\n", cpu);
	}
	double flops = 2.0 * (double)n * (double)n * (double)n;
	for (int r = 0; r < count; r++) {
		long iters = 0;
		double t0 = now(), dt;
		do {
			CALL();
			iters++;
			dt = now() - t0;
		} while (dt < benchtime);
		printf("BenchmarkGEMM/prec=%s/n=%d-%d\t%8ld\t%14.0f ns/op\t%10.2f GFLOP/s\n",
			prec, n, procs, iters, dt * 1e9 / (double)iters, flops * (double)iters / dt / 1e9);
		fflush(stdout);
	}
	// A sum of C keeps the calls from being optimised away, and makes a
	// broken library visible.
	double sum = 0;
	for (size_t i = 0; i < nn; i += n + 1) sum += bank[i] + (fp64 ? ((double *)c)[i] : ((float *)c)[i]);
	fprintf(stderr, "cref: trace sample %g\n", sum);
	return 0;
}
