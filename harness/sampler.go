package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
)

// DefaultReadTimeout is how long one meter read may take before the meter
// is declared hung. A RAPL read takes microseconds and a /proc/stat read
// tens of them; a read still blocked after two seconds (a FUSE or NFS file
// under --sysfs-root, a wedged driver) will not come back in time to be
// useful, and waiting for it would hang the run.
const DefaultReadTimeout = 2 * time.Second

// ErrMeterHung is wrapped by the errors of a meter whose read did not
// return within the read timeout. The meter is not read again.
var ErrMeterHung = errors.New("meter read did not return in time")

// sampler owns the meters: a goroutine reads all of them every interval,
// and phase edges read them exactly when asked. Reads are serialised by one
// lock, and readings are stored in the order they were taken.
//
// Each meter is read on its own reader goroutine, and the sampler waits for
// the answer at most readTimeout: a read that blocks marks the meter hung
// (the goroutine is abandoned, never read again) instead of hanging the run.
// Meters need no locking of their own: only their reader calls them.
//
// Every failed read, tick or edge, is logged with its time, so that the
// harness can mark the repetition it fell in: a counter may have wrapped
// unseen during the gap it left.
//
// The periodic wake-up is nearly all that metering costs the work being
// measured, so on Linux it comes from a timerfd that the goroutine waits on
// in a plain blocking poll: one thread wakes per tick, and none of the Go
// runtime's timer machinery. On a 2-vCPU VM with a GEMM on both CPUs, a bare
// 10 ms Go ticker cost the GEMM about 1.5% and a bare timerfd about 1.0%
// (BenchmarkSamplerPaired, README "What metering costs").
type sampler struct {
	ctx         context.Context // for every read; the run keeps it alive past an interrupt
	meters      []meter.Meter
	readers     []*reader
	readTimeout time.Duration

	mu      sync.Mutex
	stopped bool
	series  [][]meter.Reading // per meter, in time order
	labels  [][]string        // per meter, the edge name of each reading ("" for a tick)
	faults  []fault           // every failed read, in time order
	timer   *time.Timer       // reused for read deadlines, under mu

	ticks     ticks // nil when reading only at edges
	done      chan struct{}
	stopOnce  sync.Once
	ticksOnce sync.Once
	unwatch   func() bool // undoes the AfterFunc that stops ticks with ctx
}

// fault is one failed read of one meter.
type fault struct {
	meter int
	at    time.Time
	label string // the edge being read, "" for a tick
	err   error
}

// reader reads one meter on its own goroutine.
type reader struct {
	m    meter.Meter
	req  chan chan readResult
	hung time.Time // when a read first overran the timeout; zero if never (under sampler.mu)
	hErr error
}

type readResult struct {
	r   meter.Reading
	err error
}

func startReader(ctx context.Context, m meter.Meter) *reader {
	rd := &reader{m: m, req: make(chan chan readResult)}
	go func() {
		for reply := range rd.req {
			r, err := m.Read(ctx)
			reply <- readResult{r, err} // buffered: a late answer never blocks
		}
	}()
	return rd
}

// ticks is a source of periodic wake-ups: wait blocks until the next one
// and reports false once stop has been called.
type ticks interface {
	wait() bool
	stop()
}

// startSampler starts the sampling goroutine; stop it with stop, or by
// cancelling ctx. An interval of zero or less reads only at edges. A
// readTimeout of zero or less is DefaultReadTimeout.
func startSampler(ctx context.Context, meters []meter.Meter, interval, readTimeout time.Duration) *sampler {
	if readTimeout <= 0 {
		readTimeout = DefaultReadTimeout
	}
	s := &sampler{
		ctx:         ctx,
		meters:      meters,
		readTimeout: readTimeout,
		done:        make(chan struct{}),
		series:      make([][]meter.Reading, len(meters)),
		labels:      make([][]string, len(meters)),
		timer:       time.NewTimer(time.Hour),
	}
	s.timer.Stop()
	for _, m := range meters {
		s.readers = append(s.readers, startReader(ctx, m))
	}
	if interval <= 0 {
		close(s.done)
		return s
	}
	s.ticks = newTicks(interval)
	s.unwatch = context.AfterFunc(ctx, s.ticks.stop)
	go s.loop()
	return s
}

func (s *sampler) loop() {
	defer close(s.done)
	for s.ticks.wait() {
		s.readAll("")
	}
	if e, ok := s.ticks.(interface{ Err() error }); ok && e.Err() != nil {
		s.mu.Lock()
		s.faults = append(s.faults, fault{meter: -1, at: time.Now(), err: fmt.Errorf("tick source: %w", e.Err())})
		s.mu.Unlock()
	}
}

