package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/joulebench/joulebench/results/report"
	"github.com/joulebench/joulebench/results/store"
)

const resultsUsage = "results list|show ID|reindex|top --workload W [--metric M] [--out DIR]"

// cmdResults is joulebench results: the SQLite index of OUT's records.
func cmdResults(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("usage: joulebench %s", resultsUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlags("results "+sub, stderr)
	out := fs.String("out", "results", "the results directory: OUT/RUN-ID/record.json and the index OUT/"+store.DBFile)
	var workload, metric *string
	if sub == "top" {
		workload = fs.String("workload", "", "the workload to rank machines by (a name such as gemm-fp64-1024), or MODEL/SCENARIO to rank a model's variants (mnist-mlp/offline)")
		metric = fs.String("metric", "", "flops_per_j, items_per_j or j_per_item (default: FLOPs/J when the workload counts FLOPs, J per inference for models, else items/J)")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	db := filepath.Join(*out, store.DBFile)
	switch sub {
	case "reindex":
		if len(pos) != 0 {
			return usagef("results reindex takes no arguments")
		}
		return resultsReindex(db, *out, stdout, stderr)
	case "list":
		if len(pos) != 0 {
			return usagef("results list takes no arguments")
		}
	case "show":
		if len(pos) != 1 {
			return usagef("results show takes one run ID (joulebench results list shows them)")
		}
	case "top":
		if len(pos) != 0 || *workload == "" {
			return usagef("usage: joulebench results top --workload W [--metric M] [--out DIR]")
		}
	default:
		return usagef("unknown results command %q; usage: joulebench %s", sub, resultsUsage)
	}
	s, err := openResults(db, *out, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	switch sub {
	case "list":
		return resultsList(s, stdout)
	case "show":
		return resultsShow(s, pos[0], stdout)
	}
	return resultsTop(s, *workload, *metric, stdout)
}

// openResults opens OUT's index. With none yet, it is built from OUT's
// records first: the index is a cache of the record files.
func openResults(db, out string, stderr io.Writer) (*store.Store, error) {
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
			return nil, usagef("no results directory %s (give --out DIR, where joulebench run wrote its records)", out)
		}
		fmt.Fprintf(stderr, "no index yet: indexing the records under %s\n", out)
		if err := resultsReindex(db, out, io.Discard, stderr); err != nil {
			return nil, err
		}
	}
	return store.Index(db)
}

func resultsReindex(db, out string, stdout, stderr io.Writer) error {
	if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
		return usagef("no results directory %s (give --out DIR, where joulebench run wrote its records)", out)
	}
	rep, err := store.Reindex(db, out)
	if err != nil {
		return err
	}
	for _, k := range rep.Skipped {
		fmt.Fprintf(stderr, "warning: %s\n", k)
	}
	for _, d := range rep.Duplicates {
		fmt.Fprintf(stderr, "warning: %s\n", d)
	}
	fmt.Fprintf(stdout, "indexed %d %s in %s", rep.Indexed, plural(rep.Indexed, "record", "records"), db)
	if n := len(rep.Skipped); n > 0 {
		fmt.Fprintf(stdout, "; skipped %d unreadable (see the warnings)", n)
	}
	fmt.Fprintln(stdout)
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func resultsList(s *store.Store, stdout io.Writer) error {
	list, err := s.List()
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no records indexed (joulebench run writes them; joulebench results reindex indexes existing ones)")
		return nil
	}
	var rows [][]string
	for _, e := range list {
		done := "yes"
		if !e.Complete {
			done = "no"
		}
		rows = append(rows, []string{e.RunID, e.StartedAt.Format("2006-01-02 15:04"), hostCell(e.Record),
			e.Suite + " v" + e.SuiteVersion, levelCell(e.Level, e.Measurement),
			fmt.Sprintf("%d/%d", e.ValidWorkloads, e.NWorkloads), done, fmt.Sprint(e.NCertificates)})
	}
	return renderResults(stdout, []string{"run", "started (UTC)", "host", "suite", "level", "valid", "complete", "certs"}, 5, rows)
}

func hostCell(r *store.Record) string {
	h := r.CPUModel
	if r.LogicalCPUs > 0 {
		h += fmt.Sprintf(" ×%d", r.LogicalCPUs)
	}
	if r.Hostname != "" {
		h += " (" + r.Hostname + ")"
	}
	return h
}

// levelCell says the level with "estimated" or "synthetic" beside any
// figure that is not a measurement.
func levelCell(level int, measurement string) string {
	l := "?"
	if level >= 0 {
		l = fmt.Sprint(level)
	}
	if measurement != store.Measured {
		return l + " " + strings.ToUpper(measurement)
	}
	return l
}

