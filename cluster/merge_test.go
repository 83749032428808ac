package cluster

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

func TestMergeTwoNodes(t *testing.T) {
	in := synthCluster(t, 2, quickSynth())
	rec, err := Merge(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Cluster.Nodes) != 2 || rec.Cluster.Nodes[0].Name != "node000" || rec.Cluster.Nodes[0].Path != "nodes/node000/record.json" {
		t.Fatalf("cluster block: %+v", rec.Cluster)
	}
	w := rec.Workloads[0]
	if len(w.Reps) != 3 {
		t.Fatalf("%d reps, want 3", len(w.Reps))
	}
	// Energy and work are the nodes' sums, repetition by repetition.
	for i, rep := range w.Reps {
		var want float64
		var items int64
		for _, x := range in {
			r := x.Rec.Workloads[0].Reps[i]
			want += metrics.Total(r.EnergyJ, metrics.TotalDomains(x.Rec)).Joules()
			items += r.Work.Items
		}
		got := metrics.Total(rep.EnergyJ, metrics.TotalDomains(rec)).Joules()
		if math.Abs(got-want) > 1e-6 || rep.Work.Items != items {
			t.Errorf("rep %d: %g J %d items, want %g J %d items", i, got, rep.Work.Items, want, items)
		}
	}
	// The cluster's idle power is the nodes' together: 2 × 55 W.
	if p := metrics.IdlePower(rec).Watts(); math.Abs(p-110) > 0.01 {
		t.Errorf("cluster idle power %g W, want 110", p)
	}
	sums := metrics.Summarize(rec)
	if jpi := sums[0].Stats["j_per_item"].Median; math.Abs(jpi-11) > 0.01 {
		t.Errorf("J/item %g, want 11 (2 nodes × 55 W × 2 s / 20 items)", jpi)
	}
	if math.Abs(rec.Cluster.SkewS-0.0002) > 1e-9 || rec.Cluster.SkewUnknown {
		t.Errorf("skew %g (unknown %v), want 0.0002 s: two clocks each within 100 µs", rec.Cluster.SkewS, rec.Cluster.SkewUnknown)
	}
	if err := Verify(rec, in); err != nil {
		t.Fatalf("a fresh merge must verify: %v", err)
	}
}

func TestMerge64Nodes(t *testing.T) {
	in := synthCluster(t, 64, quickSynth())
	rec, err := Merge(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Meters) != 64 || len(metrics.TotalDomains(rec)) != 128 {
		t.Fatalf("%d meters, %d total domains; want 64 and 128", len(rec.Meters), len(metrics.TotalDomains(rec)))
	}
	if got := rec.Workloads[0].Reps[0].Work.Items; got != 640 {
		t.Errorf("items %d, want 640", got)
	}
	if rec.Host.LogicalCPUs != 64*8 {
		t.Errorf("logical CPUs %d, want %d", rec.Host.LogicalCPUs, 64*8)
	}
	if err := Verify(rec, in); err != nil {
		t.Fatal(err)
	}
}

