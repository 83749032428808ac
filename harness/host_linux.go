//go:build linux

package harness

import (
	"path/filepath"
	"slices"

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
}
