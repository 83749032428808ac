package gemm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/joulebench/joulebench/workloads"
)

// GonumWarning is Info["warning"] whenever the pure-Go gonum BLAS does the
// work, so that no record or table passes its figure off as the hardware's.
const GonumWarning = "pure-Go gonum BLAS: figures describe joulebench's own code, not this hardware's best; install libopenblas (make deps) for a hardware figure"

// defaultLibraries are tried in order when no --blas is given: OpenBLAS
// first (the reference the targets are set against), then BLIS and MKL,
// then whatever Debian's BLAS alternatives point at.
var defaultLibraries = []string{
	"libopenblas.so.0",
	"libopenblas.so",
	"libblis.so.4",
	"libmkl_rt.so.2",
	"libmkl_rt.so",
	"libcblas.so.3",
	"libblas.so.3",
}

// provider does the matrix products for a workload.
type provider interface {
	// dgemm and sgemm accumulate c ← a·b + c for row-major n×n matrices
	// (alpha 1, beta 1).
	dgemm(n int, a, b, c []float64)
	sgemm(n int, a, b, c []float32)
	// info says what does the work: provider, library, version, threads...
	info() map[string]string
	// begin readies the provider for a Run: the thread count is process
	// wide in every BLAS, and another workload may have changed it.
	begin()
	// coreType is the OpenBLAS kernel decision in effect, zero for other
	// providers; a failed check uses it to suggest a way out.
	coreType() coreTypeDecision
}

// cblasLibrary is a loaded system CBLAS. The cgo build implements it with
// dlopen; without cgo none can be loaded.
type cblasLibrary interface {
	// provider is "openblas", "blis", "mkl" or "cblas", from the symbols
	// the library exports.
	provider() string
	// path is the file the CBLAS symbols were found in, symlinks resolved.
	path() string
	// dgemm and sgemm set c ← a·b + beta·c (alpha 1) with the given thread
	// count where the library has a way to set it. The workload always
	// passes beta 1; the beta 0 call is there for BenchmarkBeta.
	dgemm(n, threads int, beta float64, a, b, c []float64)
	sgemm(n, threads int, beta float32, a, b, c []float32)
	// setThreads asks for n threads and returns the count in effect, 0
	// when the library cannot say.
	setThreads(n int) int
	// describe returns version, config and (OpenBLAS) corename.
	describe() map[string]string
}

// loader picks and loads the provider for a set of options. Its parts are
// fields so that tests can replace the system's libraries, CPU and
// environment.
type loader struct {
	// named loads one library by name or path, search tries
	// defaultLibraries; both keep to one library per process.
	named  func(name string, d coreTypeDecision) (cblasLibrary, coreTypeDecision, error)
	search func(d coreTypeDecision) (cblasLibrary, coreTypeDecision, error)
	// cpuinfo is a /proc/cpuinfo-format file.
	cpuinfo string
	// lookupEnv reads the environment (os.LookupEnv).
	lookupEnv func(string) (string, bool)
}

func systemLoader() loader {
	return loader{named: loadNamed, search: loadDefault, cpuinfo: cpuinfoPath, lookupEnv: os.LookupEnv}
}

// load returns the provider opts ask for: the CBLAS at opts.BLAS, gonum for
// "gonum", or for "" the first of defaultLibraries that loads, else gonum
// with the reason in Info.
func (l loader) load(opts workloads.Options) (provider, error) {
	threads := opts.Threads
	if threads < 0 {
		return nil, fmt.Errorf("threads %d: must be 0 (all CPUs) or more", threads)
	}
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	// An unreadable cpuinfo (another OS, a container) only costs the auto
	// kernel choice; it is not a reason to refuse to run.
	flags, _ := readCPUFlags(l.cpuinfo)
	isa := cpuISA(flags)
	if opts.BLAS == "gonum" {
		return newGonumProvider(threads, isa, ""), nil
	}
	env, envSet := l.lookupEnv(coreTypeEnv)
	d, err := decideCoreType(opts.BLASCoreType, env, envSet, flags)
	if err != nil {
		return nil, err
	}
	var lib cblasLibrary
	if opts.BLAS == "" {
		lib, d, err = l.search(d)
		if errors.Is(err, errNoCBLAS) {
			return newGonumProvider(threads, isa, err.Error()), nil
		}
		if err != nil {
			// A library is there but cannot be used as asked (another is
			// loaded, or its kernel is fixed): gonum would hide that.
			return nil, err
		}
	} else {
		// The user named a library: failing to load it is an error, never a
		// quiet fallback to something else.
		lib, d, err = l.named(opts.BLAS, d)
		if err != nil {
			return nil, err
		}
	}
	p := &cblasProvider{lib: lib, threads: threads, isa: isa, decision: d}
	p.actual = lib.setThreads(threads)
	return p, nil
}

