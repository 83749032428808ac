// Package harness runs workloads under meters: an idle baseline, a warm-up
// that also sizes each repetition, then N measured repetitions, while a
// sampler reads every meter at a fixed interval (a goroutine woken by a
// timerfd on Linux) and exactly at each phase edge. It turns what it saw
// into a results.Record.
//
// It handles counter wrap-around, once, from each domain's range. It does
// not compute efficiency or carbon figures (metrics does, from the record),
// and an interrupted run still returns everything measured so far, marked
// incomplete.
package harness
