package meter

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzEstParseCPUInfo feeds arbitrary /proc/cpuinfo text to the parser: it
// must not panic, and what it returns must be usable.
func FuzzEstParseCPUInfo(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "estimate", "vm-xeon-8380.txtar")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("processor\t: 0\nCPU part\t: 0xd0c\n"))
	f.Add([]byte("model name: \nmodel name: x\nprocessor"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		model, n := estParseCPUInfo(b)
		if n < 0 || strings.ContainsAny(model, "\n") || model != strings.TrimSpace(model) {
			t.Fatalf("parse gave %q, %d", model, n)
		}
	})
}

// FuzzEstimateCPUModel feeds arbitrary model strings and inputs to the
// estimate: it must not panic, must give a finite non-negative power for
// valid input, and normalising must be idempotent so that a table phrase
// always matches itself.
func FuzzEstimateCPUModel(f *testing.F) {
	for _, r := range estTable[:10] {
		f.Add(r.name, 0.5, 4, 0.0)
	}
	f.Add("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", 1.0, 0, 0.0)
	f.Add("AMD EPYC 7763 64-Core Processor", 0.25, 256, 300.0)
	f.Add("(R(r))™@", 0.0, 1, 1.0)
	f.Add("x", 1.0, 1<<40, 1e300)
	f.Fuzz(func(t *testing.T, model string, load float64, logical int, tdp float64) {
		n := estNormalize(model)
		if estNormalize(n) != n {
			t.Fatalf("normalise is not idempotent: %q → %q → %q", model, n, estNormalize(n))
		}
		r, err := EstimateCPU(EstimateInput{CPUModel: model, Load: load, LogicalCPUs: logical, TDPWatts: tdp})
		if err != nil {
			return
		}
		w := r.Power.Watts()
		if r.Power < 0 || math.IsNaN(r.TDPWatts) || r.Matched == "" || r.TDPSource == "" ||
			r.CurveFraction < estCurve[0].Fraction || r.CurveFraction > estCurve[len(estCurve)-1].Fraction || math.IsInf(w, 0) {
			t.Fatalf("%+v", r)
		}
	})
}

// FuzzEstimateParseCPULine: the /proc/stat line parser never panics, and
// what it accepts has no negative or NaN times.
func FuzzEstimateParseCPULine(f *testing.F) {
	f.Add([]byte("cpu  924 0 299 12410 45 0 14 5 0 0\ncpu0 640 0 170 5994 32 0 3 5 0 0\n"))
	f.Add([]byte("cpu 1 2 3 4\n"))
	f.Add([]byte("cpu0 1 2 3 4 5\n"))
	f.Add([]byte("cpu  18446744073709551615 0 0 0 0 0 0 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := estParseCPULine(b)
		if err != nil {
			return
		}
		busy, all := estBusyAll(c)
		if busy < 0 || all < busy || busy != busy {
			t.Fatalf("accepted %q as busy %v of %v", b, busy, all)
		}
	})
}

// FuzzEstParseStat: the check of a whole /proc/stat at open never panics,
// and what it accepts has an aggregate cpu line the hot path also accepts
// and a CPU count no larger than its lines.
func FuzzEstParseStat(f *testing.F) {
	f.Add([]byte("cpu  924 0 299 12410 45 0 14 5 0 0\ncpu0 640 0 170 5994 32 0 3 5 0 0\nintr 1 2\nbtime 1736851743\n"))
	f.Add([]byte("cpu  4 0 0 4\ncpu0\ncpu1 x\ncpu\ncpuX 1\n"))
	f.Add([]byte("intr 1\ncpu 1 2 3 4\n"))
	f.Add([]byte("cpu 1 2 3 4\r\ncpu0 1 2 3 4\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := estParseStat(b)
		if err != nil {
			return
		}
		if _, err := estParseCPULine(b); err != nil {
			t.Fatalf("estParseStat accepted %q, which the hot path refuses: %v", b, err)
		}
		if n < 0 || n > bytes.Count(b, []byte("\n"))+1 {
			t.Fatalf("estParseStat(%q) = %d CPUs", b, n)
		}
	})
}
