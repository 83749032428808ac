package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// writeModels adds, under the run table, a table per MLPerf scenario of
// the model workloads (accuracy and its gate, energy per inference, the
// saving against the fp32 reference with its interval, the Pareto front),
// each saving said in words, and a table of the transfer-learning jobs.
// It writes nothing for a record without model workloads.
func writeModels(b *strings.Builder, rec *results.Record, sums []metrics.Summary, csum []carbon.Summary, est, syn bool) error {
	say := func(format string, a ...any) { prose(b, TableWidth, format, a...) }
	rows := metrics.ModelRows(rec, sums)
	label := ""
	switch {
	case syn:
		label = " (synthetic)"
	case est:
		label = " (est.)"
	}
	gco2 := map[string]metrics.Stats{}
	for _, c := range csum {
		gco2[c.Name] = c.Stats[carbon.FigGramsPerItem]
	}
	for _, sc := range metrics.SortedScenarios(rows) {
		var sel []metrics.ModelRow
		for _, r := range rows {
			if r.Scenario == sc {
				sel = append(sel, r)
			}
		}
		b.WriteString("\n")
		switch sc {
		case "offline":
			say("models, Offline (batch 256): accuracy on all 10,000 test images; energy and carbon per inference%s; saving against the fp32 reference of the same model", label)
		case "singlestream":
			say("models, SingleStream (one query at a time): accuracy on all 10,000 test images; energy and carbon per query%s; latency per query (nearest-rank percentiles)", label)
		default:
			say("models, scenario %s", sc)
		}
		head, cells := modelTable(sel, sc, gco2, label)
		t, err := renderSimple(head, cells, 1)
		if err != nil {
			return err
		}
		b.WriteString(t)
		for _, r := range sel {
			if r.Variant != "fp32" {
				say("  %s %s: %s", strings.TrimPrefix(r.Model, "mnist-"), sc, r.SavingWords())
			}
		}
		// Distillation's own question: the same student, soft labels
		// against hard.
		var dist, hard *metrics.ModelRow
		for i := range sel {
			switch sel[i].Variant {
			case "distilled":
				dist = &sel[i]
			case "student":
				hard = &sel[i]
			}
		}
		if dist != nil && hard != nil && dist.Gate.Known && hard.Gate.Known {
			say("  distillation: the student trained on the reference's soft labels is %+.2f points against the same student on hard labels (%.2f%% against %.2f%%), at %s",
				100*(dist.Gate.Accuracy-hard.Gate.Accuracy), 100*dist.Gate.Accuracy, 100*hard.Gate.Accuracy, ratioWords(dist.JPerInf.Median/hard.JPerInf.Median))
		}
		var front []string
		for _, r := range sel {
			if r.Ranked && r.DominatedBy == "" {
				front = append(front, strings.TrimPrefix(r.Model, "mnist-")+" "+r.Variant)
			}
		}
		if len(front) > 0 {
			say("  Pareto front (accuracy against energy per inference, ranked variants): %s", strings.Join(front, ", "))
		}
	}
	if len(rows) > 0 {
		say("J vs fp32: the change in energy per inference against the fp32 reference of the same model and scenario, median and 95%% CI (-74%% uses 74%% less); Pareto: on the front of accuracy against energy per inference among the ranked variants")
		say("gate: a variant is valid at the 99%% (99.9%%) level when its accuracy is at least 99%% (99.9%%) of the fp32 reference's, as in MLPerf Inference; below 99%% it is marked and never ranked as a saving")
	}

	tr := metrics.TransferRows(rec, sums)
	if len(tr) == 0 {
		return nil
	}
	b.WriteString("\n")
	target := 0.0
	for _, r := range tr {
		target = math.Max(target, r.Target)
	}
	if target > 0 {
		say("transfer learning, digits 5–9 from 1,000 labelled images: energy to reach %.1f%% held-out accuracy%s, over the jobs that reached it", 100*target, label)
	} else {
		say("transfer learning: pretraining on digits 0–4%s", label)
	}
	cells := transferCells(tr)
	t, err := renderSimple([]string{"strategy", "reached target", "J to target" + label, "steps", "vs scratch (95% CI)", "pretraining repaid after"}, cells, 2)
	if err != nil {
		return err
	}
	b.WriteString(t)
	for _, r := range tr {
		switch {
		case r.Saving != nil:
			say("  %s: %s than training from scratch, over the %d of %d jobs that reached the target", r.Strategy, r.Saving.Describe("energy to the target"), r.Converged, r.Jobs)
		case r.NoSaving != "":
			say("  %s: %s", r.Strategy, r.NoSaving)
		}
		if r.NoBreakEven != "" && r.Saving != nil {
			say("  %s break-even: %s", r.Strategy, r.NoBreakEven)
		}
		if r.Disbelieved > 0 {
			say("  WARNING: %s: %d job(s) said they converged but stopped below the target; counted as not converged", r.Strategy, r.Disbelieved)
		}
	}
	say("  pretraining (digits 0–4) is paid once and shared by every fine-tuning job; the break-even is pretraining energy ÷ (scratch − strategy) per job, from medians")
	return nil
}

