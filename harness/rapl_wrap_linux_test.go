package harness

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
)

// raplWrapTree is a one-socket RAPL tree whose counters have ranges small
// enough to wrap many times in a short test. Values start near the top so
// that the first steps already wrap.
const raplWrapTree = `
-- class/powercap/intel-rapl/enabled --
1
-- class/powercap/intel-rapl:0/name --
package-0
-- class/powercap/intel-rapl:0/max_energy_range_uj --
1000000
-- class/powercap/intel-rapl:0/energy_uj --
900000
-- class/powercap/intel-rapl:0:0/name --
dram
-- class/powercap/intel-rapl:0:0/max_energy_range_uj --
500000
-- class/powercap/intel-rapl:0:0/energy_uj --
450000
-- class/powercap/intel-rapl:0:1/name --
core
-- class/powercap/intel-rapl:0:1/max_energy_range_uj --
1000000
-- class/powercap/intel-rapl:0:1/energy_uj --
999999
`

// raplWrapUnpack writes a txtar archive under a new temporary directory.
func raplWrapUnpack(t *testing.T, archive string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range txtar.Parse([]byte(archive)).Files {
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestRAPLWrapEnergyIsExact: against a RAPL tree whose counters advance at
// a known power and wrap several times, Integrate over the meter's raw
// readings gives the true energy, and the node total is package plus DRAM,
// never core.
func TestRAPLWrapEnergyIsExact(t *testing.T) {
	root := raplWrapUnpack(t, raplWrapTree)
	m, err := meter.OpenRAPL(root)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	domains := m.Domains()

	// What each zone draws, and the files the kernel would update. The
	// counters are advanced by hand between reads, as if 100 ms passed:
	// no goroutine, no sleep, the same figures every run.
	const interval = 100 * time.Millisecond
	const steps = 20
	zones := map[string]struct {
		dir   string
		power metrics.Power
	}{
		"package-0": {"intel-rapl:0", 3700 * metrics.Milliwatt},
		"dram-0":    {"intel-rapl:0:0", 900 * metrics.Milliwatt},
		"core-0":    {"intel-rapl:0:1", 2500 * metrics.Milliwatt},
	}
	if len(domains) != len(zones) {
		t.Fatalf("domains = %+v, want package-0, dram-0 and core-0", domains)
	}

	ctx := context.Background()
	first, err := m.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	readings := []meter.Reading{first}
	raw := append([]metrics.Energy(nil), first.Energy...)
	wraps := make([]int, len(domains))
	for range steps {
		for i, d := range domains {
			z, ok := zones[d.Name]
			if !ok {
				t.Fatalf("unexpected domain %q", d.Name)
			}
			next := raw[i] + z.power.Over(interval)
			if next >= d.Wrap {
				next -= d.Wrap
				wraps[i]++
			}
			raw[i] = next
			p := filepath.Join(root, "class", "powercap", z.dir, "energy_uj")
			if err := os.WriteFile(p, []byte(strconv.FormatInt(int64(next), 10)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rd, err := m.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		readings = append(readings, rd)
	}

	got := Integrate(domains, readings)
	var total, wantTotal metrics.Energy
	for i, d := range domains {
		if wraps[i] < 2 {
			t.Errorf("%s wrapped %d times; the test wants several", d.Name, wraps[i])
		}
		want := zones[d.Name].power.Over(interval) * steps
		if rel := math.Abs(float64(got[i]-want)) / float64(want); rel > 0.005 {
			t.Errorf("%s: measured %d µJ, true %d µJ (%.3f%% off)", d.Name, got[i], want, 100*rel)
		}
		if got[i] != want {
			t.Errorf("%s: measured %d µJ, true %d µJ; counters should be exact", d.Name, got[i], want)
		}
		if d.InTotal {
			total += got[i]
		}
		if d.Name != "core-0" {
			wantTotal += want
		}
	}
	if total != wantTotal {
		t.Errorf("node total = %d µJ, want %d (package-0 + dram-0, core-0 is inside the package)", total, wantTotal)
	}
}
