package store

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

// Three measured machines, one clearly best and two whose intervals
// overlap, an estimate, and an invalid run: ranks 1, =2, =2 among the
// measured, the invalid one unranked after them, the estimate in its own
// section.
func TestTopTie(t *testing.T) {
	out := t.TempDir()
	for i, scale := range []float64{1.0, 0.5, 1.01} {
		writeRecord(t, out, testRecord(runID(i), t0, scale))
	}
	est := testRecord(runID(3), t0, 0.1) // the "best" figure, but a model's
	est.Meters[0].Name, est.Meters[0].Method, est.Meters[0].Estimated = "estimate", results.MethodModel, true
	writeRecord(t, out, est)
	bad := testRecord(runID(4), t0, 0.2)
	bad.Workloads[0].Reps = bad.Workloads[0].Reps[:2] // 2 of the 3 required
	writeRecord(t, out, bad)

	s := openIndex(t, out)
	if _, err := s.Reindex(out); err != nil {
		t.Fatal(err)
	}
	rk, err := s.Top("gemm-fp64-1024", "")
	if err != nil {
		t.Fatal(err)
	}
	if rk.Metric != MetricFLOPsPerJ || !rk.HigherIsBetter || rk.Variants || len(rk.Sections) != 2 {
		t.Fatalf("ranking: %+v", rk)
	}
	m := rk.Sections[0]
	var got []string
	for _, e := range m.Entries {
		got = append(got, e.Rank+" "+e.RunID)
	}
	want := []string{"1 " + runID(1), "=2 " + runID(0), "=2 " + runID(2), "- " + runID(4)}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("measured ranks:\n got %v\nwant %v", got, want)
	}
	if len(m.Ties) != 1 || m.Ties[0].String() != "ranks 2–3 tie: each one's 95% interval overlaps rank 2's" {
		t.Errorf("ties: %v", m.Ties)
	}
	if e := m.Entries[3]; !strings.Contains(e.Why, "invalid: repetitions: 2 of the 3") || e.Position != 0 {
		t.Errorf("invalid entry: %+v", e)
	}
	if e := m.Entries[0]; math.Abs(e.Value.Median-2e10) > 1 || !(e.Value.Low < e.Value.Median && e.Value.Median < e.Value.High) {
		t.Errorf("best entry: %+v", e.Value)
	}
	if e := rk.Sections[1]; !e.Estimated || len(e.Entries) != 1 || e.Entries[0].Rank != "1" || e.Entries[0].Measurement != Estimated {
		t.Errorf("estimated section: %+v", e)
	}

	items, err := s.Top("gemm-fp64-1024", MetricItemsPerJ)
	if err != nil {
		t.Fatal(err)
	}
	if e := items.Sections[0].Entries[0]; items.Unit != "item/J" || e.RunID != runID(1) || math.Abs(e.Value.Median-2) > 1e-9 {
		t.Errorf("items per J: %s %+v", items.Unit, e)
	}
	if _, err := s.Top("gemm-nope", ""); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "gemm-fp64-1024") {
		t.Errorf("unknown workload: %v", err)
	}
	if _, err := s.Top("gemm-fp64-1024", "watts"); err == nil {
		t.Error("unknown metric: no error")
	}
}

// modelRecord is a record of a model's variants: each spends joules per
// repetition on 1000 inferences at the given accuracy (reference 0.98).
func modelRecord(id string, variants map[string][2]float64) *results.Record {
	rec := testRecord(id, t0, 1)
	rec.Workloads = nil
	for v, ja := range variants {
		w := results.Workload{Name: "mnist-mlp-" + v + "-offline", Version: "1", WorkUnit: "inference",
			Params: map[string]string{results.ParamModel: "mnist-mlp", results.ParamVariant: v, results.ParamScenario: "offline"},
			Check:  &results.Check{Name: "agreement", OK: true, Limit: 0.002}}
		for i, j := range []float64{1.00, 1.02, 0.98} {
			w.Reps = append(w.Reps, results.Rep{Index: i, Iters: 10, DurationS: 2, Readings: 21,
				EnergyJ: map[string]float64{"package-0": ja[0] * j},
				Work: results.Work{FLOPs: 1e9, Items: 1000, Quality: map[string]float64{
					results.QAccuracy: ja[1], results.QReferenceAccuracy: 0.98}}})
		}
		rec.Workloads = append(rec.Workloads, w)
	}
	return rec
}

