package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/results"
)

// CertificateFile is the certificate's name, next to its record.
const CertificateFile = "certificate.dsse.json"

// ReproductionFile is the signed reproduction statement's name, next to
// the new record.
const ReproductionFile = "reproduction.dsse.json"

// listFlag collects a repeatable flag (--pub A --pub B, or --pub A,B).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func cmdKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", stderr)
	out := fs.String("out", "", "directory for joulebench.key (private, mode 0600) and joulebench.pub")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *out == "" {
		return usagef("keygen takes --out DIR and no arguments")
	}
	pub, priv, err := certify.GenerateKey()
	if err != nil {
		return err
	}
	privPath, pubPath, err := certify.WriteKeyPair(*out, pub, priv)
	if err != nil {
		return usageError{err}
	}
	fmt.Fprintf(stdout, "private key: %s (keep it; mode 0600)\npublic key:  %s (publish it)\nkey id:      %s\n", privPath, pubPath, certify.KeyID(pub))
	return nil
}

// recordPath accepts a record.json or the run directory holding one.
func recordPath(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return filepath.Join(p, results.RecordFile)
	}
	return p
}

// loadSpec returns the spec to judge by: --spec FILE, or the embedded v1.
func loadSpec(path string) (*certify.Spec, string, error) {
	if path == "" {
		s, raw := certify.DefaultSpec()
		return s, certify.SpecDigest(raw), nil
	}
	s, raw, err := certify.LoadSpec(path)
	if err != nil {
		return nil, "", usageError{err}
	}
	return s, certify.SpecDigest(raw), nil
}

func cmdCertify(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("certify", stderr)
	key := fs.String("key", "", "private key (from joulebench keygen) to sign with")
	allow := fs.Bool("allow-estimated", false, "certify a level 0 record (estimated or synthetic energy); the certificate says level 0 wherever it shows a rating")
	specFile := fs.String("spec", "", "certification spec FILE (default: the embedded spec v1)")
	profile := fs.String("profile", "", "spec profile to judge by (default: the record's suite, else certify)")
	force := fs.Bool("force", false, "replace a certificate that is already next to the record")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *key == "" {
		return usagef("certify takes one RECORD and --key KEY")
	}
	path := recordPath(pos[0])
	out := filepath.Join(filepath.Dir(path), CertificateFile)
	// A certificate already issued for this record is not silently
	// replaced: it may be the one others have verified.
	if _, err := os.Lstat(out); err == nil && !*force {
		return usagef("%s already exists: certify does not replace a certificate; move it away, or pass --force to replace it", out)
	}
	// The record is hashed and judged from the same bytes, read once.
	recBytes, rec, err := results.ReadFileBytes(path)
	if err != nil {
		return usageError{err}
	}
	spec, digest, err := loadSpec(*specFile)
	if err != nil {
		return err
	}
	// The key is checked before the work, so that a leaky key file is
	// refused whatever the record.
	priv, err := certify.LoadPrivateKey(*key)
	if err != nil {
		return usageError{err}
	}
	// A cluster record (joulebench merge) is judged with its node records,
	// found beside it and checked against their digests.
	cert, err := certify.EvaluateFile(results.Path(path), rec, spec, digest, certify.EvalOptions{Profile: *profile, AllowEstimated: *allow, Now: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return usageError{err}
	}
	if _, builtinRaw := certify.DefaultSpec(); digest != certify.SpecDigest(builtinRaw) {
		fmt.Fprintf(stdout, "custom spec: %s (%s), NOT the built-in spec; a reader must have this file to verify the certificate\n", *specFile, digest)
	}
	printCertificate(stdout, cert)
	if err := cert.Refusal(*allow); err != nil {
		return fmt.Errorf("certify %s: refused: %w", path, err)
	}
	sum := sha256.Sum256(recBytes)
	subject := certify.Subject{Name: filepath.Base(path), SHA256: hex.EncodeToString(sum[:])}
	env, err := certify.Sign(subject, certify.PredicateCertificate, cert, priv)
	if err != nil {
		return err
	}
	if err := results.WriteFileAtomic(out, env, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "certificate: %s (key id %s)\n", out, certify.KeyID(priv.Public().(ed25519.PublicKey)))
	return nil
}

// printCertificate shows what a certificate says: level, rules, ratings.
func printCertificate(w io.Writer, c *certify.Certificate) {
	fmt.Fprintf(w, "run %s, spec %s v%s (%s), profile %s: %s\n", c.Record.RunID, c.Spec.Name, c.Spec.Version, c.Spec.Digest, c.Profile, c.Level)
	fmt.Fprintf(w, "  %s\n", c.Level.Reason)
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("workload", "class", "rating", "basis")
	for _, wr := range c.Workloads {
		basis := ""
		if wr.RatingBasis != nil {
			basis = fmt.Sprintf("%s %.4g %s (%s is better)", wr.RatingBasis.Metric, wr.RatingBasis.Value, wr.RatingBasis.Unit, wr.RatingBasis.Better)
		}
		t.Append(wr.Name, wr.Class, wr.RatingShown, basis)
	}
	t.Render()
	printCeilings(w, c)
	for _, r := range c.Rules {
		if !r.Pass {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
}

// printCeilings shows each workload's throughput ceiling and how it was
// computed from the host the record describes, so that a reader sees what
// the host claims (a ceiling is only as true as the host fields are).
func printCeilings(w io.Writer, c *certify.Certificate) {
	for _, wr := range c.Workloads {
		if wr.Ceiling != nil {
			fmt.Fprintf(w, "  %s ceiling: %s\n", wr.Name, wr.Ceiling.Basis)
		}
	}
}
