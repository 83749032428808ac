package cluster

import (
	"cmp"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/joulebench/joulebench/results"
)

// synth shapes a synthetic node record: the fake meter's domains and
// powers (package-0 at 50 W, its counter near the wrap, dram-0 at 5 W),
// an idle baseline and one workload's repetitions, every figure
// derived from readings taken rate times a second, as the harness
// derives them.
type synth struct {
	suite         string
	reps          int
	idleS, repS   float64
	rate          float64
	offset        time.Duration // added to the node's start time (a later start)
	estErrUS      int64         // the kernel's estimated clock error, µs (default 100)
	itemsPerRep   int64
	workload      string
	contentHash   string
	unsyncedClock bool
}

func quickSynth() synth {
	return synth{suite: "quick", reps: 3, idleS: 1, repS: 2, rate: 10, itemsPerRep: 10, workload: "gemm-fp64-1024", contentHash: "abc"}
}

// certifySynth is a certify-length run: 5 repetitions of 60 s, readings
// at 10 a second, a 30 s idle baseline.
func certifySynth() synth {
	s := quickSynth()
	s.suite, s.reps, s.idleS, s.repS = "certify", 5, 30, 60
	return s
}

var synthEpoch = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func synthNode(t testing.TB, name string, s synth) Input {
	t.Helper()
	const wrap = 262143328850
	powers := []float64{50, 5} // W
	counters := []int64{wrap - 30e6, 0}
	maxes := []int64{wrap, 65712999613}
	rec := &results.Record{
		SchemaVersion: results.SchemaVersion, RunID: "run-" + name, Complete: true,
		StartedAt: synthEpoch.Add(s.offset),
		Tool:      results.Tool{Name: "joulebench", Version: "test", GoVersion: "go"},
		Host:      results.Host{Hostname: name, CPUModel: "Synthetic CPU", LogicalCPUs: 8, Cores: 4, Sockets: 1, OS: "linux", Arch: "amd64"},
		Config: results.Config{Suite: s.suite, SuiteVersion: "1", Workloads: []string{s.workload}, MeterSelection: "fake",
			IntervalS: 1 / s.rate, IdleS: s.idleS, MinTimeS: s.repS, Reps: s.reps, MinReadings: 10, MaxCV: 0.1, CheckSeed: name},
		Meters: []results.Meter{{Name: "fake", Method: results.MethodSynthetic, Estimated: true, Domains: []results.Domain{
			{Name: "package-0", Kind: "package", MaxEnergyUJ: wrap, InTotal: true},
			{Name: "dram-0", Kind: "dram", MaxEnergyUJ: 65712999613, InTotal: true},
		}}},
		Clock: &results.Clock{MonotonicNS: 1e12, Source: "adjtimex", Synced: !s.unsyncedClock, MaxErrorUS: 2000, EstErrorUS: cmp.Or(s.estErrUS, 100)},
		Node:  &results.Node{Name: name, Scheduler: "slurm", SlurmJobID: "4711", SlurmStepID: "0", Job: "slurm-4711.0"},
	}
	ts := 0.0
	read := func(edge string) {
		e := make([]int64, len(counters))
		copy(e, counters)
		rec.Readings = append(rec.Readings, results.Reading{TS: ts, Meter: "fake", Edge: edge, EnergyUJ: e})
	}
	// phase reads a phase of d seconds and returns its energy by domain.
	phase := func(edge string, d float64) (map[string]float64, int) {
		read(edge + "-start")
		n := int(math.Round(d * s.rate))
		dt := d / float64(n)
		ej := map[string]float64{}
		for i := 1; i <= n; i++ {
			ts += dt
			for k, p := range powers {
				uj := int64(math.Round(p * dt * 1e6))
				counters[k] = (counters[k] + uj) % (maxes[k] + 1)
				ej[rec.Meters[0].Domains[k].Name] += float64(uj) / 1e6
			}
			if i == n {
				read(edge + "-end")
			} else {
				read("")
			}
		}
		return ej, n + 1
	}
	if s.idleS > 0 {
		start := ts
		ej, n := phase("idle", s.idleS)
		rec.Idle = &results.Phase{Edge: "idle", StartS: start, DurationS: ts - start, EnergyJ: ej, Readings: n}
	}
	w := results.Workload{Name: s.workload, Version: "1", ContentHash: s.contentHash, WorkUnit: "GFLOP",
		Check: &results.Check{Name: "freivalds", OK: true, Detail: "ok"}}
	for r := range s.reps {
		start := ts
		edge := fmt.Sprintf("%s/rep-%d", s.workload, r)
		ej, n := phase(edge, s.repS)
		w.Reps = append(w.Reps, results.Rep{Index: r, Edge: edge, Attempts: 1, Iters: 10, StartS: start, DurationS: ts - start,
			EnergyJ: ej, Readings: n, Work: results.Work{FLOPs: 2e9 * float64(s.itemsPerRep), Items: s.itemsPerRep},
			Check: &results.Check{Name: "freivalds", OK: true, Detail: "ok"}})
	}
	rec.Workloads = []results.Workload{w}
	rec.FinishedAt = rec.StartedAt.Add(secs(ts))
	data, err := results.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := results.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Path: name + "/record.json", Data: data, Rec: back}
}

func synthCluster(t testing.TB, n int, s synth) []Input {
	t.Helper()
	in := make([]Input, n)
	for i := range in {
		in[i] = synthNode(t, fmt.Sprintf("node%03d", i), s)
	}
	return in
}

// For the external tests (bench_test.go), which also need certify.
var (
	SynthCluster  = synthCluster
	CertifySynth  = certifySynth
	SynthEpochFor = synthEpoch
)
