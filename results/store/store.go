package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DBFile is the index's name inside a results directory.
const DBFile = "joulebench.db"

// SchemaVersion is the version of the index's tables (PRAGMA
// user_version). An index of any other version is rebuilt, not migrated:
// everything in it can be computed again from the record files.
const SchemaVersion = 1

// applicationID marks an SQLite file as a joulebench index (PRAGMA
// application_id, "JOUL"), so that reindex never drops the tables of
// some other database that happens to sit at the same path.
const applicationID = 0x4a4f554c

// BusyTimeoutMS is how long a writer waits for another to finish before
// giving up with "database is locked".
const BusyTimeoutMS = 10000

var (
	// ErrNotIndex is wrapped when the file at the index path is not an
	// SQLite database, or is one that joulebench did not make.
	ErrNotIndex = errors.New("not a joulebench results index")
	// ErrSchemaVersion is wrapped when the index was made by an older or
	// newer joulebench; joulebench results reindex rebuilds it.
	ErrSchemaVersion = errors.New("results index has another schema version")
	// ErrNotFound is wrapped when no indexed record or workload matches.
	ErrNotFound = errors.New("not in the results index")
)

// Store is an open results index.
type Store struct {
	db   *sql.DB
	path string
	dir  string // the directory paths in the index are relative to
}

// dsn is the modernc DSN for path: WAL, so that readers never block the
// writer; a busy timeout, so that two writers queue instead of failing;
// immediate transactions, so that a writer takes the write lock when it
// begins, not when it first writes (a deferred transaction that reads and
// then writes can fail at once with SQLITE_BUSY, whatever the timeout).
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	// '?' and '#' in a path would start the query or fragment.
	p := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(path))
	u := url.URL{Scheme: "file", Opaque: p, RawQuery: q.Encode()}
	return u.String()
}

// Index opens the index at dbPath, creating it (and its directory) if
// there is none. An index of another schema version gives an error
// wrapping ErrSchemaVersion that says to run joulebench results reindex;
// a file that is not a joulebench index wraps ErrNotIndex.
func Index(dbPath string) (*Store, error) {
	s, version, err := open(dbPath)
	if err != nil {
		return nil, err
	}
	if version != SchemaVersion {
		s.Close()
		return nil, versionError(dbPath, version)
	}
	return s, nil
}

func versionError(dbPath string, version int) error {
	how := "older"
	if version > SchemaVersion {
		how = "newer"
	}
	return fmt.Errorf("open index %s: %w: version %d, made by an %s joulebench; this one uses version %d: run `joulebench results reindex --out %s` to rebuild it from the records",
		dbPath, ErrSchemaVersion, version, how, SchemaVersion, filepath.Dir(dbPath))
}

// open opens dbPath, creates the schema in an empty database, and returns
// the schema version the index has.
func open(dbPath string) (*Store, int, error) {
	if fi, err := os.Lstat(dbPath); err == nil && !fi.Mode().IsRegular() {
		// A symbolic link is refused too: the index would be written
		// wherever it points.
		return nil, 0, fmt.Errorf("open index %s: %w: not a regular file", dbPath, ErrNotIndex)
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		return nil, 0, fmt.Errorf("open index %s: %w", dbPath, err)
	}
	db, err := sql.Open("sqlite", dsn(dbPath))
	if err != nil {
		return nil, 0, fmt.Errorf("open index %s: %w", dbPath, err)
	}
	abs, err := filepath.Abs(filepath.Dir(dbPath))
	if err != nil {
		abs = filepath.Dir(dbPath)
	}
	s := &Store{db: db, path: dbPath, dir: abs}
	version, err := s.init()
	if err != nil {
		db.Close()
		return nil, 0, explain(dbPath, err)
	}
	return s, version, nil
}

// explain turns SQLite's "file is not a database" into ErrNotIndex.
func explain(dbPath string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_NOTADB) {
		return fmt.Errorf("open index %s: %w: the file is not an SQLite database (move it away, or give another --out)", dbPath, ErrNotIndex)
	}
	if errors.Is(err, ErrNotIndex) {
		return err
	}
	return fmt.Errorf("open index %s: %w", dbPath, err)
}

// init creates the schema in an empty database, in one transaction so
// that two processes opening a new index at once do it once.
func (s *Store) init() (int, error) {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var app, version, tables int
	if err := tx.QueryRow("PRAGMA application_id").Scan(&app); err != nil {
		return 0, err
	}
	if err := tx.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return 0, err
	}
	if err := tx.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return 0, err
	}
	switch {
	case app == applicationID:
		return version, nil
	case app != 0 || tables > 0:
		return 0, fmt.Errorf("open index %s: %w: an SQLite database that joulebench did not make (application_id %#x, %d schema objects); move it away, or give another --out", s.path, ErrNotIndex, app, tables)
	}
	if err := createSchema(tx); err != nil {
		return 0, err
	}
	return SchemaVersion, tx.Commit()
}

