// Package results defines the run record — the raw, versioned account of one
// joulebench run — and reads and writes it. Records are written atomically
// (temporary file, fsync, rename), so a reader never sees half a record.
//
// The record is data: this package imports no other joulebench package and
// computes no figures. Everything derived (efficiency, carbon, statistics)
// lives in metrics and is recomputed from the raw numbers kept here.
package results
