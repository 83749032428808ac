package workloads

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/joulebench/joulebench/internal/infile"
)

//go:embed suites/*.json
var suiteFiles embed.FS

// Suite is a versioned set of workloads with the rules they are measured by.
type Suite struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Description string   `json:"description,omitempty"`
	IdleS       float64  `json:"idle_s"`
	WarmupS     float64  `json:"warmup_s"`
	MinTimeS    float64  `json:"min_time_s"`
	Reps        int      `json:"reps"`
	MinReadings int      `json:"min_readings"`
	MaxCV       float64  `json:"max_cv"`
	Workloads   []string `json:"workloads"`
}

// Idle, Warmup and MinTime return the suite's durations.
func (s *Suite) Idle() time.Duration    { return secs(s.IdleS) }
func (s *Suite) Warmup() time.Duration  { return secs(s.WarmupS) }
func (s *Suite) MinTime() time.Duration { return secs(s.MinTimeS) }

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// SuiteNames lists the built-in suites.
func SuiteNames() []string {
	ents, _ := suiteFiles.ReadDir("suites")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

// LoadSuite returns a built-in suite by name, or reads a suite file when
// nameOrFile is not a built-in name.
func LoadSuite(nameOrFile string) (*Suite, error) {
	if data, err := suiteFiles.ReadFile(path.Join("suites", nameOrFile+".json")); err == nil {
		return ParseSuite(data, nameOrFile)
	}
	data, err := infile.Read(nameOrFile, infile.MaxSuite)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("suite %q: not a built-in suite (%s) and no such file", nameOrFile, strings.Join(SuiteNames(), ", "))
		}
		return nil, fmt.Errorf("suite %q: %w", nameOrFile, err)
	}
	return ParseSuite(data, nameOrFile)
}

var suiteName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ParseSuite decodes and checks a suite file; src names it in errors.
// Unknown fields are refused so that a misspelt rule is not silently
// ignored.
func ParseSuite(data []byte, src string) (*Suite, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Suite
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("suite %s: %w", src, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("suite %s: trailing data after the suite object", src)
	}
	bad := func(field, why string) error {
		return fmt.Errorf("suite %s: field %q %s", src, field, why)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !suiteName.MatchString(s.Name):
		return nil, bad("name", "must be 1-64 lower-case letters, digits, '.', '_' or '-'")
	case s.Version == "":
		return nil, bad("version", "is required")
	case !finite(s.IdleS) || s.IdleS < 0 || s.IdleS > 3600:
		return nil, bad("idle_s", "must be between 0 and 3600 seconds")
	case !finite(s.WarmupS) || s.WarmupS < 0 || s.WarmupS > 3600:
		return nil, bad("warmup_s", "must be between 0 and 3600 seconds")
	case !finite(s.MinTimeS) || s.MinTimeS <= 0 || s.MinTimeS > 3600:
		return nil, bad("min_time_s", "must be more than 0 and at most 3600 seconds")
	case s.Reps < 1 || s.Reps > 1000:
		return nil, bad("reps", "must be between 1 and 1000")
	case s.MinReadings < 0:
		return nil, bad("min_readings", "must not be negative")
	case !finite(s.MaxCV) || s.MaxCV < 0:
		return nil, bad("max_cv", "must not be negative")
	case len(s.Workloads) == 0:
		return nil, bad("workloads", "must list at least one workload")
	}
	for i, w := range s.Workloads {
		if strings.TrimSpace(w) == "" {
			return nil, bad(fmt.Sprintf("workloads[%d]", i), "is empty")
		}
	}
	return &s, nil
}

// Select returns the suite's workload names that match any of the
// comma-separated glob patterns (path.Match syntax); an empty pattern
// selects all. A pattern that matches nothing is an error, so that a typo
// does not silently measure nothing.
func (s *Suite) Select(patterns string) ([]string, error) {
	if strings.TrimSpace(patterns) == "" {
		return append([]string(nil), s.Workloads...), nil
	}
	var out []string
	picked := map[string]bool{}
	for _, p := range strings.Split(patterns, ",") {
		p = strings.TrimSpace(p)
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("--workload %q: %w", p, err)
		}
		n := 0
		for _, w := range s.Workloads {
			if ok, _ := path.Match(p, w); ok {
				n++
				if !picked[w] {
					picked[w] = true
					out = append(out, w)
				}
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("--workload %q matches none of suite %s's workloads (%s)", p, s.Name, strings.Join(s.Workloads, ", "))
		}
	}
	return out, nil
}
