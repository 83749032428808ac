package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/joulebench/joulebench/internal/infile"

	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
)

func cmdReport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	asJSON := fs.Bool("json", false, "print the record as JSON")
	benchfmt := fs.Bool("benchfmt", false, "print Go benchmark lines (J/op, flops/J, gCO2e/op) for benchstat")
	emissions := fs.String("emissions-csv", "", "append the record to FILE in CodeCarbon's emissions.csv columns")
	wide := fs.Bool("wide", false, "show every column of the table (s/rep, W, net-of-idle figures, BLAS per workload), however wide; the default fits 120 columns")
	stats := fs.Bool("stats", false, "after the table, every figure's n, median, mean, sd, cv and 95% CI")
	htmlOut := fs.String("html", "", "also write one self-contained HTML report (inline SVG plots, prints on A4) to FILE")
	mdOut := fs.String("md", "", "also write the report in Markdown, for READMEs and papers, to FILE")
	pngDir := fs.String("png", "", "also write every plot as a PNG file into DIR")
	statement := fs.Bool("statement", false, "print the paragraph for a paper's compute-and-emissions section instead of the table")
	var pubs listFlag
	fs.Var(&pubs, "pub", "with a certificate: verify it with this public key and put the result in the HTML report (repeatable)")
	var cf carbonFlags
	cf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("report takes one RECORD or CERT (a record.json, a certificate, or the run directory that holds them)")
	}
	recPath, certPath := reportInputs(pos[0])
	if len(pubs) > 0 && (*htmlOut == "" || certPath == "") {
		return usagef("--pub verifies a certificate for the HTML report: give a certificate (or its run directory) and --html FILE")
	}
	if certPath != "" && cf.set() && *htmlOut != "" {
		// The page would show recomputed carbon beside a certificate that
		// signed other figures.
		return usagef("--region, --pue and --intensity-file recompute the carbon a certificate signed; make the HTML report of %s without them", certPath)
	}
	rec, err := results.ReadFile(recPath)
	if err != nil {
		return usageError{fmt.Errorf("%w (give a record.json, or the run directory that holds one, e.g. results/RUN-ID)", err)}
	}
	// Carbon flags recompute the carbon figures from the same joules (what
	// if this ran in another region?); the record file is not changed.
	if cf.set() || rec.Carbon == nil {
		o, err := cf.options(recordOptions(rec))
		if err != nil {
			return err
		}
		if err := account(rec, o); err != nil {
			return usageError{err}
		}
	}
	if *statement {
		st, err := report.Statement(rec)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, st)
		return nil
	}
	if err := writeReports(rec, recPath, certPath, pubs, *htmlOut, *mdOut, *pngDir, stderr); err != nil {
		return err
	}
	var tbl bytes.Buffer
	if err := report.WriteTableOptions(&tbl, rec, report.TableOptions{Wide: *wide}); err != nil {
		return err
	}
	if err := output(stdout, rec, *asJSON, *benchfmt, tbl.Bytes()); err != nil {
		return err
	}
	if *stats && !*asJSON && !*benchfmt {
		if err := report.WriteStats(stdout, rec); err != nil {
			return err
		}
	}
	if *emissions != "" {
		if err := report.AppendCodeCarbonCSV(*emissions, rec); err != nil {
			return usageError{err}
		}
	}
	return nil
}

// reportInputs finds the record and the certificate (if any) that arg
// names: a run directory holds record.json and maybe the certificate; a
// certificate's record is the record.json beside it.
func reportInputs(arg string) (recPath, certPath string) {
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		recPath = filepath.Join(arg, results.RecordFile)
		if _, err := os.Stat(filepath.Join(arg, CertificateFile)); err == nil {
			certPath = filepath.Join(arg, CertificateFile)
		}
		return recPath, certPath
	}
	if strings.HasSuffix(arg, ".dsse.json") {
		return filepath.Join(filepath.Dir(arg), results.RecordFile), arg
	}
	return arg, ""
}

// writeReports writes the HTML, Markdown and PNG reports that were asked
// for, each atomically, and says where on stderr.
func writeReports(rec *results.Record, recPath, certPath string, pubs []string, htmlOut, mdOut, pngDir string, stderr io.Writer) error {
	if htmlOut != "" {
		opt := report.HTMLOptions{RecordPath: recPath, CertPath: certPath}
		if certPath != "" {
			env, err := infile.Read(certPath, infile.MaxCertificate)
			if err != nil {
				return usageError{err}
			}
			opt.Certificate = env
			if len(pubs) > 0 {
				var details bytes.Buffer
				if _, err := verifyCert(certPath, pubs, recPath, "", &details); err != nil {
					opt.Verified = "NOT VERIFIED: " + err.Error() + "\n" + details.String()
				} else {
					opt.Verified = "VERIFIED with " + strings.Join(pubs, ", ") + "\n" + details.String()
				}
			}
		}
		var b bytes.Buffer
		if err := report.WriteHTML(&b, rec, opt); err != nil {
			return err
		}
		if err := results.WriteFileAtomic(htmlOut, b.Bytes(), 0o644); err != nil {
			return usageError{fmt.Errorf("--html %s: %w", htmlOut, err)}
		}
		fmt.Fprintf(stderr, "report: %s\n", htmlOut)
	}
	if pngDir != "" {
		if err := os.MkdirAll(pngDir, 0o755); err != nil {
			return usageError{fmt.Errorf("--png %s: %w", pngDir, err)}
		}
		files, err := report.WritePNGs(pngDir, rec)
		if err != nil {
			return err
		}
		for _, f := range files {
			fmt.Fprintf(stderr, "plot: %s\n", f)
		}
	}
	if mdOut != "" {
		opt := report.MarkdownOptions{RecordPath: recPath}
		if pngDir != "" {
			// The Markdown links the PNGs as it sees them.
			if rel, err := filepath.Rel(filepath.Dir(mdOut), pngDir); err == nil {
				opt.PNGDir = filepath.ToSlash(rel)
			} else {
				opt.PNGDir = pngDir
			}
		}
		var b bytes.Buffer
		if err := report.WriteMarkdownOptions(&b, rec, opt); err != nil {
			return err
		}
		if err := results.WriteFileAtomic(mdOut, b.Bytes(), 0o644); err != nil {
			return usageError{fmt.Errorf("--md %s: %w", mdOut, err)}
		}
		fmt.Fprintf(stderr, "markdown: %s\n", mdOut)
	}
	return nil
}
