package harness

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
)

// sampler owns the meters: a goroutine reads all of them every interval,
// and phase edges read them exactly when asked. Reads are serialised by one
// lock, so meters need no locking of their own, and readings are stored in
// the order they were taken.
//
// The periodic wake-up is nearly all that metering costs the work being
// measured, so on Linux it comes from a timerfd that the goroutine waits on
// in a plain blocking poll: one thread wakes per tick, and none of the Go
// runtime's timer machinery. On a 2-vCPU VM with a GEMM on both CPUs, a bare
// 10 ms Go ticker cost the GEMM about 1.5% and a bare timerfd about 1.0%
// (BenchmarkSamplerPaired, README "What metering costs").
type sampler struct {
	ctx    context.Context // for every read; the run keeps it alive past an interrupt
	meters []meter.Meter

	mu      sync.Mutex
	stopped bool
	series  [][]meter.Reading // per meter, in time order
	labels  [][]string        // per meter, the edge name of each reading ("" for a tick)
	tickErr error             // first error of a periodic read

	ticks    ticks // nil when reading only at edges
	done     chan struct{}
	stopOnce sync.Once
	unwatch  func() bool // undoes the AfterFunc that stops ticks with ctx
}

// ticks is a source of periodic wake-ups: wait blocks until the next one
// and reports false once stop has been called.
type ticks interface {
	wait() bool
	stop()
}

// startSampler starts the sampling goroutine; stop it with stop, or by
// cancelling ctx. An interval of zero or less reads only at edges.
func startSampler(ctx context.Context, meters []meter.Meter, interval time.Duration) *sampler {
	s := &sampler{
		ctx:    ctx,
		meters: meters,
		done:   make(chan struct{}),
		series: make([][]meter.Reading, len(meters)),
		labels: make([][]string, len(meters)),
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
		if _, err := s.readAll(""); err != nil {
			s.noteTickErr(err)
		}
	}
	if e, ok := s.ticks.(interface{ Err() error }); ok && e.Err() != nil {
		s.noteTickErr(e.Err())
	}
}

// noteTickErr keeps the first failure of the periodic reads for the record.
func (s *sampler) noteTickErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tickErr == nil && s.ctx.Err() == nil {
		s.tickErr = err
	}
}

// readAll reads every meter once. A failed read of one meter does not stop
// the others from being read.
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
		r, err := m.Read(s.ctx)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("read meter %s: %w", m.Name(), err)
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

// stop ends the periodic reads and waits for the goroutine; later edges
// fail.
func (s *sampler) stop() {
	s.stopOnce.Do(func() {
		if s.ticks != nil {
			s.unwatch()
			s.ticks.stop()
		}
		<-s.done
		s.mu.Lock()
		s.stopped = true
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

// snapshot returns every reading so far.
func (s *sampler) snapshot() ([][]meter.Reading, [][]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	series := make([][]meter.Reading, len(s.series))
	labels := make([][]string, len(s.labels))
	for i := range s.series {
		series[i] = append([]meter.Reading(nil), s.series[i]...)
		labels[i] = append([]string(nil), s.labels[i]...)
	}
	return series, labels, s.tickErr
}
