package infile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Size limits for each kind of outside input. Each is far above what
// joulebench itself writes, and far below what would exhaust memory.
const (
	// MaxRecord bounds a record.json: a record keeps every meter reading,
	// about 100 bytes each, so 256 MiB is some 2.5 million readings (70
	// hours at the default 100 ms with one meter). Decoding needs a few
	// times the file's size in memory.
	MaxRecord = 256 << 20
	// MaxCertificate bounds a certificate or reproduction statement (DSSE
	// envelope): it holds summaries, not readings, so it is kilobytes.
	MaxCertificate = 4 << 20
	// MaxSuite bounds a suite file.
	MaxSuite = 1 << 20
	// MaxSpec bounds a certification spec file.
	MaxSpec = 1 << 20
	// MaxKey bounds a PEM key file.
	MaxKey = 64 << 10
	// MaxIntensity bounds a carbon intensity file: a year of 5-minute
	// points is about 4 MB.
	MaxIntensity = 64 << 20
	// MaxEmissionsCSV bounds an emissions.csv that --emissions-csv appends
	// to: a row is about 600 bytes, so this is some 100,000 runs.
	MaxEmissionsCSV = 64 << 20
	// MaxSysfsAttr bounds a sysfs attribute: the kernel serves at most one
	// page.
	MaxSysfsAttr = 4 << 10
	// MaxProcFile bounds a procfs file joulebench reads (/proc/stat,
	// /proc/cpuinfo): cpuinfo on a 1,000-CPU machine is about 1.5 MB.
	MaxProcFile = 16 << 20
)

// ErrNotRegular is wrapped when a path names something other than a
// regular file: a FIFO, a device such as /dev/zero, a socket, a directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped when a file is over its limit.
var ErrTooLarge = errors.New("file too large")

// Open opens the regular file at path for reading, refusing anything
// else with ErrNotRegular. The open does not block (a FIFO would otherwise
// wait for a writer), and the type is checked on the open descriptor, so
// that a path swapped between a check and the open cannot slip through:
// the file checked is the file read. It is for callers that need the
// descriptor itself (to check a key file's mode, to hash a record as it
// streams); the caller bounds what it reads.
func Open(path string) (*os.File, os.FileInfo, error) {
	f, err := openNonblock(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w (%s); give the path of a file", path, ErrNotRegular, Describe(fi.Mode()))
	}
	if err := clearNonblock(f); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// Read reads the regular file at path, as Open opens it, refusing
// anything over limit bytes. Errors name the path, say what is wrong and
// what to do.
func Read(path string, limit int64) ([]byte, error) {
	f, _, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Size() is only a hint: sysfs and procfs report 4096 or 0 whatever
	// they hold, and a growing file can pass it. The read itself is capped.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: more than %s, the limit for this kind of file", path, ErrTooLarge, Human(limit))
	}
	return data, nil
}

// CheckRegular refuses a path that is not a regular file, without reading
// it (the open does not block on a FIFO). It is for callers that hand the
// path to a library which opens it itself.
func CheckRegular(path string) error {
	f, _, err := Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// Describe names what a file that is not a regular file is, with its
// article: "a directory", "a FIFO", "a character device".
func Describe(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// Human formats a byte count as people read limits: "4 MiB", "64 KiB".
func Human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
