package report

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// The golden cases: each testdata/CASE.json is a record, and
//
//	CASE.txt        the default table (WriteTable)
//	CASE.wide.txt   the wide table (WriteTableOptions, Wide)
//	CASE.stats.txt  the statistics (WriteStats)
//	CASE.bench.txt  the Go benchmark format (WriteBenchfmt)
//	CASE.csv        CodeCarbon's emissions.csv rows, for records with carbon
//
// are what joulebench prints for it. On a mismatch the output is written
// to CASE*.got beside the golden file; go test -run Golden -update
// rewrites the golden files.
//
// The records: fake-carbon and estimate-noidle are real runs (the fake
// meter with --region DE --embodied rack-server; the estimate with --idle
// 0, so no baseline); rapl-asym is a two-socket RAPL run with asymmetric
// intervals, a 24-character workload name and a repetition whose counters
// did not move; failures has a failed workload, a reduced-precision
// answer, a meter fault, three BLAS libraries and an interrupted run.
func TestGolden(t *testing.T) {
	cases, _ := filepath.Glob("testdata/*.json")
	if len(cases) == 0 {
		t.Fatal("no testdata/*.json")
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			rec, err := results.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			outputs := map[string]func(*bytes.Buffer) error{
				".txt":       func(b *bytes.Buffer) error { return WriteTable(b, rec) },
				".wide.txt":  func(b *bytes.Buffer) error { return WriteTableOptions(b, rec, TableOptions{Wide: true}) },
				".stats.txt": func(b *bytes.Buffer) error { return WriteStats(b, rec) },
				".bench.txt": func(b *bytes.Buffer) error { return WriteBenchfmt(b, rec) },
			}
			if rec.Carbon != nil {
				outputs[".csv"] = func(b *bytes.Buffer) error {
					rows, err := CodeCarbonRows(rec)
					if err != nil {
						return err
					}
					w := csv.NewWriter(b)
					w.Write(codeCarbonColumns)
					w.WriteAll(rows)
					return w.Error()
				}
			}
			for ext, write := range outputs {
				var b bytes.Buffer
				if err := write(&b); err != nil {
					t.Fatalf("%s: %v", ext, err)
				}
				golden(t, filepath.Join("testdata", name+ext), b.Bytes())
			}
		})
	}
}

// golden compares got with the file at path, or rewrites the file with
// -update. On a mismatch got is written beside it, .got in place of .txt
// (case.txt → case.got, case.wide.txt → case.wide.got, case.csv →
// case.csv.got).
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	gotPath := strings.TrimSuffix(path, ".txt") + ".got"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(gotPath)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		os.WriteFile(gotPath, got, 0o644)
		t.Errorf("%s differs from the golden file; the output is in %s (diff them; -update accepts it)", path, gotPath)
		return
	}
	os.Remove(gotPath)
}
