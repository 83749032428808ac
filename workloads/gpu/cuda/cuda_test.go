//go:build cgo

package cuda

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// buildFake compiles testdata/fake/fakecuda.c as libcudart.so and
// libcublas.so in a fresh directory and returns it. It skips the test
// when there is no C compiler.
func buildFake(t testing.TB) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc) to build the fake CUDA libraries: install gcc or clang to run this test")
	}
	dir := t.TempDir()
	for _, name := range []string{"libcudart.so", "libcublas.so"} {
		out, err := exec.Command(cc, "-shared", "-fPIC", "-O2", "-o", filepath.Join(dir, name), "testdata/fake/fakecuda.c", "-lm").CombinedOutput()
		if err != nil {
			t.Fatalf("build fake %s: %v\n%s", name, err, out)
		}
	}
	return dir
}

// fake is the fakes built once for the tests that do not modify them.
var fake struct {
	once sync.Once
	dir  string
	err  error
}

func loadFake(t *testing.T) *Lib {
	t.Helper()
	fake.once.Do(func() {
		if _, err := exec.LookPath("cc"); err != nil {
			return
		}
		d, err := os.MkdirTemp("", "fakecuda")
		if err != nil {
			fake.err = err
			return
		}
		for _, name := range []string{"libcudart.so", "libcublas.so"} {
			out, err := exec.Command("cc", "-shared", "-fPIC", "-O2", "-o", filepath.Join(d, name), "testdata/fake/fakecuda.c", "-lm").CombinedOutput()
			if err != nil {
				fake.err = fmt.Errorf("build fake %s: %v\n%s", name, err, out)
				return
			}
		}
		fake.dir = d
	})
	if fake.err != nil {
		t.Fatal(fake.err)
	}
	if fake.dir == "" {
		t.Skip("no C compiler (cc) to build the fake CUDA libraries: install gcc or clang to run this test")
	}
	l, err := LoadFrom(fake.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fake.dir != "" {
		os.RemoveAll(fake.dir)
	}
	os.Exit(code)
}

func TestLoadSystemHasNoCUDAHere(t *testing.T) {
	l, err := Load()
	if err == nil {
		n, derr := l.DeviceCount()
		t.Skipf("this machine has a CUDA runtime (%d devices, %v): nothing to test", n, derr)
	}
	if !errors.Is(err, ErrNoCUDA) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Load: %v; want an error wrapping ErrNoCUDA and errors.ErrUnsupported", err)
	}
	if !strings.Contains(err.Error(), "libcudart.so.12") || !strings.Contains(err.Error(), "install") {
		t.Errorf("Load: %q should name libcudart.so.12 and say how to install it", err)
	}
}

func TestLoadFromEmptyDir(t *testing.T) {
	_, err := LoadFrom(t.TempDir())
	if !errors.Is(err, ErrNoCUDA) {
		t.Fatalf("LoadFrom(empty): %v; want ErrNoCUDA", err)
	}
	if !strings.Contains(err.Error(), "libcudart.so") {
		t.Errorf("LoadFrom(empty): %q does not name libcudart.so", err)
	}
}

func TestLoadFromMissingCublas(t *testing.T) {
	dir := buildFake(t)
	if err := os.Remove(filepath.Join(dir, "libcublas.so")); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFrom(dir)
	if !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), "libcublas.so") {
		t.Fatalf("LoadFrom without cuBLAS: %v; want ErrNoCUDA naming libcublas.so", err)
	}
}

func TestDevicesAndInfo(t *testing.T) {
	l := loadFake(t)
	n, err := l.DeviceCount()
	if err != nil || n != 1 {
		t.Fatalf("DeviceCount = %d, %v; want 1", n, err)
	}
	if err := l.SetDevice(0); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_CUDA_CC", "8.6")
	ma, mi, err := l.ComputeCapability(0)
	if err != nil || ma != 8 || mi != 6 {
		t.Fatalf("ComputeCapability = %d.%d, %v; want 8.6", ma, mi, err)
	}
	b, err := l.NewBlas()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	info := l.Info()
	for k, want := range map[string]string{"cuda_runtime": "12.4", "cuda_driver": "12.4", "cublas": "12.4.2", "compute_capability": "8.6", "device": "0"} {
		if info[k] != want {
			t.Errorf("Info[%q] = %q, want %q", k, info[k], want)
		}
	}
	if !strings.HasSuffix(info["cudart_path"], "libcudart.so") || !strings.HasSuffix(info["cublas_path"], "libcublas.so") {
		t.Errorf("Info paths = %q, %q", info["cudart_path"], info["cublas_path"])
	}
	if l.Dir() == "" {
		t.Error("Dir() is empty after LoadFrom")
	}
}