func resultsShow(s *store.Store, id string, stdout io.Writer) error {
	r, err := s.Show(id)
	if errors.Is(err, store.ErrNotFound) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run       %s\n", r.RunID)
	fmt.Fprintf(stdout, "record    %s\n          sha256 %s\n", r.Path, r.SHA256)
	fmt.Fprintf(stdout, "started   %s  finished %s\n", r.StartedAt.Format("2006-01-02 15:04:05Z"), r.FinishedAt.Format("2006-01-02 15:04:05Z"))
	if !r.Complete {
		fmt.Fprintf(stdout, "complete  no: %s\n", r.IncompleteReason)
	}
	fmt.Fprintf(stdout, "host      %s %s\n", hostCell(r), r.Arch)
	fmt.Fprintf(stdout, "suite     %s v%s (joulebench %s)\n", r.Suite, r.SuiteVersion, r.ToolVersion)
	fmt.Fprintf(stdout, "meters    %s\n", strings.Join(r.Meters, ", "))
	fmt.Fprintf(stdout, "level     %s (%s): %s\n", levelCell(r.Level, r.Measurement), r.LevelName, r.LevelReason)
	fmt.Fprintln(stdout, "          as the built-in spec judges the record; not a certificate")
	fmt.Fprintln(stdout)
	var rows [][]string
	for _, w := range r.Workloads {
		valid := "yes"
		if !w.Valid {
			valid = "NO"
		}
		acc := ""
		if w.Gate != "" {
			acc = fmt.Sprintf("%.2f%% (%s)", 100*w.Accuracy, w.Gate)
		}
		rows = append(rows, []string{w.Name, ciText(w.JPerItem, "%.4g"), ciText(scaled(w.FLOPsPerJ, 1e-9), "%.4g"), acc, valid})
	}
	if err := renderResults(stdout, []string{"workload", "J/item [95% CI]", "GFLOP/J [95% CI]", "accuracy", "valid"}, 1, rows); err != nil {
		return err
	}
	for _, w := range r.Workloads {
		for _, why := range strings.Split(w.InvalidReasons, "\n") {
			if why != "" {
				fmt.Fprintf(stdout, "  invalid: %s: %s\n", w.Name, why)
			}
		}
	}
	if r.Measurement != store.Measured {
		fmt.Fprintf(stdout, "every figure is %s, not measured\n", strings.ToUpper(r.Measurement))
	}
	for _, c := range r.Certificates {
		fmt.Fprintf(stdout, "\ncertificate %s (signature %s: run joulebench verify to check it)\n", c.Path, c.Signature)
		switch c.Kind {
		case "certificate":
			match := "it names this record file's sha256"
			if !c.MatchesRecord {
				match = "it names another sha256 than this record file's (" + c.SubjectSHA256 + ")"
			}
			fmt.Fprintf(stdout, "  states level %d (%s), valid %v, spec %s v%s, profile %s, issued %s; %s\n",
				c.Level, c.LevelName, c.Valid, c.SpecName, c.SpecVersion, c.Profile, c.IssuedAt.Format("2006-01-02"), match)
		case "reproduction":
			fmt.Fprintln(stdout, "  a reproduction statement")
		default:
			fmt.Fprintf(stdout, "  unreadable: %s\n", c.Error)
		}
	}
	return nil
}

func resultsTop(s *store.Store, workload, metric string, stdout io.Writer) error {
	rk, err := s.Top(workload, metric)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnknownMetric) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	what := "machines"
	if rk.Variants {
		what = "variants"
	}
	better := "higher is better"
	if !rk.HigherIsBetter {
		better = "lower is better"
	}
	unit, scale := rk.Unit, 1.0
	if rk.Metric == store.MetricFLOPsPerJ {
		unit, scale = "GFLOP/J", 1e-9
	}
	fmt.Fprintf(stdout, "%s ranked by %s (%s), median [95%% CI]\n", what, unit, better)
	for _, sec := range rk.Sections {
		fmt.Fprintf(stdout, "\n%s", sec.Title)
		if sec.Estimated {
			fmt.Fprint(stdout, ": ESTIMATED (modelled) or SYNTHETIC (fake meter) figures, not measurements: ranked apart from measurements, never with them")
		}
		fmt.Fprintln(stdout)
		head := []string{"rank", "run", "host", unit + " [95% CI]", "level", "note"}
		if rk.Variants {
			head = []string{"rank", "variant", "run", unit + " [95% CI]", "accuracy", "level", "note"}
		}
		var rows [][]string
		for _, e := range sec.Entries {
			note := e.Why
			lvl := levelCell(e.Level, e.Measurement)
			if rk.Variants {
				acc := ""
				if e.Gate != "" {
					acc = fmt.Sprintf("%.2f%% (%s)", 100*e.Accuracy, e.Gate)
				}
				rows = append(rows, []string{e.Rank, e.Variant, e.RunID, ciText(scaled(e.Value, scale), "%.4g"), acc, lvl, note})
			} else {
				rows = append(rows, []string{e.Rank, e.RunID, e.Host, ciText(scaled(e.Value, scale), "%.4g"), lvl, note})
			}
		}
		if err := renderResults(stdout, head, 3, rows); err != nil {
			return err
		}
		for _, t := range sec.Ties {
			fmt.Fprintln(stdout, t)
		}
	}
	return nil
}

func scaled(iv store.Interval, k float64) store.Interval {
	return store.Interval{Median: iv.Median * k, Low: iv.Low * k, High: iv.High * k}
}

// ciText is "median [low, high]", "-" when undefined.
func ciText(iv store.Interval, f string) string {
	if !iv.Defined() {
		return "-"
	}
	num := func(v float64) string {
		if math.IsInf(v, 1) {
			return "∞"
		}
		return fmt.Sprintf(f, v)
	}
	return num(iv.Median) + " [" + num(iv.Low) + ", " + num(iv.High) + "]"
}

// renderResults prints a table in the style of the run table
// (results/report): no borders, a line under the header, the first left
// columns aligned left and the rest right, no trailing spaces.
func renderResults(w io.Writer, head []string, left int, rows [][]string) error {
	l := make([]bool, len(head))
	for j := range head {
		l[j] = j < left || j == len(head)-1 && head[j] == "note"
	}
	t, err := report.RenderTable(head, l, rows)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, t)
	return err
}
