package gemm

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// cpuinfoPath is where the CPU's feature flags are read from; a loader
// carries its own path, so tests point theirs at a fixture.
const cpuinfoPath = "/proc/cpuinfo"

// avx512Flags are the AVX-512 subsets OpenBLAS's SkylakeX kernels use. A CPU
// with all five can run them.
var avx512Flags = []string{"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}

// avx512CoreTypes are the OPENBLAS_CORETYPE values whose kernels need
// AVX-512; forcing one of them on a CPU without it kills the process with
// SIGILL inside the library, so it is refused before loading.
var avx512CoreTypes = map[string]bool{"skylakex": true, "cooperlake": true, "sapphirerapids": true}

// Sources of the OPENBLAS_CORETYPE in effect, as recorded in Info.
const (
	sourceEnvironment = "environment"
	sourceAutoAVX512  = "joulebench auto: AVX-512 CPU"
	sourceAutoLibrary = "joulebench auto: left to library (no AVX-512)"
	sourceLibrary     = "library"
	sourceFlag        = "--blas-coretype"
)

// coreTypeDecision is what OPENBLAS_CORETYPE should hold while the library
// is loaded, and why.
type coreTypeDecision struct {
	// Value is the OPENBLAS_CORETYPE to have in the environment at load;
	// "" means unset, so that OpenBLAS detects the CPU itself.
	Value string
	// Source says who chose Value (one of the source constants).
	Source string
	// Ignored is an OPENBLAS_CORETYPE from the environment that was hidden
	// from the library because the user asked for the library's own choice.
	Ignored string
}

// forced reports whether the kernel was chosen for OpenBLAS rather than by it.
func (d coreTypeDecision) forced() bool { return d.Value != "" }

// decideCoreType picks OPENBLAS_CORETYPE from the --blas-coretype option,
// the environment's OPENBLAS_CORETYPE (env, present when envSet) and the
// CPU's flags. It is a pure function so that every case can be tested
// without touching the process environment or the real CPU.
//
// The auto rule: on a CPU with AVX-512 (F, CD, BW, DQ, VL) joulebench asks for
// SkylakeX. SkylakeX is OpenBLAS's AVX-512 SGEMM/DGEMM kernel; the Cooperlake
// and SapphireRapids targets reuse it and differ only in their bf16 paths, so
// on a CPU OpenBLAS knows, SkylakeX is what it would pick anyway for fp32 and
// fp64. On an AVX-512 CPU it does not know (Zen 5 for OpenBLAS 0.3.21) it
// falls back to Haswell's AVX2 kernel, about 1.7x slower there: a figure that
// describes the library's CPU table, not the hardware. A user who wants the
// library's own choice (a newer OpenBLAS with a better kernel for the CPU, or
// a kernel that fails the answer check) says --blas-coretype library; one
// who wants another kernel names it, or sets OPENBLAS_CORETYPE, which auto
// respects.
func decideCoreType(opt, env string, envSet bool, flags map[string]bool) (coreTypeDecision, error) {
	switch strings.TrimSpace(opt) {
	case "", "auto":
		if envSet && env != "" {
			// The environment's kernel is checked as the flag's is: a
			// SkylakeX left in a shell profile on a machine without
			// AVX-512 would otherwise kill the run inside OpenBLAS.
			if avx512Kernel(env, flags) {
				return coreTypeDecision{}, fmt.Errorf("%s=%s (from the environment) needs AVX-512 (%s), which this CPU lacks; OpenBLAS would die with SIGILL: unset %s, set it to a kernel this CPU can run (such as Haswell), or pass --blas-coretype library to hide it from OpenBLAS",
					coreTypeEnv, env, strings.Join(avx512Flags, ", "), coreTypeEnv)
			}
			return coreTypeDecision{Value: env, Source: sourceEnvironment}, nil
		}
		if cpuISA(flags) == "avx512" {
			return coreTypeDecision{Value: "SkylakeX", Source: sourceAutoAVX512}, nil
		}
		return coreTypeDecision{Source: sourceAutoLibrary}, nil
	case "library":
		d := coreTypeDecision{Source: sourceLibrary}
		if envSet && env != "" {
			d.Ignored = env
		}
		return d, nil
	default:
		v := strings.TrimSpace(opt)
		if avx512Kernel(v, flags) {
			return coreTypeDecision{}, fmt.Errorf("--blas-coretype %s needs AVX-512 (%s), which this CPU lacks; OpenBLAS would die with SIGILL", v, strings.Join(avx512Flags, ", "))
		}
		return coreTypeDecision{Value: v, Source: sourceFlag}, nil
	}
}

// avx512Kernel reports whether kernel needs AVX-512 and the CPU, known from
// its flags, lacks it. With no flags (cpuinfo unreadable) nothing is
// refused: the CPU is unknown, not known to lack AVX-512.
func avx512Kernel(kernel string, flags map[string]bool) bool {
	return avx512CoreTypes[strings.ToLower(strings.TrimSpace(kernel))] && len(flags) > 0 && cpuISA(flags) != "avx512"
}

// cpuISA names the widest vector instruction set the flags show, as
// recorded in Info: "avx512", "avx2", "avx", "sse2" on x86, "sve" or
// "asimd" on Arm, or "unknown".
func cpuISA(flags map[string]bool) string {
	all := func(names ...string) bool {
		for _, n := range names {
			if !flags[n] {
				return false
			}
		}
		return len(names) > 0
	}
	switch {
	case all(avx512Flags...):
		return "avx512"
	case all("avx2", "fma"):
		return "avx2"
	case flags["avx"]:
		return "avx"
	case flags["sse2"]:
		return "sse2"
	case flags["sve"]:
		return "sve"
	case flags["asimd"]:
		return "asimd"
	}
	return "unknown"
}

// readCPUFlags reads the feature flags of the first CPU listed in a
// /proc/cpuinfo-format file: the "flags" line on x86, "Features" on Arm.
func readCPUFlags(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read CPU flags: %w", err)
	}
	defer f.Close()
	return parseCPUFlags(f)
}

// parseCPUFlags is readCPUFlags on an open file. All CPUs of a machine are
// assumed to share one instruction set, which holds for the machines
// OpenBLAS's kernel choice applies to (it too looks at one CPU).
func parseCPUFlags(r io.Reader) (map[string]bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if key != "flags" && key != "Features" {
			continue
		}
		flags := map[string]bool{}
		for _, f := range strings.Fields(val) {
			flags[f] = true
		}
		return flags, nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read CPU flags: %w", err)
	}
	return nil, fmt.Errorf("read CPU flags: no flags or Features line")
}
