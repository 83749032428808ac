package report

import (
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/joulebench/joulebench/results"
)

// MarkdownOptions choose what the Markdown report links to.
type MarkdownOptions struct {
	// RecordPath is where the record was read, so that a cluster record's
	// node records are found beside it; empty for none.
	RecordPath string
	// PNGDir, if set, is the directory, as the Markdown file sees it
	// (relative to it, with forward slashes), that holds the plots as
	// PNG files named after each plot: power.png, efficiency.png,
	// pareto.png, transfer.png. The report then links each plot that
	// applies to the record; WritePNGs writes the files. Empty: no plots.
	PNGDir string
}

// WriteMarkdown writes the record as Markdown (GitHub's flavour) for a
// README or a paper's supplement: the same content as WriteHTML, in the
// same order, without plots.
func WriteMarkdown(w io.Writer, rec *results.Record) error {
	return WriteMarkdownOptions(w, rec, MarkdownOptions{})
}

// WriteMarkdownOptions writes the Markdown report as opt says.
func WriteMarkdownOptions(w io.Writer, rec *results.Record, opt MarkdownOptions) error {
	p, err := buildPage(rec, opt.RecordPath)
	if err != nil {
		return err
	}
	var plots []string
	if opt.PNGDir != "" {
		named, perr := plotsFor(rec)
		for _, n := range named {
			plots = append(plots, n.name)
		}
		if perr != nil {
			p.Notes = append(p.Notes, "WARNING: plots not drawn: "+perr.Error())
		}
	}
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	e := mdEscape

	line("# joulebench run %s", e(p.RunID))
	line("")
	sub := "suite " + e(p.Suite)
	if p.Started != "" {
		sub += " · started " + e(p.Started)
	}
	line("%s", sub)
	line("")

	// The verdict box: a block quote, first.
	if p.Banner != "" {
		line("> # %s", p.Banner)
		line("> **%s**", e(p.BannerWhy))
		line(">")
	}
	verdict := "**NOT VALID**"
	if p.Valid {
		verdict = "**VALID**"
	}
	line("> %s: %s", verdict, e(p.ValidWhy))
	for _, f := range p.Failures {
		line("> - %s", e(f))
	}
	line(">")
	if p.LevelErr != "" {
		line("> **Measurement level:** not judged: %s", e(p.LevelErr))
	} else {
		line("> **Measurement level: %s**: %s", e(p.Level), e(p.LevelWhy))
		line(">")
		if len(p.Refusal) > 0 {
			line("> **Certificate (profile %s):** would be refused:", e(p.Profile))
			for _, r := range p.Refusal {
				line("> - %s", e(r))
			}
		} else {
			line("> **Certificate (profile %s):** could be issued", e(p.Profile))
		}
	}
	if len(p.Ratings) > 0 {
		line(">")
		line("> **Ratings:**")
		for _, r := range p.Ratings {
			basis := ""
			if r.Basis != "" {
				basis = ": " + e(r.Basis)
			}
			line("> - **%s** %s (%s%s)", e(r.Band), e(r.Workload), e(r.Class), basis)
		}
	}
	line("")

	kvTable := func(rows []kv) {
		line("| | |")
		line("| --- | --- |")
		for _, r := range rows {
			line("| %s | %s |", e(r.K), e(r.V))
		}
		line("")
	}
	line("## Host")
	line("")
	kvTable(p.Host)

	line("## Disclosure")
	line("")
	var disc []kv
	for _, m := range p.Meters {
		v := "**" + m.Method + "**; domains " + m.Domains
		if m.Source != "" {
			v += "; source: " + m.Source
		}
		disc = append(disc, kv{"meter " + m.Name, v})
		for _, n := range m.Notes {
			disc = append(disc, kv{"meter " + m.Name + " note", n})
		}
	}
	// The meter's method is bold: escape the rest, not the asterisks.
	line("| | |")
	line("| --- | --- |")
	for _, r := range disc {
		v := e(r.V)
		if strings.HasPrefix(r.V, "**") {
			m, rest, _ := strings.Cut(strings.TrimPrefix(r.V, "**"), "**")
			v = "**" + e(m) + "**" + e(rest)
		}
		line("| %s | %s |", e(r.K), v)
	}
	for _, r := range p.Disclosure {
		line("| %s | %s |", e(r.K), e(r.V))
	}
	line("")

	line("## Results")
	line("")
	for _, t := range p.Tables {
		line("### %s", e(t.Title))
		line("")
		head := make([]string, len(t.Head))
		rule := make([]string, len(t.Head))
		for j, h := range t.Head {
			head[j] = e(h)
			rule[j] = "---:"
			if j < t.Left {
				rule[j] = "---"
			}
		}
		line("| %s |", strings.Join(head, " | "))
		line("| %s |", strings.Join(rule, " | "))
		for _, r := range t.Rows {
			cells := make([]string, len(r))
			for j, c := range r {
				cells[j] = e(c)
			}
			line("| %s |", strings.Join(cells, " | "))
		}
		line("")
		for _, n := range t.Notes {
			line("- %s", e(n))
		}
		if len(t.Notes) > 0 {
			line("")
		}
	}
	for _, n := range p.Notes {
		line("- %s", e(n))
	}
	if len(p.Notes) > 0 {
		line("")
	}

	if len(plots) > 0 {
		line("## Plots")
		line("")
		dir := strings.TrimSuffix(opt.PNGDir, "/")
		for _, name := range plots {
			line("![%s](%s)", e(name), mdURL(path.Join(dir, name+".png")))
			line("")
		}
	}

	line("## Statement for a paper")
	line("")
	line("%s", e(p.Statement))
	_, err = io.WriteString(w, b.String())
	return err
}

// WritePNGs renders every plot that applies to rec as dir/NAME.png (the
// files MarkdownOptions.PNGDir links) and returns their paths. The
// plots that could not be drawn are named in the error; the others are
// still written.
func WritePNGs(dir string, rec *results.Record) ([]string, error) {
	named, perr := plotsFor(rec)
	var out []string
	for _, n := range named {
		b, err := n.render("png")
		if err != nil {
			return out, fmt.Errorf("report: plot %s: %w", n.name, err)
		}
		p := filepath.Join(dir, n.name+".png")
		if err := results.WriteFileAtomic(p, b, 0o644); err != nil {
			return out, fmt.Errorf("report: write plot: %w", err)
		}
		out = append(out, p)
	}
	return out, perr
}

// mdEscape makes text from the record read as itself in Markdown: no
// emphasis, link, code, table cell break or HTML, and no line break.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '|', '#', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\n', '\r':
			b.WriteByte(' ')
		case '$', '@':
			// GitHub's math and mentions.
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				b.WriteRune('\ufffd') // no escape sequences or bidi overrides
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdURL escapes a relative link's target: spaces and parentheses would
// end it.
func mdURL(s string) string {
	r := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E")
	return r.Replace(s)
}
