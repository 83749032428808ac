package plot

import (
	"fmt"
	"testing"

	"github.com/joulebench/joulebench/results"
)

// certifyRecord makes a record of the size certify writes: workloads ×
// reps repetitions of repS seconds, read every interval seconds by one
// meter of two domains, the first of which wraps part-way. Powers vary
// smoothly so that lines have shape.
func certifyRecord(workloads, reps int, repS, interval float64) *results.Record {
	const maxUJ = 262143328850
	rec := &results.Record{
		SchemaVersion: results.SchemaVersion, RunID: "bench", Complete: true,
		Meters: []results.Meter{{Name: "rapl", Method: results.MethodCounter, Domains: []results.Domain{
			{Name: "package-0", Kind: "package", MaxEnergyUJ: maxUJ, InTotal: true},
			{Name: "dram-0", Kind: "dram", InTotal: true},
		}}},
	}
	t := 0.0
	e := []int64{maxUJ - 5e8, 0}
	read := func(edge string) {
		rec.Readings = append(rec.Readings, results.Reading{TS: t, Meter: "rapl", Edge: edge, EnergyUJ: append([]int64(nil), e...)})
	}
	phase := func(edge string, d float64, w0, w1 float64) *results.Phase {
		start := t
		read(edge + "-start")
		n := int(d / interval)
		for i := 1; i <= n; i++ {
			t += interval
			f := float64(i%37) / 37
			e[0] = (e[0] + int64((w0+10*f)*interval*1e6)) % maxUJ
			e[1] += int64((w1 + 2*f) * interval * 1e6)
			edgeName := ""
			if i == n {
				edgeName = edge + "-end"
			}
			read(edgeName)
		}
		return &results.Phase{Edge: edge, StartS: start, DurationS: t - start}
	}
	rec.Idle = phase("idle", 10, 20, 3)
	for w := range workloads {
		name := fmt.Sprintf("gemm-%d", w)
		wl := results.Workload{Name: name, WorkUnit: "GEMM call"}
		wl.Warmup = phase(name+"/warmup", 5, 60, 8)
		for r := range reps {
			ph := phase(fmt.Sprintf("%s/rep-%d", name, r), repS, 80+float64(w*20), 10)
			wl.Reps = append(wl.Reps, results.Rep{Index: r, Edge: ph.Edge, Iters: 100, StartS: ph.StartS, DurationS: ph.DurationS,
				EnergyJ: map[string]float64{"package-0": 85 * ph.DurationS, "dram-0": 11 * ph.DurationS},
				Work:    results.Work{FLOPs: 1e12, Items: 100}})
		}
		rec.Workloads = append(rec.Workloads, wl)
	}
	return rec
}

var sink []byte

func benchmarkAll(b *testing.B, format string) {
	rec := certifyRecord(2, 5, 60, 0.1)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		all, err := All(rec)
		if err != nil {
			b.Fatal(err)
		}
		size = 0
		for _, n := range all {
			if sink, err = Render(n.Plot, goldenW, goldenH, format); err != nil {
				b.Fatal(err)
			}
			size += len(sink)
		}
	}
	b.ReportMetric(float64(size), "bytes/record")
}

// BenchmarkPowerSVG draws every chart of a certify-size record as SVG
// (Power dominates: some 6,500 readings per domain).
func BenchmarkPowerSVG(b *testing.B) { benchmarkAll(b, "svg") }

// BenchmarkAllPNG is the same at 150 dpi.
func BenchmarkAllPNG(b *testing.B) { benchmarkAll(b, "png") }
