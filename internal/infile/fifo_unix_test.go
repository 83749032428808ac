//go:build unix

package infile

import (
	"syscall"
	"testing"
)

// mkfifo makes a FIFO at path, the file whose open would block.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
