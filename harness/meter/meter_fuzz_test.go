package meter

import (
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/joulebench/joulebench/metrics"
)

// FuzzWrapTime: for any range and power, the wrap time never panics, is
// never 0 for a counter that wraps (0 would mean "no limit"), and is
// exactly range ÷ power rounded down unless clamped to 1 ns or to the
// longest Duration: never later than the true wrap.
func FuzzWrapTime(f *testing.F) {
	f.Add(int64(262143328850), int64(50e6))
	f.Add(int64(65532610987), int64(1500e6))
	f.Add(int64(1), int64(math.MaxInt64))
	f.Add(int64(math.MaxInt64), int64(1))
	f.Add(int64(0), int64(1))
	f.Add(int64(-5), int64(-5))
	f.Fuzz(func(t *testing.T, wrap, power int64) {
		d, ok := wrapTime(metrics.Energy(wrap), metrics.Power(power))
		if ok != (wrap > 0 && power > 0) {
			t.Fatalf("wrapTime(%d, %d) ok = %v", wrap, power, ok)
		}
		if !ok {
			if d != 0 {
				t.Fatalf("wrapTime(%d, %d) = %d without a wrap", wrap, power, d)
			}
			return
		}
		if d <= 0 {
			t.Fatalf("wrapTime(%d, %d) = %d: a wrapping counter must have a limit", wrap, power, d)
		}
		exact := new(big.Int).Mul(big.NewInt(wrap), big.NewInt(int64(time.Second)))
		exact.Quo(exact, big.NewInt(power))
		switch {
		case !exact.IsInt64():
			if d != math.MaxInt64 {
				t.Fatalf("wrapTime(%d, %d) = %d, want the longest Duration", wrap, power, d)
			}
		case exact.Int64() == 0:
			if d != 1 {
				t.Fatalf("wrapTime(%d, %d) = %d, want 1 ns", wrap, power, d)
			}
		case exact.Int64() != int64(d):
			t.Fatalf("wrapTime(%d, %d) = %d, want %d", wrap, power, d, exact.Int64())
		}
	})
}
