package dnnl

import (
	"flag"
	"fmt"
	"math"
	"sync"
	"testing"
)

var benchThreads = flag.Int("dnnl.threads", 0, "threads for the benchmarks (0: the library's default)")

// The benchmark model: MNIST-sized 784-1024-1024-10.
var benchSizes = []int{784, 1024, 1024, 10}

var (
	benchOnce   sync.Once
	benchF32    []DenseF32
	benchI8     []DenseI8
	benchInputs []float32
)

func benchModel() ([]DenseF32, []DenseI8, []float32) {
	benchOnce.Do(func() {
		benchF32 = randomMLP(1, benchSizes...)
		benchInputs = randomInput(2, 256, benchSizes[0])
		benchI8 = quantize(benchF32, benchInputs, 256)
	})
	return benchF32, benchI8, benchInputs
}

var sink float32

// benchForward times Forward of rows rows on a net built for batch.
func benchForward(b *testing.B, l *Lib, kind string, batch, rows int) {
	f, q, x := benchModel()
	var net *Net
	var err error
	switch kind {
	case "f32":
		net, err = l.NewF32(f, batch, *benchThreads)
	case "bf16":
		net, err = l.NewBF16(f, batch, *benchThreads)
	case "int8":
		net, err = l.NewInt8(q, batch, *benchThreads)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer net.Close()
	logits := make([]float32, rows*10)
	if err := net.Forward(x, rows, logits); err != nil { // warm-up: first-touch, OpenMP pool
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := net.Forward(x, rows, logits); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, rows)
	sink += logits[0]
}

func reportOps(b *testing.B, rows int) {
	ops := MLPOps(benchSizes...) * float64(rows) * float64(b.N)
	b.ReportMetric(ops/b.Elapsed().Seconds()/1e9, "GOP/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(rows), "ns/row")
}

// BenchmarkForward runs the 784-1024-1024-10 MLP in each data type at
// batch 1 and 256 on the fixed-size primitives, and at 256 rows on the
// runtime-M primitive (a net built for 257) to show what runtime dims
// cost.
func BenchmarkForward(b *testing.B) {
	l := lib(b)
	for _, kind := range []string{"f32", "bf16", "int8"} {
		for _, batch := range []int{1, 256} {
			b.Run(fmt.Sprintf("%s/batch=%d", kind, batch), func(b *testing.B) { benchForward(b, l, kind, batch, batch) })
		}
		b.Run(kind+"/batch=256/runtime-dims", func(b *testing.B) { benchForward(b, l, kind, 257, 256) })
	}
}

// BenchmarkOpenBLAS runs the same three fp32 GEMMs (no bias, no ReLU) on
// OpenBLAS, called directly: the fp32 figure oneDNN is compared with.
// Build with -tags dnnlbench.
func BenchmarkOpenBLAS(b *testing.B) {
	f, _, x := benchModel()
	for _, batch := range []int{1, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			m, err := openBLAS(f, batch, *benchThreads)
			if err != nil {
				b.Skip(err)
			}
			copy(m.input(batch*784), x)
			m.run(batch)
			// The first GEMM's first value, checked once.
			var want float64
			for k := range 784 {
				want += float64(x[k]) * float64(f[0].W[k*1024])
			}
			if got := m.output(0, 1)[0]; math.Abs(float64(got)-want) > 1e-3*(1+math.Abs(want)) {
				b.Fatalf("OpenBLAS: first value %g, want %g", got, want)
			}
			b.Logf("%s", m.desc)
			b.ResetTimer()
			for b.Loop() {
				m.run(batch)
			}
			reportOps(b, batch)
		})
	}
}
