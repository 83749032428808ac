//go:build cgo

package dnnl

const cgoEnabled = true
