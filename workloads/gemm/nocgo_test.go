//go:build !cgo

package gemm

const cgoEnabled = false
