#!/usr/bin/env bash
# gpu-check.sh: one call on a GPU machine checks joulebench's GPU side and
# prints its figures, in about 5 minutes on one H200:
#   1. builds joulebench (or uses bin/joulebench when Go or its modules are
#      not there: build it elsewhere with `make build` and copy bin/);
#   2. finds the CUDA runtime and cuBLAS (the system's, /usr/local/cuda, or
#      the nvidia-* pip wheels PyTorch installs) and says which;
#   3. lists the meters (NVML with each GPU's name, driver, power limit);
#   4. runs the gpu suite under NVML: cuBLAS GEMM in six precisions and the
#      MNIST MLP on the GPU in fp32, fp16, bf16 and int8;
#   5. times cuBLAS called directly for each GEMM of the run and prints the
#      run's throughput against it, and GFLOPS/W from NVML.
# Usage: scripts/gpu-check.sh [OUT_DIR]   (default results-gpu)
# To try the script itself on a machine without a GPU (cmd/joulebench's
# TestGPUCheckScript does, on fake CUDA libraries), give other meters, suite and CUDA libraries (fake ones) in the
# environment: GPU_CHECK_METER (default nvml), GPU_CHECK_SUITE (default gpu),
# GPU_CHECK_CUDA_LIB_DIR (default: the loader's search).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results-gpu}
jb=bin/joulebench
t0=$(date +%s)

step() { printf '\n== %s (%ds)\n' "$*" "$(( $(date +%s) - t0 ))"; }

step "build"
if command -v go >/dev/null 2>&1 && CGO_ENABLED=1 GOFLAGS=-mod=mod go build -trimpath -o "$jb.new" ./cmd/joulebench 2>/tmp/gpu-check-build.log; then
	mv "$jb.new" "$jb"
	echo "built $jb with $(go version)"
elif [ -x "$jb" ]; then
	echo "could not build here ($(tail -1 /tmp/gpu-check-build.log 2>/dev/null || echo 'no Go toolchain')); using the prebuilt $jb"
else
	echo "gpu-check: no Go toolchain that can build here and no prebuilt $jb; run 'make build' on another machine and copy bin/" >&2
	exit 2
fi
"$jb" version

step "CUDA libraries"
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so'; then
	# Not on the loader's path: look where CUDA and PyTorch's wheels put them.
	for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/*/lib \
		$(python3 -c 'import site,glob;print(" ".join(d for p in site.getsitepackages() for d in glob.glob(p+"/nvidia/*/lib")))' 2>/dev/null); do
		if [ -d "$d" ]; then LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
	done
	export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"
fi
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
if command -v nvidia-smi >/dev/null 2>&1; then
	nvidia-smi --query-gpu=index,name,driver_version,power.limit,clocks.max.sm --format=csv || true
fi

step "meters"
"$jb" meters

meter=${GPU_CHECK_METER:-nvml}
suite=${GPU_CHECK_SUITE:-gpu}
cudaflag=()
if [ -n "${GPU_CHECK_CUDA_LIB_DIR:-}" ]; then cudaflag=(--cuda-lib-dir "$GPU_CHECK_CUDA_LIB_DIR"); fi

step "suite $suite under --meter $meter"
"$jb" run --suite "$suite" --meter "$meter" --out "$out" --wide "${cudaflag[@]}"
rec=$(ls -td "$out"/*/ | head -1)record.json

step "cuBLAS called directly, against the run"
"$jb" gpu-baseline --record "$rec" --time "${GPU_CHECK_BASELINE_TIME:-3s}" "${cudaflag[@]}"

step "done"
echo "record: $rec"
echo "report: $(dirname "$rec")/report.html"
