// Package exporter serves a node's meters as Prometheus metrics: the
// cumulative energy of each domain since the exporter started (a counter
// in joules, corrected for counter wrap-around so that it never goes
// backwards), the power over the last read interval, whether each meter
// answered, and the build.
//
// Reads are shared: every scrape is answered from one cached reading, and
// the meters are read at most once per interval however many scrapers
// ask, on one goroutine at a time (meters are not safe for concurrent
// use). A read that fails marks its meter down and keeps its counters
// where they were.
//
// Every series carries its meter's method, so a modelled estimate is never
// exported without method="model", nor the fake meter's numbers without
// method="synthetic".
//
// It must not write records, judge measurements or decide which meters to
// use: cmd/joulebench selects the meters (meter.Select) and hands them in.
package exporter
