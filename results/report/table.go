package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// TableWidth is the width, in terminal columns, that the default table
// and the prose around it fit: a 120-column terminal shows it unwrapped.
const TableWidth = 120

// TableOptions choose how a run's table is laid out.
type TableOptions struct {
	// Wide shows every column — s/rep, W, the net-of-idle figures and
	// each workload's BLAS — however wide the table gets. The default
	// table shows the most useful columns and fits TableWidth, leaving out
	// (and naming) the least useful ones when they do not fit.
	Wide bool
}

// WriteTable prints a run as the default, narrow table: what measured it,
// then one row per workload with the median of its repetitions and its
// 95% confidence interval, then notes and warnings. Every line fits
// TableWidth columns.
func WriteTable(w io.Writer, rec *results.Record) error {
	return WriteTableOptions(w, rec, TableOptions{})
}

// column is one column of the run table, with its cell in every row.
type column struct {
	head string
	left bool // aligned left (text), else right (numbers)
	// wide: shown only in the wide table; drop: in the narrow table,
	// left out in this order (1 first) while the table is too wide; 0
	// never.
	wide bool
	drop int
	// energy marks a figure that comes from the meters, so that it is
	// labelled estimated or synthetic with them.
	energy bool
	cells  []string
	// fig, for a figure column: its name in notes, and per row how many
	// repetitions gave it (Stats.N) and why the others did not.
	fig  string
	n    []int
	why  []string
	reps []int
	// stats and scale give a figure column's statistics in each row.
	stats func(i int) metrics.Stats
	scale float64
}

// precisionOf formats c's cells (a net figure) to no more decimals than
// four significant digits of g's (its gross figure) in the same row.
func (c *column) precisionOf(g *column) {
	for i, cell := range c.cells {
		if cell == "-" || g.cells[i] == "-" {
			continue
		}
		c.cells[i] = ciCell(c.stats(i), c.scale, g.stats(i).Median*g.scale)
	}
}

