// Package metrics holds the units of energy and power and the pure functions
// that turn a results.Record into figures people compare: average power,
// gross and net-of-idle energy, FLOP/s, FLOPs per joule (GFLOPS/W) and joules
// per operation.
//
// It must not measure anything, touch hardware or the file system: every
// function here is a pure function of its arguments, so that report and
// verify can recompute any figure from a record's raw numbers.
package metrics
