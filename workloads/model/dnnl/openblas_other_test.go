//go:build !cgo || !dnnlbench

package dnnl

import "errors"

type blasMLP struct{ desc string }

func openBLAS([]DenseF32, int, int) (*blasMLP, error) {
	return nil, errors.New("the OpenBLAS comparison is built with -tags dnnlbench (and cgo)")
}

func (*blasMLP) input(int) []float32       { return nil }
func (*blasMLP) output(int, int) []float32 { return nil }
func (*blasMLP) run(int)                   {}
