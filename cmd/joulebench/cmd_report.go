package main

import (
	"context"
	"fmt"
	"io"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
)

func cmdReport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	asJSON := fs.Bool("json", false, "print the record as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("report takes one RECORD (a record.json or its run directory)")
	}
	rec, err := results.ReadFile(pos[0])
	if err != nil {
		return usageError{fmt.Errorf("%w (give a record.json, or the run directory that holds one, e.g. results/RUN-ID)", err)}
	}
	if *asJSON {
		b, err := results.Marshal(rec)
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	return report.WriteTable(stdout, rec)
}
