package report

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/results"
	// The workloads certify.Evaluate checks a record's work against, as
	// cmd/joulebench registers them.
	_ "github.com/joulebench/joulebench/workloads/gemm"
	_ "github.com/joulebench/joulebench/workloads/model"
)

// The HTML and Markdown cases, testdata/html/CASE.json: quick-estimate
// is a real quick-suite run on the estimate meter (model workloads
// included); fake-carbon, failures and rapl-asym are copies of the run
// table's cases (the fake meter with embodied carbon; a failed workload
// and an interrupted run; a two-socket RAPL run).
func htmlCases(t *testing.T) []string {
	t.Helper()
	paths, _ := filepath.Glob("testdata/html/*.json")
	if len(paths) == 0 {
		t.Fatal("no testdata/html/*.json")
	}
	var out []string
	for _, p := range paths {
		out = append(out, strings.TrimSuffix(filepath.Base(p), ".json"))
	}
	return out
}

func mustReadHTMLCase(t testing.TB, name string) *results.Record {
	t.Helper()
	rec, err := results.ReadFile(filepath.Join("testdata", "html", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// signedEnvelope certifies rec (level 0 allowed) and signs it with a
// fresh key.
func signedEnvelope(t testing.TB, rec *results.Record) ([]byte, ed25519.PublicKey) {
	t.Helper()
	spec, raw := certify.DefaultSpec()
	cert, err := certify.Evaluate(rec, spec, certify.SpecDigest(raw), certify.EvalOptions{AllowEstimated: true, Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	pub, priv, err := certify.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	env, err := certify.Sign(certify.Subject{Name: "record.json", SHA256: hex.EncodeToString(sum[:])}, certify.PredicateCertificate, cert, priv)
	if err != nil {
		t.Fatal(err)
	}
	return env, pub
}

func writeHTML(t testing.TB, rec *results.Record, opt HTMLOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, rec, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Markup that would make a browser fetch something: an attribute that
// names a resource (xlink:href included) or a CSS url() in a tag, and
// url() or @import in a style sheet. Text is escaped, so "<" in the page
// always opens a real tag.
var (
	tagRE      = regexp.MustCompile(`<[a-zA-Z!?][^>]*>`)
	styleRE    = regexp.MustCompile(`(?is)<style[^>]*>(.*?)</style>`)
	loadAttrRE = regexp.MustCompile(`(?i)(\b(src|href|action|formaction|poster|background|data)\s*=|url\s*\()`)
	loadCSSRE  = regexp.MustCompile(`(?i)(url\s*\(|@import)`)
)

// TestHTMLSelfContained: every case's page, with and without a
// certificate, loads nothing and runs nothing.
func TestHTMLSelfContained(t *testing.T) {
	for _, name := range htmlCases(t) {
		t.Run(name, func(t *testing.T) {
			rec := mustReadHTMLCase(t, name)
			env, _ := signedEnvelope(t, rec)
			for _, opt := range []HTMLOptions{{}, {Certificate: env}} {
				page := writeHTML(t, rec, opt)
				assertSelfContained(t, page)
				if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "@page { size: A4;") {
					t.Error("not an HTML page for A4")
				}
			}
		})
	}
}

func assertSelfContained(t *testing.T, page string) {
	t.Helper()
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page has a <script>")
	}
	for _, tag := range tagRE.FindAllString(page, -1) {
		if loadAttrRE.MatchString(tag) {
			t.Errorf("the page would load something: %.200q", tag)
		}
	}
	for _, m := range styleRE.FindAllStringSubmatch(page, -1) {
		if loadCSSRE.MatchString(m[1]) {
			t.Errorf("the style sheet would load something: %.200q", loadCSSRE.FindString(m[1]))
		}
	}
	for _, tag := range []string{"<img", "<link", "<iframe", "<object", "<embed", "<base", "<meta http-equiv"} {
		if strings.Contains(strings.ToLower(page), tag) {
			t.Errorf("the page has %s", tag)
		}
	}
}

// TestHTMLOrder: the sections come in the order the brief of the page
// gives, the verdict first.
func TestHTMLOrder(t *testing.T) {
	rec := mustReadHTMLCase(t, "quick-estimate")
	env, _ := signedEnvelope(t, rec)
	page := writeHTML(t, rec, HTMLOptions{Certificate: env})
	order := []string{`id="verdict"`, `id="banner"`, "<h2>Host</h2>", "<h2>Disclosure</h2>", "<h2>Results</h2>",
		"Models, MLPerf Offline", "<h2>Plots</h2>", "<svg", "<h2>Statement for a paper</h2>", "<h2>Certificate</h2>", "joulebench verify"}
	at := -1
	for _, s := range order {
		i := strings.Index(page, s)
		if i < 0 {
			t.Errorf("the page has no %q", s)
			continue
		}
		if i < at {
			t.Errorf("%q comes before what precedes it in the page's order", s)
		}
		at = i
	}
}

// TestHTMLVerdict checks what the verdict box says for each kind of
// record: the banner, validity and why, the level and ratings.
func TestHTMLVerdict(t *testing.T) {
	for _, c := range []struct {
		name string
		want []string
		not  []string
	}{
		{"quick-estimate", []string{`<div id="banner" class="banner">ESTIMATED</div>`, "NOT VALID", "gemm-fp64-1024: variation: CV of energy per item",
			"level 0 (estimated)", "would be refused", "level 0 (estimated): ", "cpu-gemm-fp64", "embodied not included", "Models, MLPerf Offline", "mlp int8"}, nil},
		{"fake-carbon", []string{`<div id="banner" class="banner">SYNTHETIC</div>`, "fake meter", "level 0 (synthetic: fake meter)", "kgCO2e over"}, []string{"ESTIMATED"}},
		{"failures", []string{"NOT VALID", "FAILED", "INCOMPLETE", "energy counter"}, []string{`id="banner"`}},
		{"rapl-asym", []string{"level 1 (component)", "energy counter", "sockets"}, []string{`id="banner"`, "ESTIMATED", "SYNTHETIC"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := writeHTML(t, mustReadHTMLCase(t, c.name), HTMLOptions{})
			verdict := page[strings.Index(page, `id="verdict"`):]
			verdict = verdict[:strings.Index(verdict, "</section>")]
			for _, w := range c.want {
				if !strings.Contains(page, w) {
					t.Errorf("the page does not say %q", w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(page, w) {
					t.Errorf("the page says %q", w)
				}
			}
			if !strings.Contains(verdict, "Measurement level") {
				t.Error("no measurement level in the verdict box")
			}
		})
	}
}

// TestHTMLEscapes: text from the record cannot become markup, in the
// page or in its plots.
func TestHTMLEscapes(t *testing.T) {
	rec := mustReadHTMLCase(t, "quick-estimate")
	evil := `<script>alert(1)</script><img src="http://evil.example/x.png">`
	rec.Workloads[2].Name = "mnist-mlp-fp32-offline" + evil
	rec.Host.CPUModel = `"><link rel=stylesheet href="https://evil.example/a.css">` + evil
	rec.Notes = append(rec.Notes, evil)
	rec.Meters[0].Notes = append(rec.Meters[0].Notes, evil)
	env, _ := signedEnvelope(t, rec)
	page := writeHTML(t, rec, HTMLOptions{Certificate: env, CertPath: `cert "x".json`, RecordPath: "a b/record.json", Verified: evil})
	assertSelfContained(t, page)
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile text is not shown escaped")
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rec); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "<script") || strings.Contains(md.String(), "<img") || strings.Contains(md.String(), "<link") {
		t.Error("the Markdown report lets HTML from the record through")
	}
}

// TestHTMLCertificate: the certificate's section says what it states,
// whether it was verified, and the commands that verify it, with the
// paths quoted for the shell.
func TestHTMLCertificate(t *testing.T) {
	rec := mustReadHTMLCase(t, "quick-estimate")
	env, pub := signedEnvelope(t, rec)
	page := writeHTML(t, rec, HTMLOptions{Certificate: env, CertPath: "my results/certificate.dsse.json", RecordPath: "my results/record.json"})
	for _, w := range []string{
		"NOT VERIFIED by the program that wrote this page",
		"joulebench verify &#39;my results/certificate.dsse.json&#39; --pub joulebench.pub --record &#39;my results/record.json&#39;",
		"openssl pkeyutl -verify -pubin -inkey joulebench.pub -rawin -in pae.bin -sigfile sig.bin",
		"openssl dgst -sha256 -r &#39;my results/record.json&#39;",
		"cosign verify-blob-attestation --key joulebench.pub --insecure-ignore-tlog",
		"--type https://joulebench.dev/certificate/v1",
		"level 0 (estimated)",
		"statement sha256",
		certify.KeyID(pub),
		"The signature proves who signed",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("the certificate section does not say %q", w)
		}
	}
	page = writeHTML(t, rec, HTMLOptions{Certificate: env, Verified: "VERIFIED: everything"})
	if !strings.Contains(page, `<p id="verification" class="ok">VERIFIED: everything</p>`) {
		t.Error("the caller's verification result is not shown")
	}
	page = writeHTML(t, rec, HTMLOptions{Certificate: []byte("{not json")})
	if !strings.Contains(page, "The certificate could not be read: not a DSSE envelope") {
		t.Error("a broken certificate is not reported")
	}
}

// TestHTMLNoPlotsWithoutReps: a record with nothing to plot still
// makes a page.
func TestHTMLNoPlotsWithoutReps(t *testing.T) {
	rec := mustReadHTMLCase(t, "rapl-asym")
	rec.Workloads = nil
	page := writeHTML(t, rec, HTMLOptions{})
	if !strings.Contains(page, "the record has no workloads") {
		t.Error("no verdict for a record without workloads")
	}
}

// certifySizeRecord is a record the size of a certify-suite run: two
// workloads, reps repetitions of secs seconds, a RAPL package and DRAM
// read every 100 ms, a 30 s idle baseline and warm-ups.
func certifySizeRecord(reps int, secs float64) *results.Record {
	const interval = 0.1
	rec := &results.Record{
		SchemaVersion: results.SchemaVersion, RunID: "20261130T000000Z-bench0", Complete: true,
		StartedAt: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC),
		Tool:      results.Tool{Name: "joulebench", Version: "bench", GoVersion: "go1.26"},
		Host:      results.Host{CPUModel: "Bench CPU", Sockets: 1, Cores: 16, LogicalCPUs: 32, OS: "linux", Arch: "amd64", MaxMHz: 3500},
		Config: results.Config{Suite: "certify", SuiteVersion: "2", IntervalS: interval, IdleS: 30, WarmupS: 10, MinTimeS: secs,
			Reps: reps, MinReadings: 10, MaxCV: 0.05},
		Meters: []results.Meter{{Name: "rapl", Method: results.MethodCounter, Domains: []results.Domain{
			{Name: "package-0", Kind: "package", InTotal: true, MaxEnergyUJ: 262143328850},
			{Name: "dram-0", Kind: "dram", InTotal: true, MaxEnergyUJ: 65712999613}}}},
		Carbon: &results.Carbon{Method: results.CarbonAnnual, Region: "DE", GramsPerKWh: 380, Year: 2024, Source: "bench", PUE: 1.2, Boundary: "package-0, dram-0"},
	}
	ts, pkg, dram := 0.0, int64(0), int64(0)
	read := func(edge string) {
		rec.Readings = append(rec.Readings, results.Reading{TS: ts, Meter: "rapl", Edge: edge, EnergyUJ: []int64{pkg, dram}})
	}
	phase := func(edge string, d, pw, dw float64) (map[string]float64, int) {
		start := len(rec.Readings)
		read(edge + "-start")
		p0, d0 := pkg, dram
		n := int(d / interval)
		for i := 1; i <= n; i++ {
			ts += interval
			pkg += int64(pw * interval * 1e6)
			dram += int64(dw * interval * 1e6)
			if i == n {
				read(edge + "-end")
			} else {
				read("")
			}
		}
		return map[string]float64{"package-0": float64(pkg-p0) / 1e6, "dram-0": float64(dram-d0) / 1e6}, len(rec.Readings) - start
	}
	e, n := phase("idle", 30, 20, 3)
	rec.Idle = &results.Phase{Edge: "idle", DurationS: 30, EnergyJ: e, Readings: n}
	for _, name := range []string{"gemm-fp64-4096", "gemm-fp32-4096"} {
		w := results.Workload{Name: name, Version: "1", WorkUnit: "GEMM call (2N³ FLOPs)", Params: map[string]string{"n": "4096"}}
		e, n := phase(name+"-warmup", 10, 150, 8)
		w.Warmup = &results.Phase{Edge: name + "-warmup", DurationS: 10, EnergyJ: e, Readings: n}
		for r := range reps {
			edge := fmt.Sprintf("%s-rep%d", name, r)
			start := ts
			e, n := phase(edge, secs, 150+float64(r), 8)
			iters := int(secs * 20)
			w.Reps = append(w.Reps, results.Rep{Index: r, Edge: edge, Attempts: 1, Iters: iters, StartS: start, DurationS: secs, EnergyJ: e, Readings: n,
				Work: results.Work{FLOPs: float64(iters) * 2 * 4096 * 4096 * 4096, Items: int64(iters)}})
		}
		rec.Workloads = append(rec.Workloads, w)
		rec.Config.Workloads = append(rec.Config.Workloads, name)
	}
	rec.FinishedAt = rec.StartedAt.Add(time.Duration(ts * float64(time.Second)))
	return rec
}

var htmlSink int

// BenchmarkHTMLCertifySize writes the HTML report of a certify-size
// record (2 workloads × 5 repetitions × 60 s, readings every 100 ms):
// the target is under 2 s and 2 MB a page.
func BenchmarkHTMLCertifySize(b *testing.B) {
	rec := certifySizeRecord(5, 60)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteHTML(&buf, rec, HTMLOptions{}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	htmlSink = size
	b.ReportMetric(float64(size), "bytes/page")
}

// TestHTMLCertifySize keeps the benchmark's record honest and its page
// under 2 MB.
func TestHTMLCertifySize(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	rec := certifySizeRecord(5, 60)
	if n := len(rec.Readings); n < 6000 {
		t.Fatalf("%d readings, want a certify-size record", n)
	}
	start := time.Now()
	page := writeHTML(t, rec, HTMLOptions{})
	took := time.Since(start)
	t.Logf("certify-size record: %d readings; HTML %d bytes in %v", len(rec.Readings), len(page), took)
	if len(page) > 2<<20 {
		t.Errorf("the page is %d bytes, over 2 MB", len(page))
	}
	if strings.Contains(page, "NOT VALID") {
		i := strings.Index(page, "NOT VALID")
		t.Errorf("the benchmark's record is not valid: %s", page[i:min(i+600, len(page))])
	}
	assertSelfContained(t, page)
}

// The review's case: a fake meter's record whose method is edited to
// "counter" still gets the SYNTHETIC banner, from certify's judgement of
// the meter by what it is.
func TestHTMLBannerFollowsCertify(t *testing.T) {
	rec := mustReadHTMLCase(t, "fake-carbon")
	for i := range rec.Meters {
		rec.Meters[i].Method = results.MethodCounter
	}
	page := writeHTML(t, rec, HTMLOptions{})
	if !strings.Contains(page, `id="banner" class="banner">SYNTHETIC`) && !strings.Contains(page, `id="banner" class="banner">NOT MEASURED`) {
		t.Errorf("a relabelled fake meter's page has no banner:\n%.2000s", page)
	}
	if !strings.Contains(page, "the record contradicts itself: meter methods") {
		t.Error("the page does not say the record contradicts itself")
	}
}
