package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/joulebench/joulebench/cluster"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
)

// cmdMerge is joulebench merge: the node records of one multi-node run
// into a cluster record, OUT/record.json, with each node's record copied
// verbatim under OUT/nodes/<node>/.
func cmdMerge(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge", stderr)
	out := fs.String("out", "", "directory for the cluster record (OUT/record.json) and its node records (OUT/nodes/NODE/record.json); must not hold a record yet")
	asJSON := fs.Bool("json", false, "print the cluster record as JSON instead of a table")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || *out == "" {
		return usagef("merge takes the node records' directories (e.g. OUT/slurm-<job>.<step>, or one record or node directory each) and --out DIR")
	}
	if _, err := os.Stat(filepath.Join(*out, results.RecordFile)); err == nil {
		return usagef("--out %s already holds a %s; give a new directory (merge never overwrites a record)", *out, results.RecordFile)
	}
	in, err := cluster.ReadInputs(pos)
	if err != nil {
		return usageError{err}
	}
	ver, commit := buildVersion()
	rec, err := cluster.Merge(in, cluster.Options{Tool: results.Tool{Name: "joulebench", Version: ver, Commit: commit, GoVersion: runtime.Version()}})
	if err != nil {
		if errors.Is(err, cluster.ErrRefused) {
			return usageError{err}
		}
		return err
	}
	path, err := cluster.Write(*out, rec, in)
	if err != nil {
		return err
	}
	for _, n := range rec.Notes {
		if strings.HasPrefix(n, "WARNING") {
			fmt.Fprintln(stderr, n)
		}
	}
	if *asJSON {
		b, err := results.Marshal(rec)
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		fmt.Fprintf(stderr, "cluster record: %s (%d nodes, clock skew %.1f ms)\n", path, len(rec.Cluster.Nodes), rec.Cluster.SkewS*1000)
		return err
	}
	if err := report.WriteTableOptions(stdout, rec, report.TableOptions{}); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "cluster record: %s (%d nodes, clock skew %.1f ms)\n", path, len(rec.Cluster.Nodes), rec.Cluster.SkewS*1000)
	return nil
}
