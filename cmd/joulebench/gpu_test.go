package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads/gpu/cuda/cudatest"
)

// fakeCUDA is the fake CUDA runtime, cuBLAS and cuBLASLt of
// workloads/gpu/cuda/testdata/fake (host-memory stand-ins with cheat
// knobs), for --cuda-lib-dir; it skips without a C compiler.
func fakeCUDA(t *testing.T) string { return cudatest.Dir(t) }

// The GPU path end to end through the CLI, on the fake libraries: a
// suite of GPU GEMMs runs with --cuda-lib-dir, every repetition's answer
// checked; gpu-baseline compares each with cuBLAS called directly; and a
// lazy cuBLAS (every second call skipped) fails the run, exit 1, the
// record saying the answer was wrong.
func TestGPUSuiteOnFakeCUDA(t *testing.T) {
	libs := fakeCUDA(t)
	dir := t.TempDir()
	suite := filepath.Join(dir, "gpu.json")
	os.WriteFile(suite, []byte(`{"name":"gpu-small","version":"1","idle_s":0,"warmup_s":0.05,"min_time_s":0.1,"reps":2,"min_readings":1,"max_cv":1,
		"workloads":["gpu-gemm-fp32-64","gpu-gemm-bf16-64","gpu-gemm-int8-64"]}`), 0o644)
	out := filepath.Join(dir, "out")
	_, stderr, err := runCLI(t, "run", "--suite", suite, "--cuda-lib-dir", libs, "--meter", "fake", "--interval", "10ms", "--out", out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	recs, _ := filepath.Glob(filepath.Join(out, "*", results.RecordFile))
	if len(recs) != 1 {
		t.Fatalf("records: %v", recs)
	}
	rec, err := results.ReadFile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Complete || len(rec.Workloads) != 3 {
		t.Fatalf("record: complete %v, %d workloads: %s", rec.Complete, len(rec.Workloads), rec.IncompleteReason)
	}
	for _, w := range rec.Workloads {
		if w.Params["device"] != "gpu" || len(w.Reps) != 2 || w.Check == nil || !w.Check.OK || w.Info["cuda_runtime"] == "" {
			t.Errorf("%s: params %v, %d reps, check %+v, info %v", w.Name, w.Params, len(w.Reps), w.Check, w.Info)
		}
		for _, r := range w.Reps {
			if r.Check == nil || !r.Check.OK || r.Work.Items < 1 || r.Work.FLOPs != float64(r.Work.Items)*2*64*64*64 {
				t.Errorf("%s rep %d: check %+v, work %+v", w.Name, r.Index, r.Check, r.Work)
			}
		}
	}

	stdout, stderr, err := runCLI(t, "gpu-baseline", "--record", recs[0], "--cuda-lib-dir", libs, "--time", "20ms", "--json")
	if err != nil {
		t.Fatalf("gpu-baseline: %v\n%s", err, stderr)
	}
	var rows []baselineRow
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatalf("gpu-baseline --json: %v\n%s", err, stdout)
	}
	if len(rows) != 3 {
		t.Fatalf("rows: %+v", rows)
	}
	for _, r := range rows {
		if r.N != 64 || !(r.DirectTF > 0) || !(r.WorkloadTF > 0) || !(r.Ratio > 0) {
			t.Errorf("row %+v", r)
		}
	}

	// A lazy cuBLAS is caught, whatever its speed.
	t.Setenv("FAKE_CUBLAS_LAZY", "1")
	_, stderr, err = runCLI(t, "run", "--suite", suite, "--workload", "gpu-gemm-fp32-*", "--cuda-lib-dir", libs, "--meter", "fake", "--interval", "10ms", "--out", filepath.Join(dir, "lazy"))
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("lazy cuBLAS: err %v (exit %d)\n%s", err, exitCode(err), stderr)
	}
	recs, _ = filepath.Glob(filepath.Join(dir, "lazy", "*", results.RecordFile))
	if len(recs) != 1 {
		t.Fatalf("lazy run wrote %v", recs)
	}
	rec, err = results.ReadFile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	w := rec.Workloads[0]
	if w.Check == nil || w.Check.OK || w.Check.Verdict != "wrong" || !strings.Contains(w.Error, "check") {
		t.Errorf("lazy cuBLAS not caught: check %+v, error %q", w.Check, w.Error)
	}
}

// --cuda-lib-dir must name a directory: a typo is bad input, before
// anything is measured.
func TestCUDALibDirMustBeDirectory(t *testing.T) {
	_, _, err := runCLI(t, "run", "--suite", "gpu", "--cuda-lib-dir", filepath.Join(t.TempDir(), "nope"), "--meter", "fake")
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "--cuda-lib-dir") {
		t.Errorf("missing --cuda-lib-dir: %v", err)
	}
}

// scripts/gpu-check.sh, the one call that checks a GPU machine, runs end
// to end here on the fake CUDA libraries and the fake meter: it builds,
// finds the libraries, runs the suite and compares each GEMM with cuBLAS
// called directly.
func TestGPUCheckScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds joulebench and runs a suite")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	libs := fakeCUDA(t)
	dir := t.TempDir()
	suite := filepath.Join(dir, "gpu.json")
	os.WriteFile(suite, []byte(`{"name":"gpu-small","version":"1","idle_s":0.2,"warmup_s":0.05,"min_time_s":0.1,"reps":2,"min_readings":1,"max_cv":1,
		"workloads":["gpu-gemm-fp32-64","gpu-gemm-int8-64"]}`), 0o644)
	cmd := exec.Command(bash, filepath.Join("..", "..", "scripts", "gpu-check.sh"), filepath.Join(dir, "out"))
	cmd.Env = append(os.Environ(), "GPU_CHECK_METER=fake", "GPU_CHECK_SUITE="+suite, "GPU_CHECK_CUDA_LIB_DIR="+libs, "GPU_CHECK_BASELINE_TIME=20ms")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gpu-check.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"== build", "== meters", "gpu-gemm-fp32-64       cuBLAS direct", "gpu-gemm-int8-64       cuBLAS direct", "== done", "record: "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("gpu-check.sh output lacks %q:\n%s", want, out)
		}
	}
}
