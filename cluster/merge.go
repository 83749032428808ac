package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/joulebench/joulebench/results"
)

// The clock limits merge applies to the nodes' skew. MaxSkew is MLPerf
// power-dev's: its ptd_client_server/lib/time_sync.py refuses a run when
// the client's or the server's clock is more than
// CRITICAL_DIFFERENCE_TIME_MS = 200 ms from the NTP server, so two clocks
// that pass may differ by 400 ms; we hold any two nodes to the same. At
// WarnSkew the per-repetition sums are still sound but the record says
// so.
const (
	WarnSkew = 50 * time.Millisecond
	MaxSkew  = 400 * time.Millisecond
)

// ErrRefused is wrapped by every refusal of the inputs: nodes that ran
// different work, duplicates, too much clock skew, a record that is not
// a complete node record. It is bad input, not a failure to merge.
var ErrRefused = errors.New("merge refused")

// ErrTampered is wrapped when a cluster record and its node records
// disagree: a node record's digest, or a figure merge would not give.
var ErrTampered = errors.New("cluster record does not match its node records")

// Input is one node record as read: its bytes, kept verbatim so that the
// cluster record can name them by digest, and what they decode to.
type Input struct {
	// Path is where the record was read, for messages.
	Path string
	Data []byte
	Rec  *results.Record
}

// Options are the merge's choices. The zero value takes the defaults.
type Options struct {
	// RunID names the cluster record; default "cluster-" and the first
	// 12 hex digits of the digest of the node digests, so that the same
	// nodes merge to the same record.
	RunID string
	// Tool is the joulebench that merged.
	Tool results.Tool
	// WarnSkew and MaxSkew override the package's limits (tests).
	WarnSkew, MaxSkew time.Duration
}

// NodesDir is where, under a cluster record's directory, the node
// records are kept: NodesDir/<node>/record.json.
const NodesDir = "nodes"

type node struct {
	name   string
	in     Input
	digest string
	// start is the wall time of the first phase every node ran.
	start time.Time
}

// nodeName is the name a record gives its node: the batch job's, else
// the hostname.
func nodeName(r *results.Record) string {
	if r.Node != nil && r.Node.Name != "" {
		return r.Node.Name
	}
	return r.Host.Hostname
}

