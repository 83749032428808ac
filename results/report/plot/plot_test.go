package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/golden")

// The size goldens are drawn at: 6×4 in at 150 dpi is 900×600 pixels.
const goldenW, goldenH = 6 * vg.Inch, 4 * vg.Inch

func load(t testing.TB, name string) *results.Record {
	t.Helper()
	rec, err := results.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// fixtures are the records under test and the charts each must give.
var fixtures = []struct {
	file  string
	plots []string
	badge string
}{
	{"quick.json", []string{"power", "efficiency", "pareto"}, "SYNTHETIC (fake meter)"},
	{"models.json", []string{"power", "efficiency", "pareto", "transfer"}, "SYNTHETIC (fake meter)"},
	{"estimated.json", []string{"power", "efficiency"}, "ESTIMATED"},
}

func TestGolden(t *testing.T) {
	for _, f := range fixtures {
		rec := load(t, f.file)
		all, err := All(rec)
		if err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		var got []string
		for _, n := range all {
			got = append(got, n.Name)
		}
		if strings.Join(got, ",") != strings.Join(f.plots, ",") {
			t.Errorf("%s: plots %v, want %v", f.file, got, f.plots)
		}
		for _, n := range all {
			name := strings.TrimSuffix(f.file, ".json") + "-" + n.Name
			t.Run(name, func(t *testing.T) {
				b, err := Render(n.Plot, goldenW, goldenH, "png")
				if err != nil {
					t.Fatal(err)
				}
				golden(t, name, b)
				svg, err := Render(n.Plot, goldenW, goldenH, "svg")
				if err != nil {
					t.Fatal(err)
				}
				checkSVG(t, svg, f.badge)
			})
		}
	}
}

// golden compares a PNG with testdata/golden/name.png: it fails when more
// than 1% of the pixels differ by more than 16/255 in any channel, which
// lets antialiasing differ between platforms and catches any real change.
// On failure the image drawn is kept as name.got.png for inspection.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".png")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	frac, err := pixelDiff(got, want)
	if err != nil || frac > 0.01 {
		gotPath := strings.TrimSuffix(path, ".png") + ".got.png"
		_ = os.WriteFile(gotPath, got, 0o644)
		if err != nil {
			t.Fatalf("%s: %v (got written to %s)", name, err, gotPath)
		}
		t.Errorf("%s: %.2f%% of pixels differ from %s (got written to %s; -update to accept)", name, 100*frac, path, gotPath)
	}
}

func pixelDiff(a, b []byte) (float64, error) {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		return 0, err
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	if ia.Bounds() != ib.Bounds() {
		return 0, fmt.Errorf("size %v, golden %v", ia.Bounds(), ib.Bounds())
	}
	return diffImages(ia, ib), nil
}

func diffImages(a, b image.Image) float64 {
	r := a.Bounds()
	bad := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			for _, d := range []int{int(r1) - int(r2), int(g1) - int(g2), int(b1) - int(b2), int(a1) - int(a2)} {
				if d > 16*257 || d < -16*257 {
					bad++
					break
				}
			}
		}
	}
	return float64(bad) / float64(r.Dx()*r.Dy())
}

// checkSVG decodes the SVG as XML, checks that it links to nothing outside
// itself, and that it carries the record's warning.
func checkSVG(t *testing.T, svg []byte, badge string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("svg is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "href" || strings.Contains(a.Value, "url(") {
					t.Errorf("svg links outside itself: <%s %s=%q>", se.Name.Local, a.Name.Local, a.Value)
				}
			}
		}
	}
	if badge != "" && bytes.Count(svg, []byte(badge)) < 2 {
		t.Errorf("svg does not carry %q in its title and watermark", badge)
	}
	if badge == "" && (bytes.Contains(svg, []byte("ESTIMATED")) || bytes.Contains(svg, []byte("SYNTHETIC"))) {
		t.Errorf("svg of a measured record carries a warning")
	}
	if bytes.Contains(svg, []byte("@font-face")) {
		t.Errorf("svg embeds a font")
	}
}

func TestDeterministic(t *testing.T) {
	rec := load(t, "models.json")
	for _, format := range []string{"svg", "png"} {
		var first [][]byte
		for run := range 2 {
			all, err := All(rec)
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range all {
				b, err := Render(n.Plot, goldenW, goldenH, format)
				if err != nil {
					t.Fatal(err)
				}
				if run == 0 {
					first = append(first, b)
				} else if !bytes.Equal(b, first[i]) {
					t.Errorf("%s %s: two renders of the same record differ", n.Name, format)
				}
			}
		}
	}
}

