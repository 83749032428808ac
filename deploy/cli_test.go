package deploy

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The joulebench binary the tests run, built once per test process from
// this checkout: the manifests and the Slurm script must match the CLI as
// it is, not as someone remembers it.
var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildDir  string
)

// joulebenchBinary builds ../cmd/joulebench into a temporary directory
// (removed by TestMain) and returns its path.
func joulebenchBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "joulebench-deploy-test-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "joulebench")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", buildPath, "./cmd/joulebench")
		cmd.Dir = ".."
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = err
			buildPath = out.String()
		}
	})
	if buildErr != nil {
		t.Fatalf("go build ./cmd/joulebench: %v\n%s", buildErr, buildPath)
	}
	return buildPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// cliFlag is one flag of a joulebench subcommand, as its -h lists it.
type cliFlag struct {
	Name string
	// Type is the flag package's word for the value ("string",
	// "duration", a back-quoted name such as "duration" from the usage),
	// empty for a boolean flag that takes no value.
	Type string
}

// flagLine is how the flag package prints a flag in its usage: two spaces,
// a dash, the name, and the value's type unless it is a boolean.
var flagLine = regexp.MustCompile(`^  -([A-Za-z0-9][A-Za-z0-9._-]*)(?: (\S+))?$`)

// parseFlagUsage reads the flags out of the flag package's usage text.
func parseFlagUsage(usage string) map[string]cliFlag {
	flags := map[string]cliFlag{}
	sc := bufio.NewScanner(strings.NewReader(usage))
	for sc.Scan() {
		if m := flagLine.FindStringSubmatch(sc.Text()); m != nil {
			flags[m[1]] = cliFlag{Name: m[1], Type: m[2]}
		}
	}
	return flags
}

// subcommandFlags runs `joulebench SUB -h` and returns the flags it lists.
// A subcommand that does not exist, or lists no flags, fails the test.
func subcommandFlags(t *testing.T, sub string) map[string]cliFlag {
	t.Helper()
	bin := joulebenchBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, sub, "-h").CombinedOutput()
	flags := parseFlagUsage(string(out))
	if !strings.Contains(string(out), "Usage of joulebench "+sub) || len(flags) == 0 {
		t.Fatalf("joulebench %s -h lists no flags: the manifests call a subcommand this joulebench lacks; it printed:\n%s", sub, out)
	}
	return flags
}

func TestParseFlagUsage(t *testing.T) {
	usage := "Usage of joulebench run:\n" +
		"  -json\n    \tprint the record as JSON\n" +
		"  -interval duration\n    \ttime between meter readings (default 100ms)\n" +
		"  -out string\n    \tdirectory for records (default \"results\")\n" +
		"  -idle duration\n    \tthe idle baseline's duration, e.g. 30s\n" +
		"Usage:\n  joulebench run [--suite S]\n"
	got := parseFlagUsage(usage)
	want := map[string]cliFlag{
		"json":     {Name: "json"},
		"interval": {Name: "interval", Type: "duration"},
		"out":      {Name: "out", Type: "string"},
		"idle":     {Name: "idle", Type: "duration"},
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("flag %s: got %+v, want %+v", k, got[k], v)
		}
	}
}
