package metrics

import (
	"fmt"
	"math"
	"time"
)

// Energy is an amount of energy in microjoules. It is signed so that a
// net-of-idle figure can be negative when a workload draws less than idle.
type Energy int64

// Common energy units.
const (
	Microjoule Energy = 1
	Millijoule Energy = 1000
	Joule      Energy = 1000 * Millijoule
	Kilojoule  Energy = 1000 * Joule
)

// Joules returns e in joules.
func (e Energy) Joules() float64 { return float64(e) / float64(Joule) }

// KWh returns e in kilowatt-hours.
func (e Energy) KWh() float64 { return float64(e) / 3.6e12 }

// String formats e in the largest unit that keeps it readable.
func (e Energy) String() string {
	j := e.Joules()
	switch a := math.Abs(j); {
	case a >= 1e6:
		return fmt.Sprintf("%.3f MJ", j/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.3f kJ", j/1e3)
	case a >= 1:
		return fmt.Sprintf("%.3f J", j)
	default:
		return fmt.Sprintf("%.3f mJ", j*1e3)
	}
}

// FromJoules converts joules to Energy, rounding to the nearest microjoule.
func FromJoules(j float64) Energy { return Energy(math.Round(j * float64(Joule))) }

// Power is a rate of energy in microwatts.
type Power int64

// Common power units.
const (
	Microwatt Power = 1
	Milliwatt Power = 1000
	Watt      Power = 1000 * Milliwatt
)

// Watts returns p in watts.
func (p Power) Watts() float64 { return float64(p) / float64(Watt) }

// String formats p in watts.
func (p Power) String() string { return fmt.Sprintf("%.2f W", p.Watts()) }

// FromWatts converts watts to Power, rounding to the nearest microwatt.
func FromWatts(w float64) Power { return Power(math.Round(w * float64(Watt))) }

// Over returns the energy p delivers over d.
func (p Power) Over(d time.Duration) Energy {
	return Energy(math.Round(float64(p) * d.Seconds()))
}

// AveragePower returns the mean power that delivers e over d; zero when d is not positive.
func AveragePower(e Energy, d time.Duration) Power {
	if d <= 0 {
		return 0
	}
	return Power(math.Round(float64(e) / d.Seconds()))
}
