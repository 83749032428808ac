package infile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadRegular(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("hello"), 0o644)
	b, err := Read(p, 5)
	if err != nil || string(b) != "hello" {
		t.Fatalf("Read = %q, %v", b, err)
	}
	if _, err := Read(p, 4); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Errorf("over the limit: %v", err)
	}
}

// The cheats: /dev/zero would be read for ever, a FIFO would block the
// open, a directory is not a file.
func TestReadRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	mkfifo(t, fifo)
	cases := map[string]string{"/dev/zero": "character device", fifo: "FIFO", dir: "directory"}
	for p, what := range cases {
		done := make(chan error, 1)
		go func() { _, err := Read(p, 1<<20); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), what) {
				t.Errorf("Read(%s) = %v, want ErrNotRegular naming a %s", p, err, what)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Read(%s) blocked", p)
		}
		if err := CheckRegular(p); !errors.Is(err, ErrNotRegular) {
			t.Errorf("CheckRegular(%s) = %v", p, err)
		}
	}
	// A symlink to /dev/zero is what it points at.
	link := filepath.Join(dir, "record.json")
	os.Symlink("/dev/zero", link)
	if _, err := Read(link, 1<<20); !errors.Is(err, ErrNotRegular) {
		t.Errorf("symlink to /dev/zero: %v", err)
	}
}

func TestReadMissing(t *testing.T) {
	_, err := Read(filepath.Join(t.TempDir(), "nope"), 10)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestHuman(t *testing.T) {
	for n, want := range map[int64]string{MaxRecord: "256 MiB", MaxKey: "64 KiB", 1500: "1500 bytes", 1 << 30: "1 GiB"} {
		if got := Human(n); got != want {
			t.Errorf("Human(%d) = %q, want %q", n, got, want)
		}
	}
}
