//go:build !cgo

package cuda

// Epilogue is a cublasLtEpilogue_t (see lt.go).
type Epilogue uint32

// The epilogues a DenseSpec can ask for.
const (
	EpilogueDefault  Epilogue = 1
	EpilogueReLU     Epilogue = 2
	EpilogueBias     Epilogue = 4
	EpilogueReLUBias Epilogue = 6
)

// LtWorkspace is the device workspace an Lt offers cublasLtMatmul.
const LtWorkspace = 32 << 20

// Lt is a cuBLASLt handle; without cgo none can be made.
type Lt struct{}

// NewLt returns ErrNoCUDA: joulebench was built without cgo.
func (l *Lib) NewLt() (*Lt, error) { return nil, errNoCgo }

// Version returns 0.
func (t *Lt) Version() int { return 0 }

// Info returns nil.
func (t *Lt) Info() map[string]string { return nil }

// Close does nothing.
func (t *Lt) Close() error { return nil }

// DenseSpec describes one dense layer (see lt.go).
type DenseSpec struct {
	In, Out      int
	XType, YType DataType
	Compute      ComputeType
	Scale        DataType
	Epilogue     Epilogue
	W, Bias      DevPtr
	Alpha        DevPtr
}

// Dense is a cuBLASLt dense layer; without cgo none can be made.
type Dense struct{}

// NewDense returns ErrNoCUDA.
func (t *Lt) NewDense(s DenseSpec) (*Dense, error) { return nil, errNoCgo }

// Plan returns ErrNoCUDA.
func (d *Dense) Plan(n int) error { return errNoCgo }

// Run returns ErrNoCUDA.
func (d *Dense) Run(x, y DevPtr, n int) error { return errNoCgo }

// Close does nothing.
func (d *Dense) Close() error { return nil }
