package certify

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

func TestSpecDefaultParses(t *testing.T) {
	s, raw := DefaultSpec()
	if !bytes.Equal(raw, specDefaultRaw) {
		t.Fatal("DefaultSpec's bytes are not the embedded file")
	}
	raw[0] = 'x' // a caller cannot change the embedded spec
	if specDefaultRaw[0] == 'x' {
		t.Fatal("DefaultSpec returned the embedded bytes themselves")
	}
	if s.Version != SpecVersion || s.Name == "" {
		t.Errorf("name %q version %q", s.Name, s.Version)
	}
	for _, p := range []string{"certify", "standard", "quick"} {
		if _, ok := s.Profiles[p]; !ok {
			t.Errorf("no %s profile", p)
		}
	}
	cp := s.Profiles["certify"]
	if cp.MinReps != 5 || cp.MinRepS != 60 || cp.MinIdleS != 30 || cp.MaxCV != 0.05 || cp.MinReadingsPerRep != 10 {
		t.Errorf("certify profile %+v differs from DESIGN.md's certify rules", cp)
	}
	for name, p := range s.Profiles {
		// DESIGN.md: at least 5 repetitions for a certificate.
		if p.MinReps < 5 {
			t.Errorf("profile %s: min_reps %d < 5", name, p.MinReps)
		}
		if len(p.Rationale) == 0 {
			t.Errorf("profile %s has no rationale", name)
		}
	}
	for _, w := range []struct{ workload, class string }{
		{"gemm-fp64-2048", "cpu-gemm-fp64"}, {"gemm-fp32-512", "cpu-gemm-fp32"},
	} {
		if got, _, ok := s.ClassOf(w.workload); !ok || got != w.class {
			t.Errorf("ClassOf(%s) = %q, %t; want %s", w.workload, got, ok, w.class)
		}
	}
	if _, _, ok := s.ClassOf("measure-sleep"); ok {
		t.Error("a workload no pattern matches got a class")
	}
	for _, m := range []string{"flops_per_j", "j_per_item", "power_w", "flops_per_s", "gco2e_per_item"} {
		if tol, ok := s.Tolerances[m]; !ok || tol.Relative <= 0 || tol.Rationale == "" {
			t.Errorf("tolerance for %s: %+v, %t", m, tol, ok)
		}
	}
}

// The bands of the built-in spec are log-spaced (one ratio between every
// pair of neighbouring edges, as on an EU energy label) and monotone, and
// every band says where it comes from.
func TestSpecDefaultBandsLogSpaced(t *testing.T) {
	s, _ := DefaultSpec()
	for name, c := range s.Classes {
		if len(c.Bands) != 7 {
			t.Fatalf("%s: %d bands", name, len(c.Bands))
		}
		ratio := c.Bands[0].Edge / c.Bands[1].Edge
		if c.Better == "lower" {
			ratio = 1 / ratio
		}
		if !(ratio > 1) {
			t.Errorf("%s: not monotone (ratio %g)", name, ratio)
		}
		for i := 1; i < len(c.Bands); i++ {
			r := c.Bands[i-1].Edge / c.Bands[i].Edge
			if c.Better == "lower" {
				r = 1 / r
			}
			if math.Abs(math.Log(r)-math.Log(ratio)) > 1e-9 {
				t.Errorf("%s: %s/%s ratio %g, want %g: not log-spaced", name, c.Bands[i-1].Band, c.Bands[i].Band, r, ratio)
			}
		}
		for _, b := range c.Bands {
			if b.Rationale == "" {
				t.Errorf("%s band %s has no rationale", name, b.Band)
			}
		}
		if len(c.Rationale) == 0 || len(c.Sources) == 0 {
			t.Errorf("%s: no rationale or sources", name)
		}
	}
}

// Every source of the built-in spec gives a figure and where it was
// published; a web source gives its address.
func TestSpecDefaultSourcesCited(t *testing.T) {
	s, _ := DefaultSpec()
	url := regexp.MustCompile(`https?://|doi:|this file`)
	check := func(where string, src []Source) {
		for i, x := range src {
			if x.Figure == "" || x.What == "" || !url.MatchString(x.Source) {
				t.Errorf("%s source %d: %+v", where, i, x)
			}
		}
	}
	for name, c := range s.Classes {
		check(name, c.Sources)
	}
	for _, l := range s.Levels {
		check(l.Name, l.Sources)
	}
}

