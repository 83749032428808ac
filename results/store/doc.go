// Package store keeps an SQLite index (modernc.org/sqlite, no cgo) of the
// run records and certificates under a results directory, so that many
// runs can be listed, shown and ranked without reading every record.
//
// The record files stay the source of truth: the index holds what can be
// computed from them (each record's sha256, host, measurement level, and
// per workload the validity and headline figures with their 95%
// intervals, from the metrics package), and Reindex rebuilds it from the
// files at any time. A record that cannot be read is skipped with a
// warning that names it; it never stops the others.
//
// Certificates next to a record (*.dsse.json) are indexed for what they
// state, marked "unverified": this package never checks a signature, and
// nothing it says about a certificate is a verification. joulebench
// verify does that.
//
// Two processes may write the same index at once: the database is in WAL
// mode with a busy timeout, and every write is one immediate transaction.
// The schema is versioned (PRAGMA user_version) and marked as ours
// (PRAGMA application_id); an index of another version is not migrated
// but rebuilt, by joulebench results reindex.
//
// This package must not measure, sign or verify anything, and must not
// change a record or certificate file.
package store
