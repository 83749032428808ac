package harness

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// fdTicks waits for a periodic timerfd in a blocking poll(2), together with
// an eventfd that stop writes to. While it waits, the goroutine sits in a
// system call on its own thread; a tick wakes that one thread and nothing
// else of the Go runtime.
type fdTicks struct {
	timer, wake int
	once        sync.Once
	closeOnce   sync.Once
	mu          sync.Mutex // guards closed against a stop after close
	closed      bool
	err         error // why waiting ended, if not stop
}

// newTicks returns a timerfd source, or a Go ticker where the kernel will
// not give one (a seccomp filter, an old kernel).
func newTicks(d time.Duration) ticks {
	t, err := newFDTicks(d)
	if err != nil {
		return newGoTicks(d)
	}
	return t
}

func newFDTicks(d time.Duration) (*fdTicks, error) {
	timer, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(timer)
		return nil, err
	}
	ts := unix.NsecToTimespec(int64(d))
	if err := unix.TimerfdSettime(timer, 0, &unix.ItimerSpec{Interval: ts, Value: ts}, nil); err != nil {
		unix.Close(timer)
		unix.Close(wake)
		return nil, err
	}
	return &fdTicks{timer: timer, wake: wake}, nil
}

// wait blocks until the next tick (true) or stop (false). Ticks missed
// while a read ran long are merged into one: the timerfd counts them.
func (f *fdTicks) wait() bool {
	fds := []unix.PollFd{{Fd: int32(f.timer), Events: unix.POLLIN}, {Fd: int32(f.wake), Events: unix.POLLIN}}
	var buf [8]byte
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			f.err = fmt.Errorf("periodic reads stopped: poll timerfd: %w", err)
		}
		if err != nil || fds[1].Revents != 0 {
			f.close()
			return false
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			continue
		}
		if _, err := unix.Read(f.timer, buf[:]); err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			f.err = fmt.Errorf("periodic reads stopped: read timerfd: %w", err)
			f.close()
			return false
		}
		return true
	}
}

// Err says why wait returned false other than through stop.
func (f *fdTicks) Err() error { return f.err }

// stop makes the current or next wait return false. It may be called more
// than once, and from any goroutine.
func (f *fdTicks) stop() {
	f.once.Do(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.closed {
			var one [8]byte
			binary.NativeEndian.PutUint64(one[:], 1)
			unix.Write(f.wake, one[:])
		}
	})
}

// close releases the descriptors; only the waiting goroutine calls it.
func (f *fdTicks) close() {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.closed = true
		unix.Close(f.timer)
		unix.Close(f.wake)
	})
}
