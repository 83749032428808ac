package store

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Metrics Top ranks by.
const (
	// MetricFLOPsPerJ is FLOPs per joule, higher first: the default for
	// a workload that counts FLOPs.
	MetricFLOPsPerJ = "flops_per_j"
	// MetricItemsPerJ is items (calls, inferences) per joule, higher
	// first: the default for a workload that counts no FLOPs.
	MetricItemsPerJ = "items_per_j"
	// MetricJPerItem is joules per item, lower first: the default for
	// model workloads, which are compared by energy per inference
	// (their variants do different FLOPs for the same answer).
	MetricJPerItem = "j_per_item"
)

// ErrUnknownMetric is wrapped when Top is asked for a metric it does not
// know.
var ErrUnknownMetric = errors.New("unknown metric")

// Ranking is Top's answer. Measured entries and estimated or synthetic
// ones are ranked in separate sections: an estimate is never placed
// among measurements, above or below them. Within a section, entries
// that may not be ranked (invalid, below the accuracy gate, no figure)
// are listed after the ranked ones, unranked, with the reason.
type Ranking struct {
	// Workload is what was ranked: a workload name, or MODEL/SCENARIO
	// for the variants of a model.
	Workload string
	// Variants is true when the entries are a model's variants (one per
	// variant and record), false when they are records (machines) of
	// one workload.
	Variants bool
	Metric   string
	// Unit is the metric's unit, with the work unit: "FLOP/J",
	// "inference/J", "J/inference".
	Unit string
	// HigherIsBetter is false for MetricJPerItem.
	HigherIsBetter bool
	Sections       []Section
}

// Section is one group of a ranking, ranked on its own.
type Section struct {
	// Title is "measured" or "estimated or synthetic".
	Title     string
	Estimated bool
	Entries   []Entry
	// Ties are the runs of ranks whose intervals overlap.
	Ties []Tie
}

// Entry is one ranked (or unranked) workload of one record.
type Entry struct {
	// Position is the 1-based place among the section's ranked entries,
	// 0 when unranked. Rank is how it is shown: "1", "=2" for a tie,
	// "-" when unranked.
	Position int
	Rank     string
	RunID    string
	// Host is the machine in a few words: CPU model × logical CPUs,
	// arch, hostname.
	Host        string
	Workload    string
	Variant     string
	WorkUnit    string
	Measurement string
	Level       int
	// Value is the ranking metric with its 95% interval.
	Value               Interval
	JPerItem, FLOPsPerJ Interval
	Accuracy            float64
	Gate                string
	Valid               bool
	// Why says why an unranked entry is not ranked.
	Why string
}

// Tie is a run of ranks whose 95% intervals each overlap the first's.
type Tie struct{ From, To int }

func (t Tie) String() string {
	return fmt.Sprintf("ranks %d–%d tie: each one's 95%% interval overlaps rank %d's", t.From, t.To, t.From)
}

// Top ranks the indexed records by a workload's work per joule. workload
// is a workload name (the records, that is the machines, that ran it are
// ranked) or MODEL/SCENARIO such as mnist-mlp/offline (the model's
// variants, in every record, are ranked by energy per inference). metric
// is "" for the default (see the Metric constants) or one of them. An
// entry whose 95% interval overlaps the one above ties with it.
func (s *Store) Top(workload, metric string) (*Ranking, error) {
	rk := &Ranking{Workload: workload}
	ws, recs, err := s.topRows(`w.name = ?`, workload)
	if err != nil {
		return nil, fmt.Errorf("top %s: %w", workload, err)
	}
	if len(ws) == 0 {
		if model, scenario, ok := strings.Cut(workload, "/"); ok {
			rk.Variants = true
			if ws, recs, err = s.topRows(`w.model = ? AND w.scenario = ?`, model, scenario); err != nil {
				return nil, fmt.Errorf("top %s: %w", workload, err)
			}
		}
	}
	if len(ws) == 0 {
		return nil, s.noWorkload(workload)
	}

	model := rk.Variants
	allFLOPs := true
	for _, w := range ws {
		model = model || w.Scenario != ""
		allFLOPs = allFLOPs && w.FLOPsPerJ.Defined()
	}
	switch {
	case metric != "":
	case model:
		metric = MetricJPerItem
	case allFLOPs:
		metric = MetricFLOPsPerJ
	default:
		metric = MetricItemsPerJ
	}
	unit := ws[0].WorkUnit
	if unit == "" || strings.Contains(unit, " ") {
		unit = "item"
	}
	switch metric {
	case MetricFLOPsPerJ:
		rk.Unit, rk.HigherIsBetter = "FLOP/J", true
	case MetricItemsPerJ:
		rk.Unit, rk.HigherIsBetter = unit+"/J", true
	case MetricJPerItem:
		rk.Unit = "J/" + unit
	default:
		return nil, fmt.Errorf("top %s: %w %q (want %s, %s or %s)", workload, ErrUnknownMetric, metric, MetricFLOPsPerJ, MetricItemsPerJ, MetricJPerItem)
	}
	rk.Metric = metric

	// Only the same work is ranked together: the same workload version
	// and parameters (content hash); for model variants, the same
	// workload version. The largest such group is ranked; the others are
	// listed, unranked, with the reason.
	keyOf := func(w Workload) string {
		if rk.Variants {
			return w.Version
		}
		return w.Name + "\x00" + w.Version + "\x00" + w.ContentHash
	}
	count := map[string]int{}
	mainKey := ""
	for _, w := range ws {
		k := keyOf(w)
		count[k]++
		if count[k] > count[mainKey] || (count[k] == count[mainKey] && k < mainKey) {
			mainKey = k
		}
	}
	measured := Section{Title: "measured"}
	estimated := Section{Title: "estimated or synthetic", Estimated: true}
	for i, w := range ws {
		r := recs[i]
		e := Entry{
			RunID: r.RunID, Host: hostWords(r), Workload: w.Name, Variant: w.Variant, WorkUnit: w.WorkUnit,
			Measurement: r.Measurement, Level: r.Level, JPerItem: w.JPerItem, FLOPsPerJ: w.FLOPsPerJ,
			Accuracy: w.Accuracy, Gate: w.Gate, Valid: w.Valid,
		}
		switch metric {
		case MetricFLOPsPerJ:
			e.Value = w.FLOPsPerJ
		case MetricJPerItem:
			e.Value = w.JPerItem
		case MetricItemsPerJ:
			e.Value = Interval{1 / w.JPerItem.Median, 1 / w.JPerItem.High, 1 / w.JPerItem.Low}
		}
		switch {
		case keyOf(w) != mainKey:
			e.Why = fmt.Sprintf("not comparable: version %q, parameters %.12s…, unlike the ranked runs", w.Version, w.ContentHash)
		case !e.Value.Defined():
			e.Why = "no " + rk.Unit + " figure"
		case !w.Valid:
			e.Why = "invalid: " + firstLine(w.InvalidReasons)
		case w.Gate != "" && !w.Ranked && w.Gate == "below 99%":
			e.Why = "accuracy below the 99% gate"
		case !w.Ranked:
			e.Why = "not ranked: no accuracy, or a reference accuracy the record does not bear out"
		case !r.Complete:
			e.Why = "the run did not complete"
		}
		if r.Measurement == Measured {
			measured.Entries = append(measured.Entries, e)
		} else {
			estimated.Entries = append(estimated.Entries, e)
		}
	}
	for _, sec := range []Section{measured, estimated} {
		if len(sec.Entries) > 0 {
			rankSection(&sec, rk.HigherIsBetter)
			rk.Sections = append(rk.Sections, sec)
		}
	}
	return rk, nil
}

