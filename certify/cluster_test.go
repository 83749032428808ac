package certify

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/cluster"
	"github.com/joulebench/joulebench/results"
)

// clusterNodes is n copies of the certify test record, each a node of
// one Slurm job step; edit may change node i before it is written.
func clusterNodes(t *testing.T, n int, edit func(i int, r *results.Record)) []cluster.Input {
	t.Helper()
	in := make([]cluster.Input, n)
	for i := range in {
		r := evalTestRecord()
		name := fmt.Sprintf("cn%02d", i)
		r.RunID, r.Host.Hostname = r.RunID+"-"+name, name
		r.Node = &results.Node{Name: name, Scheduler: "slurm", SlurmJobID: "7", SlurmStepID: "0", Job: "slurm-7.0"}
		r.Clock = &results.Clock{MonotonicNS: 5e12, Source: "adjtimex", Synced: true, MaxErrorUS: 1000, EstErrorUS: 50}
		evalSyncReadings(r)
		if edit != nil {
			edit(i, r)
		}
		data, err := results.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := results.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		in[i] = cluster.Input{Path: name, Data: data, Rec: back}
	}
	return in
}

func evalClusterOf(t *testing.T, in []cluster.Input) (*results.Record, *Certificate) {
	t.Helper()
	rec, err := cluster.Merge(in, cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, raw := DefaultSpec()
	c, err := EvaluateCluster(rec, in, s, SpecDigest(raw), EvalOptions{Now: evalTestNow})
	if err != nil {
		t.Fatal(err)
	}
	return rec, c
}

func TestEvalClusterValid(t *testing.T) {
	in := clusterNodes(t, 2, nil)
	_, c := evalClusterOf(t, in)
	if !c.Valid || c.Level.Level != 2 {
		t.Fatalf("valid %v, %s; refusal %v", c.Valid, c.Level, c.Refusal(false))
	}
	if c.Cluster == nil || len(c.Cluster.Nodes) != 2 || !c.Cluster.Nodes[1].Valid {
		t.Fatalf("cluster block %+v", c.Cluster)
	}
	// Two identical nodes: twice the energy for twice the work, so the
	// same J/item and FLOPs/J as one, and twice the power.
	one := evalDefault(t, evalTestRecord(), EvalOptions{})
	for i, w := range c.Workloads {
		for _, m := range []string{"j_per_item", "flops_per_j"} {
			if got, want := w.Figures[m].Median, one.Workloads[i].Figures[m].Median; math.Abs(got-want) > 1e-9*math.Abs(want) {
				t.Errorf("%s %s: cluster %g, one node %g", w.Name, m, got, want)
			}
		}
		if got, want := w.Figures["power_w"].Median, 2*one.Workloads[i].Figures["power_w"].Median; math.Abs(got-want) > 1e-6*want {
			t.Errorf("%s power: cluster %g W, want %g", w.Name, got, want)
		}
	}
	// Every node's rules are there, by name.
	n := 0
	for _, r := range c.Rules {
		if strings.HasPrefix(r.Name, "node cn01: raw readings") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d raw-readings rules for node cn01, want the idle baseline's and one per workload (3)", n)
	}
}

// The cluster's level is its lowest node's: one node on the fake meter
// makes the whole cluster level 0.
func TestEvalClusterLowestLevel(t *testing.T) {
	in := clusterNodes(t, 3, func(i int, r *results.Record) {
		if i == 1 {
			r.Meters[0].Name, r.Meters[0].Method, r.Meters[0].Estimated, r.Meters[0].Source = "fake", results.MethodSynthetic, true, "synthetic"
			for j := range r.Readings {
				r.Readings[j].Meter = "fake"
			}
		}
	})
	_, c := evalClusterOf(t, in)
	if c.Level.Level != 0 || !strings.Contains(c.Level.Reason, "node cn01") || !c.Estimated {
		t.Fatalf("level %s (%s), estimated %v; want level 0 from node cn01", c.Level, c.Level.Reason, c.Estimated)
	}
}

// A node whose stated energy disagrees with its own raw readings (edited
// before the merge, so its digest is its own) fails the cluster: every
// node's readings are checked again.
func TestEvalClusterNodeRawReadings(t *testing.T) {
	in := clusterNodes(t, 2, func(i int, r *results.Record) {
		if i == 1 {
			r.Workloads[0].Reps[2].EnergyJ["package-0"] *= 0.5
		}
	})
	_, c := evalClusterOf(t, in)
	if c.Valid {
		t.Fatal("a node with forged energy made a valid cluster")
	}
	found := false
	for _, r := range c.Rules {
		if r.Name == "node cn01: raw readings" && !r.Pass {
			found = true
		}
	}
	if !found {
		t.Fatalf("no failed raw-readings rule for node cn01: %v", c.Refusal(false))
	}
}

// A node record changed after the merge is refused outright.
func TestEvalClusterTamperedNode(t *testing.T) {
	in := clusterNodes(t, 2, nil)
	rec, err := cluster.Merge(in, cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in[1].Data = []byte(strings.Replace(string(in[1].Data), `"cn01"`, `"cn01" `, 1))
	s, raw := DefaultSpec()
	if _, err := EvaluateCluster(rec, in, s, SpecDigest(raw), EvalOptions{Now: evalTestNow}); err == nil || !strings.Contains(err.Error(), "changed after the merge") {
		t.Fatalf("tampered node: err %v", err)
	}
	if _, err := Evaluate(rec, s, SpecDigest(raw), EvalOptions{Now: evalTestNow}); err == nil || !strings.Contains(err.Error(), "cluster record") {
		t.Fatalf("Evaluate of a cluster record without its nodes: err %v", err)
	}
}

// A cluster is refused a certificate when two nodes report one host (one
// machine counted twice) or when the nodes did not run together (runs of
// different times put under one job name).
func TestEvalClusterHostsAndSpread(t *testing.T) {
	hard := func(c *Certificate, name string) *Rule {
		for i := range c.Rules {
			if c.Rules[i].Name == name && c.Rules[i].Hard {
				return &c.Rules[i]
			}
		}
		return nil
	}
	_, c := evalClusterOf(t, clusterNodes(t, 2, nil))
	for _, name := range []string{"distinct hosts", "nodes ran together"} {
		if r := hard(c, name); r == nil || !r.Pass {
			t.Errorf("honest cluster: rule %s: %+v", name, r)
		}
	}
	_, c = evalClusterOf(t, clusterNodes(t, 2, func(i int, r *results.Record) { r.Host.Hostname = "same" }))
	if r := hard(c, "distinct hosts"); r == nil || r.Pass || c.Valid {
		t.Errorf("two nodes on one host: rule %+v, valid %v", r, c.Valid)
	}
	_, c = evalClusterOf(t, clusterNodes(t, 2, func(i int, r *results.Record) {
		if i == 1 {
			r.StartedAt = r.StartedAt.AddDate(0, 0, 30)
			r.FinishedAt = r.FinishedAt.AddDate(0, 0, 30)
		}
	}))
	if r := hard(c, "nodes ran together"); r == nil || r.Pass || c.Valid {
		t.Errorf("nodes 30 days apart: rule %+v, valid %v", r, c.Valid)
	}
}