// readOne reads meter i within the read timeout. Called with s.mu held.
func (s *sampler) readOne(i int) (meter.Reading, error) {
	rd := s.readers[i]
	if !rd.hung.IsZero() {
		return meter.Reading{}, rd.hErr
	}
	reply := make(chan readResult, 1)
	s.timer.Reset(s.readTimeout)
	defer s.timer.Stop()
	select {
	case rd.req <- reply:
	case <-s.timer.C:
		return meter.Reading{}, s.markHung(rd)
	}
	select {
	case res := <-reply:
		return res.r, res.err
	case <-s.timer.C:
		return meter.Reading{}, s.markHung(rd)
	}
}

func (s *sampler) markHung(rd *reader) error {
	rd.hung = time.Now()
	rd.hErr = fmt.Errorf("%w: a read of meter %s took over %v (a blocked sysfs or procfs file?); the meter is not read again", ErrMeterHung, rd.m.Name(), s.readTimeout)
	return rd.hErr
}

// readAll reads every meter once. A failed read of one meter does not stop
// the others from being read; it is logged as a fault and returned.
func (s *sampler) readAll(label string) ([]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		if label == "" {
			return nil, nil
		}
		return nil, fmt.Errorf("edge %s: sampler stopped", label)
	}
	idx := make([]int, len(s.meters))
	var firstErr error
	for i, m := range s.meters {
		r, err := s.readOne(i)
		if err != nil {
			err = fmt.Errorf("read meter %s: %w", m.Name(), err)
			if s.ctx.Err() == nil {
				s.faults = append(s.faults, fault{meter: i, at: time.Now(), label: label, err: err})
			}
			if firstErr == nil {
				firstErr = err
			}
			idx[i] = -1
			continue
		}
		s.series[i] = append(s.series[i], r)
		s.labels[i] = append(s.labels[i], label)
		idx[i] = len(s.series[i]) - 1
	}
	return idx, firstErr
}

// edge reads every meter now, labelled name, and returns the index of that
// reading in each meter's series. It reads with the sampler's context, not
// the phase's: the closing edge of an interrupted phase must still be read.
func (s *sampler) edge(name string) ([]int, error) {
	return s.readAll(name)
}

// stopTicks ends the periodic reads and waits for the goroutine; edges
// still read, so that a last edge is the last reading.
func (s *sampler) stopTicks() {
	s.ticksOnce.Do(func() {
		if s.ticks != nil {
			s.unwatch()
			s.ticks.stop()
		}
		<-s.done
	})
}

// stop ends the periodic reads and waits for the goroutine; later edges
// fail. Reader goroutines are told to end; a hung one ends when its read
// returns, if ever.
func (s *sampler) stop() {
	s.stopOnce.Do(func() {
		s.stopTicks()
		s.mu.Lock()
		s.stopped = true
		for _, rd := range s.readers {
			close(rd.req)
		}
		s.mu.Unlock()
	})
}

// span returns, for each meter, the readings from edge a to edge b inclusive.
func (s *sampler) span(a, b []int) [][]meter.Reading {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]meter.Reading, len(s.meters))
	for i := range s.meters {
		if a[i] < 0 || b[i] < 0 || b[i] < a[i] {
			continue
		}
		out[i] = append([]meter.Reading(nil), s.series[i][a[i]:b[i]+1]...)
	}
	return out
}

// faultsBetween describes the failed reads from t0 to t1 inclusive, one a
// line: meter, time since the run's start, what failed.
func (s *sampler) faultsBetween(t0, t1, runStart time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, f := range s.faults {
		if f.at.Before(t0) || f.at.After(t1) {
			continue
		}
		what := "periodic reading"
		if f.label != "" {
			what = "edge " + f.label
		}
		out = append(out, fmt.Sprintf("%.3f s: %s failed: %v", f.at.Sub(runStart).Seconds(), what, f.err))
	}
	return out
}

// snapshot returns every reading so far, and every fault.
func (s *sampler) snapshot() ([][]meter.Reading, [][]string, []fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	series := make([][]meter.Reading, len(s.series))
	labels := make([][]string, len(s.labels))
	for i := range s.series {
		series[i] = append([]meter.Reading(nil), s.series[i]...)
		labels[i] = append([]string(nil), s.labels[i]...)
	}
	return series, labels, append([]fault(nil), s.faults...)
}