// A measured record's charts carry no warning.
func TestMeasuredNoBadge(t *testing.T) {
	rec := load(t, "quick.json")
	for i := range rec.Meters {
		rec.Meters[i].Method = results.MethodCounter
	}
	if Badge(rec) != "" {
		t.Fatalf("badge %q for a measured record", Badge(rec))
	}
	all, err := All(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range all {
		svg, err := Render(n.Plot, goldenW, goldenH, "svg")
		if err != nil {
			t.Fatal(err)
		}
		checkSVG(t, svg, "")
	}
}

func TestNothingToDraw(t *testing.T) {
	rec := load(t, "estimated.json")
	if p, err := Pareto(rec); p != nil || err != nil {
		t.Errorf("Pareto of a record without model workloads: %v, %v; want nil, nil", p, err)
	}
	if p, err := Transfer(rec); p != nil || err != nil {
		t.Errorf("Transfer of a record without transfer workloads: %v, %v; want nil, nil", p, err)
	}
	empty := &results.Record{}
	all, err := All(empty)
	if err != nil || len(all) != 0 {
		t.Errorf("All of an empty record: %d plots, %v", len(all), err)
	}
	if _, err := Render(nil, goldenW, goldenH, "svg"); err == nil {
		t.Error("Render(nil) did not fail")
	}
	p, _ := Power(load(t, "quick.json"))
	if _, err := Render(p, goldenW, goldenH, "gif"); err == nil {
		t.Error("Render to gif did not fail")
	}
}

// Transfer's own reading of which jobs converged must agree with
// metrics.TransferRows.
func TestTransferJobsAgree(t *testing.T) {
	rec := load(t, "models.json")
	sums := metrics.Summarize(rec)
	rows := metrics.TransferRows(rec, sums)
	if len(rows) == 0 {
		t.Fatal("no transfer rows in models.json")
	}
	for _, r := range rows {
		for i, w := range rec.Workloads {
			if w.Name != r.Name {
				continue
			}
			n := 0
			for _, j := range jobs(w, sums[i]) {
				if j.converged {
					n++
				}
			}
			if n != r.Converged {
				t.Errorf("%s: %d jobs converged here, %d in TransferRows", r.Name, n, r.Converged)
			}
		}
	}
	// A job that claims convergence below its target is not believed.
	for i, w := range rec.Workloads {
		if w.Params[results.ParamStrategy] != "full" || len(w.Reps) == 0 {
			continue
		}
		q := w.Reps[0].Work.Quality
		q[results.QConverged] = 1
		q[results.QAccuracy+"_at_stop"] = q[results.QTarget] - 0.01
		if jobs(w, metrics.Summarize(rec)[i])[0].converged {
			t.Error("a job below its target counted as converged")
		}
	}
}

// Power keeps the energy: the area under each domain's decimated line
// is the energy its readings counted.
func TestPowerEnergyKept(t *testing.T) {
	rec := certifyRecord(2, 5, 60, 0.1)
	_, steps := domainPower(rec)
	for d, s := range steps {
		var e0, e1 float64
		for _, q := range s {
			e0 += q.w * (q.t1 - q.t0)
		}
		dec := decimate(s, MaxPoints)
		if len(dec) > MaxPoints {
			t.Errorf("domain %d: %d points after decimation", d, len(dec))
		}
		for _, q := range dec {
			e1 += q.w * (q.t1 - q.t0)
		}
		if math.Abs(e0-e1) > 1e-6*e0 {
			t.Errorf("domain %d: %.6f J before decimation, %.6f J after", d, e0, e1)
		}
	}
	// The counter of domain 0 wraps once: no step may show it.
	for _, q := range steps[0] {
		if q.w < 0 || q.w > 1000 {
			t.Fatalf("step %+v: a counter wrap shows as power", q)
		}
	}
}

func TestCompare(t *testing.T) {
	a, b := load(t, "quick.json"), load(t, "estimated.json")
	p, err := Compare([]string{"ci-host quick", "laptop estimated"}, []*results.Record{a, b}, "gemm-fp64-1024")
	if err != nil || p == nil {
		t.Fatalf("Compare: %v, %v", p, err)
	}
	if p.Y.Label.Text != "GFLOPS/W (gross)" {
		t.Errorf("gemm compared as %q, want GFLOPS/W", p.Y.Label.Text)
	}
	svg, err := Render(p, goldenW, goldenH, "svg")
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svg, "SYNTHETIC (fake meter) + ESTIMATED")
	png, err := Render(p, goldenW, goldenH, "png")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "compare-gemm", png)

	p, err = Compare([]string{"a", "b"}, []*results.Record{a, b}, "mnist-mlp-fp32-offline")
	if err != nil || p == nil {
		t.Fatalf("Compare of a workload one record lacks: %v, %v", p, err)
	}
	if p, err := Compare([]string{"a", "b"}, []*results.Record{a, b}, "no-such"); p != nil || err != nil {
		t.Errorf("Compare of a workload no record ran: %v, %v", p, err)
	}
	if _, err := Compare([]string{"a"}, []*results.Record{a, b}, "gemm-fp64-1024"); err == nil {
		t.Error("Compare with too few names did not fail")
	}
}

func TestLogTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		min    int
	}{{1e-5, 10, 2}, {0.2, 0.9, 2}, {1.2, 1.5, 2}, {3, 400, 2}} {
		n := 0
		for _, tk := range logTicks(c.lo, c.hi) {
			if tk.Label != "" {
				n++
			}
		}
		if n < c.min {
			t.Errorf("logTicks(%g, %g): %d labels, want at least %d", c.lo, c.hi, n, c.min)
		}
	}
}

// Jobs that miss their target are drawn in the strip at the top.
func TestTransferNotConverged(t *testing.T) {
	rec := load(t, "models.json")
	n := 0
	for _, w := range rec.Workloads {
		switch w.Params[results.ParamStrategy] {
		case "scratch":
			w.Reps[1].Work.Quality[results.QConverged] = 0
			n++
		case "full":
			for _, r := range w.Reps {
				r.Work.Quality[results.QConverged] = 0
			}
			n++
		}
	}
	if n != 2 {
		t.Fatal("models.json lacks scratch or full transfer workloads")
	}
	p, err := Transfer(rec)
	if err != nil || p == nil {
		t.Fatalf("Transfer: %v, %v", p, err)
	}
	b, err := Render(p, goldenW, goldenH, "png")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "models-transfer-notconverged", b)
	svg, err := Render(p, goldenW, goldenH, "svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("did not converge")) {
		t.Error("svg does not say which jobs did not converge")
	}
	if !bytes.Contains(svg, []byte("full (0/3)")) {
		t.Error("svg does not count the jobs that reached the target")
	}
}
