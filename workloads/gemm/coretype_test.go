package gemm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixtureFlags(t *testing.T, name string) map[string]bool {
	t.Helper()
	if name == "" {
		return nil // cpuinfo unreadable
	}
	flags, err := readCPUFlags(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return flags
}

func TestCPUISA(t *testing.T) {
	for file, want := range map[string]string{
		"cpuinfo-zen5.txt":           "avx512",
		"cpuinfo-haswell.txt":        "avx2",
		"cpuinfo-avx512-partial.txt": "avx2",
		"cpuinfo-arm64.txt":          "sve",
		"":                           "unknown",
	} {
		if got := cpuISA(fixtureFlags(t, file)); got != want {
			t.Errorf("cpuISA(%s) = %q, want %q", file, got, want)
		}
	}
}

func TestReadCPUFlagsErrors(t *testing.T) {
	if _, err := readCPUFlags(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
	p := filepath.Join(t.TempDir(), "cpuinfo")
	if err := os.WriteFile(p, []byte("processor\t: 0\nmodel name\t: nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readCPUFlags(p); err == nil || !strings.Contains(err.Error(), "no flags") {
		t.Errorf("no flags line: err = %v", err)
	}
}

// TestDecideCoreType covers every rule on injected CPU flags and
// environment; it never reads the process environment.
func TestDecideCoreType(t *testing.T) {
	tests := []struct {
		name    string
		opt     string
		env     string
		envSet  bool
		cpuinfo string
		value   string
		source  string
		ignored string
		errText string
	}{
		{name: "auto on Zen 5 asks for SkylakeX", cpuinfo: "cpuinfo-zen5.txt", value: "SkylakeX", source: sourceAutoAVX512},
		{name: "explicit auto same as empty", opt: "auto", cpuinfo: "cpuinfo-zen5.txt", value: "SkylakeX", source: sourceAutoAVX512},
		{name: "auto respects the environment", env: "Haswell", envSet: true, cpuinfo: "cpuinfo-zen5.txt", value: "Haswell", source: sourceEnvironment},
		{name: "auto: empty env var is as good as unset", env: "", envSet: true, cpuinfo: "cpuinfo-zen5.txt", value: "SkylakeX", source: sourceAutoAVX512},
		{name: "auto on Haswell leaves it to the library", cpuinfo: "cpuinfo-haswell.txt", value: "", source: sourceAutoLibrary},
		{name: "auto needs all five AVX-512 subsets", cpuinfo: "cpuinfo-avx512-partial.txt", value: "", source: sourceAutoLibrary},
		{name: "auto on Arm", cpuinfo: "cpuinfo-arm64.txt", value: "", source: sourceAutoLibrary},
		{name: "auto with no cpuinfo", cpuinfo: "", value: "", source: sourceAutoLibrary},
		{name: "library never sets it", opt: "library", cpuinfo: "cpuinfo-zen5.txt", value: "", source: sourceLibrary},
		{name: "library hides the environment's", opt: "library", env: "SkylakeX", envSet: true, cpuinfo: "cpuinfo-zen5.txt", value: "", source: sourceLibrary, ignored: "SkylakeX"},
		{name: "flag value wins over environment", opt: "Zen", env: "SkylakeX", envSet: true, cpuinfo: "cpuinfo-zen5.txt", value: "Zen", source: sourceFlag},
		{name: "flag value on Haswell", opt: "Haswell", cpuinfo: "cpuinfo-haswell.txt", value: "Haswell", source: sourceFlag},
		{name: "AVX-512 kernel on AVX2 CPU refused", opt: "skylakex", cpuinfo: "cpuinfo-haswell.txt", errText: "SIGILL"},
		{name: "AVX-512 kernel with unknown CPU allowed", opt: "SkylakeX", cpuinfo: "", value: "SkylakeX", source: sourceFlag},
		// The environment's value is checked as the flag's is.
		{name: "AVX-512 kernel from the environment on AVX2 CPU refused", env: "SkylakeX", envSet: true, cpuinfo: "cpuinfo-haswell.txt", errText: "OPENBLAS_CORETYPE=SkylakeX (from the environment) needs AVX-512"},
		{name: "AVX-512 kernel from the environment, any case, with spaces", opt: "auto", env: " cooperlake ", envSet: true, cpuinfo: "cpuinfo-avx512-partial.txt", errText: "unset OPENBLAS_CORETYPE"},
		{name: "AVX-512 kernel from the environment on Arm refused", env: "SapphireRapids", envSet: true, cpuinfo: "cpuinfo-arm64.txt", errText: "SIGILL"},
		{name: "AVX-512 kernel from the environment on AVX-512 CPU kept", env: "SkylakeX", envSet: true, cpuinfo: "cpuinfo-zen5.txt", value: "SkylakeX", source: sourceEnvironment},
		{name: "AVX-512 kernel from the environment with unknown CPU kept", env: "SkylakeX", envSet: true, cpuinfo: "", value: "SkylakeX", source: sourceEnvironment},
		{name: "environment's AVX-512 kernel hidden by library is no error", opt: "library", env: "SkylakeX", envSet: true, cpuinfo: "cpuinfo-haswell.txt", value: "", source: sourceLibrary, ignored: "SkylakeX"},
		{name: "environment's AVX-512 kernel overridden by the flag is no error", opt: "Haswell", env: "SkylakeX", envSet: true, cpuinfo: "cpuinfo-haswell.txt", value: "Haswell", source: sourceFlag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decideCoreType(tt.opt, tt.env, tt.envSet, fixtureFlags(t, tt.cpuinfo))
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want one containing %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Value != tt.value || d.Source != tt.source || d.Ignored != tt.ignored {
				t.Errorf("got %+v, want value %q source %q ignored %q", d, tt.value, tt.source, tt.ignored)
			}
			if d.forced() != (tt.value != "") {
				t.Errorf("forced() = %v", d.forced())
			}
		})
	}
}

// TestWithCoreTypeRestoresEnvironment checks that the library's constructor
// sees the decision and that nothing joulebench runs later does.
func TestWithCoreTypeRestoresEnvironment(t *testing.T) {
	t.Setenv(coreTypeEnv, "Users-Choice")
	withCoreType(coreTypeDecision{Value: "SkylakeX"}, func() {
		if got := os.Getenv(coreTypeEnv); got != "SkylakeX" {
			t.Errorf("during load: %s=%q, want SkylakeX", coreTypeEnv, got)
		}
	})
	if got := os.Getenv(coreTypeEnv); got != "Users-Choice" {
		t.Errorf("after load: %s=%q, want the user's value back", coreTypeEnv, got)
	}
	withCoreType(coreTypeDecision{Source: sourceLibrary}, func() {
		if v, ok := os.LookupEnv(coreTypeEnv); ok {
			t.Errorf("library's own choice: %s=%q still visible", coreTypeEnv, v)
		}
	})
	if got := os.Getenv(coreTypeEnv); got != "Users-Choice" {
		t.Errorf("after load: %s=%q, want the user's value back", coreTypeEnv, got)
	}

	os.Unsetenv(coreTypeEnv) // t.Setenv restores it at the end
	withCoreType(coreTypeDecision{Value: "Haswell"}, func() {})
	if v, ok := os.LookupEnv(coreTypeEnv); ok {
		t.Errorf("after load: %s=%q set, want unset as before", coreTypeEnv, v)
	}
}

func FuzzParseCPUFlags(f *testing.F) {
	for _, name := range []string{"cpuinfo-zen5.txt", "cpuinfo-haswell.txt", "cpuinfo-arm64.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("flags:")
	f.Fuzz(func(t *testing.T, s string) {
		flags, err := parseCPUFlags(strings.NewReader(s))
		if err == nil && flags == nil {
			t.Error("nil flags without error")
		}
		_ = cpuISA(flags)
	})
}
