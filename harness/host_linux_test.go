package harness

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFingerprint(t *testing.T) {
	root := t.TempDir()
	cpuinfo := ""
	for i, core := range []string{"0", "1", "0", "1"} {
		phys := "0"
		if i >= 2 {
			phys = "1"
		}
		cpuinfo += "processor\t: " + string(rune('0'+i)) + "\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz\nphysical id\t: " + phys + "\ncore id\t\t: " + core + "\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f hypervisor\n\n"
	}
	os.WriteFile(filepath.Join(root, "cpuinfo"), []byte(cpuinfo), 0o644)
	os.WriteFile(filepath.Join(root, "meminfo"), []byte("MemTotal:       16384 kB\nMemFree: 1 kB\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "sys/kernel"), 0o755)
	os.WriteFile(filepath.Join(root, "sys/kernel/osrelease"), []byte("6.1.0-test\n"), 0o644)
	h := Fingerprint(root)
	if h.CPUModel != "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz" || h.LogicalCPUs != 4 || h.Sockets != 2 || h.Cores != 4 {
		t.Errorf("cpu: %+v", h)
	}
	if h.MemoryBytes != 16384*1024 || h.Kernel != "6.1.0-test" || !h.Virtualized {
		t.Errorf("memory/kernel/virt: %+v", h)
	}
	if len(h.CPUFlags) != 5 { // sse4_2 avx avx2 fma avx512f
		t.Errorf("flags: %v", h.CPUFlags)
	}
}
