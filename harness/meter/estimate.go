package meter

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/metrics"
)

// The estimate meter models CPU power where no meter can be read (VMs,
// laptops without permission): power = TDP × share of the chip × a
// fraction of TDP that depends on CPU utilisation. Its figures are
// estimates and are always labelled so (Method Model).

// EstimatePoint is one point of the power curve: at Load (0..1) the CPU
// package draws Fraction of its TDP.
type EstimatePoint struct {
	Load, Fraction float64
}

// estCurve is the power curve, piecewise linear between its points.
//
// Why these points: the widely used Teads curve (Davy, Teads Engineering
// 2021, "Building an AWS EC2 Carbon Emissions Dataset"; points 0/10/50/100%
// load → 0.12/0.32/0.75/1.02 × TDP as published in the Green Software
// Foundation Impact Framework's Teads pipeline) was measured with RAPL on
// AWS Xeon Platinum hosts only. CodeCarbon published RAPL load sweeps of
// four more CPUs (mlco2/codecarbon codecarbon/data/hardware/
// cpu_load_profiling, January 2025: dual Xeon E5-2620 v3, Xeon E3-1240 v2,
// Threadripper 1950X, EPYC 8024P). Over all five sweeps the Teads curve is
// off from RAPL by 77% on average, the TDP × (0.1 + 0.9·load³) model by 42%.
//
// So the points below are fitted to the five published sweeps at once,
// minimising the mean absolute percentage error against RAPL over load
// points above 5%: the sweeps' idle rows read under 1.5 W, an artefact
// rather than a package at idle, and CodeCarbon's own accuracy page
// (docs/explanation/accuracy.md) leaves them out too. The idle point is
// Teads' 12% of TDP, the only published idle figure; the fit keeps the
// curve non-decreasing. TestEstimateCurveCalibration refits it from
// testdata/estimate/rapl_sweeps.csv and checks these numbers.
//
// How far off it is, honestly: 32% mean absolute error against RAPL on the
// five sweeps it was fitted to (per CPU from 17% to 49%), and 47% when each
// CPU is left out of the fit in turn and predicted — the better guide for a
// CPU the curve has never seen. Single load points range from 0.4× to 2.2×
// of RAPL. The spread is physical: at full load the five CPUs draw from
// about 0.5 to 1.0 × TDP, so no single curve of TDP can do much better.
// The one lever is a better TDP: give --tdp.
var estCurve = []EstimatePoint{
	{0, 0.12},
	{0.10, 0.12},
	{0.25, 0.21},
	{0.50, 0.365},
	{0.75, 0.58},
	{1.00, 0.69},
}

// EstimateCurveSource names the data the power curve is fitted to.
const EstimateCurveSource = "piecewise-linear fit to published RAPL load sweeps: CodeCarbon cpu_load_profiling (4 CPUs, 2025) and the Teads AWS curve (Davy 2021); idle 12% of TDP from Teads"

// The error of the estimate against RAPL package power, as fractions.
// TestEstimateCurveCalibration recomputes both from the published data.
const (
	// EstimateErrorFitted is the mean absolute error over the sweeps the
	// curve was fitted to.
	EstimateErrorFitted = 0.32
	// EstimateErrorHeldOut is the mean absolute error on a CPU left out of
	// the fit: what to expect on a CPU the curve has not seen.
	EstimateErrorHeldOut = 0.47
)

// EstimateErrorBound says how far an estimate may be from a measurement,
// for the README and for every output that shows an estimate.
const EstimateErrorBound = "estimated, not measured: mean error ±32% against RAPL package power on the CPUs the model was fitted to, ±47% on other CPUs, single load points from 0.4× to 2.2× of RAPL (CodeCarbon RAPL sweeps 2025, Teads 2021); only the CPU package is modelled"

// EstimateCurve returns the points of the power curve.
func EstimateCurve() []EstimatePoint { return slices.Clone(estCurve) }

// estCurveAt interpolates the curve at load, which must be in 0..1.
func estCurveAt(load float64) float64 {
	c := estCurve
	if load <= c[0].Load {
		return c[0].Fraction
	}
	for i := 1; i < len(c); i++ {
		if load <= c[i].Load {
			a, b := c[i-1], c[i]
			return a.Fraction + (load-a.Load)/(b.Load-a.Load)*(b.Fraction-a.Fraction)
		}
	}
	return c[len(c)-1].Fraction
}

