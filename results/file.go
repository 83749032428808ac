package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// RecordFile is the name of a record inside its run directory.
const RecordFile = "record.json"

// ErrNewerSchema is returned when a record was written by a newer joulebench.
var ErrNewerSchema = errors.New("record is from a newer schema")

// Marshal encodes r as indented JSON with a trailing newline.
func Marshal(r *Record) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return append(b, '\n'), nil
}

// Decode parses a record and checks that this version can read it.
func Decode(data []byte) (*Record, error) {
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a joulebench record (invalid JSON: %w)", err)
	}
	if probe.SchemaVersion == nil {
		return nil, errors.New("not a joulebench record (no schema_version field)")
	}
	if v := *probe.SchemaVersion; v > SchemaVersion {
		return nil, fmt.Errorf("%w: schema_version %d, this joulebench reads up to %d (upgrade joulebench)", ErrNewerSchema, v, SchemaVersion)
	} else if v < 1 {
		return nil, fmt.Errorf("invalid schema_version %d", v)
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	return &r, nil
}

// ReadFile reads and decodes the record at path. A directory is taken as a
// run directory holding record.json.
func ReadFile(path string) (*Record, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, RecordFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read record: %w", err)
	}
	r, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// WriteFile writes r to path atomically: the bytes go to a temporary file in
// the same directory, which is synced and then renamed over path, so path
// holds either the old content or the whole new record, never a part.
func WriteFile(path string, r *Record) error {
	data, err := Marshal(r)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data, 0o644)
}

// WriteFileAtomic writes data to path via a synced temporary file and a rename.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename itself durable; failure here loses nothing already written.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
