package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
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
	cert, err := certify.Evaluate(rec, spec, digest, certify.EvalOptions{Profile: *profile, AllowEstimated: *allow, Now: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return usageError{err}
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
	for _, r := range c.Rules {
		if !r.Pass {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
}

// verified is a certificate that passed every check, with what it needs
// for reproduce.
type verified struct {
	cert        *certify.Certificate
	spec        *certify.Spec
	rec         *results.Record
	recordPath  string
	certDigest  string
	keyID       string
	builtinSpec bool
}

// verifyStep runs one named check and prints it; the first failure stops.
type verifyStep struct {
	w      io.Writer
	failed error
}

func (v *verifyStep) check(name string, err error, ok string) bool {
	if v.failed != nil {
		return false
	}
	if err != nil {
		fmt.Fprintf(v.w, "  FAIL %-18s %v\n", name, err)
		v.failed = fmt.Errorf("%s: %w", name, err)
		return false
	}
	fmt.Fprintf(v.w, "  ok   %-18s %s\n", name, ok)
	return true
}

// verifyCert checks a certificate step by step, printing each step to
// details; the error names the first step that failed.
func verifyCert(certPath string, pubPaths []string, recordFlag, specFile string, details io.Writer) (*verified, error) {
	var pubs []ed25519.PublicKey
	for _, p := range pubPaths {
		k, err := certify.LoadPublicKey(p)
		if err != nil {
			return nil, usageError{err}
		}
		pubs = append(pubs, k)
	}
	raw, err := os.ReadFile(certPath)
	if err != nil {
		return nil, usageError{fmt.Errorf("read certificate: %w", err)}
	}
	sum := sha256.Sum256(raw)
	v := &verifyStep{w: details}
	out := &verified{certDigest: hex.EncodeToString(sum[:])}

	vr, err := certify.Verify(raw, pubs...)
	if errors.Is(err, certify.ErrNotEnvelope) {
		return nil, usageError{fmt.Errorf("%s: %w", certPath, err)}
	}
	keyID := ""
	if vr != nil {
		keyID = "key id " + vr.KeyID
	}
	if !v.check("signature", err, keyID) {
		return nil, v.failed
	}
	out.keyID = vr.KeyID
	if vr.Statement.PredicateType != certify.PredicateCertificate {
		err = fmt.Errorf("%w: %s is a %s statement, not a certificate", certify.ErrPredicateType, certPath, vr.Statement.PredicateType)
	}
	if !v.check("predicate type", err, vr.Statement.PredicateType) {
		return nil, v.failed
	}
	var cert certify.Certificate
	dec := json.NewDecoder(bytes.NewReader(vr.Statement.Predicate))
	dec.DisallowUnknownFields()
	err = dec.Decode(&cert)
	if err == nil && cert.Version != certify.CertificateVersion {
		err = fmt.Errorf("certificate version %q; this joulebench reads version %s", cert.Version, certify.CertificateVersion)
	}
	if !v.check("certificate", err, "version "+cert.Version) {
		return nil, v.failed
	}
	out.cert = &cert

	rp := recordFlag
	if rp == "" && len(vr.Statement.Subjects) > 0 {
		rp = filepath.Join(filepath.Dir(certPath), filepath.Base(vr.Statement.Subjects[0].Name))
	}
	rp = recordPath(rp)
	out.recordPath = rp
	if _, err := os.Stat(rp); err != nil {
		return nil, usageError{fmt.Errorf("record %s: %w (give it with --record)", rp, err)}
	}
	// The digest and the decoding use the same bytes, read once, so the
	// record cannot change between the two.
	recBytes, err := os.ReadFile(rp)
	if err != nil {
		return nil, usageError{fmt.Errorf("read record: %w", err)}
	}
	recSum := sha256.Sum256(recBytes)
	if len(vr.Statement.Subjects) == 0 || vr.Statement.Subjects[0].SHA256 != hex.EncodeToString(recSum[:]) {
		want := "(none)"
		if len(vr.Statement.Subjects) > 0 {
			want = vr.Statement.Subjects[0].SHA256
		}
		err = fmt.Errorf("%w: %s has sha256 %s, the certificate names %s: the record changed since it was certified", certify.ErrSubjectDigest, rp, hex.EncodeToString(recSum[:]), want)
	}
	if !v.check("record digest", err, rp) {
		return nil, v.failed
	}
	rec, err := results.Decode(recBytes)
	if !v.check("record schema", err, fmt.Sprintf("schema_version %d", recSchema(rec))) {
		return nil, v.failed
	}
	out.rec = rec

	var spec *certify.Spec
	var digest string
	if specFile == "" {
		s, raw := certify.DefaultSpec()
		spec, digest = s, certify.SpecDigest(raw)
	} else if spec, digest, err = loadSpec(specFile); err != nil {
		return nil, err
	}
	if digest != cert.Spec.Digest {
		err = fmt.Errorf("the certificate was judged by spec %s v%s (%s), not %s: give that spec with --spec", cert.Spec.Name, cert.Spec.Version, cert.Spec.Digest, digest)
	}
	// A spec file may carry any name; only the digest says which rules
	// were applied, so say whether they are the built-in ones.
	_, builtinRaw := certify.DefaultSpec()
	which := "the built-in spec"
	if digest != certify.SpecDigest(builtinRaw) {
		which = "NOT the built-in spec: " + specFile
	}
	if !v.check("spec", err, fmt.Sprintf("%s v%s %s (%s)", cert.Spec.Name, cert.Spec.Version, digest, which)) {
		return nil, v.failed
	}
	out.builtinSpec = digest == certify.SpecDigest(builtinRaw)
	out.spec = spec

	again, err := certify.Evaluate(rec, spec, digest, certify.EvalOptions{Profile: cert.Profile, AllowEstimated: cert.AllowEstimated, Now: cert.IssuedAt})
	if err == nil {
		if diffs := certify.CompareSummaries(&cert, again); len(diffs) > 0 {
			var msg []string
			for _, d := range diffs {
				msg = append(msg, fmt.Sprintf("%s %s: %s", d.Workload, d.Metric, diffText(d)))
			}
			err = fmt.Errorf("the certificate's summaries disagree with its record's raw numbers: %s", strings.Join(msg, "; "))
		}
	}
	if err == nil {
		err = sameCertificate(&cert, again)
	}
	if !v.check("summaries", err, "recomputed from the record: every figure, rule, level, rating and field agrees") {
		return nil, v.failed
	}
	return out, nil
}

// sameCertificate requires the whole certificate to be what the record and
// spec give — host, meters, carbon, record reference, workload versions,
// rule reasons — not only the figures: a certificate re-signed with edited
// fields must not verify. Figures were already compared within
// certify.FigureTolerance, so the recomputed ones stand in for them.
func sameCertificate(cert, again *certify.Certificate) error {
	adj := *again
	adj.Workloads = append([]certify.WorkloadResult(nil), again.Workloads...)
	for i := range adj.Workloads {
		for _, w := range cert.Workloads {
			if w.Name == adj.Workloads[i].Name {
				adj.Workloads[i].Figures = w.Figures
			}
		}
	}
	a, err1 := json.Marshal(cert)
	b, err2 := json.Marshal(&adj)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if bytes.Equal(a, b) {
		return nil
	}
	var ma, mb map[string]json.RawMessage
	json.Unmarshal(a, &ma)
	json.Unmarshal(b, &mb)
	var differ []string
	for k := range mb {
		if !bytes.Equal(ma[k], mb[k]) {
			differ = append(differ, k)
		}
	}
	for k := range ma {
		if _, ok := mb[k]; !ok {
			differ = append(differ, k)
		}
	}
	sort.Strings(differ)
	return fmt.Errorf("the certificate's %s differ from what its record and spec give", strings.Join(differ, ", "))
}

func recSchema(r *results.Record) int {
	if r == nil {
		return 0
	}
	return r.SchemaVersion
}

func diffText(d certify.Diff) string {
	if d.Note != "" {
		return d.Note
	}
	return fmt.Sprintf("certified median %.6g, recomputed %.6g", d.Certified.Median, d.Recomputed.Median)
}

func cmdVerify(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	var pubs listFlag
	fs.Var(&pubs, "pub", "public key to accept (repeatable); the certificate must be signed by one of them")
	record := fs.String("record", "", "the certified record (default: the subject's name next to CERT)")
	specFile := fs.String("spec", "", "the spec the certificate names, if it is not the embedded v1")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(pubs) == 0 {
		return usagef("verify takes one CERT and at least one --pub PUB")
	}
	var details bytes.Buffer
	v, err := verifyCert(pos[0], pubs, *record, *specFile, &details)
	if err != nil {
		fmt.Fprintf(stdout, "NOT VERIFIED: %s: %v\n", pos[0], err)
		stdout.Write(details.Bytes())
		var u usageError
		if errors.As(err, &u) {
			return err
		}
		return fmt.Errorf("verification failed: %w", err)
	}
	spec := "the built-in spec"
	if !v.builtinSpec {
		spec = "a custom spec (" + *specFile + ")"
	}
	fmt.Fprintf(stdout, "VERIFIED: %s certifies run %s (%s) at %s by %s %s v%s; %s\n", pos[0], v.rec.RunID, v.rec.Host.CPUModel, v.cert.Level, spec, v.cert.Spec.Name, v.cert.Spec.Version, ratingsLine(v.cert))
	stdout.Write(details.Bytes())
	return nil
}

func ratingsLine(c *certify.Certificate) string {
	var parts []string
	for _, w := range c.Workloads {
		if w.RatingShown != "" {
			parts = append(parts, w.Name+" "+w.RatingShown)
		}
	}
	if len(parts) == 0 {
		return "no ratings"
	}
	return "ratings: " + strings.Join(parts, ", ")
}

// reproductionPredicate is the signed statement reproduce writes: which
// certificate it reran, on what, and what held.
type reproductionPredicate struct {
	Version  string `json:"version"`
	Original struct {
		Certificate string `json:"certificate_sha256"`
		RunID       string `json:"run_id"`
		Host        any    `json:"host"`
	} `json:"original"`
	Again struct {
		RunID string `json:"run_id"`
		Host  any    `json:"host"`
	} `json:"again"`
	Reproduction certify.Reproduction `json:"reproduction"`
}

func cmdReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reproduce", stderr)
	var pubs listFlag
	fs.Var(&pubs, "pub", "public key the certificate must be signed by (repeatable)")
	key := fs.String("key", "", "private key to sign the reproduction statement with")
	out := fs.String("out", "results", "directory for the new run")
	record := fs.String("record", "", "the certified record (default: next to CERT)")
	specFile := fs.String("spec", "", "the spec the certificate names, if it is not the embedded v1")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(pubs) == 0 || *key == "" {
		return usagef("reproduce takes one CERT, --pub PUB and --key KEY (to sign the reproduction)")
	}
	priv, err := certify.LoadPrivateKey(*key)
	if err != nil {
		return usageError{err}
	}
	var details bytes.Buffer
	v, err := verifyCert(pos[0], pubs, *record, *specFile, &details)
	if err != nil {
		fmt.Fprintf(stdout, "NOT VERIFIED: %s: %v\n", pos[0], err)
		stdout.Write(details.Bytes())
		return fmt.Errorf("reproduce: the certificate does not verify, so there is nothing to reproduce: %w", err)
	}
	fmt.Fprintf(stdout, "verified %s (run %s, %s); running it again\n", pos[0], v.cert.Record.RunID, v.cert.Level)

	// The same suite version, workloads, parameters and meter selection:
	// the original command line, minus where its output went.
	orig := v.rec.Config
	suiteArg := flagValue(orig.Args, "suite", "quick")
	if s, err := workloads.LoadSuite(suiteArg); err != nil {
		return fmt.Errorf("reproduce: the certificate ran suite %s (--suite %s), which this joulebench cannot load here: %w", orig.Suite, suiteArg, err)
	} else if s.Name != orig.Suite || s.Version != orig.SuiteVersion {
		return fmt.Errorf("reproduce: the certificate ran suite %s v%s; --suite %s here is %s v%s, so a rerun would not be the same work", orig.Suite, orig.SuiteVersion, suiteArg, s.Name, s.Version)
	}
	runArgs := rerunArgs(orig.Args)
	if flagValue(orig.Args, "intensity-file", "") != "" {
		fmt.Fprintln(stdout, "note: the original's --intensity-file cannot cover a run made now; the rerun uses the world average, and carbon figures are not compared")
	}
	runArgs = append(runArgs, "--out", *out)
	var runOut bytes.Buffer
	newPath, again, err := measure(ctx, runArgs[1:], &runOut, stderr)
	if err != nil {
		return fmt.Errorf("reproduce: the rerun failed: %w", err)
	}
	spec := v.spec
	againCert, err := certify.Evaluate(again, spec, v.cert.Spec.Digest, certify.EvalOptions{Profile: v.cert.Profile, AllowEstimated: v.cert.AllowEstimated, Now: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	rep := certify.Reproduce(v.cert, againCert, spec)
	// A rerun that breaks the spec's rules, reaches another level or
	// measured with other meters does not reproduce the claim, whatever
	// its figures.
	var problems []string
	if !againCert.Valid {
		problems = append(problems, "the rerun fails the spec's hard rules: "+againCert.Refusal(true).Error())
	}
	if againCert.Level.Level != v.cert.Level.Level {
		problems = append(problems, fmt.Sprintf("the rerun reached %s, the original %s", againCert.Level, v.cert.Level))
	}
	if om, am := meterList(v.cert), meterList(againCert); om != am {
		problems = append(problems, fmt.Sprintf("the rerun measured with %s, the original with %s", am, om))
	}
	if len(problems) > 0 {
		if !rep.SameHardware {
			problems = append(problems, rep.Verdict)
		}
		rep.Holds = false
		rep.Verdict = certify.VerdictNotReproduced + ": " + strings.Join(problems, "; ")
	}

	t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("workload", "metric", "original", "again", "difference", "tolerance", "holds")
	for _, c := range rep.Checks {
		holds := "yes"
		switch {
		case c.Skipped:
			holds = "skipped: " + c.Note
		case !c.Holds:
			holds = "NO"
		}
		t.Append(c.Workload, c.Metric, fmt.Sprintf("%.4g", c.Original), fmt.Sprintf("%.4g", c.Again),
			fmt.Sprintf("%+.1f%%", 100*c.RelDiff), fmt.Sprintf("±%.0f%%", 100*c.Tolerance), holds)
	}
	t.Render()
	fmt.Fprintf(stdout, "verdict: %s\n", rep.Verdict)

	var pred reproductionPredicate
	pred.Version = "1"
	pred.Original.Certificate, pred.Original.RunID, pred.Original.Host = v.certDigest, v.cert.Record.RunID, v.cert.Host
	pred.Again.RunID, pred.Again.Host = again.RunID, again.Host
	pred.Reproduction = rep
	subject, err := certify.FileSubject(newPath)
	if err != nil {
		return err
	}
	env, err := certify.Sign(subject, certify.PredicateReproduction, pred, priv)
	if err != nil {
		return err
	}
	stPath := filepath.Join(filepath.Dir(newPath), ReproductionFile)
	if err := results.WriteFileAtomic(stPath, env, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reproduction statement: %s (names certificate sha256:%s)\n", stPath, v.certDigest)
	if !rep.Holds || !rep.SameHardware {
		return fmt.Errorf("reproduce: %s", rep.Verdict)
	}
	return nil
}

func meterList(c *certify.Certificate) string {
	var ms []string
	for _, m := range c.Meters {
		ms = append(ms, m.Name+" ("+m.Method+")")
	}
	return strings.Join(ms, ", ")
}

// flagValue finds --name VALUE or --name=VALUE in a command line.
func flagValue(args []string, name, def string) string {
	for i, a := range args {
		for _, p := range []string{"--" + name, "-" + name} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v
			}
		}
	}
	return def
}

// rerunArgs is the original run's command line without the flags that only
// say where output went, and without an intensity file, which cannot cover
// a run made later.
func rerunArgs(args []string) []string {
	drop := map[string]bool{"--out": true, "-out": true, "--emissions-csv": true, "-emissions-csv": true,
		"--intensity-file": true, "-intensity-file": true}
	dropBool := map[string]bool{"--json": true, "-json": true, "--benchfmt": true, "-benchfmt": true}
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(a, "=")
		switch {
		case drop[name] && hasValue, dropBool[name]:
			continue
		case drop[name]:
			i++
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 || out[0] != "run" {
		out = append([]string{"run"}, out...)
	}
	return out
}