// WriteTableOptions prints a run as WriteTable does, laid out as opt says.
func WriteTableOptions(w io.Writer, full *results.Record, opt TableOptions) error {
	// Whole jobs (training to a target) are not rows of the run table:
	// a joule per job and a joule per inference share no unit. They get
	// a table of their own under it.
	rec, jobs := splitEpisodic(full)
	est, syn := metrics.Estimated(rec), metrics.Synthetic(rec)
	baseline := hasBaseline(rec)
	sums := metrics.Summarize(rec)
	csum, hasCarbon, cerr := carbon.Summarize(rec)
	showCarbon := hasCarbon && cerr == nil

	cols := buildColumns(rec, sums, csum, showCarbon, baseline)
	var shown, dropped []*column
	for _, c := range cols {
		if !c.wide || opt.Wide {
			shown = append(shown, c)
		}
	}
	var table string
	for {
		var err error
		table, err = renderRunTable(shown, rec)
		if err != nil {
			return err
		}
		if opt.Wide || maxWidth(table) <= TableWidth {
			break
		}
		// Leave out the next column in the drop order, if any is left.
		next := -1
		for i, c := range shown {
			if c.drop > 0 && (next < 0 || c.drop < shown[next].drop) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		dropped = append(dropped, shown[next])
		shown = slices.Delete(shown, next, next+1)
	}

	var b strings.Builder
	say := func(format string, a ...any) { prose(&b, TableWidth, format, a...) }
	say("run %s  suite %s v%s  %s", rec.RunID, rec.Config.Suite, rec.Config.SuiteVersion, hostLine(rec.Host))
	for _, m := range rec.Meters {
		var doms []string
		for _, d := range m.Domains {
			s := d.Name
			if !d.InTotal {
				s += " (not in total)"
			}
			doms = append(doms, s)
		}
		label := m.Method
		switch {
		case m.Estimated:
			label = "ESTIMATED (model)"
		case m.Method == results.MethodSynthetic:
			label = "SYNTHETIC (fake meter: made-up figures, not a measurement)"
		}
		say("meter %s: %s; %s", m.Name, label, strings.Join(doms, ", "))
		for _, l := range DeviceLines(m) {
			say("  %s", l)
		}
	}
	partly := RecordBoundary(rec).Class == "partly estimated"
	switch {
	case est && partly:
		say("PARTLY ESTIMATED: %s; the total adds the two, so every total is an estimate.", partWords(rec))
	case est:
		say("ESTIMATE: energy is modelled from CPU utilisation and TDP, not measured.")
	}
	if syn {
		say("FAKE METER: the energy figures are synthetic, for tests and demos; they describe no hardware.")
	}
	if len(rec.Config.Overrides) > 0 {
		say("suite rules overridden: %s", strings.Join(rec.Config.Overrides, ", "))
	}
	if baseline {
		say("idle baseline: %s over %.1f s%s", metrics.IdlePower(rec), rec.Idle.DurationS, kindWord(est, syn))
	} else {
		say("net: %s, so only gross figures are shown", noBaseline(rec))
	}
	if c := rec.Carbon; c != nil {
		how := "annual average"
		if c.Method == results.CarbonSeries {
			how = "time series, weighted by when the repetitions' energy was spent"
		}
		emb := carbon.EmbodiedNotIncluded
		if c.Embodied != nil {
			emb = fmt.Sprintf("embodied %g kgCO2e over %g years × share %g (%s)", c.Embodied.KgCO2e, c.Embodied.LifetimeYears, c.Embodied.Share, c.Embodied.Source)
		}
		say("carbon: %.4g gCO2e/kWh (%s) from %s; PUE %g; %s", c.GramsPerKWh, how, c.Source, c.PUE, emb)
		if ItemUnit(rec) == "call" {
			say("  gCO2e/call is the SCI (ISO/IEC 21031) per GEMM call: (E·PUE·I + M) / calls, E gross over %s", c.Boundary)
		} else {
			say("  gCO2e/item is the SCI (ISO/IEC 21031) per item (a GEMM call, an inference, a job): (E·PUE·I + M) / items, E gross over %s", c.Boundary)
		}
		for _, n := range c.Notes {
			say("  note: %s", n)
		}
	}
	say("cells: median and 95%% CI (±half-width, or [low, high] when asymmetric)")
	var energy []string
	for _, c := range shown {
		if c.energy {
			energy = append(energy, c.head)
		}
	}
	// A record of whole jobs only (a training run, a command under
	// joulebench measure) has no run table: only the jobs table below.
	runRows := len(rec.Workloads) > 0
	if len(energy) > 0 && runRows {
		// Gross is all the energy the total's domains counted; net takes
		// off what the idle baseline would have drawn over the same time.
		how := "gross"
		for _, c := range shown {
			if c.energy && strings.HasPrefix(c.head, "net ") {
				how = "gross, or net of the idle baseline where the head says net"
				break
			}
		}
		list := strings.Join(energy, ", ")
		switch {
		case syn:
			say("energy figures (%s) (synthetic): made up by the fake meter, not measured; %s", list, how)
		case est && partly:
			say("energy figures (%s) (est.): PARTLY ESTIMATED (%s); %s", list, partWords(rec), how)
		case est:
			say("energy figures (%s) (est.): ESTIMATED, not measured; %s", list, how)
		case methods(rec) == "":
			say("energy figures (%s): no meter; %s", list, how)
		default:
			say("energy figures (%s): measured (%s); %s", list, methods(rec), how)
		}
	}
	if runRows {
		b.WriteString(table)
	}
	var models strings.Builder
	if jobs != nil {
		if err := writeJobs(&models, jobs, est, syn); err != nil {
			return err
		}
	}
	fullSums := metrics.Summarize(full)
	fullCarbon, _, _ := carbon.Summarize(full)
	if err := writeModels(&models, full, fullSums, fullCarbon, est, syn); err != nil {
		return err
	}

	// Under the table: what is not shown, and why a figure used fewer
	// repetitions than the row has.
	if ItemUnit(rec) == "item" {
		say("an item is %s", unitsNote(rec))
		for _, wl := range rec.Workloads {
			if wl.Params["precision"] == "int8" {
				say("GFLOP/s and GFLOPS/W of int8 workloads count integer operations; of pruned ones, only the non-zero weights' arithmetic")
				break
			}
		}
	}
	if !opt.Wide && runRows {
		blas := map[string]bool{}
		for _, wl := range rec.Workloads {
			blas[blasLine(wl)] = true
		}
		switch {
		case len(blas) == 1 && !blas[""]:
			say("BLAS: %s (every workload)", blasLine(rec.Workloads[0]))
		case len(blas) > 1:
			for _, g := range groupBy(rec.Workloads, blasLine) {
				if g.n == 1 {
					say("BLAS of %s: %s", g.names, g.key)
				} else {
					say("BLAS %s: %s", g.key, g.names)
				}
			}
		}
		var left []string
		if len(dropped) > 0 {
			var names []string
			for _, c := range cols { // in the table's order
				if slices.Contains(dropped, c) {
					names = append(names, c.head)
				}
			}
			left = append(left, strings.Join(names, ", ")+fmt.Sprintf(" (left out to fit %d columns)", TableWidth))
		}
		if baseline {
			left = append(left, fmt.Sprintf("net %s, net GFLOPS/W (net of the idle baseline)", headOf(cols, "J/"+ItemUnit(rec))))
		}
		if len(left) > 0 {
			say("--wide adds: %s", strings.Join(left, "; "))
		}
	}
	single := false
	for _, c := range shown {
		for i, n := range c.n {
			single = single || (n == 1 && c.cells[i] != "-")
			if c.reps[i] > n {
				say("reps: %s %s is from %d of %d repetitions; %s", rec.Workloads[i].Name, c.fig, n, c.reps[i], c.why[i])
			}
		}
	}
	if single {
		say("a figure without ± or [ ] comes from one repetition: it has no confidence interval")
	}
	var warnings []string
	if cerr != nil {
		warnings = append(warnings, "no carbon figures: "+cerr.Error())
	}
	edges := metrics.IndexEdges(rec)
	for i, s := range sums {
		wl := rec.Workloads[i]
		for _, r := range s.Validity.Failed() {
			warnings = append(warnings, wl.Name+": INVALID: "+r)
		}
		for _, r := range wl.Reps {
			if msg := edges.CheckRep(r); msg != "" {
				warnings = append(warnings, fmt.Sprintf("%s repetition %d: %s", wl.Name, r.Index+1, msg))
			}
		}
		if msg := wl.Info["warning"]; msg != "" {
			warnings = append(warnings, wl.Name+": "+msg)
		}
		if msg := Uncovered(rec, wl); msg != "" {
			warnings = append(warnings, wl.Name+": "+msg)
		}
		if wl.Error != "" {
			warnings = append(warnings, wl.Name+": FAILED: "+wl.Error)
		}
	}
	for _, msg := range warnings {
		say("WARNING: %s", msg)
	}
	if uses := DeviceUses(full); len(uses) > 0 {
		say("device telemetry while the repetitions ran (the record's trace: it explains the energy, which is the meters'):")
		for _, u := range uses {
			say("  %s", u.Line())
		}
	}
	for _, n := range rec.Notes {
		say("note: %s", n)
	}
	if !rec.Complete {
		say("INCOMPLETE: %s", rec.IncompleteReason)
	}
	b.WriteString(models.String())
	_, err := io.WriteString(w, b.String())
	return err
}

// buildColumns computes every column the run table can show, in order.
func buildColumns(rec *results.Record, sums []metrics.Summary, csum []carbon.Summary, showCarbon, baseline bool) []*column {
	workload := &column{head: "workload", left: true}
	reps := &column{head: "reps"}
	srep := &column{head: "s/rep", drop: 1}
	valid := &column{head: "valid"}
	blas := &column{head: "BLAS", left: true, wide: true}

	// A figure column: its stats in each row, scaled, and why a
	// repetition gave no value. A failed workload's figures describe a
	// wrong or partial answer: they are not shown as results.
	figure := func(head, fig string, energy bool, scale float64, stats func(i int) metrics.Stats, undefined func(rf metrics.RepFigures, r results.Rep) string) *column {
		c := &column{head: head, fig: fig, energy: energy, stats: stats, scale: scale}
		for i, s := range sums {
			st := stats(i)
			wl := rec.Workloads[i]
			if wl.Error != "" {
				c.cells = append(c.cells, "-")
				c.n, c.reps, c.why = append(c.n, len(wl.Reps)), append(c.reps, len(wl.Reps)), append(c.why, "")
				continue
			}
			c.cells = append(c.cells, ciCell(st, scale, 0))
			c.n, c.reps = append(c.n, st.N), append(c.reps, len(wl.Reps))
			c.why = append(c.why, undefinedIn(s, wl, undefined))
		}
		return c
	}
	// A column of a figure that can be tiny (J, grams) gets the SI
	// prefix that keeps its cells above 1.
	scaled := func(unit string, stats func(i int) metrics.Stats) (string, float64) {
		var med []float64
		for i := range sums {
			if rec.Workloads[i].Error == "" {
				med = append(med, stats(i).Median)
			}
		}
		p := pickPrefix(med)
		return p.name + unit, p.scale
	}
	st := func(key string) func(i int) metrics.Stats {
		return func(i int) metrics.Stats { return sums[i].Stats[key] }
	}
	noTime := func(rf metrics.RepFigures, _ results.Rep) string {
		if rf.Duration <= 0 {
			return "no duration"
		}
		return ""
	}
	noEnergy := func(rf metrics.RepFigures, _ results.Rep) string {
		if rf.Gross <= 0 {
			return "no energy counted"
		}
		return ""
	}
	noNet := func(rf metrics.RepFigures, _ results.Rep) string {
		if rf.Net <= 0 {
			return "net energy ≤ 0 (no more than the idle baseline draws)"
		}
		return ""
	}
	noItems := func(_ metrics.RepFigures, r results.Rep) string {
		if r.Work.Items <= 0 {
			return "no items done"
		}
		return ""
	}
	// Energy per item is undefined without items, and without energy.
	noItemsOrEnergy := func(rf metrics.RepFigures, r results.Rep) string {
		if why := noItems(rf, r); why != "" {
			return why
		}
		return noEnergy(rf, r)
	}

	// GEMM-only records keep the head "call"; with other workloads an item
	// is each one's work unit (an inference, a training job), said in a
	// note under the table.
	unit := ItemUnit(rec)
	flops := figure("GFLOP/s", "GFLOP/s", false, 1e-9, st(metrics.FigFLOPS), noTime)
	flops.drop = 3
	watts := figure("W", "W", true, 1, st(metrics.FigPowerW), noEnergy)
	watts.drop = 2
	jHead, jScale := scaled("J/"+unit, st(metrics.FigJPerItem))
	jcall := figure(jHead, jHead, true, jScale, st(metrics.FigJPerItem), noItemsOrEnergy)
	jcall.drop = 5
	fpj := figure("GFLOPS/W", "GFLOPS/W", true, 1e-9, st(metrics.FigFLOPsPerJ), noEnergy)
	var netJ, netFpj *column
	if baseline {
		// Net in the gross column's unit and precision, so that the two
		// compare at a glance (net can be near zero or negative: no
		// prefix or precision of its own).
		netJ = figure("net "+jHead, "net "+jHead, true, jScale, st(metrics.FigNetJPerItem), noItems)
		netJ.wide = true
		netJ.precisionOf(jcall)
		netFpj = figure("net GFLOPS/W", "net GFLOPS/W", true, 1e-9, st(metrics.FigNetFLOPsPerJ), noNet)
		netFpj.wide = true
		netFpj.precisionOf(fpj)
	}
	var gcall *column
	if showCarbon {
		cst := func(i int) metrics.Stats { return csum[i].Stats[carbon.FigGramsPerItem] }
		h, s := scaled("gCO2e/"+unit, cst)
		gcall = figure(h, h, true, s, cst, noItemsOrEnergy)
		gcall.drop = 4
	}

	for i, s := range sums {
		wl := rec.Workloads[i]
		workload.cells = append(workload.cells, s.Name)
		reps.cells = append(reps.cells, fmt.Sprint(len(wl.Reps)))
		blas.cells = append(blas.cells, blasLine(wl))
		switch {
		case wl.Error != "":
			srep.cells = append(srep.cells, "-")
			valid.cells = append(valid.cells, "FAILED")
		default:
			if len(wl.Reps) == 0 {
				srep.cells = append(srep.cells, "-") // no repetition: no length
			} else {
				srep.cells = append(srep.cells, num(s.Median.Duration.Seconds(), 2))
			}
			v := "yes"
			if !s.Validity.Valid {
				v = "NO"
			}
			valid.cells = append(valid.cells, v)
		}
	}
	// A workload that counts no FLOPs shows none, without a note.
	for i, wl := range rec.Workloads {
		if countsNoFLOPs(wl) {
			for _, c := range []*column{flops, fpj, netFpj} {
				if c != nil {
					c.reps[i] = c.n[i]
				}
			}
		}
	}
	out := []*column{workload, reps, srep, flops, watts, jcall}
	if netJ != nil {
		out = append(out, netJ)
	}
	out = append(out, fpj)
	if netFpj != nil {
		out = append(out, netFpj)
	}
	if gcall != nil {
		out = append(out, gcall)
	}
	return append(out, valid, blas)
}

// undefinedIn says in which repetitions a figure was undefined and why,
// "" when it was defined in all.
func undefinedIn(s metrics.Summary, wl results.Workload, undefined func(metrics.RepFigures, results.Rep) string) string {
	byWhy := map[string][]string{}
	var order []string
	for j, rf := range s.Reps {
		if j >= len(wl.Reps) {
			break
		}
		why := undefined(rf, wl.Reps[j])
		if why == "" {
			continue
		}
		if _, ok := byWhy[why]; !ok {
			order = append(order, why)
		}
		byWhy[why] = append(byWhy[why], fmt.Sprint(wl.Reps[j].Index+1))
	}
	var parts []string
	for _, why := range order {
		word := "repetition"
		if len(byWhy[why]) > 1 {
			word = "repetitions"
		}
		parts = append(parts, fmt.Sprintf("%s %s: %s", word, strings.Join(byWhy[why], ", "), why))
	}
	if len(parts) == 0 {
		return "undefined in the others"
	}
	return "undefined in " + strings.Join(parts, "; ")
}

// renderRunTable draws the columns' rows: a light header rule and no
// borders or column rules, so that the figures, not the lines, take the
// width. Trailing spaces are trimmed.
func renderRunTable(cols []*column, rec *results.Record) (string, error) {
	// The reps column says how many repetitions the shown figures used
	// when some of them had a figure undefined, and which figures: "5 (4
	// with energy)" when only the energy figures lost repetitions (a
	// repetition that counted no energy), "5 (4 used)" when every figure
	// did.
	repsCells := make([]string, len(rec.Workloads))
	for i, wl := range rec.Workloads {
		usedE, usedO := len(wl.Reps), len(wl.Reps)
		for _, c := range cols {
			if c.n == nil || wl.Error != "" {
				continue
			}
			if c.energy {
				usedE = min(usedE, c.n[i])
			} else {
				usedO = min(usedO, c.n[i])
			}
		}
		repsCells[i] = fmt.Sprint(len(wl.Reps))
		switch {
		case usedO < len(wl.Reps):
			repsCells[i] += fmt.Sprintf(" (%d used)", min(usedE, usedO))
		case usedE < len(wl.Reps):
			repsCells[i] += fmt.Sprintf(" (%d with energy)", usedE)
		}
	}
	heads := make([]string, len(cols))
	left := make([]bool, len(cols))
	for j, c := range cols {
		heads[j], left[j] = c.head, c.left
	}
	rows := make([][]string, len(rec.Workloads))
	for i := range rec.Workloads {
		row := make([]string, len(cols))
		for j, c := range cols {
			row[j] = c.cells[i]
			if c.head == "reps" {
				row[j] = repsCells[i]
			}
		}
		rows[i] = row
	}
	return renderRows(heads, left, rows)
}

// headOf is the head of the first column whose head ends in suffix.
func headOf(cols []*column, suffix string) string {
	for _, c := range cols {
		if strings.HasSuffix(c.head, suffix) {
			return c.head
		}
	}
	return suffix
}

func maxWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, DisplayWidth(l))
	}
	return w
}

