package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
	jplot "github.com/joulebench/joulebench/results/report/plot"
)

// HTMLOptions add a certificate to the HTML report.
type HTMLOptions struct {
	// Certificate is the signed certificate of the record (the DSSE
	// envelope's JSON), nil for none. The page shows what it states and
	// how to verify it; it does not verify it itself.
	Certificate []byte
	// CertPath and RecordPath are the files the verify commands on the
	// page name; empty gives certificate.dsse.json and record.json.
	CertPath, RecordPath string
	// Verified is what the caller's verification of the certificate
	// found ("VERIFIED: ..." or "NOT VERIFIED: ..."), "" when it did not
	// verify it: the page then says so in as many words.
	Verified string
}

// WriteHTML writes the record as one self-contained HTML page, for a
// browser or to print on A4: a verdict box (valid or not and why, the
// measurement level, the rating of each rated workload, and ESTIMATED or
// SYNTHETIC in large type when the energy was not measured), the host,
// the disclosure that the SCI (ISO/IEC 21031) and MLPerf Power ask for,
// the tables, the plots as inline SVG, a statement for a paper, and, with
// a certificate, what it states and the commands that verify it.
//
// The page loads nothing: the CSS and the plots are inline, there is no
// script and no link, so it reads the same offline, from an archive or
// attached to an e-mail. Everything taken from the record is escaped.
func WriteHTML(w io.Writer, rec *results.Record, opt HTMLOptions) error {
	p, err := buildPage(rec, opt.RecordPath)
	if err != nil {
		return err
	}
	plots, perr, err := svgPlots(rec)
	if err != nil {
		return err
	}
	p.Plots = plots
	if perr != nil {
		p.Notes = append(p.Notes, "WARNING: plots not drawn: "+perr.Error())
	}
	if opt.Certificate != nil {
		p.Cert = buildCertSection(opt.Certificate, opt.CertPath, opt.RecordPath, opt.Verified)
	}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, p); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

// page is what the HTML and Markdown reports show, computed once from
// the record so that the two say the same.
type page struct {
	RunID, Suite, Started string
	// Banner is "ESTIMATED" or "SYNTHETIC" when the energy was not
	// measured, with why.
	Banner, BannerWhy string
	Valid             bool
	ValidWhy          string
	Failures          []string
	// Level is the measurement level certify gives the record, or
	// LevelErr why it could not judge it.
	Level, LevelWhy, LevelErr string
	// Profile is the spec profile the record was judged by; Refusal the
	// reasons a certificate would be refused (empty: it could be
	// issued).
	Profile string
	Refusal []string
	Ratings []rating
	Host    []kv
	// Disclosure is what the SCI and MLPerf Power ask a report to state.
	Disclosure []kv
	Meters     []meterInfo
	Tables     []docTable
	Notes      []string
	Statement  string
	Plots      []plotFigure
	Cert       *certSection
}

type kv struct{ K, V string }

type rating struct {
	Workload, Class, Band, Basis string
}

type meterInfo struct {
	Name, Method, Source string
	Domains              string
	Notes                []string
}

// docTable is a table of either report: a title, a head, rows of cells, the
// first Left columns aligned left, and notes under it.
type docTable struct {
	Title string
	Head  []string
	Left  int
	Rows  [][]string
	Notes []string
}

// plotFigure is one plot, as inline SVG.
type plotFigure struct {
	Name string
	SVG  template.HTML
}

type certSection struct {
	Verified   string
	VerifiedOK bool
	Facts      []kv
	Problem    string
	Commands   []command
	Meaning    string
	Checks     []string
}

type command struct{ Title, Code string }

// evalNow is the issue time given to certify.Evaluate: the record's own
// time, so that the report does not depend on when it is made. It shows
// nowhere.
func evalNow(rec *results.Record) time.Time {
	switch {
	case !rec.FinishedAt.IsZero():
		return rec.FinishedAt
	case !rec.StartedAt.IsZero():
		return rec.StartedAt
	}
	return time.Unix(0, 0)
}

