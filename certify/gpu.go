package certify

import (
	"fmt"
	"strconv"

	"github.com/joulebench/joulebench/results"
)

// gpuPeak is the most dense FLOP/s (integer operations for int8) one GPU
// of any kind shipped by late 2026 can do in a precision, as published,
// and where the figure comes from. A record's host says nothing trusted
// about its GPUs (their names are outside input), so the ceiling takes
// the fastest part there is, not the one the record names.
var gpuPeak = map[string]struct {
	flops float64
	why   string
}{
	// H200 SXM: 67 TFLOPS FP64 on its tensor cores, more than any
	// Blackwell part (GB200's GPU: 45 at 1,200 W; B300: about 1.25).
	"fp64": {67e12, "67 TFLOP/s fp64 (NVIDIA H200 SXM, FP64 Tensor Core, dense; itkb.uw.cz, 'NVIDIA H200 vs B300', June 2026)"},
	// cuBLAS fp32 without TF32 runs on the CUDA cores: GB200's GPU at
	// 1,200 W, 90 TFLOPS.
	"fp32": {90e12, "90 TFLOP/s fp32 on CUDA cores (NVIDIA GB200's B200 at 1,200 W; glennklockwood.com/garden/processors/B200, from NVIDIA's figures)"},
	"tf32": {1250e12, "1,250 TFLOP/s tf32 dense (NVIDIA GB200's B200 at 1,200 W; glennklockwood.com/garden/processors/B200)"},
	"fp16": {3500e12, "3,500 TFLOP/s fp16 dense (NVIDIA B300, Blackwell Ultra; itkb.uw.cz, 'NVIDIA H200 vs B300', June 2026)"},
	"bf16": {3500e12, "3,500 TFLOP/s bf16 dense (NVIDIA B300, Blackwell Ultra; itkb.uw.cz, 'NVIDIA H200 vs B300', June 2026)"},
	"int8": {5000e12, "5,000 TOPS int8 dense (NVIDIA GB200's B200 at 1,200 W; glennklockwood.com/garden/processors/B200)"},
}

// gpuMargin multiplies the published peaks: a part faster than any we
// list (a new generation) must not be refused as impossible. The ceiling
// catches the impossible, not the unlikely.
const gpuMargin = 2

// evalGPUCeiling is the throughput ceiling of a GPU workload: one GPU as
// fast as the fastest part there is in the workload's precision, times
// gpuMargin. Every GPU workload joulebench has runs on one device (GPU 0),
// so the ceiling does not grow with the GPU domains a record lists: a
// forger could list as many as they like.
func evalGPUCeiling(_ *results.Record, precision string) Ceiling {
	const gpus = 1
	p, ok := gpuPeak[precision]
	prec := precision
	if !ok {
		// A precision with no row (none named): the largest figure.
		p, prec = gpuPeak["int8"], "the largest of any precision, as the workload names none joulebench lists"
	}
	c := Ceiling{FLOPS: float64(gpus) * p.flops * gpuMargin}
	c.Basis = fmt.Sprintf("one GPU (joulebench's GPU workloads run on one device) × %s × %s for parts not listed = %.4g FLOP/s, precision %s",
		p.why, strconv.Itoa(gpuMargin), c.FLOPS, prec)
	return c
}
