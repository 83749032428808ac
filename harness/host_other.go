//go:build !linux

package harness

import "github.com/joulebench/joulebench/results"

// procHost has no /proc to read outside Linux: the CPU model, sockets, cores
// and memory stay empty, and the record says only what the Go runtime knows
// (OS, architecture, logical CPUs).
func procHost(string, *results.Host) {}
