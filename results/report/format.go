package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/joulebench/joulebench/metrics"
)

// ciCell formats a figure's median and 95% CI, scaled, as a person should
// read it:
//
//   - "median ±h" when the interval is symmetric about the median to within
//     the displayed precision: both arms, hi−median and median−lo, print
//     the same at the cell's decimals;
//   - "median [lo, hi]" otherwise, so that a reader never takes an interval
//     that reaches further on one side for one that does not;
//   - the median alone when one repetition gave it (there is no interval);
//   - "-" when no repetition gave it.
//
// The decimals follow the uncertainty (see ciDecimals): the CI is printed
// to one or two significant digits and the median to the same place, so
// that the tolerance of "symmetric" is one unit of the last digit shown,
// 1–10% of the half-width, never a fixed number that would be coarse for
// one column and fine for the next. They stop at four significant digits
// of ref (the median itself when ref is 0): a meter's microjoule
// rounding is not a figure, and a net figure near zero is shown to the
// precision of its gross one (ref), not to its own noise.
func ciCell(st metrics.Stats, scale, ref float64) string {
	m := st.Median * scale
	if st.N == 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		return "-"
	}
	if ref == 0 || math.IsNaN(ref) || math.IsInf(ref, 0) {
		ref = m
	}
	limit := sigDecimals(ref, 4)
	if st.N == 1 || math.IsNaN(st.CILow) || math.IsNaN(st.CIHigh) {
		return fixed(m, min(sigDecimals(m, 3), limit))
	}
	lo, hi := st.CILow*scale, st.CIHigh*scale
	up, down := hi-m, m-lo
	d := min(ciDecimals(up, down, m), limit)
	if up >= 0 && down >= 0 {
		if u := fixed(up, d); u == fixed(down, d) {
			return fixed(m, d) + " ±" + u
		}
	}
	return fixed(m, d) + " [" + fixed(lo, d) + ", " + fixed(hi, d) + "]"
}

// ciDecimals is the number of decimals a figure with CI arms up and down
// is shown with: the Particle Data Group's rule for quoting an
// uncertainty (Review of Particle Physics, Introduction, "Rounding"): if
// the three leading digits of the uncertainty are 100–354 keep two
// significant digits, if 355–949 keep one, if 950–999 round up to 1000 and
// keep two. The uncertainty is the shorter arm, so an asymmetric interval
// keeps the digits its narrow side needs. Integers are not rounded to tens:
// a figure of 1680 is printed 1680, not 1.68e3. An interval of zero width
// (every repetition equal) falls back to three significant digits of m.
func ciDecimals(up, down, m float64) int {
	e := math.Min(math.Abs(up), math.Abs(down))
	if e == 0 || math.IsNaN(e) {
		e = math.Max(math.Abs(up), math.Abs(down))
	}
	if e == 0 || math.IsNaN(e) || math.IsInf(e, 0) {
		return sigDecimals(m, 3)
	}
	k := int(math.Floor(math.Log10(e)))
	lead := e / math.Pow(10, float64(k-2)) // 100 ≤ lead < 1000
	var d int
	switch {
	case lead < 354.5:
		d = 1 - k // two significant digits
	default:
		d = -k // one (355–949), or two after rounding 950–999 up to 1000
	}
	return min(max(d, 0), 9)
}

// sigDecimals is the number of decimals that shows v to sig significant
// digits (none for |v| ≥ 10^(sig−1)).
func sigDecimals(v float64, sig int) int {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return sig - 1
	}
	k := int(math.Floor(math.Log10(math.Abs(v))))
	return min(max(sig-1-k, 0), 9)
}

func fixed(v float64, d int) string {
	s := strconv.FormatFloat(v, 'f', d, 64)
	if strings.HasPrefix(s, "-") && strings.Trim(s, "-0.") == "" {
		s = s[1:] // -0.0 reads as a sign that is not there
	}
	return s
}

// prefix is an SI prefix that keeps a column's figures above 1: J/call of
// a small GEMM is 0.0021 J, 2.1 mJ; its carbon 1.8e-05 g, 18 µg.
type prefix struct {
	name  string
	scale float64
}

var prefixes = []prefix{{"", 1}, {"m", 1e3}, {"µ", 1e6}, {"n", 1e9}}

// pickPrefix returns the largest unit in which the smallest positive of
// the medians is at least 1, so that no cell of the column starts "0.0".
func pickPrefix(medians []float64) prefix {
	least := math.Inf(1)
	for _, v := range medians {
		if v > 0 && !math.IsInf(v, 0) {
			least = math.Min(least, v)
		}
	}
	if math.IsInf(least, 1) {
		return prefixes[0]
	}
	for _, p := range prefixes {
		if least*p.scale >= 1 {
			return p
		}
	}
	return prefixes[len(prefixes)-1]
}

// DisplayWidth is how many terminal columns s takes: runes, not bytes,
// so that "±", "≤", "µ" and the box-drawing lines count one each, and East
// Asian ambiguous characters count one too, as the terminals joulebench is
// read on (a Western locale) show them.
func DisplayWidth(s string) int {
	return twwidth.WidthWithOptions(s, twwidth.Options{})
}

// Wrap breaks s into lines no wider than width display columns, at
// spaces; a word longer than a line (a path, a URL) is cut, so that no
// line is ever wider. A table cell given the lines joined by "\n" keeps
// every word, where tablewriter's own wrapping of a narrow column can drop
// text.
func Wrap(s string, width int) []string {
	return wrapIndent(s, width, "", "")
}

// wrap breaks a line of prose as Wrap does; continuation lines are
// indented two spaces more than the first.
func wrap(s string, width int) []string {
	if DisplayWidth(s) <= width {
		return []string{s}
	}
	body := strings.TrimLeft(s, " ")
	indent := s[:len(s)-len(body)]
	return wrapIndent(body, width, indent, indent+"  ")
}

func wrapIndent(s string, width int, first, cont string) []string {
	var out []string
	line, empty := first, true
	for _, word := range strings.Fields(s) {
		switch {
		case empty && DisplayWidth(line)+DisplayWidth(word) <= width:
			line += word
		case !empty && DisplayWidth(line)+1+DisplayWidth(word) <= width:
			line += " " + word
		default:
			if !empty {
				out = append(out, line)
				line = cont
			}
			// Cut a word that no line can hold.
			for DisplayWidth(line)+DisplayWidth(word) > width {
				n := cutAt(word, width-DisplayWidth(line))
				if n == len(word) {
					break
				}
				out = append(out, line+word[:n])
				line, word = cont, word[n:]
			}
			line += word
		}
		empty = false
	}
	if !empty || len(out) == 0 {
		out = append(out, line)
	}
	return out
}

// cutAt is the length in bytes of the longest start of word no wider
// than room columns; at least its first character.
func cutAt(word string, room int) int {
	w := 0
	for i, r := range word {
		rw := DisplayWidth(string(r))
		if i > 0 && w+rw > room {
			return i
		}
		w += rw
	}
	return len(word)
}

// prose writes a line of prose wrapped to width (not wrapped when width
// is 0).
func prose(w io.Writer, width int, format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	if width <= 0 {
		fmt.Fprintln(w, s)
		return
	}
	for _, l := range wrap(s, width) {
		fmt.Fprintln(w, l)
	}
}
