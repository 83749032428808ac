package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/results"
)

// runNode runs the quick suite's smallest work on the fake meter as
// node name of Slurm job 4711, step 0, writing under out.
func runNode(t *testing.T, out, name string, extra ...string) string {
	t.Helper()
	t.Setenv("SLURM_JOB_ID", "4711")
	t.Setenv("SLURM_STEP_ID", "0")
	t.Setenv("SLURMD_NODENAME", name)
	t.Setenv("SLURM_NODEID", name[len(name)-1:])
	t.Setenv("SLURM_PROCID", name[len(name)-1:])
	args := append([]string{"run", "--meter", "fake", "--workload", "gemm-fp64-1024", "--idle", "200ms", "--warmup", "0",
		"--min-time", "200ms", "--reps", "2", "--interval", "20ms", "--blas", "gonum", "--out", out}, extra...)
	if _, stderr, err := runCLI(t, args...); err != nil {
		t.Fatalf("run on %s: %v\n%s", name, err, stderr)
	}
	p := filepath.Join(out, "slurm-4711.0", name, results.RecordFile)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the node's record is not at OUT/slurm-<job>.<step>/<node>/record.json: %v", err)
	}
	return p
}

// Two nodes of one Slurm step: each run writes its own directory, merge
// sums them, and report, compare and certify read the cluster record.
func TestMergeTwoRuns(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	a := runNode(t, shared, "cn1")
	b := runNode(t, shared, "cn2")
	validateRecord(t, a)

	// A second task on the same node of the same step is refused, not
	// written over the first.
	t.Setenv("SLURMD_NODENAME", "cn1")
	_, _, err := runCLI(t, "run", "--meter", "fake", "--workload", "gemm-fp64-1024", "--idle", "0", "--warmup", "0", "--min-time", "100ms", "--reps", "1", "--blas", "gonum", "--out", shared)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "--ntasks-per-node=1") {
		t.Fatalf("second task on one node: %v", err)
	}

	ra, _ := results.ReadFile(a)
	// The two runs ran one after the other in this process; on a cluster
	// srun starts them together. Line the second up with the first, as
	// its clock would have been.
	rb, _ := results.ReadFile(b)
	shift := ra.StartedAt.Add(time.Duration(ra.Idle.StartS * float64(time.Second))).Sub(rb.StartedAt.Add(time.Duration(rb.Idle.StartS * float64(time.Second))))
	rb.StartedAt, rb.FinishedAt = rb.StartedAt.Add(shift), rb.FinishedAt.Add(shift)
	if err := results.WriteFile(b, rb); err != nil {
		t.Fatal(err)
	}
	if ra.Node == nil || ra.Node.Name != "cn1" || ra.Node.SlurmJobID != "4711" || ra.Clock == nil || ra.Clock.MonotonicNS <= 0 {
		t.Fatalf("node record lacks its identity or clock: node %+v clock %+v", ra.Node, ra.Clock)
	}

	out := filepath.Join(dir, "cluster")
	stdout, stderr, err := runCLI(t, "merge", filepath.Join(shared, "slurm-4711.0"), "--out", out)
	if err != nil {
		t.Fatalf("merge: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "2 nodes") || !strings.Contains(stdout, "gemm-fp64-1024") {
		t.Fatalf("merge output:\n%s\n%s", stdout, stderr)
	}
	cpath := filepath.Join(out, results.RecordFile)
	validateRecord(t, cpath)
	_, crec, err := results.ReadFileBytes(cpath)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := crec.Workloads[0].Reps[0].Work.Items, ra.Workloads[0].Reps[0].Work.Items+rb.Workloads[0].Reps[0].Work.Items; got != want {
		t.Errorf("cluster items %d, want the nodes' sum %d", got, want)
	}
	// Merging into a directory that has a record already is refused.
	if _, _, err := runCLI(t, "merge", a, b, "--out", out); err == nil || exitCode(err) != 2 {
		t.Fatalf("merge over a record: %v", err)
	}

	if stdout, _, err := runCLI(t, "report", cpath); err != nil || !strings.Contains(stdout, "gemm-fp64-1024") {
		t.Fatalf("report of a cluster record: %v\n%s", err, stdout)
	}
	// The HTML report judges the cluster with its nodes, as certify does.
	html := filepath.Join(dir, "cluster.html")
	if _, stderr, err := runCLI(t, "report", cpath, "--html", html); err != nil {
		t.Fatalf("report --html of a cluster record: %v\n%s", err, stderr)
	}
	if page, _ := os.ReadFile(html); strings.Contains(string(page), "EvaluateCluster") || !strings.Contains(string(page), "level 0") {
		t.Errorf("the HTML report of a cluster record does not judge it with its nodes")
	}
	if stdout, _, err := runCLI(t, "compare", a, cpath); err != nil || !strings.Contains(stdout, "gemm-fp64-1024") {
		t.Fatalf("compare a node with its cluster: %v\n%s", err, stdout)
	}

	spec, raw := certify.DefaultSpec()
	c, err := certify.EvaluateFile(cpath, crec, spec, certify.SpecDigest(raw), certify.EvalOptions{Now: time.Now(), AllowEstimated: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Level.Level != 0 || c.Cluster == nil || len(c.Cluster.Nodes) != 2 {
		t.Fatalf("cluster certificate: %s, %+v", c.Level, c.Cluster)
	}

	// joulebench certify judges the cluster with its node records: its
	// verdict names the nodes' own rules (a fake-meter quick run is
	// refused a certificate, but for what the nodes measured, not for
	// being a cluster record).
	if _, _, err := runCLI(t, "keygen", "--out", filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	certArgs := []string{"certify", cpath, "--key", filepath.Join(dir, "keys", "joulebench.key"), "--allow-estimated"}
	stdout, stderr, err = runCLI(t, certArgs...)
	if msg := stdout + stderr + fmt.Sprint(err); strings.Contains(msg, "EvaluateCluster") || !strings.Contains(msg, "node cn1") {
		t.Fatalf("certify of a cluster record did not judge its nodes: %v\n%s\n%s", err, stdout, stderr)
	}

	// A node record edited after the merge: the cluster is refused.
	node := filepath.Join(out, "nodes", "cn2", results.RecordFile)
	data, _ := os.ReadFile(node)
	os.WriteFile(node, []byte(strings.Replace(string(data), `"complete": true`, `"complete": true `, 1)), 0o644)
	if _, err := certify.EvaluateFile(cpath, crec, spec, certify.SpecDigest(raw), certify.EvalOptions{Now: time.Now()}); err == nil || !strings.Contains(err.Error(), "changed after the merge") {
		t.Fatalf("edited node record: %v", err)
	}
	if _, _, err := runCLI(t, certArgs...); err == nil || !strings.Contains(err.Error(), "changed after the merge") {
		t.Fatalf("certify with an edited node record: %v", err)
	}
}

// writeNode writes r as node name's record under dir, its clock
// synchronised with the estimated error clockErr (what merge bounds the
// skew by) and its start a second later than r's per node index, as a
// scheduler may start it: the start spread is not taken for skew.
func writeNode(t *testing.T, dir, name string, r *results.Record, clockErr time.Duration, suite string) string {
	t.Helper()
	c := *r
	c.Node = &results.Node{Name: name, Scheduler: "slurm", SlurmJobID: "9", Job: "slurm-9"}
	// Its own run on its own host: one run under two names is refused.
	c.RunID, c.Host.Hostname = r.RunID+"-"+name, name
	c.Clock = &results.Clock{MonotonicNS: 1, Source: "adjtimex", Synced: true, EstErrorUS: clockErr.Microseconds(), MaxErrorUS: 2 * clockErr.Microseconds()}
	if name == "n2" {
		c.StartedAt = r.StartedAt.Add(time.Second)
	}
	c.Config.Suite = suite
	p := filepath.Join(dir, name, results.RecordFile)
	if err := results.WriteFile(p, &c); err != nil {
		t.Fatal(err)
	}
	return p
}

// Clocks that may be 600 ms apart, and a node that ran another suite, are refused
// with exit code 2 and the reason; 30 ms merges.
func TestMergeRefusalsCLI(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SLURM_JOB_ID", "")
	if _, stderr, err := runCLI(t, "run", "--meter", "fake", "--workload", "gemm-fp64-1024", "--idle", "100ms", "--warmup", "0",
		"--min-time", "100ms", "--reps", "1", "--interval", "20ms", "--blas", "gonum", "--out", filepath.Join(dir, "res")); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "res", "*", results.RecordFile))
	if len(runs) != 1 {
		t.Fatalf("runs: %v", runs)
	}
	r, err := results.ReadFile(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		skew   time.Duration
		suite  string
		reason string
	}{
		{"skew 600ms", 600 * time.Millisecond, r.Config.Suite, "clock skew up to 600ms"},
		{"another suite", 0, "standard", "ran suite standard"},
		{"skew 30ms", 30 * time.Millisecond, r.Config.Suite, ""},
	} {
		in := filepath.Join(dir, tc.name)
		a := writeNode(t, in, "n1", r, tc.skew/2, r.Config.Suite)
		b := writeNode(t, in, "n2", r, tc.skew/2, tc.suite)
		_, _, err := runCLI(t, "merge", a, b, "--out", filepath.Join(dir, tc.name+"-out"))
		if tc.reason == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: err %v (exit %d), want exit 2 saying %q", tc.name, err, exitCode(err), tc.reason)
		}
	}
}
