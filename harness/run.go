package harness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
)

// Config holds the measurement rules of one run.
type Config struct {
	// Interval between periodic meter readings; readings at phase edges
	// happen regardless. Zero or less reads only at edges.
	Interval time.Duration
	// Idle is the length of the idle baseline; zero skips it.
	Idle time.Duration
	// Warmup is how long each workload runs before it is measured. At least
	// one call is always made, to size the repetitions.
	Warmup time.Duration
	// MinTime is the shortest a repetition may be: iterations are scaled,
	// as testing.B does, until one lasts at least this long.
	MinTime time.Duration
	// Reps is the number of measured repetitions per workload.
	Reps int
	// ReadTimeout is how long one meter read may take before the meter is
	// declared hung; zero is DefaultReadTimeout.
	ReadTimeout time.Duration
	// Progress, if set, is told about each phase as it starts.
	Progress func(Event)
	// Checkpoint, if set, is given a copy of the record as it stands —
	// every finished phase and repetition, every reading so far, marked
	// incomplete — once the meters are described and after every phase,
	// so that the caller can write it where a crash or SIGKILL cannot
	// take it: such a kill then loses at most the repetition in progress.
	// A checkpoint error is noted in the record; the run goes on.
	Checkpoint func(*results.Record) error
}

// InProgressReason is the incomplete_reason of a checkpointed record: the
// run had not finished when it was written.
const InProgressReason = "the run had not finished when this record was written: it is still running, or it was killed (SIGKILL, out of memory, power loss); every phase and repetition in it had finished and was measured in full"

// Event tells a progress display what the harness is doing.
type Event struct {
	Workload string // "" during the idle baseline
	Phase    string // "idle", "warmup", "rep"
	Rep      int    // 1-based repetition number during "rep"
	Reps     int
	Duration time.Duration // expected length of the phase, if known
	Index    int           // index of the workload
	Count    int           // number of workloads
}

// ErrWorkloadFailed is returned (wrapped) when at least one workload
// failed or failed its check; the rest of the run is still recorded.
var ErrWorkloadFailed = errors.New("workload failed")