func TestTopVariants(t *testing.T) {
	out := t.TempDir()
	writeRecord(t, out, modelRecord(runID(1), map[string][2]float64{
		"fp32": {10, 0.98}, "int8": {4, 0.979}, "prune90": {2, 0.90},
	}))
	s := openIndex(t, out)
	if _, err := s.Reindex(out); err != nil {
		t.Fatal(err)
	}
	rk, err := s.Top("mnist-mlp/offline", "")
	if err != nil {
		t.Fatal(err)
	}
	if !rk.Variants || rk.Metric != MetricJPerItem || rk.HigherIsBetter || rk.Unit != "J/inference" || len(rk.Sections) != 1 {
		t.Fatalf("ranking: %+v", rk)
	}
	var got []string
	for _, e := range rk.Sections[0].Entries {
		got = append(got, e.Rank+" "+e.Variant+" "+e.Gate)
	}
	want := "1 int8 99%,2 fp32 99.9%,- prune90 below 99%"
	if strings.Join(got, ",") != want {
		t.Errorf("variants:\n got %v\nwant %v", got, want)
	}
	// One variant by name ranks the records (machines) that ran it, by
	// energy per inference too.
	one, err := s.Top("mnist-mlp-int8-offline", "")
	if err != nil || one.Variants || one.Metric != MetricJPerItem || len(one.Sections[0].Entries) != 1 {
		t.Errorf("one variant: %+v %v", one, err)
	}
}

// The certificate reader never panics and never calls an unreadable
// file anything but unreadable.
func FuzzDecodeUnverified(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("..", "..", "certify", "testdata", "golden", "certificate.dsse.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30="}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Certificate
		if err := decodeUnverified(data, &c); err == nil && c.Kind != "certificate" && c.Kind != "reproduction" {
			t.Errorf("no error but kind %q", c.Kind)
		}
	})
}

// The review's case: a fake meter's record that calls its method
// "counter" is not filed among measurements; certify's level decides.
func TestRelabelledFakeMeterNotMeasured(t *testing.T) {
	out := t.TempDir()
	rec := testRecord(runID(0), t0, 1)
	rec.Meters[0].Name = "fake" // the fake meter, its method edited to counter
	writeRecord(t, out, rec)
	s := openIndex(t, out)
	if _, err := s.Reindex(out); err != nil {
		t.Fatal(err)
	}
	rk, err := s.Top("gemm-fp64-1024", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range rk.Sections {
		if !sec.Estimated {
			t.Errorf("a relabelled fake meter ranked among measurements: %+v", sec)
		}
	}
}

// Runs of another workload version are listed, not ranked with the rest.
func TestTopOtherVersionNotRanked(t *testing.T) {
	out := t.TempDir()
	for i := 0; i < 2; i++ {
		writeRecord(t, out, testRecord(runID(i), t0, 1+float64(i)))
	}
	odd := testRecord(runID(2), t0, 0.1)
	odd.Workloads[0].Version, odd.Workloads[0].ContentHash = "99", "other"
	writeRecord(t, out, odd)
	s := openIndex(t, out)
	if _, err := s.Reindex(out); err != nil {
		t.Fatal(err)
	}
	rk, err := s.Top("gemm-fp64-1024", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rk.Sections[0].Entries {
		if e.RunID == runID(2) && (e.Rank != "-" || !strings.Contains(e.Why, "not comparable")) {
			t.Errorf("another version ranked: %+v", e)
		}
	}
}
