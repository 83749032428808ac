package model

import (
	"context"
	"testing"

	"github.com/joulebench/joulebench/workloads/model/mnist"
)

// BenchmarkRun measures a workload's call against its engine's forward
// pass on the same images: the difference is what the workload adds to
// the measured time (picking the window, the argmax, keeping each image's
// class for the check, and in SingleStream timing each query). Compare the
// two sub-benchmarks' ns/op with benchstat; both report GOP/s.
//
//	go test -run '^$' -bench 'Run' -count 8 ./workloads/model/ | tee bench-model.txt
func BenchmarkRun(b *testing.B) {
	for _, name := range []string{"mnist-mlp-fp32-offline", "mnist-mlp-int8-offline", "mnist-mlp-fp32-singlestream", "mnist-mlp-int8-singlestream"} {
		b.Run(name, func(b *testing.B) {
			w := preparedB(b, name)
			ops := w.spec.FLOPsPerItem * float64(w.batch)
			b.Run("engine", func(b *testing.B) {
				w.eng.begin()
				for i := 0; i < b.N; i++ {
					p := (i * w.batch) % w.test.N
					w.eng.forward(w.x[p*mnist.Pixels:(p+w.batch)*mnist.Pixels], w.batch)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
			})
			b.Run("workload", func(b *testing.B) {
				if _, err := w.Run(context.Background(), b.N); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				w.lat = w.lat[:0]
			})
		})
	}
}

func preparedB(b *testing.B, name string) *inference {
	b.Helper()
	w, err := New(name, workloadsOptions())
	if err != nil {
		b.Fatal(err)
	}
	if err := w.(*inference).Validate(context.Background()); err != nil {
		b.Skip(err)
	}
	if err := w.Prepare(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.(*inference).Close() })
	return w.(*inference)
}