// coreTypeEnv is read by OpenBLAS once, in its constructor, at load.
const coreTypeEnv = "OPENBLAS_CORETYPE"

// errNoCBLAS is the default search finding no CBLAS at all, the one
// failure that falls back to gonum.
var errNoCBLAS = errors.New("no system CBLAS found")

// process holds the one CBLAS library this process has loaded. Two BLAS
// libraries in one process fight over symbols and thread pools, and
// OpenBLAS's kernel is fixed at load, so a library is loaded once and then
// shared by every workload that asks for it.
var process struct {
	sync.Mutex
	lib       cblasLibrary
	requested string
	decision  coreTypeDecision
}

// loadNamed loads the library called name (a path, or a file name for the
// dynamic loader to find) unless it is the one already loaded.
func loadNamed(name string, d coreTypeDecision) (cblasLibrary, coreTypeDecision, error) {
	process.Lock()
	defer process.Unlock()
	if process.lib != nil {
		if !sameLibrary(name, process.requested, process.lib.path()) {
			// A path that is not there is the first thing to fix.
			if strings.Contains(name, "/") {
				if _, err := os.Stat(name); err != nil {
					return nil, d, fmt.Errorf("cblas: load %s: %w", name, err)
				}
			}
			return nil, d, fmt.Errorf("cblas: load %s: %s (%s) is already loaded in this process and only one BLAS can be; run %s in a separate joulebench process", name, process.requested, process.lib.path(), name)
		}
		return reuse(d)
	}
	var lib cblasLibrary
	var err error
	withCoreType(d, func() { lib, err = dlopenCBLAS(name) })
	if err != nil {
		return nil, d, err
	}
	process.lib, process.requested, process.decision = lib, name, d
	return lib, d, nil
}

// loadDefault loads the first of defaultLibraries that has CBLAS, or
// returns the library already loaded.
func loadDefault(d coreTypeDecision) (cblasLibrary, coreTypeDecision, error) {
	process.Lock()
	defer process.Unlock()
	if process.lib != nil {
		return reuse(d)
	}
	var errs []error
	withCoreType(d, func() {
		for _, name := range defaultLibraries {
			lib, err := dlopenCBLAS(name)
			if err == nil {
				process.lib, process.requested, process.decision = lib, name, d
				return
			}
			errs = append(errs, err)
			if errors.Is(err, errors.ErrUnsupported) {
				return // no cgo: no other name will load either
			}
		}
	})
	if process.lib == nil {
		// One line: the reason ends up in Info, and from there in tables.
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, d, fmt.Errorf("%w: %s", errNoCBLAS, strings.Join(msgs, "; "))
	}
	return process.lib, d, nil
}

// reuse returns the loaded library if the kernel asked for is the one it
// loaded with. Called with process locked.
func reuse(d coreTypeDecision) (cblasLibrary, coreTypeDecision, error) {
	if process.lib.provider() == "openblas" && d.Value != process.decision.Value {
		return nil, d, fmt.Errorf("cblas: OpenBLAS was loaded with %s=%q (%s) and reads it only at load; %q needs a separate joulebench process",
			coreTypeEnv, process.decision.Value, process.decision.Source, d.Value)
	}
	// The decision recorded is the one in effect, not the later request.
	return process.lib, process.decision, nil
}

// sameLibrary reports whether name refers to the library loaded as
// requested, found at real.
func sameLibrary(name, requested, real string) bool {
	if name == requested || name == real {
		return true
	}
	if strings.Contains(name, "/") {
		r, err := filepath.EvalSymlinks(name)
		return err == nil && r == real
	}
	// A bare file name: the dynamic loader knows whether it is loaded.
	return loadedPath(name) == real
}

// withCoreType runs load with OPENBLAS_CORETYPE set as d says, then puts
// the environment back, so that commands joulebench runs later (joulebench
// measure -- CMD) inherit the user's environment, not ours. With cgo,
// os.Setenv changes the C environment the library's constructor reads.
func withCoreType(d coreTypeDecision, load func()) {
	old, had := os.LookupEnv(coreTypeEnv)
	if d.Value != "" {
		os.Setenv(coreTypeEnv, d.Value)
	} else {
		os.Unsetenv(coreTypeEnv)
	}
	defer func() {
		if had {
			os.Setenv(coreTypeEnv, old)
		} else {
			os.Unsetenv(coreTypeEnv)
		}
	}()
	load()
}

