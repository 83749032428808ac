package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/joulebench/joulebench/results"
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
	sys := t.TempDir()
	for i, khz := range []string{"3500000\n", "3900000\n"} {
		d := filepath.Join(sys, "devices/system/cpu/cpufreq", "policy"+string(rune('0'+i)))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "cpuinfo_max_freq"), []byte(khz), 0o644)
	}
	h := Fingerprint(root, sys)
	if h.MaxMHz != 3900 {
		t.Errorf("max MHz = %v, want 3900", h.MaxMHz)
	}
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

// A FIFO where cpuinfo should be would block procfs's whole-file read: the
// fingerprint leaves the CPU fields empty instead of hanging.
func TestFingerprintFIFO(t *testing.T) {
	root := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(root, "cpuinfo"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan results.Host, 1)
	go func() { done <- Fingerprint(root, t.TempDir()) }()
	select {
	case h := <-done:
		if h.CPUModel != "" {
			t.Errorf("model from a FIFO: %q", h.CPUModel)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Fingerprint blocked on a FIFO")
	}
}

// procfs stops reading cpuinfo at 1 MiB without a word; a machine of 2,000
// CPUs (2.7 MB of cpuinfo) must still be counted whole: the certificate's
// throughput ceiling and reproduce's hardware comparison use the count.
func TestFingerprintLargeCPUInfo(t *testing.T) {
	root := t.TempDir()
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "processor\t: %d\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9965 192-Core Processor\nphysical id\t: %d\ncore id\t\t: %d\nflags\t\t: fpu %s avx512f\n\n",
			i, i/1000, (i%1000)/2, strings.Repeat("x", 1200))
	}
	os.WriteFile(filepath.Join(root, "cpuinfo"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(root, "meminfo"), []byte("MemTotal:       16384 kB\n"), 0o644)
	h := Fingerprint(root, t.TempDir())
	if h.LogicalCPUs != 2000 || h.Sockets != 2 || h.Cores != 1000 {
		t.Errorf("want 2000 logical CPUs, 2 sockets, 1000 cores; got %d, %d, %d", h.LogicalCPUs, h.Sockets, h.Cores)
	}
}
