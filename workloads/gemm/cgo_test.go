//go:build cgo

package gemm

const cgoEnabled = true
