package report

import (
	"fmt"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// DeviceLines describes each device a meter read (a GPU), one line each:
// what it is, its driver, power limit, how its energy was had, and what
// the driver could not report. Its blind spots follow, as notes.
func DeviceLines(m results.Meter) []string {
	var out []string
	// Eight GPUs of one kind share their blind spots: each note is said
	// once, after the devices, naming the devices it applies to.
	var notes []string
	noteDoms := map[string][]string{}
	for _, d := range m.Devices {
		var parts []string
		name := d.Name
		if d.Architecture != "" {
			name += " (" + d.Architecture + ")"
		}
		parts = append(parts, name)
		if d.UUID != "" {
			parts = append(parts, d.UUID)
		}
		if d.DriverVersion != "" {
			s := "driver " + d.DriverVersion
			if d.CUDAVersion != "" {
				s += ", CUDA " + d.CUDAVersion
			}
			parts = append(parts, s)
		}
		if d.PowerLimitW > 0 {
			parts = append(parts, fmt.Sprintf("power limit %.0f W", d.PowerLimitW))
		}
		switch d.EnergyMethod {
		case results.MethodCounter:
			parts = append(parts, "energy from its counter")
		case results.MethodSampledPower:
			parts = append(parts, "energy from power readings integrated over time")
		}
		if len(d.Unsupported) > 0 {
			parts = append(parts, "not reported by the driver: "+strings.Join(d.Unsupported, ", "))
		}
		out = append(out, d.Domain+": "+strings.Join(parts, "; "))
		for _, n := range d.Notes {
			if _, ok := noteDoms[n]; !ok {
				notes = append(notes, n)
			}
			noteDoms[n] = append(noteDoms[n], d.Domain)
		}
	}
	for _, n := range notes {
		out = append(out, strings.Join(noteDoms[n], ", ")+" note: "+n)
	}
	return out
}
