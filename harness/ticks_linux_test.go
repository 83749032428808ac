package harness

import (
	"testing"
	"time"
)

// On Linux the sampler waits on a timerfd, not a Go ticker (see sampler).
func TestTicksLinuxTimerfd(t *testing.T) {
	tk := newTicks(time.Second)
	defer tk.stop()
	if _, ok := tk.(*fdTicks); !ok {
		t.Fatalf("newTicks gave %T, want *fdTicks", tk)
	}
}
