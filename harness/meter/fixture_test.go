package meter

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/joulebench/joulebench/internal/infile"
)

// fixturePermissionDenied is the content of a fixture file that
// fixtureReadFile refuses to read, as the kernel refuses a non-root reader.
// Tests run as root here, where a chmod would not be enough.
const fixturePermissionDenied = "!permission-denied"

// fixtureUnpack unpacks testdata/<name>, a txtar archive, into a new
// temporary directory and returns that directory.
func fixtureUnpack(t testing.TB, name string) string {
	t.Helper()
	a, err := txtar.ParseFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unpackTxtar(t, a, dir)
	return dir
}

// unpackTxtar writes the files of a under dir, creating directories as
// needed. Names must stay inside dir.
func unpackTxtar(t testing.TB, a *txtar.Archive, dir string) {
	t.Helper()
	for _, f := range a.Files {
		if !filepath.IsLocal(f.Name) {
			t.Fatalf("txtar file %q is not a local path", f.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fixtureReadFile is the RAPL meter's own reader (infile.Read, bounded to
// one page, refusing FIFOs and devices), except that a file holding the
// line fixturePermissionDenied fails as a root-only file does for other
// users.
func fixtureReadFile(p string) ([]byte, error) {
	b, err := infile.Read(p, infile.MaxSysfsAttr)
	if err == nil && string(bytes.TrimSpace(b)) == fixturePermissionDenied {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
	}
	return b, err
}
