package harness

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// Fingerprint describes the machine from procRoot (normally /proc): what a
// reader needs to know which hardware a record measured. Fields it cannot
// read are left empty rather than guessed.
func Fingerprint(procRoot string) results.Host {
	h := results.Host{OS: runtime.GOOS, Arch: runtime.GOARCH, LogicalCPUs: runtime.NumCPU()}
	h.Hostname, _ = os.Hostname()
	procHost(procRoot, &h)
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
