package compress

import (
	"fmt"
	"testing"
)

// benchSizes is the reference MNIST MLP.
var benchSizes = []int{784, 1024, 1024, 10}

const benchBatch = 256

var sinkF32 []float32

// opsPerExample is 2·MACs of an MLP of these sizes.
func opsPerExample(sizes []int) float64 {
	ops := 0.0
	for i := 0; i+1 < len(sizes); i++ {
		ops += 2 * float64(sizes[i]*sizes[i+1])
	}
	return ops
}

func BenchmarkQForward(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) { benchQForward(b, threads) })
	}
}

func benchQForward(b *testing.B, threads int) {
	m := randMLP(benchSizes, 1)
	q, err := Quantize(m, []float32{1, 8, 8})
	if err != nil {
		b.Fatal(err)
	}
	x := randPixels(benchBatch, benchSizes[0], 2)
	f := NewQForward(q, benchBatch, threads)
	defer f.Close()
	b.ResetTimer()
	for b.Loop() {
		sinkF32 = f.Run(x, benchBatch)
	}
	b.ReportMetric(opsPerExample(benchSizes)*benchBatch*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
}
