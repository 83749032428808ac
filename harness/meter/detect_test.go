package meter

import (
	"errors"

	"github.com/joulebench/joulebench/metrics"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelectAutoFallsBackToEstimate(t *testing.T) {
	sel, err := Select("auto", Options{SysfsRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	if len(sel.Meters) != 1 || sel.Meters[0].Method() != Model {
		t.Fatalf("want the estimate alone, got %d meters", len(sel.Meters))
	}
	notes := strings.Join(sel.Notes, "\n")
	if !strings.Contains(notes, "ESTIMATED") || !strings.Contains(notes, "rapl:") {
		t.Errorf("notes must say it is an estimate and why RAPL was not used:\n%s", notes)
	}
	if strings.Contains(notes, "hwmon") {
		t.Errorf("backends not built yet are not reasons:\n%s", notes)
	}
}

func TestSelectNamed(t *testing.T) {
	if _, err := Select("rapl", Options{SysfsRoot: t.TempDir()}); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "--meter rapl") {
		t.Errorf("rapl on a machine without it: %v", err)
	}
	if _, err := Select("hwmon", Options{}); !errors.Is(err, ErrNotBuilt) {
		t.Errorf("hwmon: %v", err)
	}
	if _, err := Select("fake,bogus", Options{}); err == nil || !strings.Contains(err.Error(), `unknown meter "bogus"`) {
		t.Errorf("bogus: %v", err)
	}
	sel, err := Select("fake, estimate", Options{})
	if err != nil || len(sel.Meters) != 2 {
		t.Fatalf("fake,estimate: %v", err)
	}
	sel.Close()
}

func TestProbeListsEveryBackend(t *testing.T) {
	sts := Probe(Options{SysfsRoot: t.TempDir()})
	if len(sts) != len(Backends) {
		t.Fatalf("got %d statuses for %d backends", len(sts), len(Backends))
	}
	for _, s := range sts {
		switch s.Backend {
		case "fake", "estimate":
			if s.Err != nil {
				t.Errorf("%s: %v", s.Backend, s.Err)
			}
		default:
			if !errors.Is(s.Err, errors.ErrUnsupported) {
				t.Errorf("%s: want ErrUnsupported, got %v", s.Backend, s.Err)
			}
		}
	}
}

// A --sysfs-root or --proc-root that names no directory is bad input for
// Open, Select (auto included: it must not fall back to the estimate) and
// Probe, and CheckRoots says so before anything is opened.
func TestBadRoot(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nonexistent")
	bad := []struct {
		name string
		opts Options
		flag string
	}{
		{"sysfs", Options{SysfsRoot: missing}, "--sysfs-root"},
		{"proc", Options{ProcRoot: missing}, "--proc-root"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			isBad := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrBadRoot) || errors.Is(err, errors.ErrUnsupported) ||
					!strings.Contains(err.Error(), tc.flag+" "+missing+": no such directory") {
					t.Errorf("%s: %v; want ErrBadRoot naming %s", what, err, tc.flag)
				}
			}
			isBad("CheckRoots", tc.opts.CheckRoots())
			if _, err := Select("auto", tc.opts); tc.name == "sysfs" {
				isBad("Select auto", err)
			} else if err != nil {
				// Auto reaches the estimate only without hardware;
				// here RAPL is absent, so it does.
				isBad("Select auto", err)
			}
			backend := map[string]string{"sysfs": "rapl", "proc": "estimate"}[tc.name]
			_, err := Select(backend, tc.opts)
			isBad("Select "+backend, err)
			_, err = Open(backend, tc.opts)
			isBad("Open "+backend, err)
			for _, st := range Probe(tc.opts) {
				if st.Backend == backend {
					isBad("Probe "+backend, st.Err)
				}
			}
		})
	}
	// The honest options they mirror: the defaults, and roots that exist.
	if err := (Options{}).CheckRoots(); err != nil {
		t.Errorf("default roots: %v", err)
	}
	if err := (Options{SysfsRoot: t.TempDir(), ProcRoot: t.TempDir()}).CheckRoots(); err != nil {
		t.Errorf("existing roots: %v", err)
	}
}

