package metrics_test

import (
	"fmt"
	"time"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// A 2048×2048 GEMM call is 2·2048³ = 17,179,869,184 FLOPs. Ten calls in
// 2 s are 85.9 GFLOP/s; if the package drew 120 J over those 2 s (60 W),
// that is 171.8e9 / 120 J = 1.432 GFLOP/J, i.e. 1.432 GFLOPS/W, and each
// call cost 120 J / 10 = 12 J.
func ExampleFLOPsPerJoule() {
	flops := 10 * 2 * 2048.0 * 2048 * 2048
	e := 120 * metrics.Joule
	fmt.Printf("%.1f GFLOP/s\n", metrics.FLOPsPerSecond(flops, 2*time.Second)/1e9)
	fmt.Printf("%.3f GFLOPS/W\n", metrics.FLOPsPerJoule(flops, e)/1e9)
	fmt.Printf("%.1f J per call\n", metrics.JoulesPerItem(e, 10))
	fmt.Println(metrics.AveragePower(e, 2*time.Second))
	// Output:
	// 85.9 GFLOP/s
	// 1.432 GFLOPS/W
	// 12.0 J per call
	// 60.00 W
}

// An idle baseline of 20 W over 2 s is 40 J; of a gross 120 J, 80 J are
// the workload's own: net 80 J, 1.5× the gross efficiency.
func ExampleNetOfIdle() {
	net := metrics.NetOfIdle(120*metrics.Joule, 20*metrics.Watt, 2*time.Second)
	fmt.Println(net)
	// Output:
	// 80.000 J
}

// A record with one package (50 J), its core subzone (30 J, inside the
// package, so not added) and DRAM (6 J, outside, added) over 2 s, after an
// idle baseline of 10 J + 2 J over 1 s (12 W): gross 56 J, net 56 − 24 = 32 J.
func ExampleSummarize() {
	rec := &results.Record{
		Meters: []results.Meter{{Name: "rapl", Method: results.MethodCounter, Domains: []results.Domain{
			{Name: "package-0", Kind: "package", InTotal: true},
			{Name: "core-0", Kind: "core", Parent: "package-0"},
			{Name: "dram-0", Kind: "dram", InTotal: true},
		}}},
		Idle: &results.Phase{DurationS: 1, EnergyJ: map[string]float64{"package-0": 10, "core-0": 4, "dram-0": 2}},
		Workloads: []results.Workload{{Name: "gemm-fp64-1024", Reps: []results.Rep{{
			DurationS: 2, EnergyJ: map[string]float64{"package-0": 50, "core-0": 30, "dram-0": 6},
			Work: results.Work{FLOPs: 56e9, Items: 4},
		}}}},
	}
	s := metrics.Summarize(rec)[0].Median
	fmt.Println("gross", s.Gross, "net", s.Net, "power", s.Power)
	fmt.Printf("%.2f GFLOPS/W gross, %.2f net; %.0f J per item\n", s.FLOPsPerJ/1e9, s.NetFLOPsPerJ/1e9, s.JPerItem)
	// Output:
	// gross 56.000 J net 32.000 J power 28.00 W
	// 1.00 GFLOPS/W gross, 1.75 net; 14 J per item
}

// Five repetitions of a full model at about 10 J per item and of a
// compressed one at about 6.9 J: the compressed one uses 31% less energy
// per item (median 6.9 / median 10.0 = 0.69, worked by hand). The interval
// is the bootstrap's (fixed seed, so always the same); it is narrow because
// the repetitions agree to about ±2%.
func ExampleCompare() {
	full := []float64{10.0, 10.1, 9.9, 10.2, 9.8}
	compressed := []float64{6.9, 7.0, 6.8, 6.9, 7.0}
	s := metrics.Compare(full, compressed)
	fmt.Printf("ratio %.2f\n", s.Ratio)
	fmt.Println(s.Describe("energy per item"))
	// Output:
	// ratio 0.69
	// uses 31% less energy per item (95% CI 29–32%)
}