// buildPage computes everything both reports show.
// recPath, when given, is where rec was read: a cluster record's node
// records are found beside it, so that certify can judge the cluster.
func buildPage(rec *results.Record, recPath string) (*page, error) {
	if rec == nil {
		return nil, errors.New("report: no record")
	}
	p := &page{RunID: rec.RunID, Suite: fmt.Sprintf("%s v%s", rec.Config.Suite, rec.Config.SuiteVersion)}
	if !rec.StartedAt.IsZero() {
		p.Started = rec.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	est, syn := metrics.Estimated(rec), metrics.Synthetic(rec)
	switch {
	case syn:
		p.Banner, p.BannerWhy = "SYNTHETIC", "fake meter: every energy figure is made up, for tests and demos; it describes no hardware"
	case est && RecordBoundary(rec).Class == "partly estimated":
		p.Banner, p.BannerWhy = "PARTLY ESTIMATED", partWords(rec)
	case est:
		p.Banner, p.BannerWhy = "ESTIMATED", "energy is modelled from CPU utilisation and TDP, not measured by any meter"
	}

	sums := metrics.Summarize(rec)
	for i, s := range sums {
		wl := rec.Workloads[i]
		if wl.Error != "" {
			p.Failures = append(p.Failures, wl.Name+": FAILED: "+wl.Error)
			continue
		}
		for _, r := range s.Validity.Failed() {
			p.Failures = append(p.Failures, wl.Name+": "+r)
		}
	}
	bad := 0
	for i, s := range sums {
		if !s.Validity.Valid || rec.Workloads[i].Error != "" {
			bad++
		}
	}
	if !rec.Complete {
		p.Failures = append(p.Failures, "INCOMPLETE: "+rec.IncompleteReason)
	}
	switch {
	case len(rec.Workloads) == 0:
		p.ValidWhy = "the record has no workloads"
	case len(p.Failures) == 0:
		p.Valid = true
		p.ValidWhy = fmt.Sprintf("every workload (%d) passed the rules of the %s suite: repetitions, duration, readings, variation, answer checks", len(rec.Workloads), rec.Config.Suite)
	case bad == 0:
		p.ValidWhy = "the run did not complete"
	default:
		p.ValidWhy = fmt.Sprintf("%d of %d workloads failed a rule", bad, len(rec.Workloads))
	}

	spec, raw := certify.DefaultSpec()
	evalOpts := certify.EvalOptions{AllowEstimated: true, Now: evalNow(rec)}
	var cert *certify.Certificate
	var err error
	if recPath != "" {
		cert, err = certify.EvaluateFile(recPath, rec, spec, certify.SpecDigest(raw), evalOpts)
	} else {
		cert, err = certify.Evaluate(rec, spec, certify.SpecDigest(raw), evalOpts)
	}
	if err != nil {
		p.LevelErr = err.Error()
	} else {
		p.Level, p.LevelWhy, p.Profile = cert.Level.String(), cert.Level.Reason, cert.Profile
		var re *certify.RefusalError
		if errors.As(cert.Refusal(false), &re) {
			p.Refusal = re.Reasons
		}
		// The banner follows certify, which judges each meter by what it
		// is, not by the method the record states: a fake meter whose
		// method was edited to "counter" still says SYNTHETIC here, and a
		// record whose figures its own readings contradict is not VALID.
		if cert.Level.Level == 0 && p.Banner == "" {
			p.Banner, p.BannerWhy = "NOT MEASURED", "certify judges this record level 0: "+cert.Level.Reason
			if strings.Contains(cert.Level.String(), "synthetic") || strings.Contains(cert.Level.Reason, "synthetic") {
				p.Banner = "SYNTHETIC"
			}
		}
		for _, r := range cert.Rules {
			if r.Hard && !r.Pass && (r.Name == "raw readings" || r.Name == "meter methods" || r.Name == "meter readings") {
				who := ""
				if r.Workload != "" {
					who = r.Workload + ": "
				}
				p.Failures = append(p.Failures, who+"the record contradicts itself: "+r.Name+": "+r.Reason)
				if len(rec.Workloads) > 0 {
					p.Valid = false
					p.ValidWhy = "the record's figures do not follow from its own meter readings and meters"
				}
			}
		}
		for _, wr := range cert.Workloads {
			if wr.Class == "" {
				continue
			}
			r := rating{Workload: wr.Name, Class: wr.Class, Band: wr.RatingShown}
			if r.Band == "" {
				r.Band = "not rated"
			}
			if b := wr.RatingBasis; b != nil {
				r.Basis = basisValue(b.Value, b.Unit) + kindWord(est, syn)
			}
			p.Ratings = append(p.Ratings, r)
		}
	}

	p.Host = hostFacts(rec.Host)
	p.Meters = meterInfos(rec)
	p.Disclosure = disclosure(rec, est, syn)
	tables, notes, err := buildTables(rec, sums, est, syn)
	if err != nil {
		return nil, err
	}
	p.Tables, p.Notes = tables, notes
	for _, u := range DeviceUses(rec) {
		p.Notes = append(p.Notes, "device telemetry: "+u.Line())
	}
	st, err := Statement(rec)
	if err != nil {
		return nil, err
	}
	p.Statement = st
	return p, nil
}

// basisValue formats the value a rating was read from in the unit a
// person reads: FLOP/J as GFLOPS/W.
func basisValue(v float64, unit string) string {
	if unit == "FLOP/J" {
		return sig3(v*1e-9) + " GFLOPS/W"
	}
	return sig3(v) + " " + unit
}

func hostFacts(h results.Host) []kv {
	cpu := h.CPUModel
	if cpu == "" {
		cpu = "unknown CPU"
	}
	if h.CPUVendor != "" {
		cpu += " (" + h.CPUVendor + ")"
	}
	var count []string
	if h.Sockets > 0 {
		count = append(count, fmt.Sprintf("%d %s", h.Sockets, plural(h.Sockets, "socket", "sockets")))
	}
	if h.Cores > 0 {
		count = append(count, fmt.Sprintf("%d cores", h.Cores))
	}
	count = append(count, fmt.Sprintf("%d logical CPUs", h.LogicalCPUs))
	out := []kv{{"CPU", cpu}, {"CPUs", strings.Join(count, ", ")}}
	if h.MaxMHz > 0 {
		out = append(out, kv{"max clock", fmt.Sprintf("%.0f MHz", h.MaxMHz)})
	}
	if h.MemoryBytes > 0 {
		out = append(out, kv{"memory", fmt.Sprintf("%.1f GiB", float64(h.MemoryBytes)/(1<<30))})
	}
	os := h.OS + " " + h.Arch
	if h.Kernel != "" {
		os += ", kernel " + h.Kernel
	}
	out = append(out, kv{"system", os})
	if h.Virtualized {
		out = append(out, kv{"virtual machine", "yes: the meters see what the hypervisor shows"})
	}
	if len(h.CPUFlags) > 0 {
		out = append(out, kv{"CPU flags", strings.Join(h.CPUFlags, " ")})
	}
	if h.Hostname != "" {
		out = append(out, kv{"hostname", h.Hostname})
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func meterInfos(rec *results.Record) []meterInfo {
	var out []meterInfo
	for _, m := range rec.Meters {
		var doms []string
		for _, d := range m.Domains {
			s := d.Name + " (" + d.Kind
			if d.InTotal {
				s += ", in total)"
			} else {
				s += ", not in total)"
			}
			doms = append(doms, s)
		}
		method := m.Method
		switch {
		case m.Method == results.MethodSynthetic:
			method = "SYNTHETIC (fake meter: made-up figures, not a measurement)"
		case m.Estimated || m.Method == results.MethodModel:
			method = "ESTIMATED (model, not a measurement)"
		case m.Method == results.MethodCounter:
			method = "energy counter"
		case m.Method == results.MethodSampledPower:
			method = "power readings integrated over time"
		case m.Method == results.MethodExternal:
			method = "external meter (wall or BMC)"
		}
		notes := append(DeviceLines(m), m.Notes...)
		out = append(out, meterInfo{Name: m.Name, Method: method, Source: m.Source, Domains: strings.Join(doms, ", "), Notes: notes})
	}
	return out
}

// disclosure is what a report of energy and carbon must state to be
// read rightly: the SCI's software boundary, intensity and its source,
// embodied carbon and functional unit; MLPerf Power's meters, idle and
// measurement durations.
func disclosure(rec *results.Record, est, syn bool) []kv {
	kind := kindWord(est, syn)
	var out []kv
	boundary := carbon.Boundary(metrics.TotalDomains(rec))
	if rec.Carbon != nil && rec.Carbon.Boundary != "" {
		boundary = rec.Carbon.Boundary
	}
	out = append(out, kv{"boundary", boundary})
	if m := methods(rec); m != "" {
		out = append(out, kv{"methods in the total", m + kind})
	}
	if hasBaseline(rec) {
		out = append(out, kv{"idle baseline", fmt.Sprintf("%s over %.1f s%s, measured before the workloads; figures are gross, net of it where the head says net", metrics.IdlePower(rec), rec.Idle.DurationS, kind)})
	} else {
		out = append(out, kv{"idle baseline", "none: " + noBaseline(rec) + "; only gross figures are shown"})
	}
	c := rec.Config
	out = append(out, kv{"measurement", fmt.Sprintf("%d repetitions of at least %g s each after a %g s warm-up; readings every %g s, at least %d per repetition; summaries are medians with a 95%% bootstrap CI",
		c.Reps, c.MinTimeS, c.WarmupS, c.IntervalS, c.MinReadings)})
	if len(c.Overrides) > 0 {
		out = append(out, kv{"suite rules overridden", strings.Join(c.Overrides, ", ")})
	}
	if cb := rec.Carbon; cb != nil {
		how := "annual average"
		if cb.Method == results.CarbonSeries {
			how = "time series, weighted by when the repetitions' energy was spent"
		}
		v := fmt.Sprintf("%.4g gCO2e/kWh (%s", cb.GramsPerKWh, how)
		if cb.Region != "" {
			v += ", region " + cb.Region
		}
		if cb.Year > 0 {
			v += fmt.Sprintf(", %d", cb.Year)
		}
		v += ")"
		out = append(out, kv{"carbon intensity", v}, kv{"intensity source", cb.Source})
		if cb.TableVersion != "" {
			out = append(out, kv{"intensity table", cb.TableVersion})
		}
		out = append(out, kv{"PUE", fmt.Sprintf("%g", cb.PUE)})
		emb := carbon.EmbodiedNotIncluded
		if e := cb.Embodied; e != nil {
			emb = fmt.Sprintf("%g kgCO2e over %g years × share %g", e.KgCO2e, e.LifetimeYears, e.Share)
			if e.Device != "" {
				emb += " (" + e.Device + ")"
			}
			emb += "; source: " + e.Source
		}
		out = append(out, kv{"embodied carbon", emb})
		out = append(out, kv{"SCI", "gCO2e per item = (E·PUE·I + M) / items (ISO/IEC 21031), E the gross energy of the repetition; the functional unit is each workload's item"})
		for _, n := range cb.Notes {
			out = append(out, kv{"carbon note", n})
		}
	} else {
		out = append(out, kv{"carbon", "the record has no carbon accounting (no intensity, PUE or embodied carbon): no gCO2e figures"})
	}
	t := wholeRun(rec)
	span := "idle baseline, warm-ups and repetitions"
	if t.FromReadings {
		span = "first meter reading to last: the phases and the checks between them"
	}
	v := fmt.Sprintf("%s%s over %.1f s (%s)", t.Energy, kind, t.Seconds, span)
	if !math.IsNaN(t.Grams) {
		v += fmt.Sprintf("; %s gCO2e%s", sig3(t.Grams), kind)
	}
	out = append(out, kv{"whole run", v})
	for _, g := range groupBy(rec.Workloads, blasLine) {
		out = append(out, kv{"BLAS " + g.key, g.names})
	}
	tool := rec.Tool.Name + " " + rec.Tool.Version
	if rec.Tool.Commit != "" {
		tool += " (" + rec.Tool.Commit + ")"
	}
	out = append(out, kv{"tool", tool + ", " + rec.Tool.GoVersion})
	if c.CheckSeed != "" {
		out = append(out, kv{"answer check seed", c.CheckSeed})
	}
	return out
}

// buildTables builds the run table, the jobs table, the model tables
// and the transfer-learning table, with their notes, and the notes of
// the run.
func buildTables(full *results.Record, fullSums []metrics.Summary, est, syn bool) ([]docTable, []string, error) {
	var out []docTable
	var notes []string
	csum, hasCarbon, cerr := carbon.Summarize(full)
	showCarbon := hasCarbon && cerr == nil
	if cerr != nil {
		notes = append(notes, "no carbon figures: "+cerr.Error())
	}
	label := kindWord(est, syn)
	baseline := hasBaseline(full)
	gco2 := func(i int) metrics.Stats { return csum[i].Stats[carbon.FigGramsPerItem] }

	var runIdx, jobIdx []int
	for i, w := range full.Workloads {
		if metrics.Episodic(w) {
			jobIdx = append(jobIdx, i)
		} else {
			runIdx = append(runIdx, i)
		}
	}
	main, _ := splitEpisodic(full)
	unit := ItemUnit(main)
	if len(runIdx) > 0 {
		pick := func(get func(i int) metrics.Stats) prefix {
			var med []float64
			for _, i := range runIdx {
				if full.Workloads[i].Error == "" {
					med = append(med, get(i).Median)
				}
			}
			return pickPrefix(med)
		}
		st := func(key string) func(i int) metrics.Stats {
			return func(i int) metrics.Stats { return fullSums[i].Stats[key] }
		}
		jp := pick(st(metrics.FigJPerItem))
		head := []string{"workload", "reps", "s/rep", "GFLOP/s", "W" + label, jp.name + "J/" + unit + label}
		if baseline {
			head = append(head, "net "+jp.name+"J/"+unit+label)
		}
		head = append(head, "GFLOPS/W"+label)
		var gp prefix
		if showCarbon {
			gp = pick(gco2)
			head = append(head, gp.name+"gCO2e/"+unit+label)
		}
		head = append(head, "valid")
		var rows [][]string
		for _, i := range runIdx {
			wl, s := full.Workloads[i], fullSums[i]
			row := []string{wl.Name, fmt.Sprint(len(wl.Reps))}
			if wl.Error != "" {
				for range len(head) - 3 {
					row = append(row, "-")
				}
				rows = append(rows, append(row, "FAILED"))
				continue
			}
			srep := "-"
			if len(wl.Reps) > 0 {
				srep = num(s.Median.Duration.Seconds(), 2)
			}
			jc := ciCell(s.Stats[metrics.FigJPerItem], jp.scale, 0)
			row = append(row, srep, ciCell(s.Stats[metrics.FigFLOPS], 1e-9, 0), ciCell(s.Stats[metrics.FigPowerW], 1, 0), jc)
			if baseline {
				row = append(row, ciCell(s.Stats[metrics.FigNetJPerItem], jp.scale, s.Stats[metrics.FigJPerItem].Median*jp.scale))
			}
			row = append(row, ciCell(s.Stats[metrics.FigFLOPsPerJ], 1e-9, 0))
			if showCarbon {
				row = append(row, ciCell(gco2(i), gp.scale, 0))
			}
			v := "yes"
			if !s.Validity.Valid {
				v = "NO"
			}
			rows = append(rows, append(row, v))
		}
		t := docTable{Title: "Workloads", Head: head, Left: 1, Rows: rows,
			Notes: []string{"cells: median and 95% CI over the repetitions (±half-width, or [low, high] when asymmetric); energy is gross unless the head says net"}}
		if unit == "item" {
			t.Notes = append(t.Notes, "an item is "+unitsNote(main))
		}
		out = append(out, t)
	}
	if len(jobIdx) > 0 {
		head := []string{"workload", "jobs", "s/job", "W" + label, "J/job" + label}
		if showCarbon {
			head = append(head, "gCO2e/job"+label)
		}
		head = append(head, "valid")
		var rows [][]string
		for _, i := range jobIdx {
			wl, s := full.Workloads[i], fullSums[i]
			secs := make([]float64, len(s.Reps))
			for k, r := range s.Reps {
				secs[k] = r.Duration.Seconds()
			}
			valid := "yes"
			switch {
			case wl.Error != "":
				valid = "FAILED"
			case !s.Validity.Valid:
				valid = "NO"
			}
			row := []string{wl.Name, fmt.Sprint(len(wl.Reps)), sig3(metrics.Median(secs)), ciCell(s.Stats[metrics.FigPowerW], 1, 0), ciCell(s.Stats[metrics.FigJPerItem], 1, 0)}
			if showCarbon {
				row = append(row, ciCell(gco2(i), 1, 0))
			}
			rows = append(rows, append(row, valid))
		}
		out = append(out, docTable{Title: "Jobs (each repetition one whole job)", Head: head, Left: 1, Rows: rows})
	}

	rows := metrics.ModelRows(full, fullSums)
	gByName := map[string]metrics.Stats{}
	if showCarbon {
		for _, c := range csum {
			gByName[c.Name] = c.Stats[carbon.FigGramsPerItem]
		}
	}
	for _, sc := range metrics.SortedScenarios(rows) {
		var sel []metrics.ModelRow
		for _, r := range rows {
			if r.Scenario == sc {
				sel = append(sel, r)
			}
		}
		title := "Models, scenario " + sc
		switch sc {
		case "offline":
			title = "Models, MLPerf Offline (batch 256): accuracy on the full test set, energy per inference"
		case "singlestream":
			title = "Models, MLPerf SingleStream (one query at a time): accuracy, energy per query, latency"
		}
		head, cells := modelTable(sel, sc, gByName, label)
		for i, h := range head {
			if strings.Contains(h, "gCO2e") {
				head[i] = h + label // carbon from estimated energy is estimated too
			}
		}
		t := docTable{Title: title, Head: head, Rows: cells, Left: 1}
		for _, r := range sel {
			if r.Variant != "fp32" {
				t.Notes = append(t.Notes, strings.TrimPrefix(r.Model, "mnist-")+" "+sc+": "+r.SavingWords())
			}
		}
		t.Notes = append(t.Notes, "gate: valid at the 99% (99.9%) level when accuracy is at least 99% (99.9%) of the fp32 reference's, as in MLPerf Inference; below 99% a variant is never ranked as a saving")
		out = append(out, t)
	}

	tr := metrics.TransferRows(full, fullSums)
	if len(tr) > 0 {
		target := 0.0
		for _, r := range tr {
			target = math.Max(target, r.Target)
		}
		title := "Transfer learning: pretraining"
		if target > 0 {
			title = fmt.Sprintf("Transfer learning: energy to reach %.1f%% held-out accuracy, over the jobs that reached it", 100*target)
		}
		t := docTable{Title: title, Head: []string{"strategy", "reached target", "J to target" + label, "steps", "vs scratch (95% CI)", "pretraining repaid after"}, Left: 2}
		t.Rows = transferCells(tr)
		for _, r := range tr {
			switch {
			case r.Saving != nil:
				t.Notes = append(t.Notes, fmt.Sprintf("%s: %s than training from scratch, over the %d of %d jobs that reached the target", r.Strategy, r.Saving.Describe("energy to the target"), r.Converged, r.Jobs))
			case r.NoSaving != "":
				t.Notes = append(t.Notes, r.Strategy+": "+r.NoSaving)
			}
			if r.Disbelieved > 0 {
				t.Notes = append(t.Notes, fmt.Sprintf("WARNING: %s: %d job(s) said they converged but stopped below the target; counted as not converged", r.Strategy, r.Disbelieved))
			}
		}
		out = append(out, t)
	}

	edges := metrics.IndexEdges(full)
	for _, wl := range full.Workloads {
		for _, r := range wl.Reps {
			if msg := edges.CheckRep(r); msg != "" {
				notes = append(notes, fmt.Sprintf("WARNING: %s repetition %d: %s", wl.Name, r.Index+1, msg))
			}
		}
		if msg := wl.Info["warning"]; msg != "" {
			notes = append(notes, "WARNING: "+wl.Name+": "+msg)
		}
		if msg := Uncovered(full, wl); msg != "" {
			notes = append(notes, "WARNING: "+wl.Name+": "+msg)
		}
	}
	for _, n := range full.Notes {
		notes = append(notes, "note: "+n)
	}
	return out, notes, nil
}

// buildCertSection says what a certificate states, without trusting it:
// the envelope is decoded, not verified, and the page says so unless the
// caller verified it (verified).
func buildCertSection(envelope []byte, certPath, recordPath, verified string) *certSection {
	if certPath == "" {
		certPath = "certificate.dsse.json"
	}
	if recordPath == "" {
		recordPath = "record.json"
	}
	cs := &certSection{Verified: verified, Meaning: certify.SignatureMeaning, Checks: certify.ConsistencyChecks()}
	if verified == "" {
		cs.Verified = "NOT VERIFIED by the program that wrote this page: what follows is what the certificate states; run one of the commands below to check it"
	}
	cs.VerifiedOK = strings.HasPrefix(verified, "VERIFIED")
	cs.Facts, cs.Problem = envelopeFacts(envelope)
	cert, rec, pub := shellQuote(certPath), shellQuote(recordPath), "joulebench.pub"
	cs.Commands = []command{
		{"joulebench (signature, record digest, spec, and every figure recomputed from the record)",
			fmt.Sprintf("joulebench verify %s --pub %s --record %s", cert, pub, rec)},
		{"openssl 3, jq and base64 (signature and record digest only; the last two lines must print the same digest)",
			fmt.Sprintf(`type=$(jq -r .payloadType %[1]s)
jq -r .payload %[1]s | base64 -d > payload.bin
jq -r '.signatures[0].sig' %[1]s | base64 -d > sig.bin
{ printf 'DSSEv1 %%d %%s %%d ' "${#type}" "$type" "$(wc -c < payload.bin)"; cat payload.bin; } > pae.bin
openssl pkeyutl -verify -pubin -inkey %[3]s -rawin -in pae.bin -sigfile sig.bin
jq -r '.subject[0].digest.sha256' payload.bin
openssl dgst -sha256 -r %[2]s | cut -d' ' -f1`, cert, rec, pub)},
		{"cosign (prints Verified OK after a warning that no transparency log was checked)",
			fmt.Sprintf("cosign verify-blob-attestation --key %s --insecure-ignore-tlog \\\n  --type %s --signature %s %s", pub, certify.PredicateCertificate, cert, rec)},
	}
	return cs
}

// envelopeFacts decodes a DSSE envelope and the certificate in it
// without verifying anything, for display; problem says what could not
// be read.
func envelopeFacts(data []byte) (facts []kv, problem string) {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, "not a DSSE envelope: " + err.Error()
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, "the envelope's payload is not base64: " + err.Error()
	}
	sum := sha256.Sum256(payload)
	facts = append(facts, kv{"payload type", env.PayloadType}, kv{"statement sha256", hex.EncodeToString(sum[:])})
	for _, s := range env.Signatures {
		facts = append(facts, kv{"signed by key id (hint)", s.KeyID})
	}
	var st certify.Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return facts, "the payload is not an in-toto statement: " + err.Error()
	}
	facts = append(facts, kv{"predicate type", st.PredicateType})
	for _, s := range st.Subjects {
		facts = append(facts, kv{"subject", s.Name + " sha256:" + s.SHA256})
	}
	if st.PredicateType != certify.PredicateCertificate {
		return facts, "not a certificate (predicate type " + st.PredicateType + ")"
	}
	c, err := certify.DecodeCertificate(st.Predicate)
	if err != nil {
		return facts, err.Error()
	}
	valid := "valid: every hard rule passed"
	if !c.Valid {
		valid = "NOT valid: a hard rule failed"
	}
	facts = append(facts,
		kv{"spec", fmt.Sprintf("%s v%s, profile %s, sha256:%s", c.Spec.Name, c.Spec.Version, c.Profile, c.Spec.Digest)},
		kv{"issued", c.IssuedAt.UTC().Format("2006-01-02 15:04:05 UTC")},
		kv{"run", c.Record.RunID},
		kv{"level", c.Level.String()},
		kv{"verdict", valid})
	for _, w := range c.Workloads {
		if w.RatingShown != "" {
			facts = append(facts, kv{"rating " + w.Name, w.RatingShown})
		}
	}
	return facts, ""
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@+,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// svgPlots renders every plot that applies to rec as inline SVG: the
// XML prolog and comment dropped, nothing else changed (gonum's SVG
// escapes its text and embeds no font or image by default).
//
// drawErr says which plots could not be drawn (the page says so and
// shows the others); err is a failure to render one that was drawn.
func svgPlots(rec *results.Record) (out []plotFigure, drawErr, err error) {
	named, drawErr := plotsFor(rec)
	for _, n := range named {
		b, err := n.render("svg")
		if err != nil {
			return nil, nil, fmt.Errorf("report: plot %s: %w", n.name, err)
		}
		i := bytes.Index(b, []byte("<svg"))
		if i < 0 {
			return nil, nil, fmt.Errorf("report: plot %s: no <svg> element", n.name)
		}
		// gonum's own SVG: it escapes its text and links to nothing.
		out = append(out, plotFigure{Name: n.name, SVG: template.HTML(b[i:])})
	}
	return out, drawErr, nil
}

var htmlTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"right": func(t docTable, j int) bool { return j >= t.Left },
}).Parse(htmlPage))

const htmlPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>joulebench {{.RunID}}</title>
<style>
@page { size: A4; margin: 12mm 12mm 14mm 12mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 9pt/1.35 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 186mm; padding: 6mm 0; }
@media print { body { padding: 0; max-width: none; } }
h1 { font-size: 14pt; margin: 0 0 2mm; }
h2 { font-size: 11pt; margin: 5mm 0 1.5mm; border-bottom: 1px solid #999; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 9.5pt; margin: 3mm 0 1mm; break-after: avoid; page-break-after: avoid; }
.sub { color: #444; margin: 0 0 3mm; }
.verdict { border: 2.5pt solid #1a7f37; background: #eef8f0; padding: 3mm 4mm; break-inside: avoid; page-break-inside: avoid; }
.verdict.invalid { border-color: #b3261e; background: #fdf0ef; }
.verdict .line { font-size: 12pt; font-weight: bold; margin: 0 0 1.5mm; }
.verdict ul { margin: 1mm 0 1.5mm; padding-left: 5mm; }
.banner { font-size: 26pt; font-weight: 900; letter-spacing: 0.06em; color: #b3261e; margin: 0 0 1mm; line-height: 1.1; }
.bannerwhy { font-weight: bold; color: #b3261e; margin: 0 0 2mm; }
.ratings { display: flex; flex-wrap: wrap; gap: 2mm; margin: 1.5mm 0 0; }
.rating { border: 1px solid #666; background: #fff; padding: 1mm 2mm; }
.band { font-size: 13pt; font-weight: bold; }
table { border-collapse: collapse; margin: 1mm 0; font-size: 7.5pt; }
th, td { padding: 0.5mm 1.2mm; vertical-align: top; }
thead th { border-bottom: 1px solid #333; text-align: left; vertical-align: bottom; font-weight: bold; }
th.r { text-align: right; }
td.r { text-align: right; white-space: nowrap; }
tbody td:first-child { white-space: nowrap; }
tr { break-inside: avoid; page-break-inside: avoid; }
table.kv th { text-align: left; font-weight: normal; color: #444; white-space: nowrap; padding-left: 0; }
table.kv td { overflow-wrap: anywhere; }
.notes { margin: 0.5mm 0 2mm; padding-left: 5mm; color: #333; font-size: 8pt; }
.plots { display: flex; flex-wrap: wrap; gap: 3mm; }
figure { margin: 0; width: calc(50% - 1.5mm); break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { font-size: 8pt; color: #444; text-align: center; }
.statement { border-left: 2pt solid #888; padding: 1mm 3mm; margin: 1mm 0; }
pre { font: 7.5pt/1.3 "DejaVu Sans Mono", "Liberation Mono", monospace; background: #f4f4f4; padding: 1.5mm 2mm; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.5mm 0 2mm; break-inside: avoid; page-break-inside: avoid; }
.ok { color: #1a7f37; font-weight: bold; }
.bad { color: #b3261e; font-weight: bold; }
.small { font-size: 8pt; color: #333; }
</style>
</head>
<body>
<h1>joulebench run {{.RunID}}</h1>
<p class="sub">suite {{.Suite}}{{if .Started}} · started {{.Started}}{{end}}</p>

<section id="verdict" class="verdict{{if not .Valid}} invalid{{end}}">
{{- if .Banner}}
<div id="banner" class="banner">{{.Banner}}</div>
<div class="bannerwhy">{{.BannerWhy}}</div>
{{- end}}
<div class="line">{{if .Valid}}<span class="ok">VALID</span>{{else}}<span class="bad">NOT VALID</span>{{end}}: {{.ValidWhy}}</div>
{{- if .Failures}}
<ul>{{range .Failures}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
{{- if .LevelErr}}
<div><b>Measurement level:</b> not judged: {{.LevelErr}}</div>
{{- else}}
<div><b>Measurement level: {{.Level}}</b>: {{.LevelWhy}}</div>
<div><b>Certificate (profile {{.Profile}}):</b> {{if .Refusal}}would be refused:{{else}}could be issued{{end}}</div>
{{- if .Refusal}}
<ul class="small">{{range .Refusal}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
{{- end}}
{{- if .Ratings}}
<div class="ratings">
{{- range .Ratings}}
<div class="rating"><span class="band">{{.Band}}</span> {{.Workload}}<br><span class="small">{{.Class}}{{if .Basis}}: {{.Basis}}{{end}}</span></div>
{{- end}}
</div>
{{- end}}
</section>

<h2>Host</h2>
<table class="kv">
{{- range .Host}}
<tr><th>{{.K}}</th><td>{{.V}}</td></tr>
{{- end}}
</table>

<h2>Disclosure</h2>
<table class="kv">
{{- range .Meters}}
<tr><th>meter {{.Name}}</th><td><b>{{.Method}}</b>; domains {{.Domains}}{{if .Source}}<br><span class="small">{{.Source}}</span>{{end}}{{range .Notes}}<br><span class="small">note: {{.}}</span>{{end}}</td></tr>
{{- end}}
{{- range .Disclosure}}
<tr><th>{{.K}}</th><td>{{.V}}</td></tr>
{{- end}}
</table>

<h2>Results</h2>
{{- range .Tables}}
<h3>{{.Title}}</h3>
<table>
<thead><tr>{{$t := .}}{{range $j, $h := .Head}}<th{{if right $t $j}} class="r"{{end}}>{{$h}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range $j, $c := .}}<td{{if right $t $j}} class="r"{{end}}>{{$c}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- if .Notes}}
<ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
{{- end}}
{{- if .Notes}}
<ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
{{- end}}

{{- if .Plots}}
<h2>Plots</h2>
<div class="plots">
{{- range .Plots}}
<figure id="plot-{{.Name}}">{{.SVG}}<figcaption>{{.Name}}</figcaption></figure>
{{- end}}
</div>
{{- end}}

<h2>Statement for a paper</h2>
<p class="statement">{{.Statement}}</p>

{{- with .Cert}}
<h2>Certificate</h2>
<p id="verification" class="{{if .VerifiedOK}}ok{{else}}bad{{end}}">{{.Verified}}</p>
{{- if .Problem}}
<p class="bad">The certificate could not be read: {{.Problem}}</p>
{{- end}}
<table class="kv">
{{- range .Facts}}
<tr><th>{{.K}}</th><td>{{.V}}</td></tr>
{{- end}}
</table>
<h3>Verify it yourself</h3>
<p class="small">joulebench.pub is the signer's public key, obtained from the signer by a channel you trust.</p>
{{- range .Commands}}
<div class="small">{{.Title}}:</div>
<pre>{{.Code}}</pre>
{{- end}}
<p class="small">{{.Meaning}}</p>
<ul class="notes">{{range .Checks}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
</body>
</html>
`

// namedPlot is a plot that applies to a record, rendered on demand.
type namedPlot struct {
	name   string
	render func(format string) ([]byte, error)
}

// Plot sizes: drawn at 130 mm and shown at half the A4 text width (two
// plots a row, 91 mm), so that the plots' titles and labels fit, at 70%
// of their size.
const (
	plotW = 130 * vg.Millimeter
	plotH = 88 * vg.Millimeter
)

// plotsFor lists the plots that apply to rec. The error joins those of
// the plots that could not be drawn; the others are still returned.
func plotsFor(rec *results.Record) ([]namedPlot, error) {
	all, err := jplot.All(rec)
	out := make([]namedPlot, len(all))
	for i, n := range all {
		out[i] = namedPlot{name: n.Name, render: func(format string) ([]byte, error) {
			return jplot.Render(n.Plot, plotW, plotH, format)
		}}
	}
	return out, err
}
