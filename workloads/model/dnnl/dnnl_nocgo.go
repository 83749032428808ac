//go:build !cgo

package dnnl

import (
	"errors"
	"fmt"
	"unsafe"
)

// errNoCgo is every answer without cgo: oneDNN is a C library.
var errNoCgo = fmt.Errorf("not available: built without cgo (rebuild with CGO_ENABLED=1 and libdnnl-dev installed): %w", errors.ErrUnsupported)

func builtWithHeaders() bool { return false }

func load(soname string) (*Lib, error) {
	return nil, fmt.Errorf("dnnl: load %s: %w", soname, errNoCgo)
}

func newNet(*Lib, netSpec) (unsafe.Pointer, map[string]string, error) { return nil, nil, errNoCgo }

func forward(unsafe.Pointer, *float32, int, *float32) error {
	return fmt.Errorf("dnnl: forward: %w", errNoCgo)
}

func closeNet(unsafe.Pointer) {}

func convertInput(bool, bool, []float32, float32) ([]uint8, []uint16) { return nil, nil }