func TestMergeSkew(t *testing.T) {
	for _, tc := range []struct {
		skew            time.Duration
		warned, refused bool
	}{
		{30 * time.Millisecond, false, false},
		{60 * time.Millisecond, true, false},
		{600 * time.Millisecond, false, true},
	} {
		// Each clock may be off by half the skew, as its kernel says.
		s := quickSynth()
		s.estErrUS = tc.skew.Microseconds() / 2
		a := synthNode(t, "a", s)
		b := synthNode(t, "b", s)
		rec, err := Merge([]Input{a, b}, Options{})
		if tc.refused {
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "clock skew up to 600ms") || !strings.Contains(err.Error(), "400ms") {
				t.Errorf("skew %v: err %v, want a refusal naming 600ms and the 400ms limit", tc.skew, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("skew %v: %v", tc.skew, err)
		}
		if math.Abs(rec.Cluster.SkewS-tc.skew.Seconds()) > 1e-9 {
			t.Errorf("skew %v: recorded %g s", tc.skew, rec.Cluster.SkewS)
		}
		warned := strings.Contains(strings.Join(rec.Notes, "\n"), "WARNING: clock skew")
		if warned != tc.warned {
			t.Errorf("skew %v: warned %v, want %v (notes %q)", tc.skew, warned, tc.warned, rec.Notes)
		}
	}
}

// The 30 ms case of the issue: above what the kernel's error explains,
// below the warning limit, recorded; a 30 ms skew under a 20 ms warning
// limit is in the notes.
func TestMergeSkewWarnedInRecord(t *testing.T) {
	s := quickSynth()
	s.estErrUS = 15000
	a := synthNode(t, "a", s)
	b := synthNode(t, "b", s)
	rec, err := Merge([]Input{a, b}, Options{WarnSkew: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rec.Notes, "\n"), "WARNING: clock skew up to 30ms") {
		t.Fatalf("notes %q lack the skew warning", rec.Notes)
	}
}

// Nodes that start seconds apart (Kubernetes starts one pod after
// another) with synchronised clocks merge: the start spread is recorded,
// and is not taken for clock skew. A node whose clock is not
// synchronised leaves the skew unknown, which the record says.
func TestMergeStartSpreadIsNotSkew(t *testing.T) {
	s := quickSynth()
	a := synthNode(t, "a", s)
	s.offset = 3 * time.Second
	b := synthNode(t, "b", s)
	rec, err := Merge([]Input{a, b}, Options{})
	if err != nil {
		t.Fatalf("a 3 s later start refused: %v", err)
	}
	if rec.Cluster.SkewS > 0.001 || rec.Cluster.SkewUnknown || math.Abs(rec.Cluster.PhaseSpreadS-3) > 1e-6 {
		t.Errorf("skew %g s (unknown %v), spread %g s: want skew 0.2 ms, spread 3 s", rec.Cluster.SkewS, rec.Cluster.SkewUnknown, rec.Cluster.PhaseSpreadS)
	}
	s.unsyncedClock = true
	c := synthNode(t, "c", s)
	rec, err = Merge([]Input{a, c}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Cluster.SkewUnknown || !strings.Contains(strings.Join(rec.Notes, "\n"), "skew cannot be bounded: node c") {
		t.Errorf("an unsynchronised clock: unknown %v, notes %q", rec.Cluster.SkewUnknown, rec.Notes)
	}
}

func TestMergeRefusals(t *testing.T) {
	base := quickSynth()
	other := func(f func(*synth)) Input {
		s := base
		f(&s)
		return synthNode(t, "b", s)
	}
	a := synthNode(t, "a", base)
	unsynced := base
	unsynced.unsyncedClock = true
	incomplete := synthNode(t, "c", base)
	incomplete.Rec.Complete, incomplete.Rec.IncompleteReason = false, "interrupted"
	cases := map[string]struct {
		in   []Input
		want string
	}{
		"another suite":        {[]Input{a, other(func(s *synth) { s.suite = "standard" })}, "suite standard"},
		"another workload":     {[]Input{a, other(func(s *synth) { s.workload = "gemm-fp32-1024" })}, "workloads"},
		"another content hash": {[]Input{a, other(func(s *synth) { s.contentHash = "evil" })}, "content_hash"},
		"other reps":           {[]Input{a, other(func(s *synth) { s.reps = 5 })}, "config.reps"},
		"duplicate node":       {[]Input{a, synthNode(t, "a", base)}, "appears twice"},
		"one node":             {[]Input{a}, "at least 2 nodes"},
		"incomplete":           {[]Input{a, incomplete}, "incomplete"},
	}
	for name, tc := range cases {
		_, err := Merge(tc.in, Options{})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want a refusal saying %q", name, err, tc.want)
		}
	}
	// An unsynchronised clock is merged, and said.
	rec, err := Merge([]Input{a, synthNode(t, "u", unsynced)}, Options{})
	if err != nil || !strings.Contains(strings.Join(rec.Notes, "\n"), "node u: the kernel says its clock is not synchronised") {
		t.Fatalf("unsynced clock: err %v, notes %q", err, rec.Notes)
	}
}

func TestWriteLoadTamper(t *testing.T) {
	in := synthCluster(t, 2, quickSynth())
	rec, err := Merge(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := Write(dir, rec, in)
	if err != nil {
		t.Fatal(err)
	}
	_, back, err := results.ReadFileBytes(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, back); err != nil {
		t.Fatalf("fresh cluster record: %v", err)
	}

	// A node record edited after the merge: one joule less.
	node := filepath.Join(dir, "nodes", "node001", "record.json")
	orig, _ := os.ReadFile(node)
	nr, _ := results.Decode(orig)
	nr.Workloads[0].Reps[0].EnergyJ["package-0"]--
	if err := results.WriteFile(node, nr); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, back); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "changed after the merge") {
		t.Fatalf("edited node record: err %v, want ErrTampered", err)
	}
	os.WriteFile(node, orig, 0o644)

	// A cluster figure edited: the sum no longer what its nodes give.
	forged := *back
	forged.Workloads = append([]results.Workload(nil), back.Workloads...)
	forged.Workloads[0].Reps = append([]results.Rep(nil), back.Workloads[0].Reps...)
	forged.Workloads[0].Reps[0].Work.Items *= 2
	if _, err := Load(p, &forged); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "workloads") {
		t.Fatalf("forged sum: err %v, want ErrTampered naming workloads", err)
	}
	// Looser skew limits written into the record.
	loose := *back
	cl := *back.Cluster
	cl.MaxSkewS = 10
	loose.Cluster = &cl
	if _, err := Load(p, &loose); !errors.Is(err, ErrTampered) {
		t.Fatalf("loosened skew limit: err %v, want ErrTampered", err)
	}
	// A node path that climbs out of the cluster directory.
	esc := *back
	cl2 := *back.Cluster
	cl2.Nodes = append([]results.ClusterNode(nil), back.Cluster.Nodes...)
	cl2.Nodes[0].Path = "../../etc/passwd"
	esc.Cluster = &cl2
	if _, err := Load(p, &esc); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "inside the cluster record's directory") {
		t.Fatalf("escaping path: err %v", err)
	}
}

