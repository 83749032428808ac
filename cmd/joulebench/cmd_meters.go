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
	sts := meter.Probe(meter.Options{SysfsRoot: *sysfs, ProcRoot: *proc, TDPWatts: *tdp})
	if *asJSON {
		type row struct {
			Backend   string   `json:"backend"`
			Available bool     `json:"available"`
			Method    string   `json:"method,omitempty"`
			Estimated bool     `json:"estimated"`
			Domains   []string `json:"domains,omitempty"`
			Source    string   `json:"source,omitempty"`
			Reason    string   `json:"reason,omitempty"`
			Notes     []string `json:"notes,omitempty"`
		}
		var rows []row
		for _, s := range sts {
			r := row{Backend: s.Backend, Available: s.Err == nil, Method: string(s.Method), Estimated: s.Method.Estimated(), Source: s.Source, Notes: s.Notes}
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
	t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAutoWrap(tw.WrapNormal), tablewriter.WithRowMaxWidth(72))
	t.Header("meter", "status", "method", "measures", "why not / notes")
	for _, s := range sts {
		status, method, doms, why := "yes", string(s.Method), "", strings.Join(s.Notes, "; ")
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
		doms = strings.Join(ds, " ")
		if s.Err != nil {
			status, method = "no", ""
			if !errors.Is(s.Err, errors.ErrUnsupported) {
				status = "BROKEN"
			}
			why = s.Err.Error()
		}
		t.Append(s.Backend, status, method, doms, why)
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "* reported but not added to the total (inside or overlapping another domain)")
	return nil
}