// EstimateInput is what the estimate needs to know about a machine and its
// work.
type EstimateInput struct {
	// CPUModel is the /proc/cpuinfo "model name" or a user's --cpu string.
	CPUModel string
	// Load is CPU utilisation, 0..1, averaged over the visible logical CPUs.
	Load float64
	// Threads, when above zero, is the number of busy threads; it sets Load
	// to min(1, Threads/LogicalCPUs), or Threads over the model's threads
	// when LogicalCPUs is 0, and takes precedence over Load.
	Threads int
	// LogicalCPUs is how many logical CPUs this machine (VM, container)
	// sees; 0 means the whole chip.
	LogicalCPUs int
	// TDPWatts overrides the table (--tdp); 0 means use the table.
	TDPWatts float64
}

// EstimateResult is a modelled power and everything it was made from, so
// that the user can check it.
type EstimateResult struct {
	// Power is the estimated CPU power: TDPWatts × Share × CurveFraction.
	Power metrics.Power
	// TDPWatts is the TDP used, of one package, or of what this machine
	// sees when Matched is "fallback".
	TDPWatts float64
	// TDPSource says where TDPWatts comes from.
	TDPSource string
	// Matched is the table row used, "fallback" or "--tdp".
	Matched string
	// Share is the part of the package this machine sees: visible logical
	// CPUs / the model's threads (above 1 for several sockets).
	Share float64
	// Load is the utilisation the curve was evaluated at.
	Load float64
	// CurveFraction is the fraction of TDP the power curve gives at Load.
	CurveFraction float64
	// CurveSource names the data behind the power curve.
	CurveSource string
	// ErrorBound says how far the estimate may be from a measurement.
	ErrorBound string
}

// estMaxWatts bounds a modelled power: far above any machine, far below
// where microwatts overflow an int64.
const estMaxWatts = 1e6

// estEval is EstimateCPU's result before rounding to microwatts; the meter
// integrates the unrounded watts.
type estEval struct {
	watts  float64
	result EstimateResult
}

// EstimateCPU returns the modelled CPU power for in. It is a pure function:
// it reads nothing but its input. An unknown model falls back to a TDP per
// logical CPU rather than failing, which needs LogicalCPUs (or TDPWatts).
func EstimateCPU(in EstimateInput) (EstimateResult, error) {
	e, err := estEvaluate(in)
	if err != nil {
		return EstimateResult{}, err
	}
	return e.result, nil
}

func estEvaluate(in EstimateInput) (estEval, error) {
	switch {
	case math.IsNaN(in.Load) || in.Load < 0 || in.Load > 1:
		return estEval{}, fmt.Errorf("estimate: load %v is outside 0..1", in.Load)
	case math.IsNaN(in.TDPWatts) || math.IsInf(in.TDPWatts, 0) || in.TDPWatts < 0:
		return estEval{}, fmt.Errorf("estimate: TDP %v W must be a positive number (or 0 to use the table)", in.TDPWatts)
	case in.Threads < 0:
		return estEval{}, fmt.Errorf("estimate: threads %d is negative", in.Threads)
	case in.LogicalCPUs < 0:
		return estEval{}, fmt.Errorf("estimate: logical CPUs %d is negative", in.LogicalCPUs)
	}

	r := EstimateResult{CurveSource: EstimateCurveSource, ErrorBound: EstimateErrorBound}
	row, ok := estLookup(in.CPUModel)
	modelThreads := 0 // threads of one package of this model, when known
	switch {
	case in.TDPWatts > 0:
		r.TDPWatts, r.Matched, r.TDPSource = in.TDPWatts, "--tdp", "given with --tdp"
		if ok {
			modelThreads = row.threads
			r.TDPSource += fmt.Sprintf(" (model %s, %d threads per package, from the table)", row.name, row.threads)
		}
	case ok:
		r.TDPWatts, r.Matched, r.TDPSource = row.tdp, row.name, row.source
		modelThreads = row.threads
	default:
		if in.LogicalCPUs == 0 {
			return estEval{}, fmt.Errorf("estimate: CPU model %q is not in the TDP table and the number of logical CPUs is unknown: give --tdp W or the logical CPU count", in.CPUModel)
		}
		// The fallback is sized to what this machine sees, so the share is 1.
		r.TDPWatts = estPerThreadW * float64(in.LogicalCPUs)
		r.Matched, r.TDPSource = "fallback", estFallbackSource(in.LogicalCPUs)
		modelThreads = in.LogicalCPUs
	}

	r.Share = 1
	if modelThreads > 0 && in.LogicalCPUs > 0 {
		r.Share = float64(in.LogicalCPUs) / float64(modelThreads)
	}

	r.Load = in.Load
	if in.Threads > 0 {
		visible := in.LogicalCPUs
		if visible == 0 {
			visible = modelThreads
		}
		if visible == 0 {
			return estEval{}, fmt.Errorf("estimate: cannot turn %d threads into a load without the number of logical CPUs", in.Threads)
		}
		r.Load = math.Min(1, float64(in.Threads)/float64(visible))
	}

	r.CurveFraction = estCurveAt(r.Load)
	w := r.TDPWatts * r.Share * r.CurveFraction
	// Absurd inputs (a TDP of 1e300 W, a billion CPUs) must not overflow
	// the microwatt counter; no CPU draws megawatts.
	if !(w <= estMaxWatts) {
		return estEval{}, fmt.Errorf("estimate: modelled power %.4g W is implausible: check the TDP (%.4g W) and the logical CPU count (%d)", w, r.TDPWatts, in.LogicalCPUs)
	}
	r.Power = metrics.FromWatts(w)
	return estEval{watts: w, result: r}, nil
}

