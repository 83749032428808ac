package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath is where the browser of TestHTMLChromium is looked for.
const chromiumPath = "/usr/bin/chromium"

// htmlOut, when set, is a directory the Chromium test leaves the page,
// its PDF and a screenshot in, for a person to look at.
var htmlOut = os.Getenv("JOULEBENCH_HTML_OUT")

// TestHTMLChromium renders the HTML report of a quick-suite record in a
// real headless Chromium: every plot's <svg> has a size, nothing is
// loaded but the page itself (and nothing fails to load), the verdict
// box and the ESTIMATED banner are visible, and the page prints on A4 in
// fewer than 3 pages. A second page, with a certificate, shows its
// verification result.
func TestHTMLChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no Chromium at %s (%v): the HTML report is not rendered in a browser; install chromium to run this test", chromiumPath, err)
	}
	if testing.Short() {
		t.Skip("-short: not starting a browser")
	}
	rec := mustReadHTMLCase(t, "quick-estimate")
	dir := t.TempDir()
	var page bytes.Buffer
	if err := WriteHTML(&page, rec, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	env, _ := signedEnvelope(t, rec)
	var certPage bytes.Buffer
	if err := WriteHTML(&certPage, rec, HTMLOptions{Certificate: env, CertPath: "results/q/certificate.dsse.json", RecordPath: "results/q/record.json",
		Verified: "VERIFIED: signature, record digest, spec and summaries"}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
	)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(ctx)
	defer cancelCtx()

	var mu sync.Mutex
	var failed, requests []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventLoadingFailed:
			failed = append(failed, string(e.Type)+": "+e.ErrorText)
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		}
	}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}

	for _, c := range []struct {
		name string
		html []byte
		cert bool
	}{{"quick-estimate", page.Bytes(), false}, {"quick-estimate-cert", certPage.Bytes(), true}} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".html")
			if err := os.WriteFile(path, c.html, 0o644); err != nil {
				t.Fatal(err)
			}
			url := "file://" + path
			mu.Lock()
			failed, requests = nil, nil
			mu.Unlock()
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 1400), chromedp.Navigate(url)); err != nil {
				t.Fatalf("load %s: %v", url, err)
			}

			type box struct {
				ID         string  `json:"id"`
				W          float64 `json:"w"`
				H          float64 `json:"h"`
				Visibility string  `json:"visibility"`
				Display    string  `json:"display"`
			}
			svgs, err := chromedp.Run(ctx, chromedp.Evaluate[[]box](`[...document.querySelectorAll('svg')].map(s => {
				const r = s.getBoundingClientRect(), st = getComputedStyle(s);
				return {id: (s.closest('figure') || {}).id || '', w: r.width, h: r.height, visibility: st.visibility, display: st.display};
			})`))
			if err != nil {
				t.Fatal(err)
			}
			if len(svgs) == 0 {
				t.Error("no <svg> on the page: the plots are missing")
			}
			for _, s := range svgs {
				if !(s.W > 0 && s.H > 0) || s.Visibility != "visible" || s.Display == "none" {
					t.Errorf("svg %s rendered %gx%g px, visibility %s, display %s", s.ID, s.W, s.H, s.Visibility, s.Display)
				}
			}
			t.Logf("%d plots: %v", len(svgs), svgs)

			ids := []string{"verdict", "banner"}
			if c.cert {
				ids = append(ids, "verification")
			}
			for _, id := range ids {
				b, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => {
					const e = document.getElementById(`+"`"+id+"`"+`);
					if (!e) return {id: '', w: 0, h: 0, visibility: 'missing', display: 'missing'};
					const r = e.getBoundingClientRect(), st = getComputedStyle(e);
					return {id: e.id, w: r.width, h: r.height, visibility: st.visibility, display: st.display};
				})()`))
				if err != nil {
					t.Fatal(err)
				}
				if b.ID != id || !(b.W > 0 && b.H > 0) || b.Visibility != "visible" || b.Display == "none" {
					t.Errorf("#%s is not visible: %+v", id, b)
				}
			}
			if !c.cert {
				text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('banner').innerText`))
				if err != nil || text != "ESTIMATED" {
					t.Errorf("banner text %q (%v), want ESTIMATED", text, err)
				}
				// The verdict is the first thing on the page: within
				// the first screen.
				top, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById('verdict').getBoundingClientRect().top`))
				if err != nil || top > 200 {
					t.Errorf("verdict box starts %g px down (%v), want it at the top", top, err)
				}
			}

			pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground(), chromedp.PDFPreferCSSPageSize()))
			if err != nil {
				t.Fatalf("print to PDF: %v", err)
			}
			pages := pdfPages(pdf)
			t.Logf("PDF: %d bytes, %d A4 pages", len(pdf), pages)
			if pages == 0 {
				t.Error("the PDF has no /Type /Page object")
			}
			if !c.cert && pages >= 3 {
				t.Errorf("the quick suite's report prints on %d A4 pages, want fewer than 3", pages)
			}

			mu.Lock()
			for _, f := range failed {
				t.Errorf("a resource failed to load: %s", f)
			}
			for _, r := range requests {
				if r != url {
					t.Errorf("the page loaded %s: it must load nothing but itself", r)
				}
			}
			mu.Unlock()

			if htmlOut != "" {
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				for name, data := range map[string][]byte{".html": c.html, ".pdf": pdf, ".png": png} {
					if err := os.WriteFile(filepath.Join(htmlOut, c.name+name), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

// pdfPageObject matches a page object of a PDF ("/Type /Page"), not the
// page tree ("/Type /Pages").
var pdfPageObject = regexp.MustCompile(`/Type\s*/Page\b[^s]`)

// pdfPages counts the page objects of a PDF. Chromium (Skia) writes them
// uncompressed, whatever it does with the content streams.
func pdfPages(pdf []byte) int {
	return len(pdfPageObject.FindAll(pdf, -1))
}

func TestPDFPages(t *testing.T) {
	pdf := []byte("1 0 obj << /Type /Pages /Kids [2 0 R 3 0 R] >>\n2 0 obj << /Type /Page /Parent 1 0 R >>\n3 0 obj <</Type/Page/Parent 1 0 R>>")
	if n := pdfPages(pdf); n != 2 {
		t.Errorf("pdfPages = %d, want 2", n)
	}
	if strings.Count(string(pdf), "/Pages") != 1 {
		t.Fatal("bad fixture")
	}
}
