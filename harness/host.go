package harness

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/prometheus/procfs"

	"github.com/joulebench/joulebench/results"
)

// Fingerprint describes the machine from procRoot (normally /proc): what a
// reader needs to know which hardware a record measured. Fields it cannot
// read are left empty rather than guessed.
func Fingerprint(procRoot string) results.Host {
	h := results.Host{OS: runtime.GOOS, Arch: runtime.GOARCH, LogicalCPUs: runtime.NumCPU()}
	h.Hostname, _ = os.Hostname()
	if fs, err := procfs.NewFS(procRoot); err == nil {
		if cpus, err := fs.CPUInfo(); err == nil && len(cpus) > 0 {
			h.CPUModel = cpus[0].ModelName
			h.CPUVendor = cpus[0].VendorID
			h.LogicalCPUs = len(cpus)
			sockets, cores := map[string]bool{}, map[string]bool{}
			for _, c := range cpus {
				sockets[c.PhysicalID] = true
				cores[c.PhysicalID+"/"+c.CoreID] = true
			}
			h.Sockets, h.Cores = len(sockets), len(cores)
			h.CPUFlags = isaFlags(cpus[0].Flags)
			h.Virtualized = slices.Contains(cpus[0].Flags, "hypervisor")
		}
		if mi, err := fs.Meminfo(); err == nil && mi.MemTotal != nil {
			h.MemoryBytes = *mi.MemTotal * 1024
		}
	}
	if b, err := os.ReadFile(filepath.Join(procRoot, "sys/kernel/osrelease")); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
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
