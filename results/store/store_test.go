package store

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/joulebench/joulebench/results"
)

// testRecord builds a small record that metrics.Summarize finds valid:
// one GEMM-like workload on a RAPL-like counter, three repetitions of 2 s
// that each do 1e12 FLOPs in 100 calls and spend scale × jitter × 100 J.
func testRecord(runID string, start time.Time, scale float64) *results.Record {
	rec := &results.Record{
		SchemaVersion: results.SchemaVersion, RunID: runID, Complete: true,
		StartedAt: start, FinishedAt: start.Add(time.Minute),
		Tool: results.Tool{Name: "joulebench", Version: "test", GoVersion: "go1.26"},
		Host: results.Host{Hostname: "bench-" + runID[len(runID)-2:], CPUModel: "Test CPU", LogicalCPUs: 8, OS: "linux", Arch: "amd64"},
		Config: results.Config{Suite: "quick", SuiteVersion: "1", Workloads: []string{"gemm-fp64-1024"}, IntervalS: 0.1,
			MinTimeS: 1, Reps: 3, MinReadings: 10, MaxCV: 0.2},
		Meters: []results.Meter{{Name: "rapl", Method: results.MethodCounter,
			Domains: []results.Domain{{Name: "package-0", Kind: "package", InTotal: true}}}},
	}
	w := results.Workload{Name: "gemm-fp64-1024", Version: "1", WorkUnit: "GEMM call (2N³ FLOPs)", ContentHash: "abc",
		Check: &results.Check{Name: "freivalds", OK: true, Limit: 1e-9}}
	for i, j := range []float64{1.00, 1.03, 0.97} {
		w.Reps = append(w.Reps, results.Rep{Index: i, Iters: 100, DurationS: 2, Readings: 21,
			EnergyJ: map[string]float64{"package-0": scale * j * 100},
			Work:    results.Work{FLOPs: 1e12, Items: 100}})
	}
	rec.Workloads = []results.Workload{w}
	return rec
}

func writeRecord(t testing.TB, out string, rec *results.Record) string {
	t.Helper()
	p := filepath.Join(out, rec.RunID, results.RecordFile)
	if err := results.WriteFile(p, rec); err != nil {
		t.Fatal(err)
	}
	return p
}

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func runID(i int) string { return fmt.Sprintf("20261130T10%04dZ-%06d", i, i) }

