//go:build cgo

package cuda

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// buildLtFakes compiles the fake CUDA runtime and cuBLAS (fakecuda.c) and
// the fake cuBLASLt (fakecublaslt.c) into a temporary directory and
// returns it, skipping the test when there is no C compiler.
func buildLtFakes(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc) to build the fake CUDA libraries: install gcc to run this test")
	}
	dir := t.TempDir()
	src, err := filepath.Abs("testdata/fake")
	if err != nil {
		t.Fatal(err)
	}
	rt := filepath.Join(src, "fakecuda.c")
	if _, err := os.Stat(rt); err != nil {
		t.Skipf("the fake CUDA runtime is missing: %v", err)
	}
	for _, b := range []struct{ out, src string }{
		{"libcudart.so", rt},
		{"libcublas.so", rt},
		{"libcublasLt.so", filepath.Join(src, "fakecublaslt.c")},
	} {
		// -ffp-contract=off: the fake's float arithmetic is rounded
		// operation by operation, as the tests' Go references are.
		cmd := exec.Command(cc, "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-o", filepath.Join(dir, b.out), b.src, "-lm")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cc %s: %v\n%s", b.src, err, out)
		}
	}
	return dir
}

func loadLtFakes(t *testing.T) (*Lib, *Lt) {
	t.Helper()
	l, err := LoadFrom(buildLtFakes(t))
	if err != nil {
		t.Fatal(err)
	}
	lt, err := l.NewLt()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lt.Close(); err != nil {
			t.Error(err)
		}
	})
	return l, lt
}

// ltUpload copies a slice to a new device buffer.
func ltUpload[T any](t *testing.T, l *Lib, v []T) DevPtr {
	t.Helper()
	bytes := len(v) * int(unsafe.Sizeof(v[0]))
	p, err := l.Malloc(bytes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Free(p) })
	if err := l.HtoD(p, unsafe.Pointer(&v[0]), bytes); err != nil {
		t.Fatal(err)
	}
	return p
}

func ltDownload[T any](t *testing.T, l *Lib, p DevPtr, n int) []T {
	t.Helper()
	v := make([]T, n)
	if err := l.DtoH(unsafe.Pointer(&v[0]), p, n*int(unsafe.Sizeof(v[0]))); err != nil {
		t.Fatal(err)
	}
	return v
}

