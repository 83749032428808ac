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
// and phase edges read them exactly when asked. Readings of each meter are
// stored in the order they were taken.
//
// A read that blocks (a FUSE or NFS file under --sysfs-root, a wedged
// driver) must not hang the run. Each meter has a one-slot semaphore that
// its reader holds for the whole read, and nobody waits on it for longer
// than the read timeout:
//
//   - a tick reads directly on the sampling goroutine, with no hand-off
//     (the tick path is what metering costs the work being measured); it
//     skips a meter whose semaphore is taken;
//   - an edge hands each read to that meter's edge goroutine and waits for
//     the answer at most readTimeout; a read that overruns it, or a
//     semaphore still held by a tick after that long, marks the meter
//     hung: it is never read again, and the edge fails, so the run ends,
//     marked, instead of hanging. Meters need no locking of their own.
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
	gates       []*gate
	readTimeout time.Duration

	mu      sync.Mutex
	stopped bool
	series  [][]meter.Reading // per meter, in time order
	labels  [][]string        // per meter, the edge name of each reading ("" for a tick)
	faults  []fault           // every failed read, in time order

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

// gate serialises the reads of one meter and hands edge reads to a
// goroutine of their own.
type gate struct {
	m    meter.Meter
	sem  chan struct{}    // held for the whole of a read
	req  chan edgeRequest // edge reads, for the edge goroutine
	hErr error            // why the meter is hung; nil if it is not (under sampler.mu)
}

type edgeRequest struct {
	label string
	reply chan edgeResult // buffered: a late answer never blocks
}

type edgeResult struct {
	idx int
	err error
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
	}
	for i, m := range meters {
		g := &gate{m: m, sem: make(chan struct{}, 1), req: make(chan edgeRequest)}
		s.gates = append(s.gates, g)
		go s.edgeReader(i, g)
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
		s.tick()
	}
	if e, ok := s.ticks.(interface{ Err() error }); ok && e.Err() != nil {
		s.mu.Lock()
		s.faults = append(s.faults, fault{meter: -1, at: time.Now(), err: fmt.Errorf("tick source: %w", e.Err())})
		s.mu.Unlock()
	}
}

// tick reads every meter that is free, directly on this goroutine.
func (s *sampler) tick() {
	for i, g := range s.gates {
		select {
		case g.sem <- struct{}{}:
		default:
			continue // an edge is reading it: that reading serves
		}
		// A hung meter's slot stays held by its blocked read, so it is
		// skipped above; a read that comes back after all is dropped by
		// store. One lock per meter per tick, in store.
		r, err := g.m.Read(s.ctx)
		s.store(i, r, err, "")
		<-g.sem
	}
}

// store appends a reading of meter i, or logs its failure, and returns the
// reading's index in the meter's series (-1 for a failure). A reading that
// comes back after the meter was declared hung is dropped.
func (s *sampler) store(i int, r meter.Reading, err error, label string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.gates[i]; g.hErr != nil {
		return -1, g.hErr
	}
	if err != nil {
		err = fmt.Errorf("read meter %s: %w", s.meters[i].Name(), err)
		if s.ctx.Err() == nil {
			s.faults = append(s.faults, fault{meter: i, at: time.Now(), label: label, err: err})
		}
		return -1, err
	}
	s.series[i] = append(s.series[i], r)
	s.labels[i] = append(s.labels[i], label)
	return len(s.series[i]) - 1, nil
}

// edgeReader makes the edge reads of meter i, one at a time.
func (s *sampler) edgeReader(i int, g *gate) {
	for q := range g.req {
		g.sem <- struct{}{} // a tick in a blocked read holds it: the edge times out
		r, err := g.m.Read(s.ctx)
		idx, err := s.store(i, r, err, q.label)
		<-g.sem
		q.reply <- edgeResult{idx, err}
	}
}

func (s *sampler) markHung(i int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gates[i]
	if g.hErr == nil {
		g.hErr = fmt.Errorf("%w: a read of meter %s took over %v (a blocked sysfs or procfs file?); the meter is not read again", ErrMeterHung, g.m.Name(), s.readTimeout)
	}
	return g.hErr
}

// edge reads every meter now, labelled name, and returns the index of that
// reading in each meter's series (-1 where the read failed). It reads with
// the sampler's context, not the phase's: the closing edge of an
// interrupted phase must still be read. A failed read of one meter does not
// stop the others from being read; the first failure is returned.
func (s *sampler) edge(name string) ([]int, error) {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return nil, fmt.Errorf("edge %s: sampler stopped", name)
	}
	idx := make([]int, len(s.meters))
	var firstErr error
	timer := time.NewTimer(s.readTimeout)
	defer timer.Stop()
	for i, g := range s.gates {
		idx[i] = -1
		s.mu.Lock()
		hErr := g.hErr
		s.mu.Unlock()
		var err error
		if hErr != nil {
			err = hErr
		} else {
			timer.Reset(s.readTimeout)
			q := edgeRequest{label: name, reply: make(chan edgeResult, 1)}
			select {
			case g.req <- q:
				select {
				case res := <-q.reply:
					idx[i], err = res.idx, res.err
				case <-timer.C:
					err = s.markHung(i)
				}
			case <-timer.C:
				err = s.markHung(i)
			}
		}
		if err != nil {
			if errors.Is(err, ErrMeterHung) {
				err = fmt.Errorf("read meter %s: %w", g.m.Name(), err)
				s.mu.Lock()
				if s.ctx.Err() == nil {
					s.faults = append(s.faults, fault{meter: i, at: time.Now(), label: name, err: err})
				}
				s.mu.Unlock()
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return idx, firstErr
}

// stopTicks ends the periodic reads and waits for the goroutine; edges
// still read, so that a last edge is the last reading.
//
// A tick blocked in a meter read cannot be waited for: after the read
// timeout the goroutine is abandoned (the edge that found the meter hung
// has already said so).
func (s *sampler) stopTicks() {
	s.ticksOnce.Do(func() {
		if s.ticks != nil {
			s.unwatch()
			s.ticks.stop()
		}
		t := time.NewTimer(s.readTimeout)
		defer t.Stop()
		select {
		case <-s.done:
		case <-t.C:
		}
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
		s.mu.Unlock()
		for _, g := range s.gates {
			close(g.req)
		}
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
