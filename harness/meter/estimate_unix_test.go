//go:build unix

package meter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/joulebench/joulebench/internal/infile"
)

// estOpenTimed opens the estimate on root, failing the test if the open
// blocks.
func estOpenTimed(t *testing.T, root string) (*Estimate, error) {
	t.Helper()
	type result struct {
		m   *Estimate
		err error
	}
	done := make(chan result, 1)
	go func() { m, err := OpenEstimate(EstimateOptions{ProcRoot: root}); done <- result{m, err} }()
	select {
	case r := <-done:
		return r.m, r.err
	case <-time.After(5 * time.Second):
		t.Fatalf("OpenEstimate(%s) blocked", root)
	}
	return nil, nil
}

// estReplace puts a FIFO ("fifo"), a symlink to /dev/zero ("zero") or a
// directory ("dir") where root/name was.
func estReplace(t *testing.T, root, name, kind string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	var err error
	switch kind {
	case "fifo":
		err = syscall.Mkfifo(p, 0o644)
	case "zero":
		err = os.Symlink("/dev/zero", p)
	case "dir":
		err = os.Mkdir(p, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestEstimateHostile: /proc/stat and /proc/cpuinfo are outside input.
// Each case breaks the honest VM fixture as a forged --proc-root would;
// the open must refuse it at once with a real error naming the file,
// never block on a FIFO or read /dev/zero for ever.
func TestEstimateHostile(t *testing.T) {
	if _, err := estOpenTimed(t, estUnpack(t, "vm-xeon-8380.txtar")); err != nil {
		t.Fatalf("honest fixture: %v", err)
	}
	for _, tc := range []struct {
		name, file, kind string
		is               error
		what             string
	}{
		{"FIFO as stat", "stat", "fifo", infile.ErrNotRegular, "a FIFO"},
		{"/dev/zero as stat", "stat", "zero", infile.ErrNotRegular, "character device"},
		{"directory as stat", "stat", "dir", infile.ErrNotRegular, "a directory"},
		{"FIFO as cpuinfo", "cpuinfo", "fifo", infile.ErrNotRegular, "a FIFO"},
		{"/dev/zero as cpuinfo", "cpuinfo", "zero", infile.ErrNotRegular, "character device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := estUnpack(t, "vm-xeon-8380.txtar")
			estWrite(t, root, "stat", estStat{user: 1, idle: 1}.String())
			estReplace(t, root, tc.file, tc.kind)
			_, err := estOpenTimed(t, root)
			if !errors.Is(err, tc.is) || errors.Is(err, errors.ErrUnsupported) ||
				!strings.Contains(err.Error(), filepath.Join(root, tc.file)) || !strings.Contains(err.Error(), tc.what) {
				t.Errorf("open: %v; want a real error naming %s as %s", err, tc.file, tc.what)
			}
		})
	}
	t.Run("stat over 16 MiB", func(t *testing.T) {
		root := estUnpack(t, "vm-xeon-8380.txtar")
		big := estStat{user: 1, idle: 1}.String() + strings.Repeat("intr 0\n", infile.MaxProcFile/7+1)
		estWrite(t, root, "stat", big)
		_, err := estOpenTimed(t, root)
		if !errors.Is(err, infile.ErrTooLarge) || !strings.Contains(err.Error(), "16 MiB") {
			t.Errorf("open: %v; want ErrTooLarge", err)
		}
	})
}

// TestEstimateHostileAfterOpen: a stat swapped for a FIFO or /dev/zero
// during a run fails the next Read at once instead of hanging it.
func TestEstimateHostileAfterOpen(t *testing.T) {
	for _, kind := range []string{"fifo", "zero", "dir"} {
		root, clock, _, m := estOpenVM(t)
		if _, err := m.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
		estReplace(t, root, "stat", kind)
		clock.advance(time.Second)
		done := make(chan error, 1)
		go func() { _, err := m.Read(context.Background()); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, infile.ErrNotRegular) {
				t.Errorf("%s: read: %v; want ErrNotRegular", kind, err)
			} else if !strings.Contains(err.Error(), filepath.Join(root, "stat")) {
				t.Errorf("%s: read error %v does not name stat", kind, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Read blocked", kind)
		}
	}
}
