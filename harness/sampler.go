package harness

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
)

// sampler owns the meters: one goroutine reads all of them every interval
// and, on request, exactly at a phase edge. Because every Read happens on
// that goroutine, meters need no locking of their own.
type sampler struct {
	meters   []meter.Meter
	interval time.Duration

	edges chan edgeReq
	done  chan struct{}

	mu      sync.Mutex
	series  [][]meter.Reading // per meter, in time order
	labels  [][]string        // per meter, the edge name of each reading ("" for a tick)
	tickErr error             // first error of a periodic read
}

type edgeReq struct {
	name  string
	reply chan edgeResp
}

type edgeResp struct {
	idx []int // index of the edge reading in each meter's series
	err error
}

// startSampler starts the sampling goroutine; stop it with stop.
// An interval of zero or less reads only at edges.
func startSampler(ctx context.Context, meters []meter.Meter, interval time.Duration) *sampler {
	s := &sampler{
		meters:   meters,
		interval: interval,
		edges:    make(chan edgeReq),
		done:     make(chan struct{}),
		series:   make([][]meter.Reading, len(meters)),
		labels:   make([][]string, len(meters)),
	}
	go s.loop(ctx)
	return s
}

func (s *sampler) loop(ctx context.Context) {
	defer close(s.done)
	var tick <-chan time.Time
	if s.interval > 0 {
		t := time.NewTicker(s.interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case req, ok := <-s.edges:
			if !ok {
				return
			}
			idx, err := s.readAll(ctx, req.name)
			req.reply <- edgeResp{idx: idx, err: err}
		case <-tick:
			if _, err := s.readAll(ctx, ""); err != nil {
				s.mu.Lock()
				if s.tickErr == nil && ctx.Err() == nil {
					s.tickErr = err
				}
				s.mu.Unlock()
			}
		}
	}
}

// readAll reads every meter once. A failed read of one meter does not stop
// the others from being read.
func (s *sampler) readAll(ctx context.Context, label string) ([]int, error) {
	idx := make([]int, len(s.meters))
	var firstErr error
	for i, m := range s.meters {
		r, err := m.Read(ctx)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("read meter %s: %w", m.Name(), err)
			}
			idx[i] = -1
			continue
		}
		s.mu.Lock()
		s.series[i] = append(s.series[i], r)
		s.labels[i] = append(s.labels[i], label)
		idx[i] = len(s.series[i]) - 1
		s.mu.Unlock()
	}
	return idx, firstErr
}

// edge reads every meter now, labelled name, and returns the index of that
// reading in each meter's series.
func (s *sampler) edge(ctx context.Context, name string) ([]int, error) {
	req := edgeReq{name: name, reply: make(chan edgeResp, 1)}
	select {
	case s.edges <- req:
	case <-s.done:
		return nil, fmt.Errorf("edge %s: sampler stopped: %w", name, context.Cause(ctx))
	}
	resp := <-req.reply
	return resp.idx, resp.err
}

// stop ends the sampling goroutine and waits for it.
func (s *sampler) stop() {
	select {
	case <-s.done:
	default:
		close(s.edges)
		<-s.done
	}
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
