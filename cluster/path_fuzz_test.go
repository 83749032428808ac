package cluster

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzNodePath: whatever path a cluster record states for a node, the
// file read is inside the cluster record's directory.
func FuzzNodePath(f *testing.F) {
	for _, s := range []string{"nodes/a/record.json", "../x", "/etc/passwd", "nodes/../../x", `nodes\..\x`, "a/./b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		dir := "/cluster"
		got, err := nodePath(dir, p)
		if err != nil {
			return
		}
		rel, rerr := filepath.Rel(dir, got)
		if rerr != nil || rel == ".." || strings.HasPrefix(rel, "../") || rel == "." {
			t.Fatalf("path %q resolved to %q, outside %s", p, got, dir)
		}
	})
}
