# joulebench — see README.md. Targets install what they need on Debian/Ubuntu.

GO        ?= go
BIN       := bin/joulebench
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
LDFLAGS   := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# gcc and libc6-dev let cgo load the system BLAS at run time; without a C
# compiler Go silently builds without cgo and GEMM falls back to pure Go.
# jq and openssl let the test suite check certificates the way the README
# tells people to, without joulebench. libdnnl-dev is oneDNN, the int8 and
# bf16 kernels of the model workloads (loaded at run time; its headers are
# needed at build time).
APT_PKGS  := gcc libc6-dev libopenblas-dev libdnnl-dev jq openssl
# chromium renders the HTML report in a real browser in the test suite
# (results/report's chromedp test); slurm-wlm and munge run a real Slurm
# for deploy/'s sbatch test. Only `make test` installs them.
TEST_PKGS := chromium slurm-wlm munge
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
# cosign is not a dependency: `make cosign-check` builds it (about 5 minutes,
# from the Go module proxy) to show a certificate verifies without joulebench.
COSIGN      := github.com/sigstore/cosign/v2/cmd/cosign@v2.4.1

export CGO_ENABLED := 1
# go-nvml's generated bindings call NVML functions NVIDIA has marked
# deprecated (kept for older drivers); the C compiler's warnings about it
# are noise on every fresh build.
export CGO_CFLAGS ?= -O2 -g -Wno-deprecated-declarations

.PHONY: all deps test-deps build demo test bench lint fuzz cosign-check clean models

all: build

## deps: install the system packages joulebench needs (apt; as root or via sudo)
deps:
	@if ! command -v dpkg >/dev/null 2>&1; then \
		echo "deps: not a Debian-like system; install a C compiler and OpenBLAS yourself"; exit 0; fi; \
	missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "deps: installing$$missing"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	else echo "deps: need root to install$$missing (apt-get install$$missing)"; exit 1; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null

build: deps
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/joulebench

## demo: the quick suite on whatever meters this machine has; report in results/
demo: build
	./$(BIN) meters
	./$(BIN) run --suite quick --out results

## models: train the reference MNIST models under the meters (a record in
## results/) and derive the compressed variants into workloads/model/weights;
## the next build has them built in. Minutes on a 2-core machine.
models: build
	./$(BIN) train --models workloads/model/weights --out results
	$(MAKE) build

## test-deps: what the test suite needs beyond deps (a headless browser, Slurm)
test-deps: deps
	@if ! command -v dpkg >/dev/null 2>&1; then exit 0; fi; \
	missing=""; for p in $(TEST_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "test-deps: installing$$missing"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	else echo "test-deps: no root to install$$missing; the browser and Slurm tests will say they are skipped"; exit 0; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
	echo "test-deps: could not install$$missing; the browser and Slurm tests will say they are skipped"

## test: the whole test suite (race detector on the concurrent packages)
test: test-deps
	$(GO) vet ./...
	$(GO) test -race -count=1 ./harness/...
	$(GO) test -count=1 ./...

## bench: GEMM throughput, C reference vs joulebench, and the sampler's cost
bench: build
	$(GO) test -run '^$$' -bench 'SamplerPaired|EstimateRead' -benchtime 40x -count 6 ./harness/ | tee bench-harness.txt
	bash workloads/gemm/cref/compare.sh

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## fuzz: a short run of every fuzz target
fuzz: deps
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
		done; done

## cosign-check: build cosign into bin/ and verify certificates with it
cosign-check:
	GOBIN=$(CURDIR)/bin $(GO) install $(COSIGN)
	PATH=$(CURDIR)/bin:$$PATH $(GO) test -count=1 -run '^TestCosignVerifies$$' -v ./certify

clean:
	rm -rf bin