// hasBaseline reports whether the record has an idle baseline to take
// net figures against. Without one metrics.IdlePower is zero and a "net"
// figure would be the gross one under another name.
func hasBaseline(rec *results.Record) bool {
	return rec.Idle != nil && rec.Idle.DurationS > 0
}

// noBaseline says why a record has no idle baseline.
func noBaseline(rec *results.Record) string {
	if rec.Config.IdleS == 0 {
		return "no idle baseline was taken (--idle 0)"
	}
	return "the record has no idle baseline"
}

// blasLine is what ran a workload's GEMM: library, kernel and threads.
func blasLine(wl results.Workload) string {
	blas := wl.Info["provider"]
	if strings.HasPrefix(wl.Info["engine"], "onednn") {
		blas = wl.Info["engine"] + " " + strings.Fields(wl.Info["version"] + " ?")[0]
	}
	if k := wl.Info["corename"]; k != "" {
		blas += " " + k
	}
	if wl.Info["threads"] != "" {
		blas += " ×" + wl.Info["threads"]
	}
	return blas
}

// methods lists the methods of the meters that count in the total.
func methods(rec *results.Record) string {
	var out []string
	for _, m := range rec.Meters {
		for _, d := range m.Domains {
			if d.InTotal && !slices.Contains(out, m.Method) {
				out = append(out, m.Method)
			}
		}
	}
	return strings.Join(out, ", ")
}