// cblasProvider is a workload's view of the loaded CBLAS, with its own
// thread count.
type cblasProvider struct {
	lib      cblasLibrary
	threads  int
	actual   int
	isa      string
	decision coreTypeDecision
}

func (p *cblasProvider) dgemm(n int, a, b, c []float64) { p.lib.dgemm(n, p.threads, 1, a, b, c) }
func (p *cblasProvider) sgemm(n int, a, b, c []float32) { p.lib.sgemm(n, p.threads, 1, a, b, c) }

func (p *cblasProvider) begin() {
	if p.lib.provider() != "openblas" { // OpenBLAS's count is set on every call
		p.lib.setThreads(p.threads)
	}
}

func (p *cblasProvider) coreType() coreTypeDecision {
	if p.lib.provider() != "openblas" {
		return coreTypeDecision{}
	}
	return p.decision
}

func (p *cblasProvider) info() map[string]string {
	m := p.lib.describe()
	m["provider"] = p.lib.provider()
	m["library"] = p.lib.path()
	m["threads_requested"] = strconv.Itoa(p.threads)
	if p.actual > 0 {
		m["threads"] = strconv.Itoa(p.actual)
	} else {
		m["threads"] = "unknown (library has no thread-count API)"
	}
	m["cpu_isa"] = p.isa
	if p.lib.provider() == "openblas" {
		m["coretype_source"] = p.decision.Source
		if p.decision.Value != "" {
			m["coretype"] = p.decision.Value
		} else {
			m["coretype"] = "(unset: library's own detection)"
		}
		if p.decision.Ignored != "" {
			m["coretype_note"] = fmt.Sprintf("%s=%s from the environment was hidden from the library (--blas-coretype library)", coreTypeEnv, p.decision.Ignored)
		}
		// OpenBLAS ignores a kernel name it does not know, or cannot run
		// here, and quietly picks its own: say so, so that the record does
		// not claim a kernel that never ran.
		if want, got := p.decision.Value, m["corename"]; want != "" && got != "" && !strings.EqualFold(want, got) {
			m["warning"] = fmt.Sprintf("asked OpenBLAS for kernel %s (%s) but it ran %s: this OpenBLAS does not know that name or cannot run it here", want, p.decision.Source, got)
		}
	}
	return m
}

// gonumProvider is gonum's pure-Go BLAS: always there, and about a seventh
// of OpenBLAS's speed, so its figures describe our code, not the machine.
type gonumProvider struct {
	threads  int
	isa      string
	fallback string
}

func newGonumProvider(threads int, isa, fallback string) *gonumProvider {
	return &gonumProvider{threads: threads, isa: isa, fallback: fallback}
}

func (gonumProvider) dgemm(n int, a, b, c []float64) {
	gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, b, n, 1, c, n)
}

func (gonumProvider) sgemm(n int, a, b, c []float32) {
	gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, b, n, 1, c, n)
}

func (gonumProvider) begin() {}

func (gonumProvider) coreType() coreTypeDecision { return coreTypeDecision{} }

func (p *gonumProvider) info() map[string]string {
	// gonum runs up to GOMAXPROCS goroutines and has no thread setting of
	// its own; changing GOMAXPROCS from a workload would change the whole
	// process (the meter sampler included), so it is reported, not set.
	procs := runtime.GOMAXPROCS(0)
	m := map[string]string{
		"provider":          "gonum",
		"library":           "gonum.org/v1/gonum/blas/gonum (pure Go)",
		"version":           gonumVersion(),
		"threads":           strconv.Itoa(procs),
		"threads_requested": strconv.Itoa(p.threads),
		"cpu_isa":           p.isa,
		"warning":           GonumWarning,
	}
	if procs != p.threads {
		m["threads_note"] = fmt.Sprintf("gonum uses GOMAXPROCS=%d goroutines; set GOMAXPROCS=%d in the environment for %d threads", procs, p.threads, p.threads)
	}
	if p.fallback != "" {
		m["fallback_reason"] = p.fallback
	}
	return m
}

// gonumVersion is the gonum module version built in, from the build info.
func gonumVersion() string {
	const unknown = "unknown (not in build info)"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return unknown
	}
	for _, d := range bi.Deps {
		if d.Path == "gonum.org/v1/gonum" {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return unknown
}
