package gpu

import (
	"context"
	"testing"
)

// BenchmarkRunFake measures the workload's own overhead per call on the
// fake cuBLAS at N = 64 (the fake's naive GEMM dominates; compare with
// cuda.BenchmarkGemmExOverhead for the binding alone).
func BenchmarkRunFake(b *testing.B) {
	w := newFake(b, "gpu-gemm-fp32-64", 1)
	if err := w.Prepare(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if _, err := w.Run(context.Background(), b.N); err != nil {
		b.Fatal(err)
	}
}