func TestSpecDigest(t *testing.T) {
	d := SpecDigest([]byte("abc"))
	if d != "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("SpecDigest(abc) = %s", d)
	}
	_, raw := DefaultSpec()
	if a, b := SpecDigest(raw), SpecDigest(specDefaultRaw); a != b || !strings.HasPrefix(a, "sha256:") || len(a) != len("sha256:")+64 {
		t.Errorf("digest %s / %s", a, b)
	}
}

func TestSpecLoadFile(t *testing.T) {
	s, raw, err := LoadSpec(filepath.Join("testdata", "spec", "minimal.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "test body" || len(raw) == 0 {
		t.Errorf("loaded %q, %d bytes", s.Name, len(raw))
	}
	if _, _, err := LoadSpec(filepath.Join("testdata", "spec", "absent.json")); err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("missing file: %v", err)
	}
}

// Bad spec files are refused with an error that names the file and the
// field at fault.
func TestSpecBadFiles(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"unknown_field.json", []string{"unknown_field.json", `"max_vc"`}},
		{"six_bands.json", []string{"six_bands.json", `classes["per-call"].bands`, "6 bands"}},
		{"non_monotone.json", []string{"non_monotone.json", `classes["per-call"].bands[3].edge`}},
		{"negative.json", []string{"negative.json", `profiles["certify"].min_reps`, "-3"}},
		{"negative_edge.json", []string{"negative_edge.json", `classes["per-call"].bands[0].edge`, "positive"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, _, err := LoadSpec(filepath.Join("testdata", "spec", tc.file))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// specMutate decodes the minimal test spec into generic JSON, lets f
// change it, and parses the result.
func specMutate(t *testing.T, f func(m map[string]any)) error {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "spec", "minimal.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseSpec(out, "mutated.json")
	return err
}

func TestSpecFieldErrors(t *testing.T) {
	class := func(m map[string]any) map[string]any {
		return m["classes"].(map[string]any)["per-call"].(map[string]any)
	}
	band := func(m map[string]any, i int) map[string]any {
		return class(m)["bands"].([]any)[i].(map[string]any)
	}
	prof := func(m map[string]any) map[string]any {
		return m["profiles"].(map[string]any)["certify"].(map[string]any)
	}
	for _, tc := range []struct {
		name string
		f    func(m map[string]any)
		want string
	}{
		{"ok", func(m map[string]any) {}, ""},
		{"version", func(m map[string]any) { m["version"] = "2" }, "field version"},
		{"no certify profile", func(m map[string]any) {
			m["profiles"] = map[string]any{"quick": prof(m)}
		}, `field profiles: has no "certify" profile`},
		{"max_cv zero", func(m map[string]any) { prof(m)["max_cv"] = 0 }, `profiles["certify"].max_cv`},
		{"interval negative", func(m map[string]any) { prof(m)["max_interval_s"] = -1 }, `profiles["certify"].max_interval_s`},
		{"min_rep_s negative", func(m map[string]any) { prof(m)["min_rep_s"] = -60 }, `profiles["certify"].min_rep_s`},
		{"one rep", func(m map[string]any) { prof(m)["min_reps"] = 1 }, `profiles["certify"].min_reps`},
		{"three levels", func(m map[string]any) { m["levels"] = m["levels"].([]any)[:3] }, "field levels: has 3 levels"},
		{"level order", func(m map[string]any) {
			l := m["levels"].([]any)
			l[1], l[2] = l[2], l[1]
		}, "levels[1].level"},
		{"band name", func(m map[string]any) { band(m, 2)["band"] = "X" }, `bands[2].band`},
		{"higher edges rising", func(m map[string]any) { class(m)["better"] = "higher" }, `classes["per-call"].better`},
		{"metric unknown", func(m map[string]any) { class(m)["metric"] = "joules" }, `classes["per-call"].metric`},
		{"power not ratable", func(m map[string]any) { class(m)["metric"] = "power_w" }, `classes["per-call"].metric`},
		{"device", func(m map[string]any) { class(m)["device"] = "tpu" }, `classes["per-call"].device`},
		{"no sources", func(m map[string]any) { class(m)["sources"] = []any{} }, `classes["per-call"].sources`},
		{"no rationale", func(m map[string]any) { delete(class(m), "rationale") }, `classes["per-call"].rationale`},
		{"bad pattern", func(m map[string]any) {
			m["workload_classes"].([]any)[0].(map[string]any)["pattern"] = "gemm-["
		}, "workload_classes[0].pattern"},
		{"unknown class", func(m map[string]any) {
			m["workload_classes"].([]any)[0].(map[string]any)["class"] = "nope"
		}, "workload_classes[0].class"},
		{"tolerance metric", func(m map[string]any) {
			m["tolerances"] = map[string]any{"speed": map[string]any{"relative": 0.1, "rationale": "x"}}
		}, `tolerances["speed"]`},
		{"tolerance too big", func(m map[string]any) {
			m["tolerances"] = map[string]any{"j_per_item": map[string]any{"relative": 2, "rationale": "x"}}
		}, `tolerances["j_per_item"].relative`},
		{"nested unknown field", func(m map[string]any) { band(m, 0)["colour"] = "green" }, `unknown field "colour"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := specMutate(t, tc.f)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
			case err == nil:
				t.Fatalf("accepted; want an error naming %s", tc.want)
			case !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mutated.json"):
				t.Errorf("error %q does not name %s and the file", err, tc.want)
			}
		})
	}
	if _, err := ParseSpec(append(bytes.Clone(specDefaultRaw), []byte(" {}")...), "two.json"); err == nil || !strings.Contains(err.Error(), "trailing") {
		t.Errorf("trailing data: %v", err)
	}
}

func TestSpecProfileFor(t *testing.T) {
	s, _ := DefaultSpec()
	rec := &results.Record{Config: results.Config{Suite: "quick"}}
	if name, p, err := s.ProfileFor(rec, ""); err != nil || name != "quick" || p.MaxCV != 0.10 {
		t.Errorf("quick record: %s %+v %v", name, p, err)
	}
	rec.Config.Suite = "my-suite.json"
	if name, _, err := s.ProfileFor(rec, ""); err != nil || name != "certify" {
		t.Errorf("unknown suite: %s %v", name, err)
	}
	if name, _, err := s.ProfileFor(rec, "standard"); err != nil || name != "standard" {
		t.Errorf("override: %s %v", name, err)
	}
	if _, _, err := s.ProfileFor(rec, "strict"); err == nil || !strings.Contains(err.Error(), "strict") {
		t.Errorf("unknown override: %v", err)
	}
}

// A value exactly at an edge earns that band; just past it, the next; G is
// open-ended; lower-is-better scales run the other way.
func TestRatingEdges(t *testing.T) {
	s, _ := DefaultSpec()
	c := s.Classes["cpu-gemm-fp64"]
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{1e12, "A"}, {3.2e10, "A"}, {math.Nextafter(3.2e10, 0), "B"},
		{1.6e10, "B"}, {1.2e10, "C"}, {8e9, "C"}, {4e9, "D"}, {2e9, "E"}, {1e9, "F"},
		{5e8, "G"}, {math.Nextafter(5e8, 0), "G"}, {1, "G"}, {0, "G"},
	} {
		if got, ok := c.Rate(tc.v); !ok || got != tc.want {
			t.Errorf("fp64 Rate(%g) = %q, %t; want %s", tc.v, got, ok, tc.want)
		}
	}
	if _, ok := c.Rate(math.NaN()); ok {
		t.Error("NaN rated")
	}
	low, _, err := LoadSpec(filepath.Join("testdata", "spec", "minimal.json"))
	if err != nil {
		t.Fatal(err)
	}
	lc := low.Classes["per-call"]
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0.001, "A"}, {0.01, "A"}, {math.Nextafter(0.01, 1), "B"}, {0.02, "B"}, {0.05, "D"},
		{0.64, "G"}, {100, "G"},
	} {
		if got, ok := lc.Rate(tc.v); !ok || got != tc.want {
			t.Errorf("lower-is-better Rate(%g) = %q, %t; want %s", tc.v, got, ok, tc.want)
		}
	}
}
