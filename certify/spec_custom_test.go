package certify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7 item 6: a custom --spec may not call itself joulebench, nor
// give level 0 a kinder name; the built-in spec, byte for byte, may.
func TestSpecCustomIdentity(t *testing.T) {
	for _, tc := range []struct {
		name, level0 string
		want         string // "" when accepted
	}{
		{"test body", "estimated", ""},
		{"test-fast", "estimated", ""},
		{"ACME rules", "estimated", ""},
		// The review's names: the reserved word anywhere, and look-alike
		// letters, are refused.
		{"ACME rules for joulebench records", "estimated", "only the built-in spec"},
		{"Official joulebench spec", "estimated", "only the built-in spec"},
		{"ｊｏｕｌｅｂｅｎｃｈ", "estimated", "ASCII"},
		{"јoulebench", "estimated", "ASCII"},
		{"joulebench", "estimated", `field name: is "joulebench"`},
		{"JouleBench v1", "estimated", "only the built-in spec"},
		{"joulebench test spec (fast)", "estimated", "only the built-in spec"},
		{"Joule-Bench official", "estimated", "only the built-in spec"},
		{" Joule-Bench official ", "estimated", "ASCII"},
		{"test body", "gold standard", `field levels[0].name: is "gold standard"`},
		{"test body", "Estimated", "levels[0].name"},
	} {
		err := specMutate(t, func(m map[string]any) {
			m["name"] = tc.name
			m["levels"].([]any)[0].(map[string]any)["name"] = tc.level0
		})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q, level 0 %q refused: %v", tc.name, tc.level0, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q, level 0 %q: err = %v, want %q", tc.name, tc.level0, err, tc.want)
		}
	}
	// The built-in spec is called joulebench; its bytes re-encoded are a
	// custom spec and are not.
	s, raw := DefaultSpec()
	if s.Name != "joulebench" {
		t.Fatalf("built-in spec is %q", s.Name)
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	again, _ := json.Marshal(m)
	if _, err := ParseSpec(again, "copy.json"); err == nil || !strings.Contains(err.Error(), "only the built-in spec") {
		t.Errorf("a re-encoded copy of the built-in spec passed for it: %v", err)
	}
}

// The test spec the CLI's tests use is a custom spec and must load.
func TestSpecCLITestdataLoads(t *testing.T) {
	p := filepath.Join("..", "cmd", "joulebench", "testdata", "spec-fast.json")
	if _, err := os.Stat(p); err != nil {
		t.Skip(err)
	}
	if _, _, err := LoadSpec(p); err != nil {
		t.Error(err)
	}
}

func TestSpecDescribeProfile(t *testing.T) {
	s, _ := DefaultSpec()
	for name, want := range map[string]string{
		"quick":    "quick: ≥5 repetitions of ≥2 s, idle ≥5 s, CV ≤ 0.1, ≥10 readings each, interval ≤1 s; looser than certify (≥60 s, idle ≥30 s, CV ≤ 0.05)",
		"standard": "standard: ≥5 repetitions of ≥2 s, idle ≥5 s, CV ≤ 0.05, ≥10 readings each, interval ≤1 s; looser than certify (≥60 s, idle ≥30 s)",
		"certify":  "certify: ≥5 repetitions of ≥60 s, idle ≥30 s, CV ≤ 0.05, ≥10 readings each, interval ≤1 s",
		"nope":     "nope: no such profile in spec joulebench (certify, quick, standard)",
	} {
		if got := s.DescribeProfile(name); got != want {
			t.Errorf("DescribeProfile(%s) =\n %s\nwant\n %s", name, got, want)
		}
	}
	strict := *s
	strict.Profiles = map[string]Profile{"certify": s.Profiles["certify"], "strict": s.Profiles["certify"], "mixed": s.Profiles["certify"]}
	p := strict.Profiles["strict"]
	p.MaxCV = 0.02
	strict.Profiles["strict"] = p
	p.MinRepS = 30
	strict.Profiles["mixed"] = p
	if got := strict.DescribeProfile("strict"); !strings.HasSuffix(got, "; stricter than certify (certify: CV ≤ 0.05)") {
		t.Errorf("stricter: %s", got)
	}
	if got := strict.DescribeProfile("mixed"); !strings.HasSuffix(got, "; looser than certify in part (certify: ≥60 s), stricter in part (certify: CV ≤ 0.05)") {
		t.Errorf("mixed: %s", got)
	}
}

func TestConsistencyChecks(t *testing.T) {
	checks := ConsistencyChecks()
	if len(checks) < 8 {
		t.Fatalf("%d checks", len(checks))
	}
	seen := map[string]bool{}
	for _, c := range checks {
		name, _, ok := strings.Cut(c, ": ")
		if !ok || seen[name] || strings.Contains(c, "\n") {
			t.Errorf("check %q: want one line, NAME: what", c)
		}
		seen[name] = true
	}
	// Each hard rule that checks the record's description of itself is
	// listed.
	for _, rule := range []string{"raw readings", "meter readings", "meter methods", "work", "throughput ceiling", "answer checked"} {
		if !seen[rule] {
			t.Errorf("ConsistencyChecks lacks %q", rule)
		}
	}
	if !strings.Contains(SignatureMeaning, "who signed") || !strings.Contains(SignatureMeaning, "Only reproduce") {
		t.Errorf("SignatureMeaning: %s", SignatureMeaning)
	}
}
