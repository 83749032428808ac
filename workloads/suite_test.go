package workloads

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/internal/infile"
)

func TestBuiltinSuites(t *testing.T) {
	for _, name := range []string{"quick", "standard", "certify"} {
		s, err := LoadSuite(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Name != name || s.Version == "" || len(s.Workloads) == 0 {
			t.Errorf("%s: %+v", name, s)
		}
	}
	s, _ := LoadSuite("standard")
	gemms, models := 0, 0
	for _, w := range s.Workloads {
		switch {
		case strings.HasPrefix(w, "gemm-"):
			gemms++
		case strings.HasPrefix(w, "mnist-"):
			models++
		}
	}
	if gemms != 8 || models != 20 || s.Reps != 5 || s.MinTimeS < 2 {
		t.Errorf("standard suite must have N=512..4096 in two precisions and the 20 model workloads, 5 reps of at least 2 s: %+v", s)
	}
}

func TestSuiteFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ body, want string }{
		{`{"name":"x","version":"1","min_time_s":1,"reps":0,"workloads":["a"]}`, `"reps"`},
		{`{"name":"x","version":"1","min_time_s":1,"reps":1,"workloads":[]}`, `"workloads"`},
		{`{"name":"x","version":"1","min_time_s":1,"reps":1,"workloads":["a"],"repz":3}`, `unknown field "repz"`},
		{`{"name":"X Y","version":"1","min_time_s":1,"reps":1,"workloads":["a"]}`, `"name"`},
		{`{"name":"x","min_time_s":1,"reps":1,"workloads":["a"]}`, `"version"`},
		{`{"name":"x","version":"1","min_time_s":-1,"reps":1,"workloads":["a"]}`, `"min_time_s"`},
		{`not json`, "invalid character"},
	} {
		f := filepath.Join(dir, "s.json")
		os.WriteFile(f, []byte(c.body), 0o644)
		_, err := LoadSuite(f)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), f) {
			t.Errorf("%s: want error naming the file and %s, got %v", c.body, c.want, err)
		}
	}
	if _, err := LoadSuite("no-such-suite"); err == nil || !strings.Contains(err.Error(), "quick") {
		t.Errorf("unknown suite should list the built-in ones, got %v", err)
	}
}

func TestSelect(t *testing.T) {
	s, _ := LoadSuite("standard")
	got, err := s.Select("gemm-fp32-*,gemm-fp64-512")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"gemm-fp32-512", "gemm-fp32-1024", "gemm-fp32-2048", "gemm-fp32-4096", "gemm-fp64-512"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Select = %v, want %v", got, want)
	}
	if _, err := s.Select("gemm-fp16-*"); err == nil {
		t.Error("a pattern that matches nothing must be an error")
	}
}

func FuzzParseSuite(f *testing.F) {
	for _, n := range SuiteNames() {
		b, _ := suiteFiles.ReadFile("suites/" + n + ".json")
		f.Add(b)
	}
	f.Add([]byte(`{"name":"x","version":"1","min_time_s":1e308,"reps":1,"workloads":["a"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuite(data, "fuzz")
		if err == nil && (s.Reps < 1 || len(s.Workloads) == 0 || s.MinTimeS <= 0) {
			t.Fatalf("accepted an invalid suite: %+v", s)
		}
	})
}

// A suite file is outside input: /dev/zero, a FIFO or a file over the
// limit is refused, not read for ever.
func TestLoadSuiteRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "suite.json")
	mkfifo(t, fifo)
	big := filepath.Join(dir, "big.json")
	os.WriteFile(big, append([]byte(`{"name":"big","version":"1",`), bytes.Repeat([]byte(" "), infile.MaxSuite)...), 0o644)
	for path, want := range map[string]string{"/dev/zero": "not a regular file", fifo: "not a regular file", big: "file too large"} {
		if _, err := LoadSuite(path); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadSuite(%s) = %v, want %q naming the file", path, err, want)
		}
	}
}