func TestNoDevice(t *testing.T) {
	l := loadFake(t)
	t.Setenv("FAKE_CUDA_NODEVICE", "1")
	n, err := l.DeviceCount()
	if n != 0 || !errors.Is(err, ErrNoCUDA) {
		t.Fatalf("DeviceCount = %d, %v; want 0 and ErrNoCUDA", n, err)
	}
	if !strings.Contains(err.Error(), "cudaGetDeviceCount") || !strings.Contains(err.Error(), "no CUDA-capable device") {
		t.Errorf("error %q should name cudaGetDeviceCount and the runtime's reason", err)
	}
}

func TestMallocOutOfMemory(t *testing.T) {
	l := loadFake(t)
	t.Setenv("FAKE_CUDA_OOM", "1")
	_, err := l.Malloc(3 << 30)
	if err == nil {
		t.Fatal("Malloc succeeded with FAKE_CUDA_OOM=1")
	}
	for _, want := range []string{"cudaMalloc", "out of memory", "3221225472 bytes", "3.00 GiB", "cudaError 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if errors.Is(err, ErrNoCUDA) {
		t.Error("out of memory must not read as 'no CUDA'")
	}
}

func TestErr(t *testing.T) {
	l := loadFake(t)
	if l.Err(0, "f") != nil {
		t.Error("Err(0) is not nil")
	}
	err := l.Err(1, "cudaFoo")
	if err == nil || !strings.Contains(err.Error(), "cudaFoo: invalid argument (cudaError 1)") {
		t.Errorf("Err(1) = %v", err)
	}
}

func TestSymMissing(t *testing.T) {
	l := loadFake(t)
	h, err := l.Handle("libcublas.so")
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Sym(h, "cublasNoSuchThing")
	if err == nil || !strings.Contains(err.Error(), "cublasNoSuchThing") || !strings.Contains(err.Error(), "libcublas.so") {
		t.Errorf("Sym(missing) = %v; want an error naming the library and symbol", err)
	}
	if _, err := l.Handle("libcublasLt.so"); !errors.Is(err, ErrNoCUDA) {
		t.Errorf("Handle(absent) = %v; want ErrNoCUDA", err)
	}
}

// TestGemmEx runs a small GEMM of each type combination the workloads use
// through the binding and compares it with the product computed here.
func TestGemmEx(t *testing.T) {
	l := loadFake(t)
	b, err := l.NewBlas()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.SetMathMode(PedanticMath); err != nil {
		t.Fatal(err)
	}
	const m, n, k = 3, 4, 8
	a := make([]float64, k*m) // stored k×m, used transposed
	bb := make([]float64, k*n)
	for i := range a {
		a[i] = float64(i%7 - 3)
	}
	for i := range bb {
		bb[i] = float64(i%5 - 2)
	}
	want := make([]float64, m*n)
	for j := range n {
		for i := range m {
			for p := range k {
				want[j*m+i] += a[i*k+p] * bb[j*k+p]
			}
		}
	}
	cases := []struct {
		in, out DataType
		compute ComputeType
		alpha   float64
	}{
		{R64F, R64F, Compute64F, 2},
		{R32F, R32F, Compute32F, 2},
		{R32F, R32F, Compute32FFastTF32, 2},
		{R16F, R32F, Compute32F, 2},
		{R16BF, R32F, Compute32F, 2},
		{R8I, R32I, Compute32I, 1},
	}
	for _, c := range cases {
		t.Run(c.in.String()+"-"+c.compute.String(), func(t *testing.T) {
			da := upload(t, l, a, c.in)
			db := upload(t, l, bb, c.in)
			dc, err := l.Malloc(m * n * c.out.Size())
			if err != nil {
				t.Fatal(err)
			}
			defer l.Free(dc)
			if err := l.Memset(dc, 0, m*n*c.out.Size()); err != nil {
				t.Fatal(err)
			}
			g := Gemm{TransA: true, M: m, N: n, K: k, A: da, B: db, C: dc, AType: c.in, BType: c.in, CType: c.out,
				Lda: k, Ldb: k, Ldc: m, Compute: c.compute, Alpha: c.alpha, Beta: 1}
			if err := b.GemmEx(g); err != nil {
				t.Fatal(err)
			}
			if done, err := b.GemmExN(g, 2); err != nil || done != 2 {
				t.Fatalf("GemmExN = %d, %v", done, err)
			}
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			got := download(t, l, dc, m*n, c.out)
			for i := range want {
				if got[i] != 3*c.alpha*want[i] {
					t.Fatalf("C[%d] = %g, want %g", i, got[i], 3*c.alpha*want[i])
				}
			}
		})
	}
}

