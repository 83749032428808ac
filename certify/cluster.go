package certify

import (
	"errors"
	"fmt"
	"math"

	"github.com/joulebench/joulebench/cluster"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// EvaluateFile is Evaluate for the record read from path: a cluster
// record is judged with its node records, found next to it and checked
// against their digests (EvaluateCluster); any other record as Evaluate
// judges it.
func EvaluateFile(path string, rec *results.Record, spec *Spec, specDigest string, opts EvalOptions) (*Certificate, error) {
	if rec == nil || rec.Cluster == nil {
		return Evaluate(rec, spec, specDigest, opts)
	}
	nodes, err := cluster.Load(path, rec)
	if err != nil {
		return nil, fmt.Errorf("certify: cluster record %s: %w", path, err)
	}
	return EvaluateCluster(rec, nodes, spec, specDigest, opts)
}

// EvaluateCluster judges a cluster record with its node records, in the
// order the record lists them. The nodes must match the record
// (cluster.Verify: digests, and every summed figure); each node is then
// judged by Evaluate on its own raw readings, and its rules are the
// cluster's, named after it ("node cn01: raw readings"). The cluster is
// valid only when every node is and its clock skew is within the limit,
// and its level is the lowest node's. Its figures are computed from the
// per-repetition sums, as a node's are from its repetitions.
func EvaluateCluster(rec *results.Record, nodes []cluster.Input, spec *Spec, specDigest string, opts EvalOptions) (*Certificate, error) {
	switch {
	case rec == nil || rec.Cluster == nil:
		return nil, errors.New("certify: not a cluster record")
	case spec == nil:
		return nil, errors.New("certify: no spec")
	case opts.Now.IsZero():
		return nil, errors.New("certify: EvalOptions.Now is required")
	}
	if err := cluster.Verify(rec, nodes); err != nil {
		return nil, fmt.Errorf("certify: cluster record %s: %w", rec.RunID, err)
	}
	profName, _, err := spec.ProfileFor(rec, opts.Profile)
	if err != nil {
		return nil, err
	}
	csums, hasCarbon, err := carbon.Summarize(rec)
	if err != nil {
		return nil, fmt.Errorf("certify: record %s: %w", rec.RunID, err)
	}
	c := newCertificate(rec, spec, specDigest, profName, opts)
	c.Cluster = &ClusterRef{SkewS: rec.Cluster.SkewS}
	skew := Rule{Name: "clock skew", Hard: true, Pass: !rec.Cluster.SkewUnknown && rec.Cluster.SkewS <= cluster.MaxSkew.Seconds(),
		Reason: fmt.Sprintf("clock skew between nodes up to %s s (the two largest estimated clock errors the nodes' kernels state), maximum %s s (MLPerf power-dev's limit)", evalSecs(rec.Cluster.SkewS), evalSecs(cluster.MaxSkew.Seconds()))}
	if rec.Cluster.SkewUnknown {
		skew.Reason = "a node's clock is not synchronised (or was not read), so the skew between the nodes cannot be bounded; run chrony or ntpd on every node"
	}
	c.Rules = append(c.Rules, evalClusterHosts(nodes), evalClusterSpread(rec))
	c.Rules = append(c.Rules,
		Rule{Name: "cluster nodes", Hard: true, Pass: true, Reason: fmt.Sprintf("%d node records match their digests, and their sums are the cluster record's", len(nodes))},
		skew)
	if rec.Cluster.SkewS > cluster.WarnSkew.Seconds() {
		c.Rules = append(c.Rules, Rule{Name: "clock skew warning", Reason: fmt.Sprintf("clock skew %s s is above %s s: the per-repetition sums add energy spent that far apart", evalSecs(rec.Cluster.SkewS), evalSecs(cluster.WarnSkew.Seconds()))})
	}
	lowest := -1
	for i, n := range nodes {
		name := rec.Cluster.Nodes[i].Name
		nc, err := Evaluate(n.Rec, spec, specDigest, EvalOptions{Profile: opts.Profile, AllowEstimated: opts.AllowEstimated, Now: opts.Now})
		if err != nil {
			return nil, fmt.Errorf("certify: node %s: %w", name, err)
		}
		for _, r := range nc.Rules {
			r.Name = "node " + name + ": " + r.Name
			c.Rules = append(c.Rules, r)
		}
		c.Estimated = c.Estimated || nc.Estimated
		c.Cluster.Nodes = append(c.Cluster.Nodes, NodeRef{Name: name, SHA256: rec.Cluster.Nodes[i].SHA256, Level: nc.Level, Valid: nc.Valid})
		if lowest < 0 || nc.Level.Level < c.Level.Level {
			lowest, c.Level = i, nc.Level
		}
	}
	c.Level.Reason = fmt.Sprintf("the lowest of %d nodes' levels (node %s): %s", len(nodes), rec.Cluster.Nodes[lowest].Name, c.Level.Reason)
	c.Valid = true
	for _, r := range c.Rules {
		if r.Hard && !r.Pass {
			c.Valid = false
		}
	}
	evalWorkloadResults(c, rec, spec, metrics.Summarize(rec), csums, hasCarbon, make([]*Ceiling, len(rec.Workloads)))
	return c, nil
}

// evalClusterHosts refuses a cluster two of whose nodes report the same
// host: one machine's energy would be counted twice (a record copied
// under another node name, or two slurmd on one machine).
func evalClusterHosts(nodes []cluster.Input) Rule {
	r := Rule{Name: "distinct hosts", Hard: true, Pass: true, Reason: fmt.Sprintf("the %d nodes report %d different hosts", len(nodes), len(nodes))}
	seen := map[string]bool{}
	for _, n := range nodes {
		h := n.Rec.Host.Hostname
		if h == "" {
			continue
		}
		if seen[h] {
			r.Pass = false
			r.Reason = fmt.Sprintf("two nodes report the same host %s: one machine's energy would be counted twice", h)
			return r
		}
		seen[h] = true
	}
	return r
}

// evalClusterSpread refuses a cluster whose nodes did not run together:
// when the same repetition started further apart than the shortest
// repetition lasts, the nodes' repetitions did not overlap, and the sum
// is of runs made at different times (records of different days, put
// under one job name).
func evalClusterSpread(rec *results.Record) Rule {
	shortest := math.Inf(1)
	for _, w := range rec.Workloads {
		for _, r := range w.Reps {
			shortest = math.Min(shortest, r.DurationS)
		}
	}
	spread := rec.Cluster.PhaseSpreadS
	r := Rule{Name: "nodes ran together", Hard: true, Pass: spread <= shortest,
		Reason: fmt.Sprintf("the nodes started each phase at most %s s apart, within the shortest repetition (%s s)", evalSecs(spread), evalSecs(shortest))}
	if !r.Pass {
		r.Reason = fmt.Sprintf("the nodes started a phase %s s apart, longer than the shortest repetition (%s s): their repetitions did not overlap, so the sums add runs made at different times", evalSecs(spread), evalSecs(shortest))
	}
	return r
}
