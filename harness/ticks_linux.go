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
//
// Should the timerfd fail mid-run (it should not), the ticks go on from a
// Go ticker, and Err says what happened.
type fdTicks struct {
	d           time.Duration
	timer, wake int

	mu       sync.Mutex
	waiting  bool // a wait is in poll: the descriptors must stay open
	stopped  bool
	closed   bool
	err      error
	fallback *goTicks
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
	return &fdTicks{d: d, timer: timer, wake: wake}, nil
}

// wait blocks until the next tick (true) or stop (false). Ticks missed
// while a read ran long are merged into one: the timerfd counts them.
func (f *fdTicks) wait() bool {
	f.mu.Lock()
	if f.fallback != nil {
		fb := f.fallback
		f.mu.Unlock()
		return fb.wait()
	}
	if f.stopped {
		f.closeLocked()
		f.mu.Unlock()
		return false
	}
	f.waiting = true
	f.mu.Unlock()

	tick, err := f.poll()

	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting = false
	if f.stopped {
		f.closeLocked()
		return false
	}
	if err != nil {
		f.err = fmt.Errorf("the sampler's timerfd failed (%w); its ticks went on from a Go ticker", err)
		f.closeLocked()
		f.fallback = newGoTicks(f.d)
		return true
	}
	return tick
}

// poll waits on the two descriptors: true for a tick, false for stop.
func (f *fdTicks) poll() (bool, error) {
	fds := []unix.PollFd{{Fd: int32(f.timer), Events: unix.POLLIN}, {Fd: int32(f.wake), Events: unix.POLLIN}}
	var buf [8]byte
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("poll: %w", err)
		}
		if fds[1].Revents != 0 {
			return false, nil
		}
		if fds[0].Revents&^unix.POLLIN != 0 {
			return false, fmt.Errorf("poll: timerfd revents %#x", fds[0].Revents)
		}
		if fds[0].Revents == 0 {
			continue
		}
		if _, err := unix.Read(f.timer, buf[:]); err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return false, fmt.Errorf("read timerfd: %w", err)
		}
		return true, nil
	}
}

// Err says what went wrong with the timerfd, if anything did.
func (f *fdTicks) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// stop makes the current or next wait return false. It may be called more
// than once, from any goroutine, with or without a wait to come: it closes
// the descriptors itself when no wait is using them.
func (f *fdTicks) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	switch {
	case f.fallback != nil:
		f.fallback.stop()
	case f.waiting:
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(f.wake, one[:])
	default:
		f.closeLocked()
	}
}

func (f *fdTicks) closeLocked() {
	if !f.closed {
		f.closed = true
		unix.Close(f.timer)
		unix.Close(f.wake)
	}
}