// A fp32 dense layer computes relu(x·Wᵀ + b) for every row, W stored as
// Out rows of In weights.
func TestLtDenseFP32(t *testing.T) {
	l, lt := loadLtFakes(t)
	const in, out, n = 24, 16, 5
	r := rand.New(rand.NewPCG(1, 2))
	w, x, b := ltRandF32(r, out*in), ltRandF32(r, n*in), ltRandF32(r, out)
	y := ltUpload(t, l, make([]float32, n*out))
	d, err := lt.NewDense(DenseSpec{In: in, Out: out, XType: R32F, YType: R32F, Compute: Compute32F, Scale: R32F,
		Epilogue: EpilogueReLUBias, W: ltUpload(t, l, w), Bias: ltUpload(t, l, b)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(ltUpload(t, l, x), y, n); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	got := ltDownload[float32](t, l, y, n*out)
	negative := 0
	for row := range n {
		for o := range out {
			var s float64
			for i := range in {
				s += float64(x[row*in+i]) * float64(w[o*in+i])
			}
			s += float64(b[o])
			if s < 0 {
				s = 0
				negative++
			}
			if g := got[row*out+o]; math.Abs(float64(g)-s) > 1e-5 {
				t.Fatalf("y[%d,%d] = %v, want %v", row, o, g, s)
			}
		}
	}
	if negative == 0 {
		t.Fatal("no output was negative before the ReLU: the test does not test the ReLU")
	}
}

// The int8 form the table supports in the plain layout: s8×s8 summed in
// s32 (CUBLAS_COMPUTE_32I, scale CUDA_R_32I, the DEFAULT epilogue), the
// exact integer sums out.
func TestLtDenseInt8(t *testing.T) {
	l, lt := loadLtFakes(t)
	const in, out, n = 32, 16, 3
	r := rand.New(rand.NewPCG(3, 4))
	w, x := ltRandI8(r, out*in), ltRandI8(r, n*in)
	y := ltUpload(t, l, make([]int32, n*out))
	d, err := lt.NewDense(DenseSpec{In: in, Out: out, XType: R8I, YType: R32I, Compute: Compute32I, Scale: R32I,
		Epilogue: EpilogueDefault, W: ltUpload(t, l, w)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(ltUpload(t, l, x), y, n); err != nil {
		t.Fatal(err)
	}
	got := ltDownload[int32](t, l, y, n*out)
	for row := range n {
		for o := range out {
			var acc int32
			for i := range in {
				acc += int32(x[row*in+i]) * int32(w[o*in+i])
			}
			if g := got[row*out+o]; g != acc {
				t.Fatalf("y[%d,%d] = %d, want %d", row, o, g, acc)
			}
		}
	}
}

// cublasLtMatmul's table of supported types says "Epilogue is not
// supported" for CUBLAS_COMPUTE_32I with int8 inputs, whether the output
// is s8 (scale CUDA_R_32F) or s32: the s8 output with a per-row alpha and
// the bias epilogue that the int8 MLP once asked for is refused, as
// ErrUnsupported naming the epilogue, and so is a ReLU on an s32 output.
func TestLtInt8EpilogueRefused(t *testing.T) {
	l, lt := loadLtFakes(t)
	const in, out = 32, 16
	w := ltUpload(t, l, make([]int8, out*in))
	for _, s := range []DenseSpec{
		{In: in, Out: out, XType: R8I, YType: R8I, Compute: Compute32I, Scale: R32F, Epilogue: EpilogueBias,
			W: w, Bias: ltUpload(t, l, make([]float32, out)), Alpha: ltUpload(t, l, make([]float32, out))},
		{In: in, Out: out, XType: R8I, YType: R32I, Compute: Compute32I, Scale: R32I, Epilogue: EpilogueReLU, W: w},
	} {
		d, err := lt.NewDense(s)
		if err != nil {
			t.Fatal(err)
		}
		err = d.Plan(4)
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("%s: Plan = %v, want ErrUnsupported", s.describe(), err)
		}
		if !strings.Contains(err.Error(), s.Epilogue.String()) {
			t.Errorf("the error does not name the epilogue: %v", err)
		}
	}
}

// No algorithm, from the heuristic, is errors.ErrUnsupported and names the
// types; so is a shape the int8 kernels do not take (an output count not
// a multiple of 4).
func TestLtNoAlgorithm(t *testing.T) {
	l, lt := loadLtFakes(t)
	w := ltUpload(t, l, make([]int8, 32*6))
	d, err := lt.NewDense(DenseSpec{In: 32, Out: 6, XType: R8I, YType: R32I, Compute: Compute32I, Scale: R32I, Epilogue: EpilogueDefault, W: w})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Plan(4)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("int8 with 6 outputs: %v, want ErrUnsupported", err)
	}
	t.Log(err)

	t.Setenv("FAKE_CUBLASLT_NOALGO", "1")
	f, err := lt.NewDense(DenseSpec{In: 16, Out: 16, XType: R16F, YType: R16F, Compute: Compute32F, Scale: R32F, Epilogue: EpilogueDefault,
		W: ltUpload(t, l, make([]uint16, 256))})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Plan(1); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("no algorithm: %v, want ErrUnsupported", err)
	} else if want := "CUDA_R_16F"; !strings.Contains(err.Error(), want) {
		t.Errorf("the error does not name the type %s: %v", want, err)
	}
}

// CUBLAS_STATUS_INVALID_VALUE from the heuristic, which cuBLASLt also
// answers for a combination it does not take, leaves the variant out
// (ErrUnsupported, with the status named) rather than failing the run.
func TestLtHeuristicInvalidValue(t *testing.T) {
	l, lt := loadLtFakes(t)
	d, err := lt.NewDense(DenseSpec{In: 16, Out: 16, XType: R32F, YType: R32F, Compute: Compute32F, Scale: R32F, Epilogue: EpilogueDefault,
		W: ltUpload(t, l, make([]float32, 256))})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_CUBLASLT_INVALID", "1")
	err = d.Plan(2)
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "CUBLAS_STATUS_INVALID_VALUE") {
		t.Fatalf("heuristic INVALID_VALUE: %v, want ErrUnsupported naming the status", err)
	}
}

