package gemm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/workloads"
)

// honestProviders are the correct libraries at hand: gonum always, the
// system OpenBLAS when it loads. (BLIS cannot share a process with
// OpenBLAS: TestBLIS runs it in a child process.)
func honestProviders(t *testing.T) map[string]provider {
	t.Helper()
	ps := map[string]provider{"gonum": newGonumProvider(1, "", "")}
	if p := openBLASProvider(t, 1); p != nil {
		ps["openblas"] = p
	}
	return ps
}

// openBLASProvider loads the system OpenBLAS to run on the given number of
// threads, or returns nil (and logs why) when there is none. The small
// cases run on one: OpenBLAS's threads spin while they wait, which on a
// busy two-CPU machine makes a 26 µs call take milliseconds.
func openBLASProvider(t testing.TB, threads int) provider {
	t.Helper()
	if !cgoEnabled {
		t.Log("built without cgo: OpenBLAS cases skipped")
		return nil
	}
	p, err := systemLoader().load(workloads.Options{BLAS: "libopenblas.so.0", Threads: threads})
	if err != nil {
		t.Logf("OpenBLAS cases skipped (apt-get install libopenblas0): %v", err)
		return nil
	}
	if p.info()["provider"] != "openblas" {
		t.Logf("libopenblas.so.0 is %s: OpenBLAS cases skipped", p.info()["provider"])
		return nil
	}
	return p
}

// fastProvider is OpenBLAS when present, else gonum: for the cases that
// need a large product computed once.
func fastProvider(t testing.TB) provider {
	if p := openBLASProvider(t, 2); p != nil {
		return p
	}
	return newGonumProvider(2, "", "")
}

// runRounds makes the calls of each round and checks after each, as the
// harness does after the warm-up and every repetition.
func runRounds(t *testing.T, w *workload, calls ...int) []workloads.Check {
	t.Helper()
	var out []workloads.Check
	for _, k := range calls {
		if _, err := w.Run(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		chk, err := w.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, chk)
	}
	return out
}

// manyCalls is a call count that crosses at least two folds of C into the
// bank where that is cheap, and is several hundred calls otherwise.
func manyCalls(w *workload) int {
	if w.foldEvery <= 1024 {
		return 2*w.foldEvery + 3
	}
	if w.n <= 17 {
		return w.foldEvery + 5 // one fp64 fold: 65541 calls of 16³
	}
	return 300
}

// TestHonestPasses: correct libraries pass after one call and after many
// (C folded into the bank on the way), round after round, in both
// precisions, at sizes that are and are not multiples of any block.
func TestHonestPasses(t *testing.T) {
	for lib, p := range honestProviders(t) {
		for _, prec := range []string{"fp32", "fp64"} {
			for _, n := range []int{16, 17, 64, 100} {
				t.Run(fmt.Sprintf("%s/%s/n=%d", lib, prec, n), func(t *testing.T) {
					w := withProvider(t, fmt.Sprintf("gemm-%s-%d", prec, n), p, 0x5eed+uint64(n))
					many := manyCalls(w)
					for i, chk := range runRounds(t, w, 1, many, 2) {
						if !chk.OK || chk.Verdict != "" || chk.Name != "freivalds" || !(chk.Value <= chk.Limit) {
							t.Errorf("round %d: %+v", i, chk)
						}
						t.Logf("round %d: scaled error %.3g (limit %g)", i, chk.Value, chk.Limit)
					}
					if w.style != styleOf(lib) {
						t.Errorf("style %v for %s", w.style, lib)
					}
				})
			}
		}
	}
	if p := openBLASProvider(t, 2); p != nil {
		for _, name := range []string{"gemm-fp32-512", "gemm-fp64-512"} {
			w := withProvider(t, name, p, 7)
			for i, chk := range runRounds(t, w, 1, 20) {
				if !chk.OK {
					t.Errorf("%s round %d: %+v", name, i, chk)
				}
			}
		}
	}
}

// cheatCase is one way to be fast and wrong: wrap makes it from an honest
// provider, precs says which workloads it cheats on, and verdict and round
// say which check must catch it, and how (rounds before it pass).
type cheatCase struct {
	name    string
	wrap    func(honest provider, n int) provider
	precs   []string
	verdict string
	round   int
}

