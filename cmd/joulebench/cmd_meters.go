package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
)

func cmdMeters(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("meters", stderr)
	sysfs := fs.String("sysfs-root", "/sys", "where sysfs is mounted")
	proc := fs.String("proc-root", "/proc", "where procfs is mounted")
	tdp := fs.Float64("tdp", 0, "estimate meter: TDP in watts instead of the table")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("meters takes no arguments, got %q", pos)
	}
	opts := meter.Options{SysfsRoot: *sysfs, ProcRoot: *proc, TDPWatts: *tdp}
	// A root that is not there is a typo, not a machine without meters.
	if err := opts.CheckRoots(); err != nil {
		return usageError{err}
	}
	sts := meter.Probe(opts)
	if *asJSON {
		type row struct {
			Backend   string           `json:"backend"`
			Available bool             `json:"available"`
			Method    string           `json:"method,omitempty"`
			Estimated bool             `json:"estimated"`
			Domains   []string         `json:"domains,omitempty"`
			Source    string           `json:"source,omitempty"`
			Reason    string           `json:"reason,omitempty"`
			Notes     []string         `json:"notes,omitempty"`
			Devices   []results.Device `json:"devices,omitempty"`
		}
		var rows []row
		for _, s := range sts {
			r := row{Backend: s.Backend, Available: s.Err == nil, Method: string(s.Method), Estimated: s.Method.Estimated(), Source: s.Source, Notes: s.Notes, Devices: s.Devices}
			for _, d := range s.Domains {
				r.Domains = append(r.Domains, d.Name)
			}
			if s.Err != nil {
				r.Reason = s.Err.Error()
			}
			rows = append(rows, r)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	return writeMeters(stdout, sts)
}

// metersWidth is the width the meters table fits, as the run table does.
const metersWidth = report.TableWidth

// writeMeters prints what each backend can measure here, or why not, in a
// table no wider than metersWidth: the domains and the reasons, which can
// be long (a sysfs path, the fix to run), are wrapped inside their cells.
func writeMeters(w io.Writer, sts []meter.Status) error {
	head := []string{"meter", "status", "method", "measures", "why not / notes"}
	var rows [][]string
	for _, s := range sts {
		status, method, why := "yes", string(s.Method), strings.Join(s.Notes, "; ")
		if s.Method.Estimated() {
			method += " (ESTIMATED)"
		}
		var ds []string
		for _, d := range s.Domains {
			n := d.Name
			if !d.InTotal {
				n += "*"
			}
			ds = append(ds, n)
		}
		if s.Err != nil {
			status, method = "no", ""
			if !errors.Is(s.Err, errors.ErrUnsupported) {
				status = "BROKEN"
			}
			why = s.Err.Error()
		}
		rows = append(rows, []string{s.Backend, status, method, strings.Join(ds, " "), why})
	}
	// Each column but the last is as wide as its widest cell (the domain
	// list wrapped at 24 columns); the reasons get what is left of the
	// width: 6 rules and 2 spaces of padding a column take the rest.
	const domainsWidth = 24
	for _, r := range rows {
		r[3] = strings.Join(report.Wrap(r[3], domainsWidth), "\n")
	}
	used := 6 + 2*len(head)
	for j := range 4 {
		wj := report.DisplayWidth(head[j])
		for _, r := range rows {
			for _, l := range strings.Split(r[j], "\n") {
				wj = max(wj, report.DisplayWidth(l))
			}
		}
		used += wj
	}
	whyWidth := max(metersWidth-used, 30)
	for _, r := range rows {
		r[4] = strings.Join(report.Wrap(r[4], whyWidth), "\n")
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAutoWrap(tw.WrapNone))
	t.Header(head[0], head[1], head[2], head[3], head[4])
	for _, r := range rows {
		if err := t.Append(r[0], r[1], r[2], r[3], r[4]); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "* reported but not added to the total (inside or overlapping another domain)")
	for _, s := range sts {
		for _, l := range report.DeviceLines(results.Meter{Name: s.Backend, Devices: s.Devices}) {
			for i, wl := range report.Wrap(s.Backend+" "+l, metersWidth-2) {
				if i > 0 {
					wl = "  " + wl
				}
				fmt.Fprintln(w, wl)
			}
		}
	}
	return nil
}
