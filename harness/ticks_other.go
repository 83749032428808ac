//go:build !linux

package harness

import "time"

func newTicks(d time.Duration) ticks { return newGoTicks(d) }