// Run measures the workloads under the meters and fills rec: its meters,
// idle baseline, workloads, readings and completion. rec's identity, host
// and config are the caller's. Run returns rec filled as far as it got even
// when ctx is cancelled (rec.Complete is then false) or a workload fails.
func Run(ctx context.Context, cfg Config, meters []meter.Meter, ws []workloads.Workload, rec *results.Record) error {
	if len(meters) == 0 {
		return errors.New("harness: no meter to measure with")
	}
	if cfg.Reps < 1 {
		return fmt.Errorf("harness: reps must be at least 1, got %d", cfg.Reps)
	}
	if err := checkMeters(meters); err != nil {
		return err
	}
	rec.Meters = describeMeters(meters)
	rec.Complete = false
	// Empty, not null, even if nothing gets measured: the schema wants lists.
	rec.Workloads, rec.Readings = []results.Workload{}, []results.Reading{}
	if rec.StartedAt.IsZero() {
		rec.StartedAt = time.Now()
	}
	h := &run{cfg: cfg, meters: meters, rec: rec, t0: rec.StartedAt}

	// The sampler must outlive a cancelled ctx so that the interrupted
	// phase's closing reading, and the "interrupted" one, are still taken:
	// every read, edges included, uses sctx.
	sctx, stopCtx := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCtx()
	h.s = startSampler(sctx, meters, cfg.Interval, cfg.ReadTimeout)
	h.checkpoint()

	err := h.all(ctx, ws)

	if ctx.Err() != nil {
		h.s.stopTicks()
		if _, e := h.s.edge("interrupted"); e != nil {
			err = errors.Join(err, e)
		}
	}
	h.s.stop()
	series, labels, faults := h.s.snapshot()
	rec.Readings = flatten(meters, series, labels, h.t0)
	rec.Trace = h.drainTrace()
	// What a device could not report, and which telemetry failed, is
	// learnt as the run goes: describe the meters again.
	for i, m := range meters {
		if d, ok := m.(meter.DeviceDescriber); ok && i < len(rec.Meters) {
			rec.Meters[i].Devices = d.Devices()
		}
		if d, ok := m.(meter.Describer); ok && i < len(rec.Meters) {
			rec.Meters[i].Notes = d.Notes()
		}
	}
	rec.FinishedAt = time.Now()
	shortPhaseNote(rec, meters)
	if n := len(faults); n > 0 {
		rec.Notes = append(rec.Notes, fmt.Sprintf("%d meter %s failed during the run (each is listed with the phase it fell in); first: %.3f s: %v",
			n, plural(n, "read", "reads"), faults[0].at.Sub(h.t0).Seconds(), faults[0].err))
	}
	var me meterError
	switch {
	case ctx.Err() != nil:
		rec.IncompleteReason = "interrupted: " + context.Cause(ctx).Error() + "; the repetitions finished before it are kept"
		if errors.Is(err, context.Cause(ctx)) || err == nil {
			return context.Cause(ctx)
		}
		return errors.Join(context.Cause(ctx), err)
	case errors.As(err, &me):
		// The meter failed, not the workload: the record says so, and
		// keeps what was measured before.
		rec.IncompleteReason = me.Error() + "; the phases and repetitions finished before it are kept, the one in progress is not"
		return err
	case err != nil && !errors.Is(err, ErrWorkloadFailed):
		rec.IncompleteReason = err.Error()
		return err
	}
	rec.Complete = true
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type run struct {
	cfg    Config
	meters []meter.Meter
	rec    *results.Record
	s      *sampler
	t0     time.Time
	// cur is the workload being measured, not yet in rec.Workloads.
	cur              *results.Workload
	checkpointFailed bool
	// trace is the telemetry the meters reported so far, in time order.
	trace []results.TraceSample
}

// drainTrace adds the telemetry the meters took since the last call to
// h.trace and returns it all, in time order.
func (h *run) drainTrace() []results.TraceSample {
	n := len(h.trace)
	for _, m := range h.meters {
		t, ok := m.(meter.Tracer)
		if !ok {
			continue
		}
		for _, s := range t.Trace() {
			ts := s.TraceSample
			ts.TS = s.Time.Sub(h.t0).Seconds()
			ts.Meter = m.Name()
			h.trace = append(h.trace, ts)
		}
	}
	// Each meter's samples are in order; merge the new ones by time, after
	// the ones already kept.
	slices.SortStableFunc(h.trace[n:], func(a, b results.TraceSample) int {
		switch {
		case a.TS < b.TS:
			return -1
		case a.TS > b.TS:
			return 1
		}
		return 0
	})
	if len(h.trace) == 0 {
		return nil
	}
	return slices.Clone(h.trace)
}

// shortPhaseNote notes the repetitions shorter than a meter's MinPhase:
// their energy carries the meter's edge error (a counter updated every
// 100 ms, power averaged over 1 s) in a larger share than the meter's
// notes promise. They are kept, not refused: the note says how far to
// trust them.
func shortPhaseNote(rec *results.Record, meters []meter.Meter) {
	for _, m := range meters {
		min := meter.MinPhaseOf(m)
		if min <= 0 {
			continue
		}
		var short []string
		n := 0
		for _, w := range rec.Workloads {
			for _, r := range w.Reps {
				if r.DurationS < min.Seconds() {
					n++
					if len(short) < 3 {
						short = append(short, fmt.Sprintf("%s rep %d (%.2f s)", w.Name, r.Index+1, r.DurationS))
					}
				}
			}
		}
		if n == 0 {
			continue
		}
		more := ""
		if n > len(short) {
			more = fmt.Sprintf(" and %d more", n-len(short))
		}
		rec.Notes = append(rec.Notes, fmt.Sprintf("%d %s shorter than the %s meter measures well (%s; see its notes): %s%s; give --min-time %s or more for a firm figure",
			n, plural(n, "repetition is", "repetitions are"), m.Name(), min, strings.Join(short, ", "), more, min))
	}
}

// checkpoint hands a copy of the record as it stands to cfg.Checkpoint.
func (h *run) checkpoint() {
	if h.cfg.Checkpoint == nil {
		return
	}
	snap := *h.rec
	snap.Complete = false
	snap.IncompleteReason = InProgressReason
	// Clones, not appends to nil: an empty list must stay a list.
	snap.Workloads = slices.Clone(h.rec.Workloads)
	if h.cur != nil {
		w := *h.cur
		w.Reps = slices.Clone(h.cur.Reps)
		snap.Workloads = append(snap.Workloads, w)
	}
	series, labels, _ := h.s.snapshot()
	snap.Readings = flatten(h.meters, series, labels, h.t0)
	snap.Trace = h.drainTrace()
	snap.Notes = append([]string(nil), h.rec.Notes...)
	snap.FinishedAt = time.Now()
	if err := h.cfg.Checkpoint(&snap); err != nil && !h.checkpointFailed {
		h.checkpointFailed = true
		h.rec.Notes = append(h.rec.Notes, "could not write the record as the run went (a kill would have lost it): "+err.Error())
	}
}

func (h *run) all(ctx context.Context, ws []workloads.Workload) error {
	if h.cfg.Idle > 0 {
		h.progress(Event{Phase: "idle", Duration: h.cfg.Idle, Count: len(ws)})
		ph, err := h.phase(ctx, "idle", func(ctx context.Context) error {
			t := time.NewTimer(h.cfg.Idle)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
		if err != nil {
			return err
		}
		h.rec.Idle = ph
		h.checkpoint()
	}
	var failed []error
	for i, w := range ws {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := h.workload(ctx, i, len(ws), w)
		if ctx.Err() != nil || errors.As(err, new(meterError)) {
			return err
		}
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %w", ErrWorkloadFailed, errors.Join(failed...))
	}
	return nil
}

// meterError marks a failed meter read: the run cannot go on measuring, so
// it ends incomplete rather than blaming the workload.
type meterError struct{ err error }

func (e meterError) Error() string { return "meter failed: " + e.err.Error() }
func (e meterError) Unwrap() error { return e.err }

// phase measures f between two edge readings, edge+"-start" and edge+"-end".
// A meter that fails at either edge ends the phase with a meterError: its
// energy cannot be known. Reads that failed in between are listed in the
// phase's MeterFaults.
func (h *run) phase(ctx context.Context, edge string, f func(context.Context) error) (*results.Phase, error) {
	t0 := time.Now()
	a, err := h.s.edge(edge + "-start")
	if err != nil {
		return nil, meterError{fmt.Errorf("at edge %s-start: %w", edge, err)}
	}
	ferr := f(ctx)
	b, err := h.s.edge(edge + "-end")
	t1 := time.Now()
	if err != nil {
		return nil, errors.Join(ferr, meterError{fmt.Errorf("at edge %s-end: %w", edge, err)})
	}
	if ferr != nil {
		return nil, ferr
	}
	e, n, start, dur := h.measure(a, b)
	return &results.Phase{Edge: edge, StartS: start, DurationS: dur, EnergyJ: e, Readings: n,
		MeterFaults: h.s.faultsBetween(t0, t1, h.t0)}, nil
}

// measure integrates every meter between two edges: energy per domain in
// joules, the fewest readings any meter took, and the span in seconds.
func (h *run) measure(a, b []int) (map[string]float64, int, float64, float64) {
	spans := h.s.span(a, b)
	energy := map[string]float64{}
	readings := math.MaxInt
	var start, end time.Time
	for i, m := range h.meters {
		sp := spans[i]
		readings = min(readings, len(sp))
		if len(sp) == 0 {
			continue
		}
		if start.IsZero() || sp[0].Time.Before(start) {
			start = sp[0].Time
		}
		if last := sp[len(sp)-1].Time; last.After(end) {
			end = last
		}
		doms := m.Domains()
		for d, e := range Integrate(doms, sp) {
			energy[doms[d].Name] = e.Joules()
		}
	}
	if readings == math.MaxInt {
		readings = 0
	}
	return energy, readings, start.Sub(h.t0).Seconds(), end.Sub(start).Seconds()
}

func (h *run) progress(e Event) {
	if h.cfg.Progress != nil {
		h.cfg.Progress(e)
	}
}

func (h *run) workload(ctx context.Context, idx, count int, w workloads.Workload) (err error) {
	spec := w.Spec()
	wr := results.Workload{
		Name:        spec.Name,
		Version:     spec.Version,
		Params:      spec.Params,
		ContentHash: spec.Hash,
		WorkUnit:    spec.WorkUnit,
		Reps:        []results.Rep{},
	}
	h.cur = &wr
	defer func() {
		h.cur = nil
		if err != nil {
			// A meter that failed is the meter's fault, not the
			// workload's: the record's incomplete_reason names it.
			// Nor is an interrupt: the record is marked incomplete.
			if !errors.As(err, new(meterError)) && ctx.Err() == nil {
				wr.Error = err.Error()
			}
			err = fmt.Errorf("%s: %w", spec.Name, err)
		}
		h.rec.Workloads = append(h.rec.Workloads, wr)
	}()
	if c, ok := w.(workloads.Closer); ok {
		defer c.Close()
	}
	if err := w.Prepare(ctx); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if d, ok := w.(workloads.Describer); ok {
		wr.Info = d.Info()
	}

	if workloads.IsEpisodic(w) {
		wr.Episodic = true
		return h.episodes(ctx, idx, count, w, &wr)
	}

	// Warm-up: grow the call count until the warm-up time is spent, which
	// also tells how long one call takes.
	h.progress(Event{Workload: spec.Name, Phase: "warmup", Duration: h.cfg.Warmup, Index: idx, Count: count})
	perIter := time.Duration(0)
	warm, err := h.phase(ctx, spec.Name+"/warmup", func(ctx context.Context) error {
		began := time.Now()
		n := 1
		for {
			t := time.Now()
			if _, err := w.Run(ctx, n); err != nil {
				return err
			}
			d := time.Since(t)
			perIter = d / time.Duration(n)
			left := h.cfg.Warmup - time.Since(began)
			if left <= 0 {
				return nil
			}
			n = max(1, min(n*4, int(left/max(perIter, time.Nanosecond))))
		}
	})
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	wr.Warmup = warm
	// The warm-up's calls are checked too, and the check gives the
	// workload fresh inputs: no repetition can reuse the warm-up's answer.
	if _, err := h.check(ctx, w, &wr, "warm-up"); err != nil {
		return err
	}
	h.checkpoint()
	iters := itersFor(h.cfg.MinTime, perIter)

	for r := 0; r < h.cfg.Reps; r++ {
		h.progress(Event{Workload: spec.Name, Phase: "rep", Rep: r + 1, Reps: h.cfg.Reps, Duration: time.Duration(iters) * perIter, Index: idx, Count: count})
		edge := fmt.Sprintf("%s/rep-%d", spec.Name, r)
		var work workloads.Work
		done := 0
		ph, err := h.phase(ctx, edge, func(ctx context.Context) error {
			var err error
			work, done, err = runAtLeast(ctx, w, iters, h.cfg.MinTime)
			return err
		})
		if err != nil {
			return fmt.Errorf("repetition %d: %w", r+1, err)
		}
		rep := results.Rep{
			Index: r, Edge: edge, Attempts: 1, Iters: done, StartS: ph.StartS, DurationS: ph.DurationS,
			EnergyJ: ph.EnergyJ, Readings: ph.Readings, MeterFaults: ph.MeterFaults,
			Work: results.Work{FLOPs: work.FLOPs, Items: work.Items, Quality: work.Quality},
		}
		// Every repetition's answer is checked, after its calls and
		// outside its measured time, and the check re-arms the workload
		// with fresh inputs for the next one.
		chk, cerr := h.check(ctx, w, &wr, fmt.Sprintf("repetition %d", r+1))
		rep.Check = chk
		repQuality(w, &rep)
		wr.Reps = append(wr.Reps, rep)
		if cerr != nil {
			return cerr
		}
		h.checkpoint()
		if done > iters {
			// The planned calls ran faster than the warm-up said (a turbo
			// burst, a neighbour gone quiet): plan the next repetitions on
			// what this one took.
			iters = done
		}
	}
	return nil
}

// episodes measures an Episodic workload: each repetition is one call, a
// whole job, checked like any other repetition.
func (h *run) episodes(ctx context.Context, idx, count int, w workloads.Workload, wr *results.Workload) error {
	spec := w.Spec()
	for r := 0; r < h.cfg.Reps; r++ {
		h.progress(Event{Workload: spec.Name, Phase: "rep", Rep: r + 1, Reps: h.cfg.Reps, Index: idx, Count: count})
		edge := fmt.Sprintf("%s/rep-%d", spec.Name, r)
		var work workloads.Work
		ph, err := h.phase(ctx, edge, func(ctx context.Context) error {
			var err error
			work, err = w.Run(ctx, 1)
			return err
		})
		if err != nil {
			return fmt.Errorf("repetition %d: %w", r+1, err)
		}
		rep := results.Rep{
			Index: r, Edge: edge, Attempts: 1, Iters: 1, StartS: ph.StartS, DurationS: ph.DurationS,
			EnergyJ: ph.EnergyJ, Readings: ph.Readings, MeterFaults: ph.MeterFaults,
			Work: results.Work{FLOPs: work.FLOPs, Items: work.Items, Quality: work.Quality},
		}
		chk, cerr := h.check(ctx, w, wr, fmt.Sprintf("repetition %d", r+1))
		rep.Check = chk
		repQuality(w, &rep)
		wr.Reps = append(wr.Reps, rep)
		if cerr != nil {
			return cerr
		}
		h.checkpoint()
	}
	return nil
}

// repQuality merges a RepReporter's whole-repetition measures into rep.
func repQuality(w workloads.Workload, rep *results.Rep) {
	rr, ok := w.(workloads.RepReporter)
	if !ok {
		return
	}
	q := rr.RepQuality()
	if len(q) == 0 {
		return
	}
	if rep.Work.Quality == nil {
		rep.Work.Quality = make(map[string]float64, len(q))
	}
	for k, v := range q {
		// JSON has no NaN: a measure that could not be taken is left out.
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		rep.Work.Quality[k] = v
	}
}

// check runs the workload's answer check, if it has one, on the calls since
// the last check. The workload's own Check field keeps the first failed
// check, else the last one. A failed check ends the workload: a library
// that gave one wrong answer is not measured further.
func (h *run) check(ctx context.Context, w workloads.Workload, wr *results.Workload, what string) (*results.Check, error) {
	c, ok := w.(workloads.Checker)
	if !ok {
		return nil, nil
	}
	chk, err := c.Check(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: check: %w", what, err)
	}
	// JSON has no NaN or infinity; a non-finite error (a NaN answer) is
	// kept as the largest float, and the detail says what it was.
	if math.IsNaN(chk.Value) || math.IsInf(chk.Value, 0) {
		chk.Detail = fmt.Sprintf("error was %v; %s", chk.Value, chk.Detail)
		chk.Value, chk.OK = math.MaxFloat64, false
	}
	if !chk.OK && chk.Verdict == "" {
		chk.Verdict = workloads.VerdictWrong
	}
	rc := &results.Check{Name: chk.Name, Value: chk.Value, Limit: chk.Limit, OK: chk.OK, Detail: chk.Detail, Verdict: chk.Verdict}
	if wr.Check == nil || wr.Check.OK {
		wr.Check = rc
	}
	if !chk.OK {
		return rc, fmt.Errorf("%s: check %s failed (%s): %g > limit %g: %s", what, chk.Name, chk.Verdict, chk.Value, chk.Limit, chk.Detail)
	}
	return rc, nil
}

// runAtLeast makes the planned iters calls of w, then, if they took less
// than min (the machine sped up since the warm-up), goes on with more calls
// until min has passed, so that a repetition is never short. It returns the
// work of all the calls and how many were made. Earlier versions reran a
// short repetition from the start instead; on a machine whose speed kept
// changing that could still end short after every retry, and it threw away
// measured work.
func runAtLeast(ctx context.Context, w workloads.Workload, iters int, min time.Duration) (workloads.Work, int, error) {
	began := time.Now()
	total, err := w.Run(ctx, iters)
	if err != nil {
		return total, iters, err
	}
	done := iters
	for {
		took := time.Since(began)
		if took >= min {
			return total, done, nil
		}
		n := itersFor(min-took, took/time.Duration(done))
		wk, err := w.Run(ctx, n)
		if err != nil {
			return total, done, err
		}
		total = addWork(total, int64(done), wk, int64(n))
		done += n
	}
}

// addWork sums two stretches of work. Quality measures are averaged,
// weighted by the items each stretch did (or by its calls where it counted
// none), since they are rates such as accuracy.
func addWork(a workloads.Work, aCalls int64, b workloads.Work, bCalls int64) workloads.Work {
	wa, wb := float64(aCalls), float64(bCalls)
	if a.Items > 0 || b.Items > 0 {
		wa, wb = float64(a.Items), float64(b.Items)
	}
	sum := workloads.Work{FLOPs: a.FLOPs + b.FLOPs, Items: a.Items + b.Items}
	if len(a.Quality) > 0 || len(b.Quality) > 0 {
		sum.Quality = map[string]float64{}
		for k, va := range a.Quality {
			if vb, ok := b.Quality[k]; ok && wa+wb > 0 {
				sum.Quality[k] = (va*wa + vb*wb) / (wa + wb)
			} else {
				sum.Quality[k] = va
			}
		}
		for k, vb := range b.Quality {
			if _, ok := a.Quality[k]; !ok {
				sum.Quality[k] = vb
			}
		}
	}
	return sum
}

// itersFor returns how many calls of length per make at least min, with a
// 5% margin so that jitter does not leave a repetition just short.
func itersFor(min, per time.Duration) int {
	if per <= 0 {
		return 1
	}
	n := math.Ceil(float64(min) * 1.05 / float64(per))
	return int(math.Max(1, math.Min(n, 1e9)))
}

// checkMeters refuses meters that would be counted twice: two domains of
// one name, or two meters that both add a CPU package (or a whole node) to
// the total, such as RAPL and the estimate of the same CPU.
func checkMeters(meters []meter.Meter) error {
	seen := map[string]string{}
	cpu := ""
	for _, m := range meters {
		addsCPU := false
		for _, d := range m.Domains() {
			if other, dup := seen[d.Name]; dup {
				return fmt.Errorf("harness: domain %q is measured by both %s and %s; use one of them (--meter)", d.Name, other, m.Name())
			}
			seen[d.Name] = m.Name()
			addsCPU = addsCPU || (d.InTotal && (d.Kind == meter.KindPackage || d.Kind == meter.KindNode))
		}
		if addsCPU {
			if cpu != "" {
				return fmt.Errorf("harness: meters %s and %s both measure the CPU package, so the total would count it twice; use one of them (--meter)", cpu, m.Name())
			}
			cpu = m.Name()
		}
	}
	return nil
}

func describeMeters(meters []meter.Meter) []results.Meter {
	out := make([]results.Meter, 0, len(meters))
	for _, m := range meters {
		rm := results.Meter{Name: m.Name(), Method: string(m.Method()), Estimated: m.Method().Estimated()}
		if d, ok := m.(meter.Describer); ok {
			rm.Source = d.Source()
			rm.Notes = d.Notes()
		}
		// The longest gap between readings that cannot hide a counter
		// wrap, where the meter can say.
		rm.MaxGapS = meter.MaxGapOf(m).Seconds()
		rm.MinPhaseS = meter.MinPhaseOf(m).Seconds()
		rm.MinRepS = meter.MinRepOf(m).Seconds()
		if i, ok := m.(meter.Insecurer); ok {
			rm.TLSInsecure = i.Insecure()
		}
		if d, ok := m.(meter.DeviceDescriber); ok {
			rm.Devices = d.Devices()
		}
		for _, d := range m.Domains() {
			rm.Domains = append(rm.Domains, results.Domain{
				Name: d.Name, Kind: string(d.Kind), Parent: d.Parent,
				MaxEnergyUJ: uint64(max(d.Wrap, 0)), InTotal: d.InTotal,
			})
		}
		out = append(out, rm)
	}
	return out
}

// flatten merges every meter's readings into one time-ordered list.
func flatten(meters []meter.Meter, series [][]meter.Reading, labels [][]string, t0 time.Time) []results.Reading {
	// Empty, not null, before the first reading: the schema wants a list.
	out := []results.Reading{}
	for i, m := range meters {
		for j, r := range series[i] {
			e := make([]int64, len(r.Energy))
			for k, v := range r.Energy {
				e[k] = int64(v)
			}
			out = append(out, results.Reading{TS: r.Time.Sub(t0).Seconds(), Meter: m.Name(), Edge: labels[i][j], EnergyUJ: e})
		}
	}
	slices.SortStableFunc(out, func(a, b results.Reading) int {
		switch {
		case a.TS < b.TS:
			return -1
		case a.TS > b.TS:
			return 1
		}
		return 0
	})
	return out
}