// Every backend that opens here declares how far apart its readings may
// come, so the harness can refuse a gap that hid a counter wrap.
func TestEveryMeterDeclaresMaxGap(t *testing.T) {
	for _, b := range Backends {
		m, err := Open(b, Options{})
		if err != nil {
			continue
		}
		if _, ok := m.(GapLimiter); !ok {
			t.Errorf("%s does not implement GapLimiter", b)
		}
		for _, d := range m.Domains() {
			if d.Wrap > 0 && MaxGapOf(m) == 0 {
				t.Errorf("%s: domain %s wraps but the meter declares no gap limit", b, d.Name)
			}
		}
		m.Close()
	}
}

// The default root missing is a machine without that filesystem (macOS
// has no /sys): ErrUnsupported from the backend, and no error from
// CheckRoots, so --meter auto still falls back.
func TestDefaultRootMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "sys")
	err := checkRoot("sysfs", "--sysfs-root", missing, missing)
	if !errors.Is(err, errors.ErrUnsupported) || errors.Is(err, ErrBadRoot) || !strings.Contains(err.Error(), "no sysfs filesystem at "+missing) {
		t.Errorf("default root missing: %v; want ErrUnsupported", err)
	}
}

// fakeGPU is a GPU meter for the selection tests: one gpu domain.
func fakeGPU() Meter {
	return NewFake(nil, FakeDomain{Domain: Domain{Name: "gpu-0", Kind: KindGPU, InTotal: true}, Power: 300 * metrics.Watt})
}

// --meter auto adds the GPUs to whatever meters the CPU: RAPL where it
// is readable, else the estimate, which then goes first and is said to
// make the total partly estimated; a GPU meter that is there but broken
// is an error, never a silent fallback; an absent one is only a reason.
func TestSelectAutoAddsGPUs(t *testing.T) {
	defer func(f func() (Meter, error)) { openNVMLMeter = f }(openNVMLMeter)
	openNVMLMeter = func() (Meter, error) { return fakeGPU(), nil }

	sel, err := Select("auto", Options{SysfsRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.Meters) != 2 || sel.Meters[0].Method() != Model || sel.Meters[1].Domains()[0].Kind != KindGPU {
		t.Fatalf("want the estimate then the GPU meter, got %d meters", len(sel.Meters))
	}
	if notes := strings.Join(sel.Notes, "\n"); !strings.Contains(notes, "partly estimated") || !strings.Contains(notes, "the GPUs are measured") {
		t.Errorf("notes must say the CPU is estimated and the GPUs measured:\n%s", notes)
	}
	sel.Close()

	root := fixtureUnpack(t, "rapl/two-sockets.txtar")
	sel, err = Select("auto", Options{SysfsRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.Meters) != 2 || sel.Meters[0].Name() != "rapl" || sel.Meters[1].Domains()[0].Kind != KindGPU || len(sel.Notes) != 0 {
		t.Fatalf("want rapl then the GPU meter and no notes, got %d meters, notes %q", len(sel.Meters), sel.Notes)
	}
	sel.Close()

	// A broken GPU meter does not stop a run under auto: it is left out,
	// with a warning in the notes; asked for by name, it is an error.
	openNVMLMeter = func() (Meter, error) { return nil, errors.New("RM version mismatch") }
	sel, err = Select("auto", Options{SysfsRoot: root})
	if err != nil {
		t.Fatalf("a broken GPU meter stopped auto: %v", err)
	}
	if len(sel.Meters) != 1 || sel.Meters[0].Name() != "rapl" || !strings.Contains(strings.Join(sel.Notes, "\n"), "WARNING: meter nvml is present but broken, so no GPU is metered in this run: nvml: RM version mismatch") {
		t.Errorf("a broken GPU meter under auto: %d meters, notes %q", len(sel.Meters), sel.Notes)
	}
	sel.Close()
	if _, err := Select("nvml", Options{}); err == nil || !strings.Contains(err.Error(), "RM version mismatch") {
		t.Errorf("--meter nvml, broken: %v", err)
	}
	openNVMLMeter = func() (Meter, error) {
		return nil, &unsupportedError{msg: "NVML not available: libnvidia-ml.so.1 not found"}
	}
	sel, err = Select("auto", Options{SysfsRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.Meters) != 1 || !strings.Contains(strings.Join(sel.Notes, "\n"), "libnvidia-ml.so.1 not found") {
		t.Errorf("no GPU: want the estimate alone and the reason, got %d meters, notes %q", len(sel.Meters), sel.Notes)
	}
	sel.Close()
}
