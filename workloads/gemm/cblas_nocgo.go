//go:build !cgo

package gemm

import (
	"errors"
	"fmt"
)

// dlopenCBLAS cannot load anything without cgo; the default search then
// falls back to gonum, and an explicit --blas fails with this error.
func dlopenCBLAS(name string) (cblasLibrary, error) {
	return nil, fmt.Errorf("cblas: load %s: built without cgo (rebuild with CGO_ENABLED=1 to use a system BLAS): %w", name, errors.ErrUnsupported)
}

// loadedPath knows of no loaded library without cgo.
func loadedPath(string) string { return "" }
