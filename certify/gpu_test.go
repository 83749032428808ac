package certify

import (
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
	_ "github.com/joulebench/joulebench/workloads/model" // registers mnist-mlp-gpu-*
)

func gpuRecord(gpus int) *results.Record {
	m := results.Meter{Name: "nvml", Method: results.MethodCounter}
	for i := 0; i < gpus; i++ {
		m.Domains = append(m.Domains, results.Domain{Name: "gpu-" + string(rune('0'+i)), Kind: "gpu", InTotal: true})
	}
	return &results.Record{Meters: []results.Meter{m}}
}

// The GPU ceiling never refuses an honest run on a shipped part (each at
// its published dense peak, the most an honest GEMM can reach) and
// refuses what no GPU can do.
func TestEvalGPUCeiling(t *testing.T) {
	for _, tc := range []struct {
		what, precision string
		peak            float64
	}{
		// H200 SXM (itkb.uw.cz, June 2026): 989 TFLOPS bf16 dense, 67 fp64 tensor.
		{"H200 bf16", "bf16", 989e12},
		{"H200 fp64", "fp64", 67e12},
		{"H200 int8", "int8", 1979e12},
		// B200 HGX at 1,000 W (glennklockwood.com): 2,250 TFLOPS fp16, 1,100 tf32, 4,500 TOPS int8, 80 fp32.
		{"B200 fp16", "fp16", 2250e12},
		{"B200 tf32", "tf32", 1100e12},
		{"B200 int8", "int8", 4500e12},
		{"B200 fp32", "fp32", 80e12},
		// B300 (itkb.uw.cz): 3,500 TFLOPS bf16 dense.
		{"B300 bf16", "bf16", 3500e12},
	} {
		c := evalGPUCeiling(gpuRecord(1), tc.precision)
		if !(c.FLOPS >= tc.peak) {
			t.Errorf("%s: ceiling %.4g below the published peak %.4g (%s)", tc.what, c.FLOPS, tc.peak, c.Basis)
		}
	}
	// The workloads run on one GPU: a record that lists eight GPU domains
	// (or forges them) gets no more headroom than one with one.
	if a, b := evalGPUCeiling(gpuRecord(8), "bf16").FLOPS, evalGPUCeiling(gpuRecord(1), "bf16").FLOPS; a != b {
		t.Errorf("8 GPUs: %g, 1 GPU: %g", a, b)
	}
	if a, b := evalGPUCeiling(&results.Record{}, "bf16").FLOPS, evalGPUCeiling(gpuRecord(1), "bf16").FLOPS; a != b {
		t.Errorf("no GPU domain: %g, want one GPU's %g", a, b)
	}
	// A forged repetition: 20 PFLOP/s of bf16 on one GPU.
	w := results.Workload{Name: "mnist-mlp-gpu-bf16-offline", Reps: []results.Rep{{DurationS: 1, Work: results.Work{FLOPs: 20e15}}}}
	c := evalGPUCeiling(gpuRecord(1), "bf16")
	if r := evalCeilingRule(0, w, c); r.Pass || !strings.Contains(r.Reason, "above the") {
		t.Errorf("20 PFLOP/s bf16 on one GPU passed: %+v", r)
	}
	w.Reps[0].Work.FLOPs = 700e12
	if r := evalCeilingRule(0, w, c); !r.Pass {
		t.Errorf("700 TFLOP/s bf16 refused: %s", r.Reason)
	}
}

// A GPU workload is judged as one: its device comes from its code's
// spec, whatever the record's params say; a CPU workload stays a CPU one.
func TestEvalDeviceFromCode(t *testing.T) {
	s, _ := DefaultSpec()
	for name, want := range map[string]string{
		"mnist-mlp-gpu-bf16-offline": "gpu",
		"mnist-mlp-fp32-offline":     "cpu",
		"gemm-fp64-1024":             "cpu",
		"no-such-workload":           "cpu",
	} {
		if got := evalDevice(s, name); got != want {
			t.Errorf("%s: device %s, want %s", name, got, want)
		}
	}
}
