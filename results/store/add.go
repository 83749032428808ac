package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/joulebench/joulebench/results"
)

// timeFormat is how times are stored: fixed width, so text order is time
// order.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// Add indexes the record at recordPath (a record.json or its run
// directory) and the certificates beside it, replacing whatever the index
// held under the same run id, in one transaction.
func (s *Store) Add(recordPath string) error {
	e, err := s.entry(recordPath)
	if err != nil {
		return fmt.Errorf("index %s: %w", recordPath, err)
	}
	return s.write(context.Background(), false, []*Record{e})
}

// AddRun indexes a record that run has just written under outDir, in
// outDir's index. The record file is already safe on disk: a caller
// treats an error as a warning (the index can be rebuilt with joulebench
// results reindex), never as a lost run.
func AddRun(outDir, recordPath string) error {
	s, err := Index(filepath.Join(outDir, DBFile))
	if err != nil {
		return err
	}
	if err := s.Add(recordPath); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// entry reads a record file and computes its index entry.
func (s *Store) entry(recordPath string) (*Record, error) {
	path := results.Path(recordPath)
	data, rec, err := results.ReadFileBytes(path)
	if err != nil {
		return nil, err
	}
	e, err := fromRecord(relPath(s.dir, path), data, rec, time.Now())
	if err != nil {
		return nil, err
	}
	for _, c := range findCertificates(filepath.Dir(path), e.SHA256) {
		c.Path = relPath(s.dir, c.Path)
		e.Certificates = append(e.Certificates, c)
	}
	return e, nil
}

// Skipped is a record file that Reindex could not index, and why.
type Skipped struct {
	Path string
	Err  error
}

func (k Skipped) String() string { return fmt.Sprintf("skipped %s: %v", k.Path, k.Err) }

// ReindexReport says what Reindex did.
type ReindexReport struct {
	Indexed int
	// Skipped are record files that could not be read: corrupt, from a
	// newer joulebench, without a run id. They are left as they are.
	Skipped []Skipped
	// Duplicates are records whose run id another record file also
	// has; the index keeps the one listed last.
	Duplicates []string
}

// Reindex drops the index and rebuilds it from every OUTDIR/*/record.json,
// in one transaction: a reader sees the old index or the new one. A record
// that cannot be read is skipped and reported, not fatal.
func (s *Store) Reindex(outDir string) (*ReindexReport, error) {
	paths, err := filepath.Glob(filepath.Join(outDir, "*", results.RecordFile))
	if err != nil {
		return nil, fmt.Errorf("reindex %s: %w", outDir, err)
	}
	sort.Strings(paths)
	rep := &ReindexReport{}
	var entries []*Record
	seen := map[string]string{}
	for _, p := range paths {
		e, err := s.entry(p)
		if err != nil {
			rep.Skipped = append(rep.Skipped, Skipped{Path: p, Err: err})
			continue
		}
		if prev, ok := seen[e.RunID]; ok {
			rep.Duplicates = append(rep.Duplicates, fmt.Sprintf("run id %s is in both %s and %s; indexed %s", e.RunID, prev, p, p))
		}
		seen[e.RunID] = p
		entries = append(entries, e)
	}
	if err := s.write(context.Background(), true, entries); err != nil {
		return nil, fmt.Errorf("reindex %s: %w", outDir, err)
	}
	rep.Indexed = len(seen)
	return rep, nil
}

// Reindex rebuilds the index at dbPath from outDir's records, whatever
// schema version the index has: it is how an index of an older or newer
// joulebench is brought up to date. A file that is not a joulebench index
// is refused (ErrNotIndex), never overwritten.
func Reindex(dbPath, outDir string) (*ReindexReport, error) {
	s, _, err := open(dbPath)
	if err != nil {
		return nil, err
	}
	rep, err := s.Reindex(outDir)
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return rep, err
}

// write stores entries in one transaction, first rebuilding the schema
// when rebuild is set.
func (s *Store) write(ctx context.Context, rebuild bool, entries []*Record) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write index %s: %w", s.path, err)
	}
	defer tx.Rollback()
	if rebuild {
		if err := dropSchema(tx); err != nil {
			return fmt.Errorf("write index %s: %w", s.path, err)
		}
		if err := createSchema(tx); err != nil {
			return fmt.Errorf("write index %s: %w", s.path, err)
		}
	} else {
		// Another process may have rebuilt the index with another
		// version since this one was opened.
		var v int
		if err := tx.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("write index %s: %w", s.path, err)
		}
		if v != SchemaVersion {
			return versionError(s.path, v)
		}
	}
	for _, e := range entries {
		if err := insert(tx, e); err != nil {
			return fmt.Errorf("write index %s: run %s: %w", s.path, e.RunID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write index %s: %w", s.path, err)
	}
	return nil
}

func insert(tx *sql.Tx, e *Record) error {
	// Explicit deletes rather than ON DELETE CASCADE alone: the result must
	// not depend on a connection's foreign_keys setting.
	for _, q := range []string{
		`DELETE FROM certificates WHERE run_id = ?`,
		`DELETE FROM workloads WHERE run_id = ?`,
		`DELETE FROM records WHERE run_id = ?`,
	} {
		if _, err := tx.Exec(q, e.RunID); err != nil {
			return err
		}
	}
	var lvl any
	if e.Level >= 0 {
		lvl = e.Level
	}
	if _, err := tx.Exec(`INSERT INTO records (run_id, path, sha256, size, started_at, finished_at, complete, incomplete_reason,
		hostname, cpu_model, logical_cpus, arch, suite, suite_version, tool_version, measurement, level, level_name, level_reason,
		meters, indexed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		e.RunID, e.Path, e.SHA256, e.Size, e.StartedAt.UTC().Format(timeFormat), e.FinishedAt.UTC().Format(timeFormat),
		e.Complete, e.IncompleteReason, e.Hostname, e.CPUModel, e.LogicalCPUs, e.Arch, e.Suite, e.SuiteVersion,
		e.ToolVersion, e.Measurement, lvl, e.LevelName, e.LevelReason, strings.Join(e.Meters, ","),
		e.IndexedAt.UTC().Format(timeFormat)); err != nil {
		return err
	}
	for i, w := range e.Workloads {
		if _, err := tx.Exec(`INSERT INTO workloads (run_id, idx, name, version, content_hash, work_unit, model, variant, scenario,
			reps, valid, invalid_reasons, error, j_per_item, j_per_item_low, j_per_item_high, flops_per_j, flops_per_j_low,
			flops_per_j_high, accuracy, reference_accuracy, gate, ranked) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			e.RunID, i, w.Name, w.Version, w.ContentHash, w.WorkUnit, w.Model, w.Variant, w.Scenario,
			w.Reps, w.Valid, w.InvalidReasons, w.Error,
			num(w.JPerItem.Median), num(w.JPerItem.Low), num(w.JPerItem.High),
			num(w.FLOPsPerJ.Median), num(w.FLOPsPerJ.Low), num(w.FLOPsPerJ.High),
			num(w.Accuracy), num(w.ReferenceAccuracy), w.Gate, w.Ranked); err != nil {
			return err
		}
	}
	for _, c := range e.Certificates {
		var lvl, valid, est any
		if c.Kind == "certificate" {
			lvl, valid, est = c.Level, c.Valid, c.EstimatedFigures
		}
		issued := ""
		if !c.IssuedAt.IsZero() {
			issued = c.IssuedAt.UTC().Format(timeFormat)
		}
		// A certificate file moved to another run directory belongs to
		// the record it now lies beside.
		if _, err := tx.Exec(`DELETE FROM certificates WHERE path = ?`, c.Path); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO certificates (path, run_id, sha256, kind, signature, subject_sha256, matches_record,
			level, level_name, spec_name, spec_version, profile, valid, estimated, issued_at, error)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			c.Path, e.RunID, c.SHA256, c.Kind, c.Signature, c.SubjectSHA256, c.MatchesRecord,
			lvl, c.LevelName, c.SpecName, c.SpecVersion, c.Profile, valid, est, issued, c.Error); err != nil {
			return err
		}
	}
	return nil
}

// num is v for SQLite, NULL when it is not a finite number (SQLite has no
// NaN, and an undefined figure must not come back as 0).
func num(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}
