package report

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// DeviceUse is what a device's telemetry said while one workload's
// repetitions ran: the means and extremes of the samples that fell in
// them, and how often each clock throttle reason was active.
type DeviceUse struct {
	Workload, Domain string
	Samples          int
	// Means over the samples that reported the field; NaN-free: a field
	// no sample reported has N 0 and is not shown.
	PowerW, SMClockMHz, UtilPct metricMean
	TempMaxC                    float64
	TempN                       int
	// Throttle is each throttle reason's share of the samples.
	Throttle map[string]float64
}

type metricMean struct {
	Sum float64
	N   int
}

func (m *metricMean) add(p *float64) {
	if p != nil {
		m.Sum += *p
		m.N++
	}
}

// Mean is the mean, 0 when nothing was reported.
func (m metricMean) Mean() float64 {
	if m.N == 0 {
		return 0
	}
	return m.Sum / float64(m.N)
}

// DeviceUses summarises the record's trace per workload and device: for
// each workload, the samples taken while its repetitions ran (warm-ups
// and checks left out). Devices that did nothing during a workload (mean
// utilisation under 1%) are left out when another one worked, so that a
// GEMM on one GPU of eight shows one line.
func DeviceUses(rec *results.Record) []DeviceUse {
	if len(rec.Trace) == 0 {
		return nil
	}
	var out []DeviceUse
	for _, w := range rec.Workloads {
		// The repetitions' spans, sorted, so that each sample is placed
		// by a binary search: a record may hold many samples and many
		// repetitions (it is outside input, up to infile.MaxRecord).
		spans := make([][2]float64, 0, len(w.Reps))
		for _, r := range w.Reps {
			spans = append(spans, [2]float64{r.StartS, r.StartS + r.DurationS})
		}
		slices.SortFunc(spans, func(a, b [2]float64) int { return cmp.Compare(a[0], b[0]) })
		inRep := func(t float64) bool {
			// The last span starting at or before t is the only one
			// that can hold it, if spans do not overlap; check the one
			// before too, in case they do.
			i := sort.Search(len(spans), func(i int) bool { return spans[i][0] > t })
			for j := i - 1; j >= 0 && j >= i-2; j-- {
				if t >= spans[j][0] && t <= spans[j][1] {
					return true
				}
			}
			return false
		}
		byDom := map[string]*DeviceUse{}
		var doms []string
		for _, s := range rec.Trace {
			if !inRep(s.TS) {
				continue
			}
			u := byDom[s.Domain]
			if u == nil {
				u = &DeviceUse{Workload: w.Name, Domain: s.Domain, Throttle: map[string]float64{}}
				byDom[s.Domain] = u
				doms = append(doms, s.Domain)
			}
			u.Samples++
			u.PowerW.add(s.PowerW)
			u.SMClockMHz.add(s.SMClockMHz)
			u.UtilPct.add(s.UtilPct)
			if s.TempC != nil {
				if u.TempN == 0 || *s.TempC > u.TempMaxC {
					u.TempMaxC = *s.TempC
				}
				u.TempN++
			}
			for _, t := range s.Throttle {
				u.Throttle[t]++
			}
		}
		slices.Sort(doms)
		busy := false
		for _, d := range doms {
			busy = busy || byDom[d].UtilPct.Mean() >= 1
		}
		for _, d := range doms {
			u := byDom[d]
			if busy && u.UtilPct.N > 0 && u.UtilPct.Mean() < 1 {
				continue
			}
			for t := range u.Throttle {
				u.Throttle[t] /= float64(u.Samples)
			}
			out = append(out, *u)
		}
	}
	return out
}

// Line is the use in one line: "gpu-gemm-bf16-8192 on gpu-0: 97% busy,
// 655 W (driver), SM 1755 MHz, 61 °C max, throttled: sw_power_cap 40%".
func (u DeviceUse) Line() string {
	var parts []string
	if u.UtilPct.N > 0 {
		parts = append(parts, fmt.Sprintf("%.0f%% busy", u.UtilPct.Mean()))
	}
	if u.PowerW.N > 0 {
		parts = append(parts, fmt.Sprintf("%.0f W (the driver's figure)", u.PowerW.Mean()))
	}
	if u.SMClockMHz.N > 0 {
		parts = append(parts, fmt.Sprintf("SM %.0f MHz", u.SMClockMHz.Mean()))
	}
	if u.TempN > 0 {
		parts = append(parts, fmt.Sprintf("%.0f °C max", u.TempMaxC))
	}
	var th []string
	for t, share := range u.Throttle {
		// gpu_idle is the resting state, not a slowdown of the work.
		if t != "gpu_idle" {
			th = append(th, fmt.Sprintf("%s %.0f%%", t, 100*share))
		}
	}
	slices.Sort(th)
	if len(th) > 0 {
		parts = append(parts, "clocks held back: "+strings.Join(th, ", ")+" of samples")
	}
	return fmt.Sprintf("%s on %s (%d %s): %s", u.Workload, u.Domain, u.Samples, plural(u.Samples, "sample", "samples"), strings.Join(parts, ", "))
}
