#!/usr/bin/env bash
# compare.sh: joulebench's gemm workload against the same CBLAS called
# directly from C (cref.c), at the same N, thread count and OpenBLAS kernel,
# making the same calls (C <- A*B + C, folded into a bank as often as the
# Go side says it folds).
#
# Usage (from anywhere in the repository):
#   workloads/gemm/cref/compare.sh
#   N=4096 THREADS=4 COUNT=10 BLAS=/opt/OpenBLAS/lib/libopenblas.so workloads/gemm/cref/compare.sh
#
# Settings (environment):
#   N          matrix size                             (2048)
#   THREADS    BLAS threads, both sides                (2)
#   COUNT      runs per side and precision             (6: benchstat's
#              confidence intervals need at least 6)
#   PRECS      precisions                              ("fp64 fp32")
#   BLAS       library both sides dlopen               (libopenblas.so.0)
#   BENCHTIME  seconds per run                         (1)
#   OUT        where c.txt and go.txt go               (a new temp dir)
#   OPENBLAS_CORETYPE  if set, both sides use it; if not, the C side is
#              given the kernel the Go side reports it ran (corename), so
#              both run the same kernel either way.
#   BENCHSTAT  benchstat command (go run golang.org/x/perf/cmd/benchstat@...)
#
# Runs alternate Go and C, one run each at a time, so that drift (thermal,
# neighbours on a VM) hits both alike. Prints benchstat's comparison, then
# the Go/C ratio of median GFLOP/s per benchmark, and exits 1 if any ratio
# is below 0.90 (the target).
set -euo pipefail

N=${N:-2048}
THREADS=${THREADS:-2}
COUNT=${COUNT:-6}
PRECS=${PRECS:-"fp64 fp32"}
BLAS=${BLAS:-libopenblas.so.0}
BENCHTIME=${BENCHTIME:-1}
BENCHSTAT=${BENCHSTAT:-"go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"}
OUT=${OUT:-$(mktemp -d -t joulebench-gemm-compare.XXXXXX)}
mkdir -p "$OUT"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)

echo "building cref and the gemm test binary in $OUT" >&2
gcc -O2 -o "$OUT/cref" "$here/cref.c" -ldl
(cd "$root" && go test -c -o "$OUT/gemm.test" ./workloads/gemm)

: >"$OUT/go.txt"
: >"$OUT/c.txt"
: >"$OUT/kernels.txt"
for ((i = 1; i <= COUNT; i++)); do
	for prec in $PRECS; do
		"$OUT/gemm.test" -test.run '^$' -test.bench "^BenchmarkGEMM\$/^prec=$prec\$/^n=$N\$" \
			-test.count 1 -test.benchtime "${BENCHTIME}s" \
			-blas "$BLAS" -threads "$THREADS" >"$OUT/go.run" 2>&1 || { cat "$OUT/go.run" >&2; exit 1; }
		grep -q "^BenchmarkGEMM/prec=$prec/n=$N" "$OUT/go.run" || { echo "Go side ran no benchmark:" >&2; cat "$OUT/go.run" >&2; exit 1; }
		cat "$OUT/go.run" >>"$OUT/go.txt"
		gocore=$(sed -n 's/.*corename=\([^ ]*\).*/\1/p' "$OUT/go.run" | head -n1)
		gofold=$(sed -n 's/.*fold_every=\([0-9]*\).*/\1/p' "$OUT/go.run" | head -n1)
		if [[ -n ${OPENBLAS_CORETYPE:-} ]]; then
			ccore=$OPENBLAS_CORETYPE
		else
			ccore=$gocore
		fi
		gocpu=$(sed -n 's/^cpu: //p' "$OUT/go.run" | head -n1)
		OPENBLAS_CORETYPE=$ccore "$OUT/cref" -lib "$BLAS" -threads "$THREADS" -prec "$prec" -n "$N" \
			-cpu "$gocpu" -fold "${gofold:-0}" -count 1 -benchtime "$BENCHTIME" >>"$OUT/c.txt" 2>"$OUT/c.err" || { cat "$OUT/c.err" >&2; exit 1; }
		crefcore=$(sed -n 's/.*corename=\([^ ]*\).*/\1/p' "$OUT/c.err" | head -n1)
		echo "$prec go=$gocore c=$crefcore" >>"$OUT/kernels.txt"
		if [[ $gocore != "$crefcore" ]]; then
			echo "kernels differ: Go ran $gocore, C ran $crefcore" >&2
			exit 1
		fi
	done
done

echo "library: $(sed -n 's/.*library=\([^ ]*\).*/\1/p' "$OUT/c.err" | head -n1)"
echo "kernels (Go, C): $(sort -u "$OUT/kernels.txt" | tr '\n' ';')"
echo "threads: $THREADS   N: $N   runs: $COUNT per side"
echo
cd "$OUT"
$BENCHSTAT c.txt go.txt
echo
# Median GFLOP/s per benchmark and side, and their ratio.
awk -v target=0.90 '
	FNR == 1 { side = (FILENAME == "c.txt") ? "c" : "go" }
	/^BenchmarkGEMM\// { for (i = 1; i <= NF; i++) if ($i == "GFLOP/s") v[$1, side, ++k[$1, side]] = $(i - 1); names[$1] = 1 }
	function median(name, s,   n, i, j, t, a) {
		n = k[name, s]
		for (i = 1; i <= n; i++) a[i] = v[name, s, i]
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		fail = 0
		printf "%-36s %10s %10s %8s\n", "benchmark", "C GFLOP/s", "Go GFLOP/s", "Go/C"
		for (name in names) {
			c = median(name, "c"); g = median(name, "go"); r = g / c
			printf "%-36s %10.2f %10.2f %8.3f %s\n", name, c, g, r, (r >= target ? "ok" : "BELOW " target)
			if (r < target) fail = 1
		}
		exit fail
	}' c.txt go.txt