// estMinStatInterval is the shortest time between two reads of
// /proc/stat: five jiffies at USER_HZ = 100.
const estMinStatInterval = 50 * time.Millisecond

// EstimateOptions configure OpenEstimate.
type EstimateOptions struct {
	// ProcRoot is where /proc is mounted; "" means "/proc".
	ProcRoot string
	// CPUModel overrides the model name read from ProcRoot/cpuinfo.
	CPUModel string
	// TDPWatts overrides the TDP table (--tdp); 0 means use the table.
	TDPWatts float64
	// LogicalCPUs overrides the logical CPU count; 0 means count them in
	// cpuinfo, or else in stat.
	LogicalCPUs int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Estimate is a meter that models CPU energy from utilisation: each Read
// turns the utilisation since the previous Read, from /proc/stat, into
// power with EstimateCPU and integrates it over the elapsed time. The
// power of an interval is the curve at the interval's mean load, which
// the curve's error bound already covers.
//
// In a container /proc/stat is the host's, so the estimate covers the
// whole host's CPU, not the container's share of it.
//
// It is not safe for concurrent use; the harness reads a meter from one
// goroutine.
type Estimate struct {
	root     string
	statPath string
	buf      [1024]byte // the first line of /proc/stat fits with room to spare
	now      func() time.Time
	base     EstimateResult // at load 0: the TDP, share and sources used
	notes    []string

	started           bool
	lastStat          time.Time // when /proc/stat was last read
	prevTime          time.Time
	prevBusy, prevAll float64
	load              float64 // utilisation of the last interval that had one
	energy            metrics.Energy
	remainder         float64 // µJ below one microjoule, carried forward
}

var (
	_ Meter      = (*Estimate)(nil)
	_ Describer  = (*Estimate)(nil)
	_ GapLimiter = (*Estimate)(nil)
)

// OpenEstimate opens the estimate meter on the /proc tree at
// opts.ProcRoot. A machine without a readable /proc/stat is
// errors.ErrUnsupported wrapped with the reason; a ProcRoot that is no
// directory wraps ErrBadRoot. A stat or cpuinfo that is not a regular file
// (a FIFO, a device) or is larger than infile.MaxProcFile is a real error:
// the kernel serves neither, so the tree is broken or forged.
func OpenEstimate(opts EstimateOptions) (*Estimate, error) {
	root := opts.ProcRoot
	if root == "" {
		root = DefaultProcRoot
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if err := checkRoot("proc", "--proc-root", root, DefaultProcRoot); err != nil {
		return nil, fmt.Errorf("estimate: %w", err)
	}
	statPath := filepath.Join(root, "stat")
	b, err := infile.Read(statPath, infile.MaxProcFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("estimate: %w: CPU utilisation is unreadable: %w", errors.ErrUnsupported, err)
		}
		return nil, fmt.Errorf("estimate: read %s: %w", statPath, err)
	}
	statCPUs, err := estParseStat(b)
	if err != nil {
		return nil, fmt.Errorf("estimate: read %s: %w", statPath, err)
	}

	model, logical := opts.CPUModel, opts.LogicalCPUs
	var notes []string
	cpuinfo := filepath.Join(root, "cpuinfo")
	b, err = infile.Read(cpuinfo, infile.MaxProcFile)
	switch {
	case errors.Is(err, infile.ErrNotRegular) || errors.Is(err, infile.ErrTooLarge):
		return nil, fmt.Errorf("estimate: read %s: %w", cpuinfo, err)
	case err != nil:
		// Without cpuinfo the CPUs are counted in stat and the model
		// is unknown, which the fallback TDP covers; say so.
		notes = append(notes, fmt.Sprintf("could not read %s: %v", cpuinfo, err))
	default:
		m, n := estParseCPUInfo(b)
		if model == "" {
			model = m
		}
		if logical == 0 {
			logical = n
		}
	}
	if logical == 0 {
		logical = statCPUs
	}

	in := EstimateInput{CPUModel: model, LogicalCPUs: logical, TDPWatts: opts.TDPWatts}
	base, err := EstimateCPU(in)
	if err != nil {
		return nil, err
	}
	e := &Estimate{root: root, statPath: statPath, now: now, base: base}
	e.notes = append([]string{
		EstimateErrorBound,
		"CPU power is modelled from utilisation and TDP; utilisation comes from " + filepath.Join(root, "stat") + ", where busy time excludes idle, iowait and steal (time the hypervisor gave to other guests)",
		"memory, disks, GPUs, fans and power-supply losses are not included",
	}, notes...)
	switch base.Matched {
	case "fallback":
		e.notes = append(e.notes, fmt.Sprintf("CPU model %q is not in the TDP table; %s — give --tdp W for a better estimate", model, base.TDPSource))
	case "--tdp":
		e.notes = append(e.notes, fmt.Sprintf("TDP %.4g W given with --tdp", base.TDPWatts))
	default:
		e.notes = append(e.notes, fmt.Sprintf("CPU model %q taken as %s, TDP %.4g W (%s)", model, base.Matched, base.TDPWatts, base.TDPSource))
	}
	if base.Share != 1 {
		e.notes = append(e.notes, fmt.Sprintf("this machine sees %d logical CPUs of a package with more or fewer threads; the TDP is scaled by %.4g", logical, base.Share))
	}
	return e, nil
}

// Name implements Meter.
func (e *Estimate) Name() string { return "estimate" }

// Method implements Meter.
func (e *Estimate) Method() Method { return Model }

// Domains implements Meter.
func (e *Estimate) Domains() []Domain {
	return []Domain{{Name: "cpu-estimated", Kind: KindPackage, InTotal: true}}
}

// Read implements Meter. The first Read returns zero energy at its time;
// each later one adds the modelled power of the utilisation since the
// previous Read times the time elapsed.
func (e *Estimate) Read(ctx context.Context) (Reading, error) {
	if err := ctx.Err(); err != nil {
		return Reading{}, err
	}
	t := e.now()
	// /proc/stat counts in jiffies (USER_HZ = 100 on Linux): over less
	// than a few of them, utilisation is mostly rounding. Between reads of
	// the file the last utilisation holds, so a sampler at 10 ms does not
	// pay for a /proc/stat read it learns nothing from — a read that,
	// with every CPU busy, measurably slowed the GEMM it was metering
	// (BenchmarkSamplerPaired).
	if !e.started || t.Sub(e.lastStat) >= estMinStatInterval {
		// Only the aggregate cpu line is needed. procfs's Stat parses the
		// whole file, interrupt counts included, which costs ~50 µs.
		cpu, err := estReadCPUTotal(e.statPath, e.buf[:])
		if err != nil {
			return Reading{}, fmt.Errorf("estimate: read %s: %w", e.statPath, err)
		}
		busy, all := estBusyAll(cpu)
		if !e.started {
			e.started = true
			e.prevTime, e.prevBusy, e.prevAll, e.lastStat = t, busy, all, t
			return Reading{Time: t, Energy: []metrics.Energy{0}}, nil
		}
		// With no ticks since the last read (within one jiffy) or
		// counters that went backwards (CPU hot-unplug, a restored VM),
		// there is no new utilisation: keep the last one rather than
		// invent one.
		dAll, dBusy := all-e.prevAll, busy-e.prevBusy
		if dAll > 0 && dBusy >= 0 && dBusy <= dAll {
			e.load = dBusy / dAll
		}
		e.prevBusy, e.prevAll, e.lastStat = busy, all, t
	}
	if el := t.Sub(e.prevTime); el > 0 {
		// The TDP and share were looked up and checked once, in
		// OpenEstimate; only the load changes between reads.
		watts := e.base.TDPWatts * e.base.Share * estCurveAt(e.load)
		// Integrate in float and carry the sub-microjoule part, so that
		// many short intervals lose nothing to rounding.
		uj := watts*el.Seconds()*float64(metrics.Joule) + e.remainder
		whole := math.Floor(uj)
		e.energy += metrics.Energy(whole)
		e.remainder = uj - whole
		e.prevTime = t
	}
	return Reading{Time: t, Energy: []metrics.Energy{e.energy}}, nil
}

// estBusyAll returns busy and total CPU time from the aggregate cpu line.
// Guest time is already inside user and nice, so it is not added again.
// Steal is left out of both: it is time our vCPUs wanted to run but the
// host ran someone else, which is neither our work nor our idle.
func estBusyAll(c procfs.CPUStat) (busy, all float64) {
	busy = c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ
	return busy, busy + c.Idle + c.Iowait
}

// MaxGap implements GapLimiter: 0, no limit. The estimate's energy is its
// own int64 sum, which does not wrap (Domain.Wrap is 0), and the /proc/stat
// times it reads from are 64-bit tick counts, which at USER_HZ = 100 on a
// 10,000-CPU machine take some 580,000 years to wrap. A long gap only
// averages the utilisation over it; it loses no energy.
func (e *Estimate) MaxGap() time.Duration { return 0 }

// Source implements Describer.
func (e *Estimate) Source() string {
	b := e.base
	tdp := b.TDPSource // a fallback or --tdp source says what it is
	if b.Matched != "fallback" && b.Matched != "--tdp" {
		tdp = b.Matched + ", " + b.TDPSource
	}
	return fmt.Sprintf("estimated from CPU utilisation (%s): TDP %.4g W [%s] × share %.4g × curve fraction of load [%s]",
		filepath.Join(e.root, "stat"), b.TDPWatts, tdp, b.Share, b.CurveSource)
}

// Notes implements Describer.
func (e *Estimate) Notes() []string { return slices.Clone(e.notes) }

// Close implements Meter.
func (e *Estimate) Close() error { return nil }

// estParseCPUInfo returns the first "model name" of a /proc/cpuinfo and
// the number of "processor" entries, which is the number of logical CPUs
// this machine sees. It reads the text itself, rather than through procfs,
// because procfs parses cpuinfo differently per architecture while the
// two fields needed here have the same shape everywhere.
func estParseCPUInfo(b []byte) (model string, logical int) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "processor":
			logical++
		case "model name":
			if model == "" {
				model = strings.TrimSpace(val)
			}
		}
	}
	return model, logical
}

