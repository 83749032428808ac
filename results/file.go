package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/joulebench/joulebench/internal/infile"
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

// Decode parses a record and checks that this version can read it. A
// record with a duplicate key anywhere is refused (ErrDuplicateKey), as a
// certificate's payload is: it could be read two ways.
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
	if err := CheckDuplicateKeys(data); err != nil {
		return nil, fmt.Errorf("not a valid joulebench record: %w", err)
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a valid joulebench record: trailing data after the record object")
	}
	return &r, nil
}

// ReadFile reads and decodes the record at path. A directory is taken as a
// run directory holding record.json. Anything but a regular file (a FIFO,
// /dev/zero) and anything over infile.MaxRecord is refused.
func ReadFile(path string) (*Record, error) {
	_, r, err := ReadFileBytes(path)
	return r, err
}

// ReadFileBytes is ReadFile that also returns the bytes the record was
// decoded from, so that a caller can hash exactly what it decoded.
func ReadFileBytes(path string) ([]byte, *Record, error) {
	path = Path(path)
	data, err := infile.Read(path, infile.MaxRecord)
	if err != nil {
		return nil, nil, fmt.Errorf("read record: %w", err)
	}
	r, err := Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, r, nil
}

// Path is where the record of p is: p itself, or p/record.json when p is a
// run directory.
func Path(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return filepath.Join(p, RecordFile)
	}
	return p
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