// kindWord is the word that follows an energy figure of an estimated or
// synthetic record.
func kindWord(est, syn bool) string {
	switch {
	case syn:
		return " (synthetic)"
	case est:
		return " (estimated)"
	}
	return ""
}

func hostLine(h results.Host) string {
	s := h.CPUModel
	if s == "" {
		s = "unknown CPU"
	}
	s += fmt.Sprintf(", %d logical CPUs", h.LogicalCPUs)
	if h.Virtualized {
		s += ", virtual machine"
	}
	return s
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// ItemUnit is the run table's word for an item: "call" when every workload
// is a GEMM (one item per call), else "item".
func ItemUnit(rec *results.Record) string {
	for _, w := range rec.Workloads {
		if !strings.HasPrefix(w.Name, "gemm-") && !strings.HasPrefix(w.Name, "gpu-gemm-") {
			return "item"
		}
	}
	return "call"
}

// countsNoFLOPs reports whether a workload's repetitions count no FLOPs.
func countsNoFLOPs(w results.Workload) bool {
	if len(w.Reps) == 0 {
		return false
	}
	for _, r := range w.Reps {
		if r.Work.FLOPs != 0 {
			return false
		}
	}
	return true
}

// splitEpisodic returns rec without its episodic workloads, and a record
// of those alone (nil when there are none). Both share rec's meters,
// readings, idle baseline and carbon, so every figure is computed as
// from rec.
func splitEpisodic(rec *results.Record) (main, jobs *results.Record) {
	var m, j []results.Workload
	for _, w := range rec.Workloads {
		if metrics.Episodic(w) {
			j = append(j, w)
		} else {
			m = append(m, w)
		}
	}
	if len(j) == 0 {
		return rec, nil
	}
	mr, jr := *rec, *rec
	mr.Workloads, jr.Workloads = m, j
	return &mr, &jr
}

type group struct {
	key, names string
	n          int
}

// groupBy groups workloads by key(w), in order of first appearance, each
// with its names listed (the first three, then how many more).
func groupBy(ws []results.Workload, key func(results.Workload) string) []group {
	var keys []string
	names := map[string][]string{}
	for _, w := range ws {
		k := key(w)
		if k == "" {
			continue
		}
		if _, ok := names[k]; !ok {
			keys = append(keys, k)
		}
		names[k] = append(names[k], w.Name)
	}
	out := make([]group, len(keys))
	for i, k := range keys {
		n := names[k]
		list := strings.Join(n, ", ")
		if len(n) > 3 {
			list = fmt.Sprintf("%s and %d more", strings.Join(n[:3], ", "), len(n)-3)
		}
		out[i] = group{k, list, len(n)}
	}
	return out
}

// unitsNote says what an item is for each kind of workload in rec.
func unitsNote(rec *results.Record) string {
	var parts []string
	for _, g := range groupBy(rec.Workloads, func(w results.Workload) string { return w.WorkUnit }) {
		parts = append(parts, fmt.Sprintf("one %s (%s)", g.key, g.names))
	}
	return strings.Join(parts, "; ")
}

// partWords says which of the total's domains are modelled and which are
// measured, for a record whose total is partly estimated.
func partWords(rec *results.Record) string {
	var modelled, measured []string
	for _, m := range rec.Meters {
		for _, d := range m.Domains {
			if !d.InTotal {
				continue
			}
			if m.Estimated || m.Method == results.MethodModel {
				modelled = append(modelled, d.Name)
			} else {
				measured = append(measured, d.Name+" ("+m.Method+")")
			}
		}
	}
	return fmt.Sprintf("%s modelled from CPU utilisation and TDP, %s measured", strings.Join(modelled, ", "), strings.Join(measured, ", "))
}