var both = []string{"fp32", "fp64"}

var cheatCases = []cheatCase{
	{"skips every other call", func(p provider, _ int) provider { return &skipEveryOther{provider: p} }, both, workloads.VerdictWrong, 0},
	{"computes only the first call after a re-arm", func(p provider, _ int) provider { return &firstAfterRearm{provider: p} }, both, workloads.VerdictWrong, 0},
	{"does nothing after a re-arm (stale C)", func(p provider, _ int) provider { return &idleAfterRearm{provider: p} }, both, workloads.VerdictWrong, 1},
	{"adds a stale product after a re-arm", func(p provider, _ int) provider { return &staleProduct{provider: p} }, both, workloads.VerdictWrong, 1},
	{"drops the first 64×64 tile", func(p provider, _ int) provider { return &tileSkip{provider: p, size: 64} }, both, workloads.VerdictWrong, 0},
	{"drops the last tile", func(p provider, n int) provider {
		return &tileSkip{provider: p, row: max(0, n-64), col: max(0, n-64), size: 64}
	}, both, workloads.VerdictWrong, 0},
	{"drops a tile at a random place", func(p provider, n int) provider {
		rng := rand.New(rand.NewPCG(uint64(n), 64))
		return &tileSkip{provider: p, row: rng.IntN(n), col: rng.IntN(n), size: 64}
	}, both, workloads.VerdictWrong, 0},
	{"TF32", func(p provider, _ int) provider { return &narrowInputs{provider: p, bits: 10} }, []string{"fp32"}, workloads.VerdictReducedPrecision, 0},
	{"BF16", func(p provider, _ int) provider { return &narrowInputs{provider: p, bits: 7} }, []string{"fp32"}, workloads.VerdictReducedPrecision, 0},
	{"fp32 arithmetic", func(p provider, _ int) provider { return &fp32For64{provider: p} }, []string{"fp64"}, workloads.VerdictReducedPrecision, 0},
}

// TestCheatsFail: every cheat fails, at the check it should, with its
// verdict, at a few calls and at hundreds (C folded), at a size that is a
// block multiple and one that is not.
func TestCheatsFail(t *testing.T) {
	honest := honestProviders(t)
	for lib, p := range honest {
		for _, c := range cheatCases {
			for _, prec := range c.precs {
				for _, tc := range []struct{ n, k int }{{17, 3}, {17, 300}, {100, 4}} {
					t.Run(fmt.Sprintf("%s/%s/%s/n=%d/k=%d", c.name, lib, prec, tc.n, tc.k), func(t *testing.T) {
						w := withProvider(t, fmt.Sprintf("gemm-%s-%d", prec, tc.n), c.wrap(p, tc.n), 11)
						checkCaught(t, runRounds(t, w, tc.k, tc.k), c)
					})
				}
			}
		}
	}
}

// checkCaught: the rounds before c.round pass, round c.round fails with
// c.verdict.
func checkCaught(t *testing.T, chks []workloads.Check, c cheatCase) {
	t.Helper()
	for i, chk := range chks[:c.round+1] {
		if i < c.round {
			if !chk.OK {
				t.Errorf("round %d failed before the cheat began: %+v", i, chk)
			}
			continue
		}
		if chk.OK || chk.Verdict != c.verdict {
			t.Errorf("round %d: OK=%v verdict %q, want a failure with %q: value %.4g limit %g\n%s", i, chk.OK, chk.Verdict, c.verdict, chk.Value, chk.Limit, chk.Detail)
		} else {
			t.Logf("caught: value %.4g limit %g: %s", chk.Value, chk.Limit, chk.Detail[strings.LastIndex(chk.Detail, "(docs/gemm-check.md);")+1:])
		}
	}
}

