package harness

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/results"
)

// Fingerprint describes the machine from procRoot (normally /proc) and
// sysfsRoot (normally /sys): what a reader needs to know which hardware a
// record measured. Fields it cannot read are left empty rather than
// guessed; every file is read bounded, and a FIFO or device is not read.
func Fingerprint(procRoot, sysfsRoot string) results.Host {
	h := results.Host{OS: runtime.GOOS, Arch: runtime.GOARCH, LogicalCPUs: runtime.NumCPU()}
	h.Hostname, _ = os.Hostname()
	procHost(procRoot, &h)
	h.MaxMHz = maxMHz(sysfsRoot)
	if b, err := infile.Read(filepath.Join(procRoot, "sys/kernel/osrelease"), infile.MaxSysfsAttr); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := infile.Read("/etc/os-release", infile.MaxSysfsAttr); err == nil {
		if name := osReleaseName(b); name != "" {
			h.OS = runtime.GOOS + " (" + name + ")"
		}
	}
	return h
}

// isaFlags keeps the CPU flags that decide which kernels can run (vector
// and matrix extensions); the full list is long and says little more.
func isaFlags(flags []string) []string {
	var out []string
	for _, f := range flags {
		switch {
		case strings.HasPrefix(f, "avx"), strings.HasPrefix(f, "amx"), f == "fma", f == "sse4_2", f == "f16c",
			f == "asimd", f == "sve", f == "sve2", f == "sme":
			out = append(out, f)
		}
	}
	return out
}

func osReleaseName(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// maxMHz is the highest cpuinfo_max_freq (kHz) of any cpufreq policy under
// sysfsRoot, in MHz; 0 where there is none (most VMs, other OSes).
func maxMHz(sysfsRoot string) float64 {
	paths, _ := filepath.Glob(filepath.Join(sysfsRoot, "devices/system/cpu/cpufreq/policy*/cpuinfo_max_freq"))
	best := 0.0
	for _, p := range paths {
		b, err := infile.Read(p, infile.MaxSysfsAttr)
		if err != nil {
			continue
		}
		khz, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		if err != nil {
			continue
		}
		best = max(best, float64(khz)/1000)
	}
	return best
}