// schema is the index's tables. Figures that are undefined (NaN) are
// stored as NULL. Times are RFC 3339 UTC text, which sorts in time order.
var schema = []string{
	`CREATE TABLE records (
		run_id            TEXT PRIMARY KEY,
		path              TEXT NOT NULL,  -- relative to the index's directory when inside it
		sha256            TEXT NOT NULL,  -- of the record file as indexed
		size              INTEGER NOT NULL,
		started_at        TEXT NOT NULL,
		finished_at       TEXT NOT NULL,
		complete          INTEGER NOT NULL,
		incomplete_reason TEXT NOT NULL,
		hostname          TEXT NOT NULL,
		cpu_model         TEXT NOT NULL,
		logical_cpus      INTEGER NOT NULL,
		arch              TEXT NOT NULL,
		suite             TEXT NOT NULL,
		suite_version     TEXT NOT NULL,
		tool_version      TEXT NOT NULL,
		measurement       TEXT NOT NULL,  -- measured | estimated | synthetic
		level             INTEGER,        -- by the built-in spec; NULL when it could not be judged
		level_name        TEXT NOT NULL,
		level_reason      TEXT NOT NULL,
		meters            TEXT NOT NULL,  -- "name:method" of each meter, comma-separated
		indexed_at        TEXT NOT NULL
	)`,
	`CREATE INDEX records_started ON records(started_at)`,
	`CREATE TABLE workloads (
		run_id             TEXT NOT NULL REFERENCES records(run_id) ON DELETE CASCADE,
		idx                INTEGER NOT NULL,
		name               TEXT NOT NULL,
		version            TEXT NOT NULL,
		content_hash       TEXT NOT NULL,
		work_unit          TEXT NOT NULL,
		model              TEXT NOT NULL,
		variant            TEXT NOT NULL,
		scenario           TEXT NOT NULL,
		reps               INTEGER NOT NULL,
		valid              INTEGER NOT NULL,
		invalid_reasons    TEXT NOT NULL,
		error              TEXT NOT NULL,
		j_per_item         REAL,
		j_per_item_low     REAL,
		j_per_item_high    REAL,
		flops_per_j        REAL,
		flops_per_j_low    REAL,
		flops_per_j_high   REAL,
		accuracy           REAL,
		reference_accuracy REAL,
		gate               TEXT NOT NULL,  -- "99.9%", "99%", "below 99%", "" when no accuracy
		ranked             INTEGER NOT NULL, -- may be ranked: valid, and a model at the 99% gate
		PRIMARY KEY (run_id, idx)
	)`,
	`CREATE INDEX workloads_name ON workloads(name)`,
	`CREATE INDEX workloads_model ON workloads(model, scenario)`,
	`CREATE TABLE certificates (
		path           TEXT PRIMARY KEY,
		run_id         TEXT NOT NULL REFERENCES records(run_id) ON DELETE CASCADE,
		sha256         TEXT NOT NULL,
		kind           TEXT NOT NULL,  -- certificate | reproduction | unreadable
		signature      TEXT NOT NULL,  -- always "unverified": the index never checks one
		subject_sha256 TEXT NOT NULL,
		matches_record INTEGER NOT NULL, -- the subject digest is the record file's
		level          INTEGER,
		level_name     TEXT NOT NULL,
		spec_name      TEXT NOT NULL,
		spec_version   TEXT NOT NULL,
		profile        TEXT NOT NULL,
		valid          INTEGER,
		estimated      INTEGER,
		issued_at      TEXT NOT NULL,
		error          TEXT NOT NULL
	)`,
	`CREATE INDEX certificates_run ON certificates(run_id)`,
}

func createSchema(tx *sql.Tx) error {
	for _, q := range schema {
		if _, err := tx.Exec(q); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	if _, err := tx.Exec(fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return err
	}
	_, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion))
	return err
}

// dropSchema removes every table and index of ours, of whatever version.
func dropSchema(tx *sql.Tx) error {
	rows, err := tx.Query(`SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' AND type IN ('table', 'view', 'trigger')`)
	if err != nil {
		return err
	}
	var drops []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			rows.Close()
			return err
		}
		drops = append(drops, fmt.Sprintf("DROP %s IF EXISTS %s", strings.ToUpper(typ), quoteIdent(name)))
	}
	if err := rows.Close(); err != nil {
		return err
	}
	// Foreign keys would refuse to drop a parent before its children.
	if _, err := tx.Exec("PRAGMA defer_foreign_keys = ON"); err != nil {
		return err
	}
	for _, d := range drops {
		if _, err := tx.Exec(d); err != nil {
			return fmt.Errorf("drop old schema: %w", err)
		}
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Close closes the index.
func (s *Store) Close() error { return s.db.Close() }

// Path is the index file.
func (s *Store) Path() string { return s.path }

// IntegrityCheck runs PRAGMA integrity_check and returns nil when SQLite
// says "ok".
func (s *Store) IntegrityCheck() error {
	rows, err := s.db.Query("PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check %s: %w", s.path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return fmt.Errorf("integrity check %s: %s", s.path, strings.Join(msgs, "; "))
}
