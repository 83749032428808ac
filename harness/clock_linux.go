//go:build linux

package harness

import (
	"golang.org/x/sys/unix"

	"github.com/joulebench/joulebench/results"
)

// ReadClock reads the clock facts a cluster merge needs: CLOCK_MONOTONIC
// now, and the kernel's view of the wall clock's sync (adjtimex, read
// only: a zero mode changes nothing). Call it next to the run's start
// time. Where a call fails the record says "unavailable" rather than
// claim a synced clock.
func ReadClock() results.Clock {
	var c results.Clock
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
		c.MonotonicNS = ts.Nano()
	}
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		c.Source = "unavailable"
		return c
	}
	return clockFromTimex(c, state, tx.Status, int64(tx.Maxerror), int64(tx.Esterror))
}

// clockFromTimex fills the sync fields from adjtimex's answer: the clock
// is unsynchronised when STA_UNSYNC is set or the call returns
// TIME_ERROR.
func clockFromTimex(c results.Clock, state int, status int32, maxErr, estErr int64) results.Clock {
	c.Source = "adjtimex"
	c.Synced = status&unix.STA_UNSYNC == 0 && state != unix.TIME_ERROR
	c.MaxErrorUS, c.EstErrorUS = maxErr, estErr
	return c
}
