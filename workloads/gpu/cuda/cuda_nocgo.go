//go:build !cgo

package cuda

import (
	"fmt"
	"unsafe"
)

// errNoCgo is what every entry point returns in a build without cgo,
// which cannot call dlopen.
var errNoCgo = fmt.Errorf("cuda: joulebench was built without cgo (rebuild with CGO_ENABLED=1 to use a GPU): %w", ErrNoCUDA)

// Lib is a CUDA runtime and cuBLAS; without cgo none can be loaded.
type Lib struct{}

// Load returns ErrNoCUDA: joulebench was built without cgo.
func Load() (*Lib, error) { return nil, errNoCgo }

// LoadFrom returns ErrNoCUDA: joulebench was built without cgo.
func LoadFrom(dir string) (*Lib, error) { return nil, errNoCgo }

// Dir returns "".
func (l *Lib) Dir() string { return "" }

// Handle returns ErrNoCUDA.
func (l *Lib) Handle(name string) (unsafe.Pointer, error) { return nil, errNoCgo }

// Sym returns ErrNoCUDA.
func (l *Lib) Sym(handle unsafe.Pointer, name string) (unsafe.Pointer, error) {
	return nil, errNoCgo
}

// DeviceCount returns ErrNoCUDA.
func (l *Lib) DeviceCount() (int, error) { return 0, errNoCgo }

// SetDevice returns ErrNoCUDA.
func (l *Lib) SetDevice(i int) error { return errNoCgo }

// ComputeCapability returns ErrNoCUDA.
func (l *Lib) ComputeCapability(dev int) (major, minor int, err error) { return 0, 0, errNoCgo }

// Malloc returns ErrNoCUDA.
func (l *Lib) Malloc(bytes int) (DevPtr, error) { return 0, errNoCgo }

// Free returns ErrNoCUDA.
func (l *Lib) Free(p DevPtr) error { return errNoCgo }

// HtoD returns ErrNoCUDA.
func (l *Lib) HtoD(dst DevPtr, src unsafe.Pointer, bytes int) error { return errNoCgo }

// DtoH returns ErrNoCUDA.
func (l *Lib) DtoH(dst unsafe.Pointer, src DevPtr, bytes int) error { return errNoCgo }

// Memset returns ErrNoCUDA.
func (l *Lib) Memset(p DevPtr, v byte, bytes int) error { return errNoCgo }

// Sync returns ErrNoCUDA.
func (l *Lib) Sync() error { return errNoCgo }

// Info returns nil.
func (l *Lib) Info() map[string]string { return nil }

// Close does nothing.
func (l *Lib) Close() error { return nil }

// Err returns nil for 0 and an error naming fn otherwise.
func (l *Lib) Err(code int, fn string) error {
	if code == 0 {
		return nil
	}
	return fmt.Errorf("cuda: %s: cudaError %d: %w", fn, code, errNoCgo)
}

// Blas is a cuBLAS handle; without cgo none can be made.
type Blas struct{}

// NewBlas returns ErrNoCUDA.
func (l *Lib) NewBlas() (*Blas, error) { return nil, errNoCgo }

// SetMathMode returns ErrNoCUDA.
func (b *Blas) SetMathMode(m MathMode) error { return errNoCgo }

// GemmEx returns ErrNoCUDA.
func (b *Blas) GemmEx(g Gemm) error { return errNoCgo }

// GemmExN returns ErrNoCUDA.
func (b *Blas) GemmExN(g Gemm, iters int) (int, error) { return 0, errNoCgo }

// Close does nothing.
func (b *Blas) Close() error { return nil }

// GemmExCycle returns ErrNoCUDA.
func (b *Blas) GemmExCycle(g Gemm, iters int, aStep uint64, period, start int64) (int, error) {
	return 0, errNoCgo
}