func inverse(v float64) string {
	if !(v > 0) || math.IsInf(v, 0) {
		return "-"
	}
	return sig3(1 / v)
}

// sig3 is v to three significant digits, "-" when it is not a number.
func sig3(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fixed(v, sigDecimals(v, 3))
}

// savingCell is the change in energy as "-71% [-74, -68]" or "+12% [9, 15]".
func savingCell(r metrics.ModelRow) string {
	switch {
	case r.Variant == "fp32":
		return "reference"
	case r.Gate.Known && !r.Gate.Pass():
		return "not ranked"
	case r.Saving == nil:
		return "-"
	}
	s := *r.Saving
	if math.IsNaN(s.Saving) {
		return "-"
	}
	return fmt.Sprintf("%+.0f%% [%.0f, %.0f]", -100*s.Saving, -100*s.CIHigh, -100*s.CILow)
}

func medians(rows []metrics.ModelRow, get func(metrics.ModelRow) float64) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = get(r)
	}
	return out
}

func savingShort(s metrics.Saving) string {
	if math.IsNaN(s.Saving) {
		return "-"
	}
	word, v, lo, hi := "less", s.Saving, s.CILow, s.CIHigh
	if v < 0 {
		word, v, lo, hi = "more", -v, -s.CIHigh, -s.CILow
	}
	return fmt.Sprintf("%.0f%% %s [%.0f, %.0f]", 100*v, word, 100*lo, 100*hi)
}

func paretoCell(r metrics.ModelRow) string {
	if r.Ranked && r.DominatedBy == "" {
		return "front"
	}
	return ""
}

// renderSimple renders a plain table in the run table's style; the first
// left columns are aligned left.
func renderSimple(head []string, rows [][]string, left int) (string, error) {
	l := make([]bool, len(head))
	for j := range l {
		l[j] = j < left
	}
	return renderRows(head, l, rows)
}

// RenderTable renders a table in the run table's style: no borders, a
// line under the header, columns aligned left where left says, right
// otherwise, no trailing spaces.
func RenderTable(head []string, left []bool, rows [][]string) (string, error) {
	return renderRows(head, left, rows)
}

func renderRows(head []string, left []bool, rows [][]string) (string, error) {
	aligns := make([]tw.Align, len(head))
	h := make([]any, len(head))
	for j := range head {
		aligns[j] = tw.AlignRight
		if left[j] {
			aligns[j] = tw.AlignLeft
		}
		h[j] = head[j]
	}
	var b strings.Builder
	t := tablewriter.NewTable(&b,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleLight),
			Settings: tw.Settings{Separators: tw.Separators{BetweenColumns: tw.Off}, Lines: tw.Lines{ShowHeaderLine: tw.On}},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
	)
	t.Header(h...)
	for _, r := range rows {
		row := make([]any, len(r))
		for j := range r {
			row[j] = r[j]
		}
		if err := t.Append(row...); err != nil {
			return "", err
		}
	}
	if err := t.Render(); err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// writeJobs prints the episodic workloads (training jobs), one row each:
// how many jobs, their median length, power, energy and carbon per job,
// and whether they are valid, then their warnings.
func writeJobs(b *strings.Builder, rec *results.Record, est, syn bool) error {
	say := func(format string, a ...any) { prose(b, TableWidth, format, a...) }
	sums := metrics.Summarize(rec)
	csum, hasCarbon, cerr := carbon.Summarize(rec)
	label := kindWord(est, syn)
	b.WriteString("\n")
	say("jobs: each repetition is one whole job (training to the end of its recipe, or to a target accuracy); energy%s is gross", label)
	head := []string{"workload", "jobs", "s/job", "W", "J/job"}
	showC := hasCarbon && cerr == nil
	if showC {
		head = append(head, "gCO2e/job")
	}
	head = append(head, "valid")
	var rows [][]string
	var warnings []string
	for i, s := range sums {
		wl := rec.Workloads[i]
		secs := make([]float64, len(s.Reps))
		for k, r := range s.Reps {
			secs[k] = r.Duration.Seconds()
		}
		valid := "yes"
		switch {
		case wl.Error != "":
			valid = "FAILED"
			warnings = append(warnings, wl.Name+": FAILED: "+wl.Error)
		case !s.Validity.Valid:
			valid = "NO"
		}
		for _, r := range s.Validity.Failed() {
			warnings = append(warnings, wl.Name+": INVALID: "+r)
		}
		row := []string{wl.Name, fmt.Sprint(len(wl.Reps)), sig3(metrics.Median(secs)), ciCell(s.Stats[metrics.FigPowerW], 1, 0), ciCell(s.Stats[metrics.FigJPerItem], 1, 0)}
		if showC {
			row = append(row, ciCell(csum[i].Stats[carbon.FigGramsPerItem], 1, 0))
		}
		rows = append(rows, append(row, valid))
	}
	t, err := renderSimple(head, rows, 1)
	if err != nil {
		return err
	}
	b.WriteString(t)
	for _, g := range groupBy(rec.Workloads, blasLine) {
		say("BLAS of the jobs %s: %s", g.key, g.names)
	}
	for _, w := range warnings {
		say("WARNING: %s", w)
	}
	return nil
}

