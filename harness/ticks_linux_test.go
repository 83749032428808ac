package harness

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// On Linux the sampler waits on a timerfd, not a Go ticker (see sampler).
func TestTicksLinuxTimerfd(t *testing.T) {
	tk := newTicks(time.Second)
	defer tk.stop()
	if _, ok := tk.(*fdTicks); !ok {
		t.Fatalf("newTicks gave %T, want *fdTicks", tk)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(ents)
}

// A source that is stopped without ever being waited on closes its
// descriptors, and one that was stopped and closed stays stopped even when
// its descriptor numbers are given to a new source.
func TestTicksLinuxNoLeak(t *testing.T) {
	before := openFDs(t)
	for range 50 {
		tk, err := newFDTicks(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		tk.stop()
	}
	if after := openFDs(t); after > before {
		t.Errorf("%d descriptors open after 50 stopped sources, %d before", after, before)
	}

	a, err := newFDTicks(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	a.stop()
	b, err := newFDTicks(time.Millisecond) // likely a's old numbers
	if err != nil {
		t.Fatal(err)
	}
	defer b.stop()
	if a.wait() {
		t.Error("a stopped source ticked (on another source's descriptor?)")
	}
}

// If the timerfd fails mid-run, ticks go on from a Go ticker and Err says
// so; stop still ends them.
func TestTicksLinuxFallback(t *testing.T) {
	f, err := newFDTicks(2 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Swap the timer for a pipe whose writer is gone: poll reports POLLHUP.
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	unix.Close(f.timer)
	unix.Close(p[1])
	f.timer = p[0]
	for i := range 3 {
		if !f.wait() {
			t.Fatalf("wait %d returned false after the timerfd failed", i)
		}
	}
	if f.Err() == nil || f.fallback == nil {
		t.Fatalf("no fallback: err %v", f.Err())
	}
	t.Log(f.Err())
	f.stop()
	if f.wait() {
		t.Error("wait after stop returned true")
	}
}
