package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/workloads/gpu/cuda/cudatest"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
	"github.com/joulebench/joulebench/workloads/model/compress"
	"github.com/joulebench/joulebench/workloads/model/mnist"
	"github.com/joulebench/joulebench/workloads/model/nn"
)

// withGPUFakes points the GPU engines at the fake CUDA runtime, cuBLAS
// and cuBLASLt of workloads/gpu/cuda/testdata/fake (built once per test
// binary) for the test. It skips when there is no C compiler.
func withGPUFakes(t *testing.T) {
	t.Helper()
	dir := cudatest.Dir(t)
	old := gpuLibDir
	gpuLibDir = dir
	t.Cleanup(func() { gpuLibDir = old })
}

func TestMain(m *testing.M) {
	code := m.Run()
	cudatest.Cleanup() // the fake CUDA libraries, if a test built them
	os.Exit(code)
}

func gpuVariant(t *testing.T, name string) (variant, *nn.WeightsFile) {
	t.Helper()
	v, _, err := lookup("mnist-mlp-gpu-" + name + "-offline")
	if err != nil {
		t.Fatal(err)
	}
	wf, _, err := embedded(v.file)
	if err != nil {
		t.Fatal(err)
	}
	return v, wf
}

// Without a CUDA library (or GPU), every GPU variant is ErrNotHere, so a
// run leaves it out with the reason.
func TestGPUValidateWithoutGPU(t *testing.T) {
	old := gpuLibDir
	gpuLibDir = t.TempDir() // holds no library
	t.Cleanup(func() { gpuLibDir = old })
	for _, name := range Names() {
		w, err := workloads.New(name, workloads.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		inf := w.(*inference)
		if !isGPU(inf.v) {
			continue
		}
		err = inf.Validate(context.Background())
		if !errors.Is(err, workloads.ErrNotHere) {
			t.Fatalf("%s: Validate without CUDA: %v, want ErrNotHere", name, err)
		}
		if inf.Spec().Params["device"] != "gpu" || inf.Spec().Params[results.ParamModel] != "mnist-mlp-gpu" {
			t.Errorf("%s: params %v", name, inf.Spec().Params)
		}
	}
}

// On the fake, each GPU engine's logits match the pure-Go emulation of
// its arithmetic: bit for bit for int8 (the same integer sums, and the
// host's requantisation is compress.QForward's), to rounding for the float
// kinds (the sums run in another order).
func TestGPUEngineMatchesEmulation(t *testing.T) {
	withGPUFakes(t)
	set := testSet(t)
	const n = 64
	x := set.Test.X[:n*mnist.Pixels]
	for _, kind := range []string{"fp32", "fp16", "bf16", "int8"} {
		v, wf := gpuVariant(t, kind)
		e, err := newGPUEngine(v, wf, OfflineBatch, "")
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		got := append([]float32(nil), e.forward(x, n)...)
		if kind == "int8" && !strings.Contains(e.info()["arithmetic"], "Host") {
			t.Errorf("int8 Info[arithmetic] does not say what runs on the host: %q", e.info()["arithmetic"])
		}
		// A batch size with no algorithm of its own runs padded.
		odd := append([]float32(nil), e.forward(x[:3*mnist.Pixels], 3)...)
		e.close()
		var want []float32
		tol := 0.0
		switch kind {
		case "fp32":
			m, _ := nn.WeightsModel(wf)
			want = nn.NewForward(m, nn.GoGemm{Threads: 1}, n).Run(x, n)
			tol = 1e-3
		case "fp16", "bf16":
			m, _ := nn.WeightsModel(wf)
			h, err := newHalfForward(m, kind, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			want = h.Run(x, n)
			tol = 0.05
			if kind == "bf16" {
				tol = 0.3
			}
		case "int8":
			// The CPU int8 model's own kernel, which RecomputeAccuracy
			// runs: the GPU engine must give its logits bit for bit.
			q, _ := compress.QMLPFromWeights(wf)
			f := compress.NewQForward(q, n, 1)
			want = append([]float32(nil), f.Run(x, n)...)
			f.Close()
		}
		worst, differ := 0.0, 0
		for i := range want {
			worst = max(worst, math.Abs(float64(got[i]-want[i])))
		}
		for r := range n {
			if nn.Argmax(got[r*10:r*10+10]) != nn.Argmax(want[r*10:r*10+10]) {
				differ++
			}
		}
		t.Logf("%s: largest logit difference %.3g, %d of %d classes differ", kind, worst, differ, n)
		if worst > tol || differ > 1 {
			t.Errorf("%s: the GPU engine's logits are %.3g from the emulation's (tolerance %g), %d classes differ", kind, worst, tol, differ)
		}
		for i := range odd {
			if odd[i] != got[i] {
				t.Fatalf("%s: logit %d of a 3-row batch %v, of the 64-row batch %v", kind, i, odd[i], got[i])
			}
		}
	}
}

// gpuWorkload makes a GPU inference workload on the fake, its calls and
// check on the first images of the test set only (the fake is a plain
// loop: the whole test set would take minutes).
func gpuWorkload(t *testing.T, name string, images int) *inference {
	t.Helper()
	w, err := workloads.New(name, workloads.Options{Threads: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	inf := w.(*inference)
	if err := inf.Validate(context.Background()); err != nil {
		t.Fatalf("%s on the fake: %v", name, err)
	}
	if err := inf.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inf.Close() })
	s := inf.test
	s.N = images
	s.X = s.X[:images*mnist.Pixels]
	s.Y = s.Y[:images]
	inf.setTest(s)
	return inf
}

// cpuAccuracy is the fp32 reference's accuracy on the first images of
// the test set, in pure Go.
func cpuAccuracy(t *testing.T, images int) float64 {
	t.Helper()
	wf, _, err := embedded("mlp.jbw.gz")
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.WeightsModel(wf)
	if err != nil {
		t.Fatal(err)
	}
	set := testSet(t)
	c := nn.Accuracy(m, nn.GoGemm{}, nn.Dataset{X: set.Test.X[:images*mnist.Pixels], Y: set.Test.Y[:images], N: images}, OfflineBatch)
	return float64(c) / float64(images)
}

// The fp32 GPU variant's accuracy on the fake is the CPU fp32's, measured
// the way every run measures it (calls, then the check pass); and the
// cheats a lazy or ReLU-less library would be are caught by that check.
func TestGPUAccuracyAndCheats(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the fake GPU over a thousand images several times")
	}
	withGPUFakes(t)
	const images = 1024
	ref := cpuAccuracy(t, images)
	run := func(name string) (float64, bool) {
		w := gpuWorkload(t, name, images)
		if _, err := w.Run(context.Background(), 4); err != nil {
			t.Fatal(err)
		}
		c, err := w.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return w.RepQuality()[results.QAccuracy], c.OK
	}
	acc, ok := run("mnist-mlp-gpu-fp32-offline")
	if !ok || math.Abs(acc-ref) > 1.0/images {
		t.Errorf("GPU fp32 on the fake: accuracy %.4f (check ok %v), CPU fp32 %.4f", acc, ok, ref)
	}
	for _, kind := range []string{"fp16", "bf16", "int8"} {
		a, ok := run("mnist-mlp-gpu-" + kind + "-offline")
		t.Logf("%s: accuracy %.4f on %d images (fp32 %.4f), check ok %v", kind, a, images, ref, ok)
		if !ok || a < ref-0.01 {
			t.Errorf("GPU %s on the fake: accuracy %.4f, check ok %v", kind, a, ok)
		}
	}
	for _, cheat := range []struct{ knob, name string }{
		{"FAKE_CUBLASLT_LAZY", "mnist-mlp-gpu-fp32-offline"},
		{"FAKE_CUBLASLT_LAZY", "mnist-mlp-gpu-int8-offline"},
		{"FAKE_CUBLASLT_NORELU", "mnist-mlp-gpu-fp16-offline"},
	} {
		t.Run(fmt.Sprintf("%s/%s", cheat.knob, cheat.name), func(t *testing.T) {
			t.Setenv(cheat.knob, "1")
			a, ok := run(cheat.name)
			t.Logf("accuracy %.4f, check ok %v", a, ok)
			if a > ref-0.01 {
				t.Errorf("the cheat kept accuracy %.4f (honest %.4f)", a, ref)
			}
			if ok {
				t.Errorf("the cheat passed its check")
			}
		})
	}
}

// The check holds a GPU variant's logits to its pure-Go reference's: the
// honest fake passes; a cuBLASLt computing in far lower precision than the
// types (3-bit operands, bf16 sums), which changes almost no class, fails
// as reduced precision; an int8 sum off by one in one output, or a matmul
// that does nothing, fails as wrong.
func TestGPULogitCheck(t *testing.T) {
	withGPUFakes(t)
	const images = 64 // the check's subset is then these 64
	check := func(t *testing.T, kind string) workloads.Check {
		t.Helper()
		w := gpuWorkload(t, "mnist-mlp-gpu-"+kind+"-offline", images)
		if _, err := w.Run(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		c, err := w.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: ok %v, %s %.3g (limit %.3g), verdict %q: %s", kind, c.OK, c.Name, c.Value, c.Limit, c.Verdict, c.Detail)
		return c
	}
	for _, kind := range []string{"fp32", "fp16", "bf16", "int8"} {
		if c := check(t, kind); !c.OK || !strings.Contains(c.Detail, "logits against the pure-Go "+kind) {
			t.Errorf("honest %s: check ok %v, detail %q", kind, c.OK, c.Detail)
		}
	}
	for _, cheat := range []struct {
		knob    string
		kinds   []string
		verdict string
		check   string // the check that reports the failure; "" either
	}{
		// bf16 fails alike; left out to keep the test short (the fake
		// is slow in this mode).
		{"FAKE_CUBLASLT_LOWP", []string{"fp32", "fp16"}, workloads.VerdictReducedPrecision, "logits"},
		{"FAKE_CUBLASLT_INT8_OFF1", []string{"int8"}, workloads.VerdictWrong, "logits"},
		// A lazy matmul leaves what the device memory held: the class
		// agreement may fail too, and is then the check reported.
		{"FAKE_CUBLASLT_LAZY", []string{"fp32"}, workloads.VerdictWrong, ""},
	} {
		for _, kind := range cheat.kinds {
			t.Run(cheat.knob+"/"+kind, func(t *testing.T) {
				t.Setenv(cheat.knob, "1")
				c := check(t, kind)
				if c.OK || c.Verdict != cheat.verdict || !strings.HasPrefix(c.Name, cheat.check) {
					t.Errorf("%s on %s: check %q ok %v verdict %q, want a failed check %q…, %q", cheat.knob, kind, c.Name, c.OK, c.Verdict, cheat.check, cheat.verdict)
				}
			})
		}
	}
}

// RecomputeAccuracy of the GPU variants loads nothing and lands within the
// tolerance of the engine the fakes stand for (their emulations).
func TestGPURecompute(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test set through the pure-Go kernels")
	}
	old := gpuLibDir
	gpuLibDir = t.TempDir() // no library: recomputing must not need one
	t.Cleanup(func() { gpuLibDir = old })
	for _, kind := range []string{"fp32", "fp16", "bf16", "int8"} {
		w, err := workloads.New("mnist-mlp-gpu-"+kind+"-offline", workloads.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		acc, ref, err := w.(workloads.AccuracyChecker).RecomputeAccuracy(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: recomputed %.4f, reference %.4f", kind, acc, ref)
		if acc < ref-0.01 || acc > 1 {
			t.Errorf("%s: recomputed accuracy %.4f against the reference's %.4f", kind, acc, ref)
		}
	}
}

func TestHalfConversions(t *testing.T) {
	for _, c := range []struct {
		f    float32
		want uint16
	}{
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},                // largest finite
		{65519.996, 0x7bff},            // below the halfway point to 65536
		{65520, 0x7c00},                // halfway: ties to even, which is Inf
		{-1e6, 0xfc00},                 // overflow to -Inf
		{float32(math.Inf(1)), 0x7c00}, // Inf
		{0x1p-14, 0x0400},              // smallest normal
		{0x1p-24, 0x0001},              // smallest subnormal
		{0x1p-25, 0x0000},              // half of it: ties to even (0)
		{0x1.8p-25, 0x0001},            // above half
		{0x3p-25, 0x0002},              // 1.5 units: ties to even (2)
		{0x1.ffcp-15, 0x0400},          // the largest subnormal rounds up to the smallest normal
		{1 + 0x1p-11, 0x3c00},          // halfway between 1 and its successor: even
		{1 + 0x3p-11, 0x3c02},          // halfway, odd below: up
		{float32(math.Copysign(0, -1)), 0x8000},
		{0x1p-149, 0x0000}, // a float32 subnormal
	} {
		if got := f32ToF16(c.f); got != c.want {
			t.Errorf("f32ToF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
	if h := f32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN → %#04x, not a NaN", h)
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{
		{1, 0x3f80},
		{1 + 0x1p-8, 0x3f80},      // halfway: even
		{1 + 0x3p-8, 0x3f82},      // halfway, odd below: up
		{math.MaxFloat32, 0x7f80}, // rounds past the largest bfloat16: Inf
		{0x1p-133, 0x0001},        // subnormal, exact
		{-0x1.01p0, 0xbf80},       // below halfway: down
		{float32(math.Inf(-1)), 0xff80},
	} {
		if got := f32ToBF16(c.f); got != c.want {
			t.Errorf("f32ToBF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
	if h := f32ToBF16(float32(math.NaN())); h&0x7f80 != 0x7f80 || h&0x7f == 0 {
		t.Errorf("bf16 NaN → %#04x, not a NaN", h)
	}
	// Every finite code converts to a float32 and back to itself.
	for h := range 1 << 16 {
		u := uint16(h)
		if u&0x7c00 != 0x7c00 {
			if back := f32ToF16(f16ToF32(u)); back != u {
				t.Fatalf("fp16 %#04x → %g → %#04x", u, f16ToF32(u), back)
			}
		}
		if u&0x7f80 != 0x7f80 {
			if back := f32ToBF16(bf16ToF32(u)); back != u {
				t.Fatalf("bf16 %#04x → %g → %#04x", u, bf16ToF32(u), back)
			}
		}
	}
}

// fp16 keeps 11 significant bits, bf16 8: 0.1 becomes 0.099975586 and
// 0.100097656; 70000 is past fp16's largest finite value (65504).
func Example_halfRounding() {
	for _, f := range []float32{0.1, 70000} {
		fmt.Printf("%g: fp16 %#04x = %g, bf16 %#04x = %g\n", f, f32ToF16(f), f16ToF32(f32ToF16(f)), f32ToBF16(f), bf16ToF32(f32ToBF16(f)))
	}
	// Output:
	// 0.1: fp16 0x2e66 = 0.099975586, bf16 0x3dcd = 0.100097656
	// 70000: fp16 0x7c00 = +Inf, bf16 0x4789 = 70144
}
