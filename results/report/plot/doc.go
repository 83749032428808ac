// Package plot draws a joulebench record as gonum/plot charts: power over
// time with its phases, energy per item, the Pareto front of accuracy
// against energy per inference, transfer-learning energy to target, and
// one workload compared across machines.
//
// It is a pure function of records: it reads no files, measures nothing
// and decides nothing. Every figure it draws comes from package metrics
// (Summarize, ModelRows, TransferRows, CounterDelta), so a chart never
// disagrees with the report's tables. A record whose energy is modelled
// or synthetic says so on the chart itself, in the title and as a large
// light annotation behind the data, so that a chart cut out of a report
// still carries the warning.
//
// Output is deterministic: the same record gives the same bytes, so the
// charts can be compared against golden images.
package plot
