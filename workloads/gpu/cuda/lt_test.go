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

// The int8 form: s8×s8 accumulated in s32, a per-output fp32 alpha and
// fp32 bias, converted to s8 with rounding to nearest even and saturation.
func TestLtDenseInt8(t *testing.T) {
	l, lt := loadLtFakes(t)
	const in, out, n = 32, 16, 3
	r := rand.New(rand.NewPCG(3, 4))
	w, x := ltRandI8(r, out*in), ltRandI8(r, n*in)
	alpha, b := make([]float32, out), make([]float32, out)
	for o := range out {
		alpha[o] = float32(0.001 + 0.02*r.Float64())
		b[o] = float32(40 * r.NormFloat64())
	}
	y := ltUpload(t, l, make([]int8, n*out))
	d, err := lt.NewDense(DenseSpec{In: in, Out: out, XType: R8I, YType: R8I, Compute: Compute32I, Scale: R32F,
		Epilogue: EpilogueBias, W: ltUpload(t, l, w), Bias: ltUpload(t, l, b), Alpha: ltUpload(t, l, alpha)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(ltUpload(t, l, x), y, n); err != nil {
		t.Fatal(err)
	}
	got := ltDownload[int8](t, l, y, n*out)
	saturated := 0
	for row := range n {
		for o := range out {
			var acc int32
			for i := range in {
				acc += int32(x[row*in+i]) * int32(w[o*in+i])
			}
			v := math.RoundToEven(float64(float32(alpha[o]*float32(acc)) + b[o]))
			if v < -128 || v > 127 {
				saturated++
			}
			v = max(-128, min(127, v))
			if g := got[row*out+o]; int8(v) != g {
				t.Fatalf("y[%d,%d] = %d, want %d", row, o, g, int8(v))
			}
		}
	}
	if saturated == 0 {
		t.Log("no output saturated")
	}
}

// No algorithm, from the heuristic, is errors.ErrUnsupported and names the
// types; so is a shape the int8 kernels do not take (an output count not
// a multiple of 4).
func TestLtNoAlgorithm(t *testing.T) {
	l, lt := loadLtFakes(t)
	w := ltUpload(t, l, make([]int8, 32*6))
	b := ltUpload(t, l, make([]float32, 8))
	d, err := lt.NewDense(DenseSpec{In: 32, Out: 6, XType: R8I, YType: R8I, Compute: Compute32I, Scale: R32F, Epilogue: EpilogueBias, W: w, Bias: b})
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