// ratioWords says a ratio of energies per inference: "1.05× the energy
// per inference", or "about the same" within 2%.
func ratioWords(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "an energy per inference that was not measured"
	}
	if math.Abs(r-1) < 0.02 {
		return "about the same energy per inference"
	}
	return fmt.Sprintf("%.2f× the energy per inference", r)
}

// transferCells are the transfer table's rows, for the text and HTML
// reports alike: strategy, jobs that reached the target, energy to it,
// steps, saving against scratch, break-even.
func transferCells(tr []metrics.TransferRow) [][]string {
	var cells [][]string
	for _, r := range tr {
		conv := fmt.Sprintf("%d of %d", r.Converged, r.Jobs)
		if r.Strategy == "pretrain" {
			conv = fmt.Sprintf("%d jobs", r.Jobs)
		}
		e := ciCell(r.Energy, 1, 0)
		if r.Converged == 0 {
			e = "did not converge"
		}
		sv, be := "-", "-"
		if r.Saving != nil {
			sv = savingShort(*r.Saving)
		}
		switch {
		case !math.IsNaN(r.BreakEven):
			be = fmt.Sprintf("%.0f jobs", r.BreakEven)
		case r.NoBreakEven != "":
			be = strings.SplitN(r.NoBreakEven, ":", 2)[0]
		}
		cells = append(cells, []string{r.Strategy, conv, e, num(r.Steps, 0), sv, be})
	}
	return cells
}

// modelTable is one scenario's model table, for the text and HTML reports
// alike: the head (energy and carbon in the prefix their figures need)
// and a row per variant. gco2 holds each workload's carbon per item, empty
// without carbon figures; label marks energy as estimated or synthetic.
func modelTable(sel []metrics.ModelRow, sc string, gco2 map[string]metrics.Stats, label string) ([]string, [][]string) {
	jp := pickPrefix(medians(sel, func(r metrics.ModelRow) float64 { return r.JPerInf.Median }))
	var gmed []float64
	for _, r := range sel {
		gmed = append(gmed, 1e3*gco2[r.Name].Median)
	}
	gp := pickPrefix(gmed)
	head := []string{"variant", "acc %", "of ref", "gate", jp.name + "J/inf" + label}
	if sc != "singlestream" {
		head = append(head, "inf/J")
	}
	if len(gco2) > 0 {
		head = append(head, gp.name+"gCO2e/1k")
	}
	if sc == "singlestream" {
		head = append(head, "p50 µs", "p90 µs", "p99 µs")
	} else {
		head = append(head, "inf/s")
	}
	head = append(head, "J vs fp32 [CI]", "Pareto")
	var cells [][]string
	for _, r := range sel {
		acc, of, gate := "-", "-", "-"
		if r.Gate.Known {
			acc = fmt.Sprintf("%.2f", 100*r.Gate.Accuracy)
			of = fmt.Sprintf("%.1f%%", 100*r.Gate.Ratio)
			gate = r.Gate.Level
			if !r.Gate.Pass() {
				gate = "FAIL"
			}
		}
		row := []string{strings.TrimPrefix(r.Model, "mnist-") + " " + r.Variant, acc, of, gate, ciCell(r.JPerInf, jp.scale, 0)}
		if sc != "singlestream" {
			row = append(row, inverse(r.JPerInf.Median))
		}
		if len(gco2) > 0 {
			row = append(row, sig3(1e3*gco2[r.Name].Median*gp.scale))
		}
		if sc == "singlestream" {
			row = append(row, sig3(1e3*r.P50), sig3(1e3*r.P90), sig3(1e3*r.P99))
		} else {
			row = append(row, sig3(r.Throughput.Median))
		}
		cells = append(cells, append(row, savingCell(r), paretoCell(r)))
	}
	return head, cells
}
