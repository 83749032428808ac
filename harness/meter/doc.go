// Package meter defines the Meter interface and its backends: RAPL through
// powercap (rapl.go), a modelled estimate (estimate.go) and a deterministic
// fake (fake.go); detect.go picks backends for --meter.
//
// A meter only reads cumulative energy. It never runs work, never handles
// counter wrap-around (the harness does that once, from each Domain's
// range) and never imports the workloads. Hardware is reached through an
// injected root (--sysfs-root, a /proc root) so tests run on fixture trees.
package meter
