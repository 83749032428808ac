//go:build unix

package meter

import (
	"os"
	"syscall"
)

// openNonblock opens path for reading without waiting: a FIFO put in
// place of a procfs or sysfs file would otherwise block the open until a
// writer came. The caller checks the file's type on the descriptor.
// O_NONBLOCK changes nothing for reads of regular files.
func openNonblock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