// TestTileAnywhere wrongs one 64×64 tile of a right answer, at the corners,
// the middle and random places, zeroed (the tile skipped), garbage or off
// by TF32's rounding only, and checks each without re-arming: the old
// 64-entry sample hit such a tile at N=2048 6% of the time; Freivalds sees
// every row.
func TestTileAnywhere(t *testing.T) {
	p := fastProvider(t)
	for _, tc := range []struct {
		prec string
		n    int
	}{{"fp32", 2048}, {"fp64", 300}, {"fp32", 130}} {
		t.Run(fmt.Sprintf("%s/n=%d", tc.prec, tc.n), func(t *testing.T) {
			w := withProvider(t, fmt.Sprintf("gemm-%s-%d", tc.prec, tc.n), p, 21)
			if _, err := w.Run(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			if chk := w.judge(w.freivalds(false)); !chk.OK {
				t.Fatalf("right answer failed: %+v", chk)
			}
			n := tc.n
			rng := rand.New(rand.NewPCG(uint64(n), 2))
			places := [][2]int{{0, 0}, {n - 64, n - 64}, {0, n - 64}, {n - 64, 0}, {n/2 - 32, n/2 - 32}}
			for range 3 {
				places = append(places, [2]int{rng.IntN(n - 63), rng.IntN(n - 63)})
			}
			for _, at := range places {
				for _, how := range []string{"zeroed", "garbage", "TF32-sized"} {
					saved := corruptTile(w, at[0], at[1], how)
					chk := w.judge(w.freivalds(false))
					if chk.OK || chk.Verdict != workloads.VerdictWrong {
						t.Errorf("tile at %v %s: OK=%v verdict %q value %.4g: %s", at, how, chk.OK, chk.Verdict, chk.Value, chk.Detail)
					}
					restoreTileAt(w, at[0], at[1], saved)
				}
			}
			if chk := w.judge(w.freivalds(false)); !chk.OK {
				t.Fatalf("restored answer failed: %+v", chk)
			}
		})
	}
}

// corruptTile wrongs the 64×64 tile of C at (row, col) and returns what
// was there.
func corruptTile(w *workload, row, col int, how string) []float64 {
	n := w.n
	var saved []float64
	for i := row; i < row+64; i++ {
		for j := col; j < col+64; j++ {
			var x float64
			if w.prec == "fp64" {
				x = w.c64[i*n+j]
			} else {
				x = float64(w.c32[i*n+j])
			}
			saved = append(saved, x)
			switch how {
			case "zeroed":
				x = 0
			case "garbage":
				x = float64((i*7+j)%11) - 5
			case "TF32-sized":
				x *= 1 + 0x1p-11
			}
			if w.prec == "fp64" {
				w.c64[i*n+j] = x
			} else {
				w.c32[i*n+j] = float32(x)
			}
		}
	}
	return saved
}

func restoreTileAt(w *workload, row, col int, saved []float64) {
	n := w.n
	for i := row; i < row+64; i++ {
		for j := col; j < col+64; j++ {
			if w.prec == "fp64" {
				w.c64[i*n+j] = saved[0]
			} else {
				w.c32[i*n+j] = float32(saved[0])
			}
			saved = saved[1:]
		}
	}
}

// TestMissProbability measures how often the check misses one entry of C
// that is wrong by x times the tolerance of its row, over many draws of
// the vectors, against the bound x^-checkVectors that docs/gemm-check.md
// states. With one vector it would miss about 1/x of the time, above the
// bound; the test fails then.
func TestMissProbability(t *testing.T) {
	const trials = 3000
	for _, x := range []float64{2, 4} {
		w := withProvider(t, "gemm-fp64-16", newGonumProvider(1, "", ""), 3)
		if _, err := w.Run(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		n, i, j := w.n, 5, 9
		k := float64(w.calls)
		tol := checkLimit * w.unitRoundoff() * k * math.Sqrt(w.chk.an2[i]/3) * accScale(w.style, n, 1)
		w.c64[i*n+j] += x * tol
		misses := 0
		for trial := range trials {
			w.drawVectors(streamKey(uint64(trial), streamR, 1))
			w.refreshZ()
			if w.judge(w.freivalds(false)).OK {
				misses++
			}
		}
		bound := math.Pow(x, -checkVectors)
		rate := float64(misses) / trials
		// Three standard deviations of a binomial at the bound.
		slack := 3 * math.Sqrt(bound*(1-bound)/trials)
		t.Logf("error %g× tolerance: missed %d of %d (%.4f), bound %.4f", x, misses, trials, rate, bound)
		if rate > bound+slack {
			t.Errorf("error %g× tolerance missed %.4f of the time, above the stated bound %.4f", x, rate, bound)
		}
		if misses == 0 {
			t.Errorf("error %g× tolerance never missed: the test does not measure what it says", x)
		}
	}
}

// TestRearm: a check leaves fresh inputs, every row of A new and C and the
// bank zero, drawn from the seed and the round alone, so two runs with
// one seed see the same matrices and runs with two seeds do not.
func TestRearm(t *testing.T) {
	for _, prec := range both {
		p := newGonumProvider(1, "", "")
		name := fmt.Sprintf("gemm-%s-64", prec)
		w := withProvider(t, name, p, 99)
		snapshot := func(w *workload) []float64 {
			if prec == "fp64" {
				return slices.Clone(w.a64)
			}
			out := make([]float64, len(w.a32))
			for i, a := range w.a32 {
				out[i] = float64(a)
			}
			return out
		}
		a0 := snapshot(w)
		w.foldEvery = 4        // so that the bank is used
		runRounds(t, w, 4*2+1) // two folds
		a1 := snapshot(w)
		for i := 0; i < w.n; i++ {
			if slices.Equal(a0[i*w.n:(i+1)*w.n], a1[i*w.n:(i+1)*w.n]) {
				t.Errorf("%s: row %d of A unchanged by the re-arm", prec, i)
			}
		}
		zero := func(x []float64) bool { return !slices.ContainsFunc(x, func(v float64) bool { return v != 0 }) }
		if !zero(w.bank) || w.calls != 0 || w.inC != 0 || w.folds != 0 || w.round != 1 {
			t.Errorf("%s: after the check: bank zero %v, calls %d, inC %d, folds %d, round %d", prec, zero(w.bank), w.calls, w.inC, w.folds, w.round)
		}
		if prec == "fp64" && !zero(w.c64) || prec == "fp32" && slices.ContainsFunc(w.c32, func(v float32) bool { return v != 0 }) {
			t.Errorf("%s: C not zeroed by the re-arm", prec)
		}
		same := withProvider(t, name, p, 99)
		if !slices.Equal(snapshot(same), a0) {
			t.Errorf("%s: same seed, different A", prec)
		}
		runRounds(t, same, 1)
		if !slices.Equal(snapshot(same), a1) {
			t.Errorf("%s: same seed and round, different A", prec)
		}
		other := withProvider(t, name, p, 100)
		if slices.Equal(snapshot(other), a0) || slices.Equal(other.chk.r, w.chk.r) {
			t.Errorf("%s: another seed drew the same A or vectors", prec)
		}
		if got := other.Info()["check_seed"]; got != "0000000000000064" {
			t.Errorf("check_seed = %q", got)
		}
	}
}

// TestFold: C folds into the bank every foldEvery calls, and the intervals
// keep g within its bound at every size.
func TestFold(t *testing.T) {
	for _, tc := range []struct {
		prec  string
		style accStyle
		n     int
		want  int
	}{
		{"fp32", accRegister, 16, 512},
		{"fp32", accRegister, 16384, 512},
		{"fp32", accIntoC, 16, 128},
		{"fp32", accIntoC, 100, 64},
		{"fp32", accIntoC, 1024, 16},
		{"fp32", accIntoC, 16384, 4},
		{"fp64", accRegister, 16, 1 << 16},
		{"fp64", accIntoC, 16384, 8192},
	} {
		if got := foldInterval(tc.prec, tc.style, tc.n); got != tc.want {
			t.Errorf("foldInterval(%s, %v, %d) = %d, want %d", tc.prec, tc.style, tc.n, got, tc.want)
		}
	}
	for n := MinN; n <= MaxN; n += 97 {
		for _, style := range []accStyle{accRegister, accIntoC} {
			if g := accScale(style, n, foldInterval("fp32", style, n)); g > foldGMax32 {
				t.Errorf("n=%d style %v: g = %g > %d", n, style, g, foldGMax32)
			}
		}
	}
	w := withProvider(t, "gemm-fp32-16", newGonumProvider(1, "", ""), 1)
	m := w.foldEvery
	if _, err := w.Run(context.Background(), m-1); err != nil {
		t.Fatal(err)
	}
	if w.folds != 0 || w.inC != m-1 {
		t.Errorf("after %d calls: folds %d, inC %d", m-1, w.folds, w.inC)
	}
	if _, err := w.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if w.folds != 1 || w.inC != 0 || slices.ContainsFunc(w.c32, func(v float32) bool { return v != 0 }) || w.bank[0] == 0 {
		t.Errorf("after %d calls: folds %d, inC %d, C zero, bank[0] %g", m, w.folds, w.inC, w.bank[0])
	}
	if chk, err := w.Check(context.Background()); err != nil || !chk.OK || !strings.Contains(chk.Detail, "folded") {
		t.Errorf("check after a fold: %+v, %v", chk, err)
	}
}

// TestCheckCancelled: a cancelled check changes nothing.
func TestCheckCancelled(t *testing.T) {
	w := withProvider(t, "gemm-fp64-32", newGonumProvider(1, "", ""), 1)
	if _, err := w.Run(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Check(ctx); err == nil {
		t.Error("cancelled check: no error")
	}
	if w.calls != 2 || w.round != 0 {
		t.Errorf("cancelled check changed the state: calls %d round %d", w.calls, w.round)
	}
	if chk, err := w.Check(context.Background()); err != nil || !chk.OK {
		t.Errorf("check after the cancelled one: %+v, %v", chk, err)
	}
}

// blisEnv names the library TestBLIS's child process loads.
const blisEnv = "JOULEBENCH_TEST_BLIS"

// TestBLIS runs the honest and cheat cases on BLIS, in a child process:
// one process holds one BLAS, and the others run on OpenBLAS.
func TestBLIS(t *testing.T) {
	if lib := os.Getenv(blisEnv); lib != "" {
		blisChild(t, lib)
		return
	}
	if !cgoEnabled {
		t.Skip("built without cgo: no system BLAS can be loaded")
	}
	const lib = "libblis.so.4"
	if !blisInstalled(lib) {
		t.Skipf("BLIS not installed (apt-get install libblis4 to run these cases): no %s", lib)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBLIS$", "-test.v")
	cmd.Env = append(os.Environ(), blisEnv+"="+lib)
	out, err := cmd.CombinedOutput()
	t.Logf("child process:\n%s", out)
	if err != nil {
		t.Fatalf("BLIS cases failed: %v", err)
	}
}

// blisInstalled reports whether lib is a file the dynamic loader can find,
// without loading it into this process.
func blisInstalled(lib string) bool {
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"} {
		if _, err := os.Stat(dir + "/" + lib); err == nil {
			return true
		}
	}
	return false
}

func blisChild(t *testing.T, lib string) {
	p, err := systemLoader().load(workloads.Options{BLAS: lib, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.info()["provider"]; got != "blis" {
		t.Fatalf("%s is %s, not BLIS", lib, got)
	}
	t.Logf("BLIS: %v", p.info())
	for _, prec := range both {
		for _, n := range []int{16, 17, 64, 100, 512} {
			w := withProvider(t, fmt.Sprintf("gemm-%s-%d", prec, n), p, 5)
			if w.style != accRegister {
				t.Errorf("BLIS style %v", w.style)
			}
			calls := []int{1, manyCalls(w)}
			if n == 512 {
				calls = []int{1, 20}
			}
			for i, chk := range runRounds(t, w, calls...) {
				if !chk.OK {
					t.Errorf("%s n=%d round %d: %+v", prec, n, i, chk)
				}
			}
		}
	}
	for _, c := range cheatCases {
		for _, prec := range c.precs {
			w := withProvider(t, fmt.Sprintf("gemm-%s-100", prec), c.wrap(p, 100), 13)
			checkCaught(t, runRounds(t, w, 5, 5), c)
		}
	}
}

// TestGenerator: a matrix is the same however its rows are split among
// goroutines, its entries are uniform on [-1, 1), and fp32 entries use all
// 24 bits of the mantissa, so that rounding them to TF32 or BF16 changes
// them.
func TestGenerator(t *testing.T) {
	const n = 17 // odd: fp32 rows start on both halves of a draw
	key := streamKey(42, streamA, 3)
	whole32, whole64 := make([]float32, n*n), make([]float64, n*n)
	fillRow32(whole32, key, 0)
	fillRow64(whole64, key, 0)
	for i := 0; i < n; i++ {
		row32, row64 := make([]float32, n), make([]float64, n)
		fillRow32(row32, key, i*n)
		fillRow64(row64, key, i*n)
		if !slices.Equal(row32, whole32[i*n:(i+1)*n]) || !slices.Equal(row64, whole64[i*n:(i+1)*n]) {
			t.Fatalf("row %d differs when drawn alone", i)
		}
		for j, x := range row64 {
			if x != uniform64(key, i*n+j) {
				t.Fatalf("entry %d,%d: fillRow64 %g, uniform64 %g", i, j, x, uniform64(key, i*n+j))
			}
		}
	}
	// The workload draws A with the sums fused in: the same entries.
	for _, prec := range both {
		w := withProvider(t, fmt.Sprintf("gemm-%s-%d", prec, 131), newGonumProvider(1, "", ""), 42)
		ka := streamKey(42, streamA, 0)
		for i := 0; i < w.n; i++ {
			if prec == "fp64" {
				row := make([]float64, w.n)
				fillRow64(row, ka, i*w.n)
				if !slices.Equal(row, w.a64[i*w.n:(i+1)*w.n]) {
					t.Fatalf("fp64 row %d of A is not the stream's", i)
				}
			} else {
				row := make([]float32, w.n)
				fillRow32(row, ka, i*w.n)
				if !slices.Equal(row, w.a32[i*w.n:(i+1)*w.n]) {
					t.Fatalf("fp32 row %d of A is not the stream's", i)
				}
			}
		}
	}
	big := make([]float32, 1<<16)
	fillRow32(big, key, 1)
	var sum, sq float64
	narrow := 0
	for _, x := range big {
		if x < -1 || x >= 1 {
			t.Fatalf("entry %g outside [-1, 1)", x)
		}
		sum += float64(x)
		sq += float64(x) * float64(x)
		if x != roundMantissa(x, 10) {
			narrow++
		}
	}
	mean, meanSq := sum/float64(len(big)), sq/float64(len(big))
	if math.Abs(mean) > 0.01 || math.Abs(meanSq-1.0/3) > 0.01 {
		t.Errorf("mean %g, mean square %g: not uniform on [-1, 1)", mean, meanSq)
	}
	if frac := float64(narrow) / float64(len(big)); frac < 0.99 {
		t.Errorf("only %.4f of fp32 entries change when rounded to TF32", frac)
	}
}

// TestAccumulationRounding is why C is folded: adding one fp32 product to
// C k times rounds the same way within each binade of C, so the error
// grows like k·u (0.12·k·u rms), not √k·u. At k = 10⁴ that is 7·10⁻⁵,
// within a factor of ten of TF32's error; a 2 s repetition at N = 16 makes
// 10⁷ calls.
func TestAccumulationRounding(t *testing.T) {
	const entries, k = 2000, 10000
	rng := rand.New(rand.NewPCG(1, 2))
	var se, sp float64
	for range entries {
		p := float32(rng.NormFloat64())
		var c float32
		for range k {
			c += p
		}
		e := float64(c) - k*float64(p)
		se += e * e
		sp += k * k * float64(p) * float64(p)
	}
	rms := math.Sqrt(se/sp) / (k * 0x1p-24)
	t.Logf("fp32, %d additions of the same value: rms relative error %.3f·k·u", k, rms)
	if rms < 0.08 || rms > 0.16 {
		t.Errorf("rms relative error %.3f·k·u, want about 0.12·k·u", rms)
	}
}

// TestMemoiserIsNotCaught states the check's known gap (docs/gemm-check.md,
// "What a pass proves, and what it does not"): within a round every call
// has the same inputs, so a library that remembers the product and adds it
// again passes, with one real product per round. The throughput ceiling
// and reproduce are what catch it. If this test fails, the check got
// stronger: say so in the docs.
func TestMemoiserIsNotCaught(t *testing.T) {
	for _, prec := range []string{"fp32", "fp64"} {
		m := &memoiser{provider: newGonumProvider(1, "", "")}
		w := withProvider(t, "gemm-"+prec+"-17", m, 0x6d656d6f)
		for i, chk := range runRounds(t, w, 50, 50, 50) {
			if !chk.OK {
				t.Errorf("%s round %d: the memoiser was caught (%+v): update docs/gemm-check.md and the README", prec, i, chk)
			}
		}
		if m.real != 3 {
			t.Errorf("%s: %d real products for 150 calls credited, want 3", prec, m.real)
		}
	}
}
