package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMarkdownGolden: testdata/html/CASE.md is WriteMarkdown of
// CASE.json, and CASE.png.md the same with PNGDir "plots". The records
// are fixed files, and nothing in the report reads the clock or the
// machine, so the golden files hold anywhere. On a mismatch the output
// is written to CASE.md.got; -update rewrites the golden files.
func TestMarkdownGolden(t *testing.T) {
	for _, name := range htmlCases(t) {
		t.Run(name, func(t *testing.T) {
			rec := mustReadHTMLCase(t, name)
			var b bytes.Buffer
			if err := WriteMarkdown(&b, rec); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "html", name+".md"), b.Bytes())
			b.Reset()
			if err := WriteMarkdownOptions(&b, rec, MarkdownOptions{PNGDir: "plots"}); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "html", name+".png.md"), b.Bytes())
		})
	}
}

// TestMarkdownSameAsHTML: the Markdown report says what the HTML page
// says, the verdict first.
func TestMarkdownSameAsHTML(t *testing.T) {
	rec := mustReadHTMLCase(t, "quick-estimate")
	var b bytes.Buffer
	if err := WriteMarkdown(&b, rec); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if !strings.Contains(md, "\n> # ESTIMATED\n") {
		t.Error("no ESTIMATED banner at the top")
	}
	order := []string{"> # ESTIMATED", "**NOT VALID**", "**Measurement level: level 0 (estimated)**", "**Ratings:**", "## Host", "## Disclosure",
		"## Results", "### Models, MLPerf Offline", "## Statement for a paper"}
	at := -1
	for _, s := range order {
		i := strings.Index(md, s)
		if i < at || i < 0 {
			t.Errorf("%q missing or out of order", s)
		}
		at = i
	}
	if strings.Contains(md, "## Plots") {
		t.Error("plots without PNGDir")
	}
}

// TestWritePNGs: the files WritePNGs writes are the ones the Markdown
// links.
func TestWritePNGs(t *testing.T) {
	rec := mustReadHTMLCase(t, "quick-estimate")
	dir := t.TempDir()
	paths, err := WritePNGs(dir, rec)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteMarkdownOptions(&b, rec, MarkdownOptions{PNGDir: "plots/"}); err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no plots written")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG (%v)", p, err)
		}
		link := "(plots/" + filepath.Base(p) + ")"
		if !strings.Contains(b.String(), link) {
			t.Errorf("the Markdown does not link %s", link)
		}
	}
}

func TestMDEscape(t *testing.T) {
	for in, want := range map[string]string{
		"gemm-fp64-1024":         "gemm-fp64-1024",
		"a|b":                    `a\|b`,
		"*x* _y_ `z` [l](u) <b>": "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) &lt;b&gt;",
		"two\nlines":             "two lines",
		"# head":                 `\# head`,
	} {
		if got := mdEscape(in); got != want {
			t.Errorf("mdEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
