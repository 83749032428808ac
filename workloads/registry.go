package workloads

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Options are run-wide settings a workload factory may use.
type Options struct {
	// BLAS is the path of a CBLAS library to load, "" for the default
	// search, or "gonum" for the pure-Go implementation.
	BLAS string
	// BLASCoreType picks OpenBLAS's kernel: "" or "auto" lets joulebench
	// decide, "library" leaves it to OpenBLAS, anything else is passed as
	// OPENBLAS_CORETYPE.
	BLASCoreType string
	// Threads is the thread count for the workload, 0 for all logical CPUs.
	Threads int
	// Seed is drawn afresh for each run (crypto/rand) and recorded: the
	// answer checks' random vectors and the fresh inputs of each
	// repetition come from it, so no library can know them in advance.
	// Zero is allowed (tests) and means a fixed seed.
	Seed uint64
	// CUDALibDir, when set, is the only directory the GPU workloads load
	// the CUDA runtime, cuBLAS and cuBLASLt from (--cuda-lib-dir); empty
	// means the system's search (LD_LIBRARY_PATH, then the loader's).
	CUDALibDir string
}

// Factory makes the workload with the given name, or reports that the name
// is malformed.
type Factory func(name string, opts Options) (Workload, error)

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
	known     = map[string][]string{}
)

// Register makes the workloads whose names start with prefix available, and
// lists the standard names under that prefix. It is called from the init
// functions of workload packages.
func Register(prefix string, f Factory, names ...string) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[prefix]; dup {
		panic("workloads: duplicate registration of " + prefix)
	}
	factories[prefix] = f
	known[prefix] = names
}

// New makes the workload called name.
func New(name string, opts Options) (Workload, error) {
	mu.RLock()
	defer mu.RUnlock()
	best := ""
	for p := range factories {
		if strings.HasPrefix(name, p) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return nil, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(namesLocked(), ", "))
	}
	return factories[best](name, opts)
}

// Names lists every standard workload name, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	var out []string
	for _, n := range known {
		out = append(out, n...)
	}
	sort.Strings(out)
	return out
}