// With split-K, an fp16 layer's partial sums must stay in fp32 (the
// preference's reduction scheme mask), so that every output is its exact
// sum rounded once to fp16, as the emulation assumes. The fake's split-K
// keeps the partial sums in fp16 whenever the mask lets it (INPLACE or
// OUTPUT_TYPE, the default), which rounds several outputs a unit off.
func TestLtSplitKKeepsFP32Sums(t *testing.T) {
	l, lt := loadLtFakes(t)
	t.Setenv("FAKE_CUBLASLT_SPLITK", "1")
	const in, out, n = 256, 64, 8
	r := rand.New(rand.NewPCG(5, 6))
	half := func(f float32) uint16 { return HalfBits(float64(f)) }
	w, x := make([]uint16, out*in), make([]uint16, n*in)
	for i := range w {
		w[i] = half(float32(r.NormFloat64()))
	}
	for i := range x {
		x[i] = half(float32(r.NormFloat64()))
	}
	y := ltUpload(t, l, make([]uint16, n*out))
	d, err := lt.NewDense(DenseSpec{In: in, Out: out, XType: R16F, YType: R16F, Compute: Compute32F, Scale: R32F, Epilogue: EpilogueDefault,
		W: ltUpload(t, l, w)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(ltUpload(t, l, x), y, n); err != nil {
		t.Fatal(err)
	}
	got := ltDownload[uint16](t, l, y, n*out)
	off := 0
	for row := range n {
		for o := range out {
			var exact, size float64
			for i := range in {
				p := HalfValue(x[row*in+i]) * HalfValue(w[o*in+i])
				exact += p
				size += math.Abs(p)
			}
			// fp32 sums err by at most in·2⁻²⁴·Σ|p|; beyond that, the one
			// rounding to fp16 is at most half a unit of the result.
			g := HalfValue(got[row*out+o])
			ulp := HalfValue(got[row*out+o]|1) - HalfValue(got[row*out+o]&^1)
			if math.Abs(g-exact) > math.Abs(ulp)/2+in*0x1p-24*size {
				off++
			}
		}
	}
	if off > 0 {
		t.Errorf("%d of %d fp16 outputs are further from the exact sum than one rounding of an fp32 sum: split-K kept fp16 partial sums", off, n*out)
	}
}

// A directory without libcublasLt.so is ErrNoCUDA (and ErrUnsupported).
func TestLtMissingLibrary(t *testing.T) {
	dir := buildLtFakes(t)
	if err := os.Remove(filepath.Join(dir, "libcublasLt.so")); err != nil {
		t.Fatal(err)
	}
	l, err := LoadFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.NewLt()
	if !errors.Is(err, ErrNoCUDA) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("NewLt without the library: %v", err)
	}
	if !strings.Contains(err.Error(), "libcublasLt.so") {
		t.Errorf("the error does not name the file: %v", err)
	}
}

// The lazy fake writes nothing: the fp32 test's comparison would catch it
// (this is the cheat the model workloads' accuracy check must catch too).
func TestLtLazyFakeWritesNothing(t *testing.T) {
	l, lt := loadLtFakes(t)
	t.Setenv("FAKE_CUBLASLT_LAZY", "1")
	w := ltUpload(t, l, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	d, err := lt.NewDense(DenseSpec{In: 4, Out: 4, XType: R32F, YType: R32F, Compute: Compute32F, Scale: R32F, Epilogue: EpilogueDefault, W: w})
	if err != nil {
		t.Fatal(err)
	}
	y := ltUpload(t, l, make([]float32, 4))
	if err := d.Run(ltUpload(t, l, []float32{1, 1, 1, 1}), y, 1); err != nil {
		t.Fatal(err)
	}
	if got := ltDownload[float32](t, l, y, 4); got[0] != 0 {
		t.Fatalf("the lazy fake computed %v", got)
	}
}

func ltRandF32(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func ltRandI8(r *rand.Rand, n int) []int8 {
	v := make([]int8, n)
	for i := range v {
		v[i] = int8(r.IntN(255) - 127)
	}
	return v
}
