// Package workloads defines the Workload interface, the registry that makes
// workloads from their names (gemm-fp64-1024), and the versioned suites
// (embedded suite files) that group them with their measurement rules.
//
// A workload does work and counts it. It never reads a meter and never
// imports the harness: the harness brings the two together.
package workloads
