package meter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzRAPLParseEnergy feeds the energy_uj parser what a sysfs file (or a
// fixture someone edited) might hold: it must never panic, and what it
// accepts must be a plain non-negative decimal that round-trips.
func FuzzRAPLParseEnergy(f *testing.F) {
	for _, s := range []string{
		"0\n", "262143328850\n", "65712999613", " 7 \n", "",
		"-1\n", "+1", "0x1f", "1_0", "abc", "12abc\n", "1e9",
		"9223372036854775807", "9223372036854775808", "18446744073709551616",
		"\x00", "٣", "!permission-denied\n",
		strings.Repeat("9", 5000), "0000000000000000000000000001\n", "1\n2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := raplParseEnergy(b)
		if err != nil {
			if v != 0 {
				t.Errorf("raplParseEnergy(%q) = %d with error %v", b, v, err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("raplParseEnergy(%q) = %d, negative", b, v)
		}
		s := strings.TrimSpace(string(b))
		if strings.TrimLeft(s, "0") != strings.TrimLeft(strconv.FormatInt(int64(v), 10), "0") {
			t.Errorf("raplParseEnergy(%q) = %d, which is not what it says", b, v)
		}
		if w, err := raplParseEnergy([]byte(strconv.FormatInt(int64(v), 10) + "\n")); err != nil || w != v {
			t.Errorf("round trip of %d: %d, %v", v, w, err)
		}
	})
}

// FuzzRAPLZone writes what a forged or broken sysfs might hold into a
// package zone and a DRAM subzone (name, range, counter, a constraint) and
// opens it with the meter's own reader. It must never panic or hang; what
// it accepts must be usable: names the kernel could write, every range
// above zero, a wrap time that is neither 0 nor later than the range at
// the kind's power, and counters within their range.
func FuzzRAPLZone(f *testing.F) {
	f.Add("package-0\n", "262143328850\n", "1000\n", "270000000\n", "dram\n", "65712999613\n", "5\n")
	f.Add("package-0", "0", "0", "0", "dram", "1", "1")
	f.Add("psys", "1", "1", "n/a", "core", "9223372036854775807", "9223372036854775807")
	f.Add("package-0<b>", "-1", "12abc", "99999999999999999999", "npu", "", "")
	f.Add("package-0", "262143328850", "262143328851", "2000000000", "dram", "65712999613", "65712999613")
	// One tree per fuzzing process, rewritten by every input: a fresh
	// temporary directory each time costs most of the run.
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, name, rng, energy, maxPower, subName, subRange, subEnergy string) {
		pc := filepath.Join(root, "class", "powercap")
		for file, content := range map[string]string{
			"intel-rapl:0/name":                        name,
			"intel-rapl:0/max_energy_range_uj":         rng,
			"intel-rapl:0/energy_uj":                   energy,
			"intel-rapl:0/constraint_0_max_power_uw":   maxPower,
			"intel-rapl:0:0/name":                      subName,
			"intel-rapl:0:0/max_energy_range_uj":       subRange,
			"intel-rapl:0:0/energy_uj":                 subEnergy,
			"intel-rapl:0:0/constraint_0_max_power_uw": maxPower,
		} {
			p := filepath.Join(pc, filepath.FromSlash(file))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r, err := OpenRAPL(root)
		if err != nil {
			if errors.Is(err, ErrBadRoot) || !strings.HasPrefix(err.Error(), "rapl: ") {
				t.Fatalf("error %q", err)
			}
			return
		}
		ds := r.Domains()
		for i, d := range ds {
			if !raplValidName(strings.SplitN(d.Name, "@", 2)[0]) || d.Wrap <= 0 {
				t.Fatalf("accepted domain %+v", d)
			}
			if r.powers[i] < raplMaxPower[d.Kind] || r.powers[i] > raplSaneMaxPower {
				t.Fatalf("domain %s: power %v outside [%v, %v]", d.Name, r.powers[i], raplMaxPower[d.Kind], raplSaneMaxPower)
			}
			if lim, _ := wrapTime(d.Wrap, raplMaxPower[d.Kind]); r.MaxGap() <= 0 || r.MaxGap() > lim {
				t.Fatalf("MaxGap %v for %s of range %d (at most %v)", r.MaxGap(), d.Name, d.Wrap, lim)
			}
		}
		rd, err := r.Read(context.Background())
		if err != nil {
			t.Fatalf("read after a successful open: %v", err)
		}
		for i, v := range rd.Energy {
			if v < 0 || v > ds[i].Wrap {
				t.Fatalf("domain %s read %d outside [0, %d]", ds[i].Name, v, ds[i].Wrap)
			}
		}
	})
}