func TestReadInputsJobDir(t *testing.T) {
	out := t.TempDir()
	for _, x := range synthCluster(t, 3, quickSynth()) {
		if err := results.WriteFileAtomic(filepath.Join(out, "slurm-4711.0", x.Rec.Node.Name, "record.json"), x.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in, err := ReadInputs([]string{filepath.Join(out, "slurm-4711.0")})
	if err != nil || len(in) != 3 {
		t.Fatalf("ReadInputs: %d records, %v", len(in), err)
	}
	if _, err := ReadInputs([]string{t.TempDir()}); !errors.Is(err, ErrRefused) {
		t.Fatalf("empty dir: %v", err)
	}
}

// What makes records not one run is refused: a run copied under another
// node name, records of different jobs or none, another joulebench.
func TestMergeOneRunOnly(t *testing.T) {
	s := quickSynth()
	a := synthNode(t, "a", s)
	copied := synthNode(t, "a", s)
	copied.Rec.Node.Name, copied.Path = "b", "b"
	otherJob := synthNode(t, "c", s)
	otherJob.Rec.Node.Job = "slurm-99.0"
	noJob := synthNode(t, "d", s)
	noJob.Rec.Node = nil
	otherTool := synthNode(t, "e", s)
	otherTool.Rec.Tool.Version = "v0.0.1-other"
	for name, tc := range map[string]struct {
		b    Input
		want string
	}{
		"same run twice": {copied, "are the same run"},
		"another job":    {otherJob, "in job slurm-99.0"},
		"no job":         {noJob, "names no scheduler job"},
		"another tool":   {otherTool, "ran joulebench"},
	} {
		if _, err := Merge([]Input{a, tc.b}, Options{}); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a refusal saying %q", name, err, tc.want)
		}
	}
	// Two names on one host merge, with a warning (certify refuses them).
	twin := synthNode(t, "f", s)
	twin.Rec.Host.Hostname = "a"
	rec, err := Merge([]Input{a, twin}, Options{})
	if err != nil || !strings.Contains(strings.Join(rec.Notes, "\n"), "report the same host a") {
		t.Errorf("two nodes on one host: %v, notes %v", err, rec)
	}
}
