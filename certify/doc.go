// Package certify turns a results.Record into a certificate: it judges the
// record against a versioned specification (the rules a certifiable run
// must meet, the measurement levels 0–3, the rating bands A–G of each
// workload class, the tolerances of a reproduction), computes the figures
// the certificate states, and signs it as an in-toto statement in a DSSE
// envelope.
//
// The specification is a file, spec/v1.json, embedded in the binary; a
// standards body can judge by its own file with the same fields, and every
// certificate names the spec and its sha256 so that anyone can tell which
// rules it met.
//
// Evaluation is a pure function of the record, the spec and the time it
// is given: the same inputs give the same certificate, byte for byte, so
// verify can recompute a certificate's figures from the record and demand
// exact equality. Figures come from the metrics and metrics/carbon
// packages, the same code that prints them in run and report.
//
// This package must not measure anything or import harness: reproduce
// (verify, rerun, compare) is composed in cmd. It must not show a modelled
// or synthetic figure as a measurement: such a record is level 0, refused
// unless the caller allows estimates, and every rating it shows says
// level 0.
package certify
