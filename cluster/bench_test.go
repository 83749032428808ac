package cluster_test

import (
	"testing"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/cluster"
)

// BenchmarkMerge64Certify merges 64 certify-length node records (an idle
// baseline of 30 s, 5 repetitions of 60 s, 10 readings a second from a
// two-domain meter) and judges the cluster record: merge, verify against
// the nodes (digests and a second merge) and every node's rules over its
// raw readings. Target: under 5 s an op.
func BenchmarkMerge64Certify(b *testing.B) {
	in := cluster.SynthCluster(b, 64, cluster.CertifySynth())
	spec, raw := certify.DefaultSpec()
	digest := certify.SpecDigest(raw)
	b.ResetTimer()
	for b.Loop() {
		rec, err := cluster.Merge(in, cluster.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c, err := certify.EvaluateCluster(rec, in, spec, digest, certify.EvalOptions{Now: cluster.SynthEpochFor, AllowEstimated: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Cluster.Nodes) != 64 {
			b.Fatalf("%d nodes judged", len(c.Cluster.Nodes))
		}
	}
}
