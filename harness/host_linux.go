//go:build linux

package harness

import (
	"bufio"
	"bytes"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/procfs"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/results"
)

// procHost fills the CPU and memory fields of h from procRoot's cpuinfo and
// meminfo, leaving those it cannot read empty.
func procHost(procRoot string, h *results.Host) {
	// procfs reads these files whole, and would block on a FIFO: refuse
	// anything but regular files first.
	for _, f := range []string{"cpuinfo", "meminfo"} {
		if err := infile.CheckRegular(filepath.Join(procRoot, f)); err != nil {
			return
		}
	}
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return
	}
	// procfs parses the model, vendor and flags of each architecture, but
	// reads at most 1 MiB of cpuinfo and says nothing when it stops: on a
	// machine of more than about 700 CPUs its list is short. The counts
	// come from the whole file, read here up to infile.MaxProcFile.
	if cpus, err := fs.CPUInfo(); err == nil && len(cpus) > 0 {
		h.CPUModel = cpus[0].ModelName
		h.CPUVendor = cpus[0].VendorID
		h.CPUFlags = isaFlags(cpus[0].Flags)
		h.Virtualized = slices.Contains(cpus[0].Flags, "hypervisor")
		h.LogicalCPUs = len(cpus)
	}
	if b, err := infile.Read(filepath.Join(procRoot, "cpuinfo"), infile.MaxProcFile); err == nil {
		if logical, sockets, cores := countCPUs(b); logical > 0 {
			h.LogicalCPUs, h.Sockets, h.Cores = logical, sockets, cores
		}
	}
	if mi, err := fs.Meminfo(); err == nil && mi.MemTotal != nil {
		h.MemoryBytes = *mi.MemTotal * 1024
	}
}

// countCPUs counts the logical CPUs of a cpuinfo (its "processor" lines),
// and the sockets and cores their "physical id" and "core id" lines name;
// sockets and cores are 0 where the file does not say (arm64).
func countCPUs(b []byte) (logical, sockets, cores int) {
	sock, core := map[string]bool{}, map[string]bool{}
	phys := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20) // a flags line is long
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "processor":
			logical++
		case "physical id":
			phys = val
			sock[val] = true
		case "core id":
			core[phys+"/"+val] = true
		}
	}
	return logical, len(sock), len(core)
}
