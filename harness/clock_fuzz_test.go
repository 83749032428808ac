package harness

import (
	"strings"
	"testing"
)

// FuzzNodeDir: whatever Slurm or Kubernetes put in the environment, a
// node's directory is exactly two plain names below --out.
func FuzzNodeDir(f *testing.F) {
	for _, s := range []string{"cn01", "../..", ".", "a/b", "", "..\x00", strings.Repeat("x", 300)} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, job, node string) {
		n := NodeIdentity(env(map[string]string{"SLURM_JOB_ID": job, "SLURMD_NODENAME": node}))
		if n == nil {
			return // an empty job ID is no Slurm job
		}
		dir, _ := NodeDir("out", n)
		parts := strings.Split(dir, "/")
		if len(parts) != 3 || parts[0] != "out" {
			t.Fatalf("job %q node %q: dir %q", job, node, dir)
		}
		for _, p := range parts[1:] {
			if p == "" || p == "." || p == ".." || strings.HasPrefix(p, ".") {
				t.Fatalf("job %q node %q: dir %q has part %q", job, node, dir, p)
			}
		}
	})
}