// rankSection orders a section's entries, best first, unranked last, and
// gives ranks, tying each entry whose interval overlaps the one above.
func rankSection(sec *Section, higher bool) {
	es := sec.Entries
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if (a.Why == "") != (b.Why == "") {
			return a.Why == ""
		}
		if a.Why == "" && a.Value.Median != b.Value.Median {
			if higher {
				return a.Value.Median > b.Value.Median
			}
			return a.Value.Median < b.Value.Median
		}
		if a.RunID != b.RunID {
			return a.RunID < b.RunID
		}
		return a.Workload < b.Workload
	})
	start := 0 // position of the first entry of the current run of ties
	for i := range es {
		if es[i].Why != "" {
			es[i].Rank = "-"
			continue
		}
		es[i].Position = i + 1
		// A tie is with the first entry of the tie, not a chain: A ties
		// with B and B with C does not make A and C a tie.
		if i == 0 || !overlap(es[start].Value, es[i].Value) {
			start = i
		}
		es[i].Rank = fmt.Sprint(start + 1)
		if start < i {
			for k := start; k <= i; k++ {
				es[k].Rank = fmt.Sprintf("=%d", start+1)
			}
			if n := len(sec.Ties); n > 0 && sec.Ties[n-1].From == start+1 {
				sec.Ties[n-1].To = i + 1
			} else {
				sec.Ties = append(sec.Ties, Tie{From: start + 1, To: i + 1})
			}
		}
	}
}

// overlap reports whether two 95% intervals share a point.
func overlap(a, b Interval) bool { return a.Low <= b.High && b.Low <= a.High }

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func hostWords(r *Record) string {
	h := r.CPUModel
	if h == "" {
		h = "unknown CPU"
	}
	if r.LogicalCPUs > 0 {
		h += fmt.Sprintf(" ×%d", r.LogicalCPUs)
	}
	if r.Arch != "" {
		h += " " + r.Arch
	}
	if r.Hostname != "" {
		h += " (" + r.Hostname + ")"
	}
	return h
}

// topRows gives the workloads matching where, each with its record.
func (s *Store) topRows(where string, args ...any) ([]Workload, []*Record, error) {
	ws, ids, err := s.workloadsOf(`w WHERE `+where+` ORDER BY w.run_id, w.idx`, args...)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]*Record{}
	recs := make([]*Record, len(ws))
	for i, id := range ids {
		r, ok := byID[id]
		if !ok {
			if r, err = scanRecord(s.db.QueryRow(`SELECT `+recordColumns+` FROM records WHERE run_id = ?`, id)); err != nil {
				return nil, nil, err
			}
			byID[id] = r
		}
		recs[i] = r
	}
	return ws, recs, nil
}

func (s *Store) noWorkload(workload string) error {
	var names []string
	rows, err := s.db.Query(`SELECT DISTINCT name FROM workloads ORDER BY name`)
	if err == nil {
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				names = append(names, n)
			}
		}
		rows.Close()
	}
	var models []string
	rows, err = s.db.Query(`SELECT DISTINCT model || '/' || scenario FROM workloads WHERE model != '' AND scenario != '' ORDER BY 1`)
	if err == nil {
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				models = append(models, n)
			}
		}
		rows.Close()
	}
	if len(names) == 0 {
		return fmt.Errorf("top %s: %w: the index holds no workloads (run joulebench results reindex?)", workload, ErrNotFound)
	}
	msg := fmt.Sprintf("top %s: %%w: no indexed workload is named so; indexed: %s", workload, strings.Join(names, ", "))
	if len(models) > 0 {
		msg += "; model variants: " + strings.Join(models, ", ")
	}
	return fmt.Errorf(msg, ErrNotFound)
}
