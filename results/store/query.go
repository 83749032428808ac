package store

import (
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

const recordColumns = `run_id, path, sha256, size, started_at, finished_at, complete, incomplete_reason, hostname, cpu_model,
	logical_cpus, arch, suite, suite_version, tool_version, measurement, level, level_name, level_reason, meters, indexed_at`

type scanner interface{ Scan(...any) error }

func scanRecord(sc scanner) (*Record, error) {
	var r Record
	var started, finished, indexed, meters string
	var lvl sql.NullInt64
	if err := sc.Scan(&r.RunID, &r.Path, &r.SHA256, &r.Size, &started, &finished, &r.Complete, &r.IncompleteReason,
		&r.Hostname, &r.CPUModel, &r.LogicalCPUs, &r.Arch, &r.Suite, &r.SuiteVersion, &r.ToolVersion, &r.Measurement,
		&lvl, &r.LevelName, &r.LevelReason, &meters, &indexed); err != nil {
		return nil, err
	}
	r.StartedAt, _ = time.Parse(timeFormat, started)
	r.FinishedAt, _ = time.Parse(timeFormat, finished)
	r.IndexedAt, _ = time.Parse(timeFormat, indexed)
	r.Level = -1
	if lvl.Valid {
		r.Level = int(lvl.Int64)
	}
	if meters != "" {
		r.Meters = strings.Split(meters, ",")
	}
	return &r, nil
}

// ListEntry is one record as List gives it: the record without its
// workloads' figures, with counts.
type ListEntry struct {
	*Record
	// Workloads and ValidWorkloads count the record's workloads.
	NWorkloads, ValidWorkloads int
	// Certificates counts the certificate files beside the record.
	NCertificates int
}

// List gives every indexed record, newest first.
func (s *Store) List() ([]ListEntry, error) {
	rows, err := s.db.Query(`SELECT ` + recordColumns + `,
		(SELECT count(*) FROM workloads w WHERE w.run_id = r.run_id),
		(SELECT count(*) FROM workloads w WHERE w.run_id = r.run_id AND w.valid),
		(SELECT count(*) FROM certificates c WHERE c.run_id = r.run_id AND c.kind = 'certificate')
		FROM records r ORDER BY started_at DESC, run_id`)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []ListEntry
	for rows.Next() {
		var e ListEntry
		var extra [3]int
		r, err := scanRecord(scanFunc(func(dest ...any) error {
			return rows.Scan(append(dest, &extra[0], &extra[1], &extra[2])...)
		}))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.path, err)
		}
		e.Record, e.NWorkloads, e.ValidWorkloads, e.NCertificates = r, extra[0], extra[1], extra[2]
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", s.path, err)
	}
	return out, nil
}

type scanFunc func(...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Show gives one record with its workloads and certificates. id is a run
// id or a prefix of exactly one; no match wraps ErrNotFound.
func (s *Store) Show(id string) (*Record, error) {
	runID, err := s.resolve(id)
	if err != nil {
		return nil, err
	}
	r, err := scanRecord(s.db.QueryRow(`SELECT `+recordColumns+` FROM records WHERE run_id = ?`, runID))
	if err != nil {
		return nil, fmt.Errorf("show %s: %w", id, err)
	}
	if r.Workloads, err = s.workloads(`WHERE run_id = ? ORDER BY idx`, runID); err != nil {
		return nil, fmt.Errorf("show %s: %w", id, err)
	}
	if r.Certificates, err = s.certificates(runID); err != nil {
		return nil, fmt.Errorf("show %s: %w", id, err)
	}
	r.Path = absPath(s.dir, r.Path)
	return r, nil
}

// resolve finds the run id that id names: itself, or the one run id it
// begins.
func (s *Store) resolve(id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("show: %w: empty run id", ErrNotFound)
	}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(id)
	rows, err := s.db.Query(`SELECT run_id FROM records WHERE run_id = ? OR run_id LIKE ? ESCAPE '\' ORDER BY run_id LIMIT 6`, id, esc+"%")
	if err != nil {
		return "", fmt.Errorf("show %s: %w", id, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return "", err
		}
		if r == id {
			return r, nil
		}
		ids = append(ids, r)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("show %s: %w: no run id is or begins with it (joulebench results list shows them)", id, ErrNotFound)
	case 1:
		return ids[0], nil
	}
	if len(ids) > 5 {
		ids = append(ids[:5], "...")
	}
	return "", fmt.Errorf("show %s: %w: %q begins several run ids (%s); give more of it", id, ErrNotFound, id, strings.Join(ids, ", "))
}

const workloadColumns = `run_id, name, version, content_hash, work_unit, model, variant, scenario, reps, valid, invalid_reasons,
	error, j_per_item, j_per_item_low, j_per_item_high, flops_per_j, flops_per_j_low, flops_per_j_high, accuracy,
	reference_accuracy, gate, ranked`

func scanWorkload(sc scanner, runID *string) (Workload, error) {
	var w Workload
	var f [8]sql.NullFloat64
	err := sc.Scan(runID, &w.Name, &w.Version, &w.ContentHash, &w.WorkUnit, &w.Model, &w.Variant, &w.Scenario, &w.Reps,
		&w.Valid, &w.InvalidReasons, &w.Error, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &w.Gate, &w.Ranked)
	v := func(n sql.NullFloat64) float64 {
		if n.Valid {
			return n.Float64
		}
		return math.NaN()
	}
	w.JPerItem = Interval{v(f[0]), v(f[1]), v(f[2])}
	w.FLOPsPerJ = Interval{v(f[3]), v(f[4]), v(f[5])}
	w.Accuracy, w.ReferenceAccuracy = v(f[6]), v(f[7])
	return w, err
}

func (s *Store) workloads(where string, args ...any) ([]Workload, error) {
	ws, _, err := s.workloadsOf(where, args...)
	return ws, err
}

// workloadsOf gives the workloads selected by where (after "FROM
// workloads") and the run id of each.
func (s *Store) workloadsOf(where string, args ...any) ([]Workload, []string, error) {
	rows, err := s.db.Query(`SELECT `+workloadColumns+` FROM workloads `+where, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []Workload
	var ids []string
	for rows.Next() {
		var id string
		w, err := scanWorkload(rows, &id)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, w)
		ids = append(ids, id)
	}
	return out, ids, rows.Err()
}

func (s *Store) certificates(runID string) ([]Certificate, error) {
	rows, err := s.db.Query(`SELECT path, sha256, kind, signature, subject_sha256, matches_record, level, level_name, spec_name,
		spec_version, profile, valid, estimated, issued_at, error FROM certificates WHERE run_id = ? ORDER BY path`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		var c Certificate
		var lvl sql.NullInt64
		var valid, est sql.NullBool
		var issued string
		if err := rows.Scan(&c.Path, &c.SHA256, &c.Kind, &c.Signature, &c.SubjectSHA256, &c.MatchesRecord, &lvl, &c.LevelName,
			&c.SpecName, &c.SpecVersion, &c.Profile, &valid, &est, &issued, &c.Error); err != nil {
			return nil, err
		}
		c.Level = -1
		if lvl.Valid {
			c.Level = int(lvl.Int64)
		}
		c.Valid, c.EstimatedFigures = valid.Bool, est.Bool
		if issued != "" {
			c.IssuedAt, _ = time.Parse(timeFormat, issued)
		}
		c.Path = absPath(s.dir, c.Path)
		out = append(out, c)
	}
	return out, rows.Err()
}
