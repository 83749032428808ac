package meter

import (
	"errors"
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
	if _, err := Select("nvml", Options{}); !errors.Is(err, ErrNotBuilt) {
		t.Errorf("nvml: %v", err)
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