func TestGemmExFailureNamesCall(t *testing.T) {
	l := loadFake(t)
	b, err := l.NewBlas()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Setenv("FAKE_CUBLAS_FAIL", "1")
	done, err := b.GemmExN(Gemm{M: 1, N: 1, K: 1, AType: R32F, BType: R32F, CType: R32F, Lda: 1, Ldb: 1, Ldc: 1, Compute: Compute32F}, 5)
	if err == nil || done != 0 {
		t.Fatalf("GemmExN = %d, %v; want 0 and an error", done, err)
	}
	for _, want := range []string{"cublasGemmEx", "CUBLAS_STATUS_EXECUTION_FAILED", "CUBLAS_COMPUTE_32F"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func upload(t *testing.T, l *Lib, v []float64, typ DataType) DevPtr {
	t.Helper()
	size := typ.Size()
	buf := make([]byte, len(v)*size)
	for i, x := range v {
		p := unsafe.Pointer(&buf[i*size])
		switch typ {
		case R64F:
			*(*float64)(p) = x
		case R32F:
			*(*float32)(p) = float32(x)
		case R16F:
			*(*uint16)(p) = HalfBits(x)
		case R16BF:
			*(*uint16)(p) = BFloat16Bits(x)
		case R8I:
			*(*int8)(p) = int8(x)
		}
	}
	d, err := l.Malloc(len(buf))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Free(d) })
	if err := l.HtoD(d, unsafe.Pointer(&buf[0]), len(buf)); err != nil {
		t.Fatal(err)
	}
	return d
}

func download(t *testing.T, l *Lib, d DevPtr, n int, typ DataType) []float64 {
	t.Helper()
	size := typ.Size()
	buf := make([]byte, n*size)
	if err := l.DtoH(unsafe.Pointer(&buf[0]), d, len(buf)); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, n)
	for i := range out {
		p := unsafe.Pointer(&buf[i*size])
		switch typ {
		case R64F:
			out[i] = *(*float64)(p)
		case R32F:
			out[i] = float64(*(*float32)(p))
		case R32I:
			out[i] = float64(*(*int32)(p))
		}
	}
	return out
}

func TestHalfAndBFloat16(t *testing.T) {
	for _, x := range []float64{0, 1, -1, 0.5, 65504, 1.0 / 1024, 0x1p-24, 3.140625, -2047} {
		if got := HalfValue(HalfBits(x)); got != x {
			t.Errorf("half round trip of %g = %g", x, got)
		}
	}
	if HalfBits(1+0x1p-11) != HalfBits(1) { // a tie rounds to even
		t.Errorf("half(1+2⁻¹¹) = %#x, want %#x", HalfBits(1+0x1p-11), HalfBits(1))
	}
	if !math.IsInf(HalfValue(HalfBits(1e6)), 1) {
		t.Error("half(1e6) is not +Inf")
	}
	for _, x := range []float64{0, 1, -1, 0.5, 3.125, -128, 1.0 / 128} {
		if got := BFloat16Value(BFloat16Bits(x)); got != x {
			t.Errorf("bf16 round trip of %g = %g", x, got)
		}
	}
	if BFloat16Bits(1+0x1p-8) != BFloat16Bits(1) {
		t.Error("bf16(1+2⁻⁸) should round to even (1)")
	}
}

func BenchmarkGemmExOverhead(b *testing.B) {
	l, err := LoadFrom(buildFake(b))
	if err != nil {
		b.Fatal(err)
	}
	bl, err := l.NewBlas()
	if err != nil {
		b.Fatal(err)
	}
	defer bl.Close()
	g := Gemm{M: 1, N: 1, K: 1, AType: R32F, BType: R32F, CType: R32F, Lda: 1, Ldb: 1, Ldc: 1, Compute: Compute32F}
	for _, p := range []*DevPtr{&g.A, &g.B, &g.C} {
		if *p, err = l.Malloc(4); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("GemmEx", func(b *testing.B) {
		for b.Loop() {
			if err := bl.GemmEx(g); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GemmExN", func(b *testing.B) {
		if _, err := bl.GemmExN(g, b.N); err != nil {
			b.Fatal(err)
		}
	})
}

// GemmExCycle steps A through period offsets from start: 1×1 products
// a[s]·b, call i at s = (start+i) mod period.
func TestGemmExCycle(t *testing.T) {
	l := loadFake(t)
	b, err := l.NewBlas()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	da := upload(t, l, []float64{1, 10, 100, 1000}, R64F)
	db := upload(t, l, []float64{2}, R64F)
	dc, err := l.Malloc(8)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Free(dc)
	if err := l.Memset(dc, 0, 8); err != nil {
		t.Fatal(err)
	}
	g := Gemm{TransA: true, M: 1, N: 1, K: 1, A: da, B: db, C: dc, AType: R64F, BType: R64F, CType: R64F,
		Lda: 1, Ldb: 1, Ldc: 1, Compute: Compute64F, Alpha: 1, Beta: 1}
	// period 3 from 2: offsets 2, 0, 1, 2, 0 → 100+1+10+100+1.
	if done, err := b.GemmExCycle(g, 5, 8, 3, 2); err != nil || done != 5 {
		t.Fatalf("GemmExCycle = %d, %v", done, err)
	}
	if got := download(t, l, dc, 1, R64F)[0]; got != 2*212 {
		t.Errorf("C = %g, want %g", got, 2*212.0)
	}
	if _, err := b.GemmExCycle(g, 1, 8, 0, 0); err == nil {
		t.Error("GemmExCycle with period 0 succeeded")
	}
}