func openIndex(t testing.TB, out string) *Store {
	t.Helper()
	s, err := Index(filepath.Join(out, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAddListShow(t *testing.T) {
	out := t.TempDir()
	a := writeRecord(t, out, testRecord(runID(1), t0, 1))
	est := testRecord(runID(2), t0.Add(time.Hour), 1)
	est.Meters[0].Name, est.Meters[0].Method, est.Meters[0].Estimated = "estimate", results.MethodModel, true
	b := writeRecord(t, out, est)
	golden, err := os.ReadFile(filepath.Join("..", "..", "certify", "testdata", "golden", "certificate.dsse.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(filepath.Dir(a), "certificate.dsse.json"), golden, 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(a), "broken.dsse.json"), []byte("{not json"), 0o644)

	s := openIndex(t, out)
	for _, p := range []string{a, filepath.Dir(b)} {
		if err := s.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	// Adding again replaces, never duplicates.
	if err := s.Add(a); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].RunID != runID(2) || list[1].RunID != runID(1) {
		t.Fatalf("list: want run 2 then run 1, got %+v", list)
	}
	if list[0].Measurement != Estimated || list[0].Level != 0 || list[1].Measurement != Measured || list[1].NCertificates != 1 {
		t.Errorf("list: %+v / %+v", list[0].Record, list[1].Record)
	}

	r, err := s.Show(runID(1)[:15]) // a unique prefix
	if err != nil {
		t.Fatal(err)
	}
	if r.RunID != runID(1) || r.Path != a || len(r.SHA256) != 64 || r.CPUModel != "Test CPU" || r.LogicalCPUs != 8 ||
		r.Suite != "quick" || len(r.Meters) != 1 || r.Meters[0] != "rapl:counter" {
		t.Errorf("show: %+v", r)
	}
	if len(r.Workloads) != 1 {
		t.Fatalf("show: workloads %+v", r.Workloads)
	}
	w := r.Workloads[0]
	if !w.Valid || !w.Ranked || math.Abs(w.JPerItem.Median-1) > 1e-9 || math.Abs(w.FLOPsPerJ.Median-1e10) > 1 ||
		!(w.FLOPsPerJ.Low <= w.FLOPsPerJ.Median && w.FLOPsPerJ.Median <= w.FLOPsPerJ.High) || !math.IsNaN(w.Accuracy) {
		t.Errorf("show: workload %+v (%s)", w, w.InvalidReasons)
	}
	if len(r.Certificates) != 2 {
		t.Fatalf("show: certificates %+v", r.Certificates)
	}
	bad, cert := r.Certificates[0], r.Certificates[1]
	if bad.Kind != "unreadable" || bad.Error == "" {
		t.Errorf("broken certificate: %+v", bad)
	}
	if cert.Kind != "certificate" || cert.Signature != Unverified || cert.Level != 2 || cert.LevelName != "node" ||
		!cert.Valid || cert.SpecName == "" || cert.MatchesRecord || cert.SubjectSHA256 == "" {
		t.Errorf("certificate: %+v", cert)
	}

	if _, err := s.Show("2026"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "several") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := s.Show("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

// Two writers, each its own *Store on the same file, add 20 records each
// at once: all 40 are there and SQLite finds the file sound.
func TestConcurrentWriters(t *testing.T) {
	out := t.TempDir()
	var paths []string
	for i := range 40 {
		paths = append(paths, writeRecord(t, out, testRecord(runID(i), t0.Add(time.Duration(i)*time.Minute), 1+float64(i)/100)))
	}
	db := filepath.Join(out, DBFile)
	stores := make([]*Store, 2)
	for i := range stores {
		s, err := Index(db)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g, s := range stores {
		wg.Go(func() {
			for i := g; i < 40; i += 2 {
				if err := s.Add(paths[i]); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, err := stores[0].List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 40 {
		t.Errorf("want 40 records, got %d", len(list))
	}
	if err := stores[1].IntegrityCheck(); err != nil {
		t.Error(err)
	}
	var mode string
	if err := stores[0].db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q (%v), want wal", mode, err)
	}
}

func TestReindex(t *testing.T) {
	out := t.TempDir()
	for i := range 3 {
		writeRecord(t, out, testRecord(runID(i), t0, 1))
	}
	corrupt := filepath.Join(out, "20261130T999999Z-bad", results.RecordFile)
	os.MkdirAll(filepath.Dir(corrupt), 0o755)
	os.WriteFile(corrupt, []byte(`{"schema_version": 2, "run_id": "x", "run_id": "y"}`), 0o644)
	os.MkdirAll(filepath.Join(out, "not-a-run"), 0o755)

	db := filepath.Join(out, DBFile)
	rep, err := Reindex(db, out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Indexed != 3 || len(rep.Skipped) != 1 || rep.Skipped[0].Path != corrupt || !strings.Contains(rep.Skipped[0].String(), corrupt) {
		t.Fatalf("reindex: %+v", rep)
	}
	// Deleting the index loses nothing: reindex brings it back.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
	if _, err := Reindex(db, out); err != nil {
		t.Fatal(err)
	}
	s := openIndex(t, out)
	list, err := s.List()
	if err != nil || len(list) != 3 {
		t.Fatalf("after reindex: %d records, %v", len(list), err)
	}
	// A record removed from disk leaves the index at the next reindex.
	os.RemoveAll(filepath.Join(out, runID(0)))
	if _, err := s.Reindex(out); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(); len(list) != 2 {
		t.Errorf("after removing a run: %d records, want 2", len(list))
	}
}

func TestSchemaVersion(t *testing.T) {
	out := t.TempDir()
	writeRecord(t, out, testRecord(runID(1), t0, 1))
	db := filepath.Join(out, DBFile)
	if _, err := Reindex(db, out); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int{0, SchemaVersion + 1} {
		raw, err := sql.Open("sqlite", db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		_, err = Index(db)
		if !errors.Is(err, ErrSchemaVersion) || !strings.Contains(err.Error(), "joulebench results reindex") {
			t.Fatalf("version %d: want ErrSchemaVersion saying to reindex, got %v", v, err)
		}
		if err := AddRun(out, filepath.Join(out, runID(1))); !errors.Is(err, ErrSchemaVersion) {
			t.Errorf("AddRun into version %d: %v", v, err)
		}
		if _, err := Reindex(db, out); err != nil {
			t.Fatal(err)
		}
		s, err := Index(db)
		if err != nil {
			t.Fatalf("after reindex: %v", err)
		}
		if list, _ := s.List(); len(list) != 1 {
			t.Errorf("after reindex: %d records", len(list))
		}
		s.Close()
	}
}

func TestNotAnIndex(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("this is not a database\n", 100)), 0o644)
	if _, err := Index(junk); !errors.Is(err, ErrNotIndex) || !strings.Contains(err.Error(), "not an SQLite database") {
		t.Errorf("junk: %v", err)
	}
	if _, err := Reindex(junk, dir); !errors.Is(err, ErrNotIndex) {
		t.Errorf("reindex junk: %v", err)
	}
	// Someone else's SQLite database: refused, and reindex drops nothing.
	other := filepath.Join(dir, "other.db")
	raw, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE precious (x)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if _, err := Reindex(other, dir); !errors.Is(err, ErrNotIndex) || !strings.Contains(err.Error(), "did not make") {
		t.Errorf("foreign db: %v", err)
	}
	raw, _ = sql.Open("sqlite", other)
	defer raw.Close()
	var n int
	if err := raw.QueryRow("SELECT count(*) FROM precious").Scan(&n); err != nil {
		t.Errorf("the foreign table is gone: %v", err)
	}
	if _, err := Index(dir); !errors.Is(err, ErrNotIndex) {
		t.Errorf("a directory: %v", err)
	}
}

// BenchmarkAdd is one record's indexing: reading, summarising (the
// bootstrap intervals), judging its level, and one transaction.
func BenchmarkAdd(b *testing.B) {
	out := b.TempDir()
	p := writeRecord(b, out, testRecord(runID(1), t0, 1))
	s := openIndex(b, out)
	for b.Loop() {
		if err := s.Add(p); err != nil {
			b.Fatal(err)
		}
	}
}
