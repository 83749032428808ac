// Package command is the workload of joulebench measure: an external
// command, run once per repetition, to its end, as an Episodic workload.
//
// The command runs in its own process group with joulebench's standard
// input and output. It may report the work it did by appending JSON lines
// such as {"items":64,"flops":1.2e9,"accuracy":0.91} to the file named by
// JOULEBENCH_WORK_FILE; ParseWorkFile reads them as outside input. While
// it runs, its process tree is tracked through procfs, so that GPUShare
// can tell how much of each GPU it used from the GPU meter's per-process
// trace.
//
// Two measurements are of the same work when their argv is the same: it
// is the spec's only parameter. The figures a command reports are its own
// claims; no rule can check them, so a record of this workload is never
// certified.
//
// This package must not measure energy, import harness or a meter, or
// handle signals itself: joulebench measure catches signals and calls
// Forward and Kill. It must not stop a command because a context was
// cancelled: the command is measured until it exits.
package command
