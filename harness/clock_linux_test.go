//go:build linux

package harness

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/joulebench/joulebench/results"
)

func TestReadClock(t *testing.T) {
	c := ReadClock()
	if c.MonotonicNS <= 0 {
		t.Fatalf("CLOCK_MONOTONIC not read: %+v", c)
	}
	if c.Source != "adjtimex" {
		t.Fatalf("source %q, want adjtimex on Linux", c.Source)
	}
	if c.MaxErrorUS < 0 || c.EstErrorUS < 0 {
		t.Fatalf("negative error estimates: %+v", c)
	}
}

// An unsynchronised clock (STA_UNSYNC, or TIME_ERROR) must never be
// recorded as synced.
func TestClockFromTimex(t *testing.T) {
	for _, tc := range []struct {
		state  int
		status int32
		synced bool
	}{
		{unix.TIME_OK, 0, true},
		{unix.TIME_OK, unix.STA_UNSYNC, false},
		{unix.TIME_ERROR, 0, false},
		{unix.TIME_OK, unix.STA_PLL, true},
	} {
		c := clockFromTimex(results.Clock{}, tc.state, tc.status, 16000000, 1500)
		if c.Synced != tc.synced || c.MaxErrorUS != 16000000 || c.EstErrorUS != 1500 {
			t.Errorf("state %d status %#x: %+v, want synced %v", tc.state, tc.status, c, tc.synced)
		}
	}
}
