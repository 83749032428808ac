// Package cluster merges the records of the nodes of one multi-node run
// (a Slurm job step, a Kubernetes Indexed Job) into one cluster record,
// and checks a cluster record against its node records.
//
// A cluster record is a results.Record with a Cluster block: it names
// each node record by path and sha256, and its workloads hold, for each
// repetition, the sum over nodes of energy (per node-prefixed domain) and
// work. Every figure of it is a pure function of the node records, so
// Verify rebuilds it from them and refuses any difference; the node
// records keep the raw readings, which certify re-checks node by node.
//
// It must not measure, sign or judge: certify decides what a cluster
// record earns, and the harness measures the nodes.
package cluster