// estReadCPUTotal reads the aggregate "cpu" line, the first of
// /proc/stat, into buf and parses it. Values stay in the file's clock
// ticks: only their ratios are used. The open does not block and a file
// that is not regular is refused, so a FIFO swapped in for stat during a
// run fails the read instead of hanging it; buf bounds the read.
func estReadCPUTotal(path string, buf []byte) (procfs.CPUStat, error) {
	f, _, err := infile.Open(path)
	if err != nil {
		return procfs.CPUStat{}, err
	}
	n, err := io.ReadFull(f, buf)
	f.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return procfs.CPUStat{}, err
	}
	return estParseCPULine(buf[:n])
}

// estParseStat checks a whole /proc/stat as read at open: its first line
// must be the aggregate cpu line, and it returns the number of per-CPU
// lines ("cpu0", "cpu1", ...), the logical CPUs when cpuinfo does not say.
func estParseStat(b []byte) (cpus int, err error) {
	if _, err := estParseCPULine(b); err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("cpu")); ok && len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
			cpus++
		}
	}
	return cpus, nil
}

// estParseCPULine parses "cpu  user nice system idle iowait irq softirq
// steal ..." (kernels before 2.6.11 stop after softirq or earlier; missing
// fields are zero).
func estParseCPULine(b []byte) (procfs.CPUStat, error) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	fields := bytes.Fields(line)
	if len(fields) < 5 || string(fields[0]) != "cpu" {
		return procfs.CPUStat{}, fmt.Errorf("first line is not the aggregate cpu line: %q", estTruncate(line, 80))
	}
	var v [8]float64
	for i := 0; i < len(v) && i+1 < len(fields); i++ {
		u, err := strconv.ParseUint(string(fields[i+1]), 10, 64)
		if err != nil {
			return procfs.CPUStat{}, fmt.Errorf("cpu line field %d: %w", i+1, err)
		}
		v[i] = float64(u)
	}
	return procfs.CPUStat{User: v[0], Nice: v[1], System: v[2], Idle: v[3], Iowait: v[4], IRQ: v[5], SoftIRQ: v[6], Steal: v[7]}, nil
}

func estTruncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
