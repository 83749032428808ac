package meter

import (
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