var safeNode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Merge builds the cluster record of the node records in: it refuses
// (ErrRefused) fewer than two nodes, a node named twice, an incomplete
// run, a cluster or measure record, nodes that ran another suite, suite
// version, workload set, workload spec or rules, and nodes whose clocks
// disagree by more than MaxSkew at the first shared phase edge.
func Merge(in []Input, opts Options) (*results.Record, error) {
	if opts.WarnSkew == 0 {
		opts.WarnSkew = WarnSkew
	}
	if opts.MaxSkew == 0 {
		opts.MaxSkew = MaxSkew
	}
	if len(in) < 2 {
		return nil, fmt.Errorf("%w: %d node record(s); a cluster record merges the records of at least 2 nodes", ErrRefused, len(in))
	}
	nodes := make([]node, 0, len(in))
	seen := map[string]string{}
	runIDs := map[string]string{}
	for _, x := range in {
		r := x.Rec
		if r == nil {
			return nil, fmt.Errorf("%w: %s: no record", ErrRefused, x.Path)
		}
		name := nodeName(r)
		switch {
		case r.Cluster != nil:
			return nil, fmt.Errorf("%w: %s is a cluster record already; merge the node records it lists", ErrRefused, x.Path)
		case r.Command != nil:
			return nil, fmt.Errorf("%w: %s is a joulebench measure record; merge takes suite runs (joulebench run)", ErrRefused, x.Path)
		case !r.Complete:
			return nil, fmt.Errorf("%w: %s: the run on node %s is incomplete (%s); rerun the job", ErrRefused, x.Path, name, r.IncompleteReason)
		case name == "":
			return nil, fmt.Errorf("%w: %s names no node (node.name and host.hostname are empty)", ErrRefused, x.Path)
		case !safeNode.MatchString(name):
			return nil, fmt.Errorf("%w: %s: node name %q is not a plain host name (letters, digits, '.', '_', '-')", ErrRefused, x.Path, name)
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%w: node %s appears twice (%s and %s); give each node's record once", ErrRefused, name, prev, x.Path)
		}
		// One run under two names (a copied record, its node renamed)
		// would count the same energy and work twice.
		if prev, dup := runIDs[r.RunID]; dup {
			return nil, fmt.Errorf("%w: %s and %s are the same run (%s): a node's measurement may be counted once", ErrRefused, prev, x.Path, r.RunID)
		}
		seen[name], runIDs[r.RunID] = x.Path, x.Path
		sum := sha256.Sum256(x.Data)
		nodes = append(nodes, node{name: name, in: x, digest: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(nodes, func(a, b node) int { return strings.Compare(a.name, b.name) })
	for _, n := range nodes[1:] {
		if err := sameRun(nodes[0], n); err != nil {
			return nil, err
		}
	}

	c := &results.Cluster{WarnSkewS: opts.WarnSkew.Seconds(), MaxSkewS: opts.MaxSkew.Seconds()}
	var notes []string
	first, last := edgeStarts(nodes)
	for i := range nodes {
		cn := results.ClusterNode{
			Name: nodes[i].name, Path: path.Join(NodesDir, nodes[i].name, results.RecordFile), SHA256: nodes[i].digest,
			RunID: nodes[i].in.Rec.RunID, StartOffsetS: nodes[i].start.Sub(first).Seconds(),
			Clock: nodes[i].in.Rec.Clock, Node: nodes[i].in.Rec.Node,
		}
		c.Nodes = append(c.Nodes, cn)
		switch ck := nodes[i].in.Rec.Clock; {
		case ck == nil || ck.Source != "adjtimex":
			notes = append(notes, fmt.Sprintf("node %s: its clock's sync status is unknown (the record has no adjtimex reading); the skew below is all that lines it up", nodes[i].name))
		case !ck.Synced:
			notes = append(notes, fmt.Sprintf("node %s: the kernel says its clock is not synchronised (STA_UNSYNC); run chrony or ntpd on every node", nodes[i].name))
		case time.Duration(ck.MaxErrorUS)*time.Microsecond > opts.WarnSkew:
			notes = append(notes, fmt.Sprintf("node %s: the kernel's maximum clock error is %d ms (est. %d ms), above the %s warning limit", nodes[i].name, ck.MaxErrorUS/1000, ck.EstErrorUS/1000, opts.WarnSkew))
		}
	}
	// The skew is what the clocks themselves say they may be off by, not
	// the start spread: no record holds an event two nodes saw at once,
	// so the start times alone cannot tell a skewed clock from a pod the
	// scheduler started later.
	// Two node names on one host (Slurm's multiple-slurmd test setups, or
	// a record copied under another name) may be one machine counted
	// twice: say so; certify refuses it.
	hosts := map[string]string{}
	for _, n := range nodes {
		h := n.in.Rec.Host.Hostname
		if h == "" {
			continue
		}
		if prev, ok := hosts[h]; ok {
			notes = append(notes, fmt.Sprintf("WARNING: nodes %s and %s report the same host %s: if they are one machine, its energy is counted twice (certify refuses such a cluster)", prev, n.name, h))
			continue
		}
		hosts[h] = n.name
	}
	skew, unknown := clockSkew(nodes)
	c.SkewS, c.SkewUnknown = skew.Seconds(), unknown != ""
	c.PhaseSpreadS = last.Sub(first).Seconds()
	switch {
	case unknown != "":
		notes = append(notes, fmt.Sprintf("WARNING: the nodes' clock skew cannot be bounded: node %s's clock is not synchronised or unknown; the per-repetition sums are sound, their alignment in wall time is not known (certify refuses such a cluster: run chrony or ntpd on every node)", unknown))
	case skew > opts.MaxSkew:
		return nil, fmt.Errorf("%w: clock skew up to %s between the nodes (the sum of the two largest estimated clock errors their kernels state), above the %s limit (MLPerf power-dev's: each clock within 200 ms of NTP); synchronise the nodes' clocks (chrony, ntpd), then rerun",
			ErrRefused, skew.Round(time.Millisecond), opts.MaxSkew)
	case skew > opts.WarnSkew:
		notes = append(notes, fmt.Sprintf("WARNING: clock skew up to %s between the nodes (their kernels' estimated clock errors), above %s (refused above %s)", skew.Round(time.Millisecond), opts.WarnSkew, opts.MaxSkew))
	}

	r0 := nodes[0].in.Rec
	rec := &results.Record{
		SchemaVersion: results.SchemaVersion,
		RunID:         opts.RunID,
		Complete:      true,
		StartedAt:     r0.StartedAt,
		FinishedAt:    r0.FinishedAt,
		Tool:          opts.Tool,
		Host:          mergeHost(nodes),
		Config:        r0.Config,
		Readings:      []results.Reading{},
		Cluster:       c,
	}
	rec.Config.Args, rec.Config.CheckSeed, rec.Config.SysfsRoot = nil, "", ""
	for _, n := range nodes {
		r := n.in.Rec
		if r.StartedAt.Before(rec.StartedAt) {
			rec.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(rec.FinishedAt) {
			rec.FinishedAt = r.FinishedAt
		}
		if r.Config.MeterSelection != rec.Config.MeterSelection {
			rec.Config.MeterSelection = "per node"
		}
		rec.Meters = append(rec.Meters, prefixMeters(n.name, r.Meters)...)
	}
	if rec.RunID == "" {
		h := sha256.New()
		for _, n := range nodes {
			h.Write([]byte(n.digest))
		}
		rec.RunID = "cluster-" + hex.EncodeToString(h.Sum(nil))[:12]
	}
	var idleNotes []string
	rec.Idle, idleNotes = mergeIdle(nodes)
	notes = append(notes, idleNotes...)
	for wi := range r0.Workloads {
		w, wnotes := mergeWorkload(nodes, wi, rec.StartedAt)
		rec.Workloads = append(rec.Workloads, w)
		notes = append(notes, wnotes...)
	}
	for _, w := range rec.Workloads {
		for _, rep := range w.Reps {
			c.PhaseSpreadS = math.Max(c.PhaseSpreadS, repSpread(nodes, w.Name, rep.Index))
		}
	}
	var cnotes []string
	rec.Carbon, cnotes = mergeCarbon(nodes)
	notes = append(notes, cnotes...)
	rec.Notes = append([]string{fmt.Sprintf("cluster record of %d nodes (%s): energy and work summed per repetition; each repetition lasts as long as its slowest node; quality is the lowest node's", len(nodes), nodeList(nodes))}, notes...)
	return rec, nil
}

func nodeList(nodes []node) string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.name
	}
	if len(names) > 8 {
		return strings.Join(names[:4], ", ") + fmt.Sprintf(", … %d more … , ", len(names)-6) + strings.Join(names[len(names)-2:], ", ")
	}
	return strings.Join(names, ", ")
}

// sameRun refuses a node that ran other work or under other rules than
// the first: their sums would add unlike things.
func sameRun(a, b node) error {
	ca, cb := a.in.Rec.Config, b.in.Rec.Config
	diff := func(field string, x, y any) error {
		return fmt.Errorf("%w: node %s ran %s %v, node %s ran %v (%s); every node of a cluster record runs the same suite, version, workloads and rules",
			ErrRefused, b.name, field, y, a.name, x, b.in.Path)
	}
	ja, jb := jobOf(a.in.Rec), jobOf(b.in.Rec)
	ta, tb := a.in.Rec.Tool, b.in.Rec.Tool
	switch {
	case ja == "" || jb == "":
		return fmt.Errorf("%w: %s names no scheduler job (node.job): a cluster record merges the node records of one Slurm or Kubernetes job, which joulebench run writes under srun or an Indexed Job", ErrRefused, map[bool]string{true: a.in.Path, false: b.in.Path}[ja == ""])
	case ja != jb:
		return diff("in job", ja, jb)
	case ta.Version != tb.Version || ta.Commit != tb.Commit:
		return diff("joulebench", ta.Version+" "+ta.Commit, tb.Version+" "+tb.Commit)
	case ca.Suite != cb.Suite:
		return diff("suite", ca.Suite, cb.Suite)
	case ca.SuiteVersion != cb.SuiteVersion:
		return diff("suite version", ca.SuiteVersion, cb.SuiteVersion)
	case !slices.Equal(ca.Workloads, cb.Workloads):
		return diff("workloads", ca.Workloads, cb.Workloads)
	case ca.Reps != cb.Reps:
		return diff("config.reps", ca.Reps, cb.Reps)
	case ca.MinTimeS != cb.MinTimeS:
		return diff("config.min_time_s", ca.MinTimeS, cb.MinTimeS)
	case ca.IdleS != cb.IdleS:
		return diff("config.idle_s", ca.IdleS, cb.IdleS)
	case ca.WarmupS != cb.WarmupS:
		return diff("config.warmup_s", ca.WarmupS, cb.WarmupS)
	case ca.IntervalS != cb.IntervalS:
		return diff("config.interval_s", ca.IntervalS, cb.IntervalS)
	case ca.MinReadings != cb.MinReadings:
		return diff("config.min_readings", ca.MinReadings, cb.MinReadings)
	case ca.MaxCV != cb.MaxCV:
		return diff("config.max_cv", ca.MaxCV, cb.MaxCV)
	case !slices.Equal(ca.Overrides, cb.Overrides):
		return diff("config.overrides", ca.Overrides, cb.Overrides)
	case a.in.Rec.SchemaVersion != b.in.Rec.SchemaVersion:
		return diff("schema_version", a.in.Rec.SchemaVersion, b.in.Rec.SchemaVersion)
	case len(a.in.Rec.Workloads) != len(b.in.Rec.Workloads):
		return diff("a number of workloads", len(a.in.Rec.Workloads), len(b.in.Rec.Workloads))
	}
	for i, wa := range a.in.Rec.Workloads {
		wb := b.in.Rec.Workloads[i]
		switch {
		case wa.Name != wb.Name:
			return diff(fmt.Sprintf("workloads[%d]", i), wa.Name, wb.Name)
		case wa.Version != wb.Version:
			return diff(wa.Name+" version", wa.Version, wb.Version)
		case wa.ContentHash != wb.ContentHash:
			return diff(wa.Name+" content_hash", wa.ContentHash, wb.ContentHash)
		case wa.WorkUnit != wb.WorkUnit:
			return diff(wa.Name+" work_unit", wa.WorkUnit, wb.WorkUnit)
		case !maps.Equal(wa.Params, wb.Params):
			return diff(wa.Name+" params", wa.Params, wb.Params)
		}
	}
	return nil
}

// edgeStarts sets each node's start, the wall time of the first phase
// every node ran (the idle baseline, else the first workload's first
// repetition, else the run's start), and returns the earliest and latest.
func edgeStarts(nodes []node) (first, last time.Time) {
	allIdle := true
	for _, n := range nodes {
		if n.in.Rec.Idle == nil {
			allIdle = false
		}
	}
	for i := range nodes {
		r := nodes[i].in.Rec
		off := 0.0
		switch {
		case allIdle:
			off = r.Idle.StartS
		case len(r.Workloads) > 0 && len(r.Workloads[0].Reps) > 0:
			off = r.Workloads[0].Reps[0].StartS
		}
		nodes[i].start = r.StartedAt.Add(secs(off))
		if i == 0 || nodes[i].start.Before(first) {
			first = nodes[i].start
		}
		if i == 0 || nodes[i].start.After(last) {
			last = nodes[i].start
		}
	}
	return first, last
}

func secs(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// repSpread is the spread, in wall time, of the start of one repetition
// across the nodes that ran it.
func repSpread(nodes []node, workload string, index int) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, n := range nodes {
		r := n.in.Rec
		for _, w := range r.Workloads {
			if w.Name != workload {
				continue
			}
			for _, rep := range w.Reps {
				if rep.Index == index {
					t := float64(r.StartedAt.Add(secs(rep.StartS)).UnixNano()) / 1e9
					lo, hi = math.Min(lo, t), math.Max(hi, t)
				}
			}
		}
	}
	if hi < lo {
		return 0
	}
	return hi - lo
}

// prefixMeters names a node's meters and domains after the node, so that
// the cluster record's domains are distinct and its total is every node's.
func prefixMeters(name string, ms []results.Meter) []results.Meter {
	out := make([]results.Meter, 0, len(ms))
	for _, m := range ms {
		m.Name = name + "/" + m.Name
		doms := make([]results.Domain, len(m.Domains))
		for i, d := range m.Domains {
			d.Name = name + "/" + d.Name
			if d.Parent != "" {
				d.Parent = name + "/" + d.Parent
			}
			doms[i] = d
		}
		m.Domains = doms
		if m.Devices != nil {
			devs := make([]results.Device, len(m.Devices))
			for i, d := range m.Devices {
				d.Domain = name + "/" + d.Domain
				devs[i] = d
			}
			m.Devices = devs
		}
		m.Notes = slices.Clone(m.Notes)
		out = append(out, m)
	}
	return out
}

func prefixEnergy(dst map[string]float64, name string, src map[string]float64) {
	for k, v := range src {
		dst[name+"/"+k] = v
	}
}

// mergeIdle sums the idle baselines. Each node's energy is scaled to the
// longest node's duration, so that the cluster's idle power (energy over
// duration, as metrics computes it) is the sum of the nodes' idle powers.
func mergeIdle(nodes []node) (*results.Phase, []string) {
	d := 0.0
	for _, n := range nodes {
		if n.in.Rec.Idle == nil || n.in.Rec.Idle.DurationS <= 0 {
			return nil, []string{fmt.Sprintf("node %s has no idle baseline: the cluster record has none, and no net-of-idle figures", n.name)}
		}
		d = math.Max(d, n.in.Rec.Idle.DurationS)
	}
	p := &results.Phase{DurationS: d, EnergyJ: map[string]float64{}, Readings: math.MaxInt}
	for _, n := range nodes {
		id := n.in.Rec.Idle
		for k, v := range id.EnergyJ {
			p.EnergyJ[n.name+"/"+k] = v * d / id.DurationS
		}
		p.Readings = min(p.Readings, id.Readings)
		for _, f := range id.MeterFaults {
			p.MeterFaults = append(p.MeterFaults, n.name+": "+f)
		}
	}
	return p, nil
}

// mergeWorkload sums one workload over the nodes, repetition by
// repetition, for the repetitions every node ran.
func mergeWorkload(nodes []node, wi int, t0 time.Time) (results.Workload, []string) {
	w0 := nodes[0].in.Rec.Workloads[wi]
	w := results.Workload{
		Name: w0.Name, Version: w0.Version, Params: w0.Params, ContentHash: w0.ContentHash, WorkUnit: w0.WorkUnit,
		Info: w0.Info, Episodic: w0.Episodic, Reps: []results.Rep{},
	}
	var notes, errs []string
	// Repetitions are aligned by index; one missing on any node is left out.
	counts := map[int]int{}
	for _, n := range nodes {
		nw := n.in.Rec.Workloads[wi]
		if nw.Error != "" {
			errs = append(errs, n.name+": "+nw.Error)
		}
		for _, rep := range nw.Reps {
			counts[rep.Index]++
		}
	}
	var idx []int
	for i, c := range counts {
		if c == len(nodes) {
			idx = append(idx, i)
		} else {
			notes = append(notes, fmt.Sprintf("%s: repetition %d is left out: %d of %d nodes ran it", w.Name, i+1, c, len(nodes)))
		}
	}
	slices.Sort(idx)
	slices.Sort(notes)
	if len(errs) > 0 {
		w.Error = strings.Join(errs, "; ")
	}
	w.Check = mergeCheck(nodes, func(r *results.Record) *results.Check { return r.Workloads[wi].Check })
	for _, ix := range idx {
		out := results.Rep{Index: ix, StartS: math.Inf(1), EnergyJ: map[string]float64{}, Readings: math.MaxInt}
		for _, n := range nodes {
			r := n.in.Rec
			rep := r.Workloads[wi].Reps[slices.IndexFunc(r.Workloads[wi].Reps, func(x results.Rep) bool { return x.Index == ix })]
			out.Attempts = max(out.Attempts, rep.Attempts)
			out.Iters += rep.Iters
			out.StartS = math.Min(out.StartS, r.StartedAt.Add(secs(rep.StartS)).Sub(t0).Seconds())
			out.DurationS = math.Max(out.DurationS, rep.DurationS)
			prefixEnergy(out.EnergyJ, n.name, rep.EnergyJ)
			out.Work.FLOPs += rep.Work.FLOPs
			out.Work.Items += rep.Work.Items
			for k, v := range rep.Work.Quality {
				if out.Work.Quality == nil {
					out.Work.Quality = map[string]float64{}
				}
				if old, ok := out.Work.Quality[k]; !ok || v < old {
					out.Work.Quality[k] = v
				}
			}
			out.Readings = min(out.Readings, rep.Readings)
			for _, f := range rep.MeterFaults {
				out.MeterFaults = append(out.MeterFaults, n.name+": "+f)
			}
		}
		out.Check = mergeCheck(nodes, func(r *results.Record) *results.Check {
			reps := r.Workloads[wi].Reps
			return reps[slices.IndexFunc(reps, func(x results.Rep) bool { return x.Index == ix })].Check
		})
		w.Reps = append(w.Reps, out)
	}
	return w, notes
}

// mergeCheck is the nodes' answer checks as one: the first node's that
// failed, named, else the first node's, saying all passed; nil when a node
// has none.
func mergeCheck(nodes []node, get func(*results.Record) *results.Check) *results.Check {
	var first *results.Check
	for _, n := range nodes {
		c := get(n.in.Rec)
		if c == nil {
			return nil
		}
		if !c.OK {
			out := *c
			out.Detail = "node " + n.name + ": " + c.Detail
			return &out
		}
		if first == nil {
			first = c
		}
	}
	out := *first
	out.Detail = fmt.Sprintf("passed on all %d nodes (node %s: %s)", len(nodes), nodes[0].name, first.Detail)
	return &out
}

// mergeHost describes the cluster: counts summed, what every node shares
// kept, what differs said to differ.
func mergeHost(nodes []node) results.Host {
	h0 := nodes[0].in.Rec.Host
	h := results.Host{
		Hostname: fmt.Sprintf("cluster of %d nodes", len(nodes)),
		CPUModel: h0.CPUModel, CPUVendor: h0.CPUVendor, Kernel: h0.Kernel, OS: h0.OS, Arch: h0.Arch,
		CPUFlags: h0.CPUFlags, Virtualized: h0.Virtualized,
	}
	for _, n := range nodes {
		x := n.in.Rec.Host
		h.Sockets += x.Sockets
		h.Cores += x.Cores
		h.LogicalCPUs += x.LogicalCPUs
		h.MemoryBytes += x.MemoryBytes
		h.MaxMHz = math.Max(h.MaxMHz, x.MaxMHz)
		h.Virtualized = h.Virtualized || x.Virtualized
		if x.CPUModel != h0.CPUModel {
			h.CPUModel = "mixed"
		}
		if x.CPUVendor != h0.CPUVendor {
			h.CPUVendor = "mixed"
		}
		if x.Kernel != h0.Kernel {
			h.Kernel = "mixed"
		}
		if x.OS != h0.OS {
			h.OS = "mixed"
		}
		if x.Arch != h0.Arch {
			h.Arch = "mixed"
		}
		if !slices.Equal(x.CPUFlags, h0.CPUFlags) {
			h.CPUFlags = nil
		}
	}
	return h
}

// mergeCarbon keeps the carbon accounting when every node used the same
// annual-average figure and PUE: the cluster's grams are then the sum of
// the nodes'. Embodied carbon is per device and is left out.
func mergeCarbon(nodes []node) (*results.Carbon, []string) {
	c0 := nodes[0].in.Rec.Carbon
	if c0 == nil {
		return nil, nil
	}
	for _, n := range nodes {
		c := n.in.Rec.Carbon
		if c == nil || c.Method != results.CarbonAnnual || c.Method != c0.Method || c.Region != c0.Region ||
			c.GramsPerKWh != c0.GramsPerKWh || c.PUE != c0.PUE || c.Source != c0.Source {
			return nil, []string{"carbon: the nodes' accountings differ (or use a time series), so the cluster record has none; each node record keeps its own"}
		}
	}
	out := *c0
	out.Series, out.Embodied = nil, nil
	out.Notes = append(slices.Clone(c0.Notes), "cluster: embodied carbon is per device and is not included; see each node's record")
	out.Boundary = fmt.Sprintf("the sum over %d nodes of: %s", len(nodes), c0.Boundary)
	return &out, nil
}

// clockSkew bounds the difference between any two nodes' wall clocks by
// the sum of the two largest estimated errors their kernels state. unknown
// names a node whose clock is not synchronised or not read (the bound is
// then meaningless), "" when every clock is.
func clockSkew(nodes []node) (skew time.Duration, unknown string) {
	var a, b int64 // the two largest estimated errors, µs
	for _, n := range nodes {
		ck := n.in.Rec.Clock
		if ck == nil || ck.Source != "adjtimex" || !ck.Synced || ck.EstErrorUS < 0 {
			if unknown == "" {
				unknown = n.name
			}
			continue
		}
		switch e := ck.EstErrorUS; {
		case e > a:
			a, b = e, a
		case e > b:
			b = e
		}
	}
	return time.Duration(a+b) * time.Microsecond, unknown
}

// jobOf is the scheduler job a node record says it ran in, "" for none.
func jobOf(r *results.Record) string {
	if r.Node == nil {
		return ""
	}
	return r.Node.Job
}
