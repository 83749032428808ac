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
// rules it met. A custom spec may not call itself joulebench nor rename
// level 0.
//
// Evaluation is a pure function of the record, the spec and the time it
// is given: the same inputs give the same certificate, byte for byte, so
// verify can recompute a certificate's figures from the record and demand
// exact equality. Figures come from the metrics and metrics/carbon
// packages, the same code that prints them in run and report.
//
// A signature proves who signed and that nothing changed since; the
// figures are the signer's claim. Evaluate therefore believes nothing a
// record says about itself that it can check (SignatureMeaning and
// ConsistencyChecks say so for people): energies against the raw
// readings, each meter's method, kinds and total against what that meter
// is, each workload's FLOPs against the workload's own spec (from the
// workloads registry, which the caller fills by importing the workload
// packages), throughput against a ceiling of what the recorded host could
// do, and every repetition's answer check. Only reproduce tests a claim
// against hardware.
//
// For reproduce, RerunArgs rebuilds the rerun's command line from an
// allow-list of flags that select standard work; Reproduce compares the
// rerun with the original; ReproductionStatement is what reproduce signs,
// naming the original by its statement's digest, and VerifyReproduction
// checks that one holds together.
//
// This package must not measure anything or import harness: reproduce
// (verify, rerun, compare) is composed in cmd. It must not run, load or
// read anything a certificate or record names: a certificate is data,
// never a program. Every file it reads (certificates, specs, keys, the
// record it hashes) is bounded in size and must be a regular file. It
// must not show a modelled or synthetic figure as a measurement: such a
// record is level 0, refused unless the caller allows estimates, every
// rating it shows says level 0, and no reproduction of it is called
// reproduced.
package certify
