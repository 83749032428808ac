package results

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() *Record {
	return &Record{
		SchemaVersion: SchemaVersion, RunID: "r1", Complete: true,
		StartedAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 28, 10, 1, 0, 0, time.UTC),
		Tool:      Tool{Name: "joulebench", Version: "test", GoVersion: "go1.26"},
		Host:      Host{CPUModel: "cpu", LogicalCPUs: 2, OS: "linux", Arch: "amd64"},
		Meters:    []Meter{{Name: "fake", Method: MethodCounter, Domains: []Domain{{Name: "package-0", Kind: "package", InTotal: true, MaxEnergyUJ: 100}}}},
		Workloads: []Workload{{Name: "w", Version: "1", WorkUnit: "call", Reps: []Rep{{Iters: 3, DurationS: 2, EnergyJ: map[string]float64{"package-0": 1.5}, Work: Work{FLOPs: 6, Items: 3}}}}},
		Readings:  []Reading{{TS: 0, Meter: "fake", Edge: "idle-start", EnergyUJ: []int64{99}}, {TS: 0.1, Meter: "fake", EnergyUJ: []int64{3}}},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", RecordFile)
	want := sample()
	if err := WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(filepath.Dir(path)) // a run directory works too
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the record:\n got %+v\nwant %+v", got, want)
	}
}

func TestWriteReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, RecordFile)
	big := sample()
	big.Notes = []string{strings.Repeat("x", 1<<16)}
	if err := WriteFile(path, big); err != nil {
		t.Fatal(err)
	}
	small := sample()
	if err := WriteFile(path, small); err != nil {
		t.Fatal(err)
	}
	// A new record replaces the old one whole: no tail of the longer old
	// file survives, as it would with an in-place overwrite.
	got, err := ReadFile(path)
	if err != nil || len(got.Notes) != 0 {
		t.Fatalf("replaced record: %v, notes %d", err, len(got.Notes))
	}
}

func TestFailedWriteLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	// The rename fails: path's place is taken by a non-empty directory.
	path := filepath.Join(dir, "taken")
	os.MkdirAll(filepath.Join(path, "x"), 0o755)
	err := WriteFileAtomic(path, []byte("new"), 0o644)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("want an error naming %s, got %v", path, err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "taken" {
			t.Errorf("a failed write left %s behind", e.Name())
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "invalid JSON"},
		{"not json", "invalid JSON"},
		{`{"run_id": "x"}`, "no schema_version"},
		{`{"schema_version": 3}`, "newer schema"},
		{`{"schema_version": 0}`, "invalid schema_version"},
		{`{"schema_version": 1, "workloads": "many"}`, "decode record"},
		{`[1,2]`, "invalid JSON"},
	} {
		_, err := Decode([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: want %q, got %v", c.in, c.want, err)
		}
	}
	if _, err := Decode([]byte(`{"schema_version": 7}`)); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("want ErrNewerSchema, got %v", err)
	}
	path := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(path, []byte("{"), 0o644)
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("errors must name the file: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := Marshal(sample())
	f.Add(b)
	f.Add([]byte(`{"schema_version":1}`))
	f.Add([]byte(`{"schema_version":1e400}`))
	f.Add([]byte(`{"schema_version":2,"run_id":"a","run_id":"b"}`))
	f.Add([]byte(`{"schema_version":2,"workloads":[{"reps":[{"work":{"flops":1,"flops":100}}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data)
		if err != nil {
			return
		}
		// What decodes has no key twice: a second reading of the same
		// bytes (jq keeps the last, some parsers the first) cannot differ.
		if err := CheckDuplicateKeys(data); err != nil {
			t.Fatalf("accepted a record with %v", err)
		}
		if r.SchemaVersion < 1 || r.SchemaVersion > SchemaVersion {
			t.Fatalf("accepted schema_version %d", r.SchemaVersion)
		}
		// What decodes must encode again.
		if _, err := Marshal(r); err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
	})
}

// The forgery of item 6: a record that says its FLOPs twice, once honestly
// (what a reviewer reading the file top-down sees) and once 100 times
// larger (what encoding/json keeps).
func TestDecodeRefusesDuplicateKeys(t *testing.T) {
	b, _ := Marshal(sample())
	forged := strings.Replace(string(b), `"flops": 6,`, `"flops": 6, "flops": 600,`, 1)
	if forged == string(b) {
		t.Fatal("test record has no flops field to duplicate")
	}
	_, err := Decode([]byte(forged))
	if !errors.Is(err, ErrDuplicateKey) || !strings.Contains(err.Error(), "workloads[0].reps[0].work.flops") {
		t.Errorf("want the duplicate named with its path, got %v", err)
	}
	// An empty object followed by a string in an array once read the
	// string as a key of the array, and panicked (found by fuzzing).
	for _, ok := range []string{`{"schema_version":2,"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}`, `[{},""]`, `[{},"a",{"a":{}},"a"]`, `{"a":[{}],"b":""}`} {
		if err := CheckDuplicateKeys([]byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if _, err := Decode(append(b, []byte(`{"schema_version":2}`)...)); err == nil {
		t.Error("trailing data after the record accepted")
	}
}

// /dev/zero as a record would be read for ever; a FIFO would block.
func TestReadFileRefusesDevices(t *testing.T) {
	if _, err := ReadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
}
