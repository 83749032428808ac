package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
	"github.com/joulebench/joulebench/workloads"
)

// verified is a certificate that passed every check, with what it needs
// for reproduce.
type verified struct {
	cert        *certify.Certificate
	spec        *certify.Spec
	rec         *results.Record
	recordPath  string
	vr          *certify.Verified // key id and statement digest
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

func loadPubs(paths []string) ([]ed25519.PublicKey, error) {
	var pubs []ed25519.PublicKey
	for _, p := range paths {
		k, err := certify.LoadPublicKey(p)
		if err != nil {
			return nil, usageError{err}
		}
		pubs = append(pubs, k)
	}
	return pubs, nil
}

// openStatement reads an envelope and checks its signature and statement,
// as the steps "signature" and "statement": a statement that does not
// parse is reported as a statement error, after a signature that holds.
func openStatement(path string, pubs []ed25519.PublicKey, v *verifyStep) (*certify.Verified, error) {
	raw, err := certify.ReadEnvelopeFile(path)
	if err != nil {
		return nil, usageError{err} // it names the file
	}
	vr, err := certify.Verify(raw, pubs...)
	if errors.Is(err, certify.ErrNotEnvelope) {
		return nil, usageError{fmt.Errorf("%s: %w", path, err)}
	}
	if vr != nil && vr.Statement == nil && (errors.Is(err, certify.ErrStatementType) || errors.Is(err, certify.ErrPredicateType)) {
		// The signature holds: what is wrong is what was signed.
		v.check("signature", nil, "key id "+vr.KeyID)
		v.check("statement", err, "")
		return nil, v.failed
	}
	keyID := ""
	if vr != nil {
		keyID = "key id " + vr.KeyID
	}
	if !v.check("signature", err, keyID) {
		return nil, v.failed
	}
	v.check("statement", nil, fmt.Sprintf("in-toto Statement v1, %s, statement sha256:%s", vr.Statement.PredicateType, vr.PayloadSHA256))
	return vr, nil
}

// readSubject reads the file a statement names (recordFlag, or the
// subject's base name next to the statement), bounded like any record, and
// checks its digest, as the step "record digest".
func readSubject(stPath, recordFlag string, vr *certify.Verified, v *verifyStep) (string, []byte, error) {
	rp := recordFlag
	if rp == "" && len(vr.Statement.Subjects) > 0 {
		rp = filepath.Join(filepath.Dir(stPath), filepath.Base(vr.Statement.Subjects[0].Name))
	}
	rp = recordPath(rp)
	recBytes, err := infile.Read(rp, infile.MaxRecord)
	if err != nil {
		return rp, nil, usageError{fmt.Errorf("record %s: %w (give it with --record)", rp, err)}
	}
	recSum := sha256.Sum256(recBytes)
	got := hex.EncodeToString(recSum[:])
	if len(vr.Statement.Subjects) == 0 || vr.Statement.Subjects[0].SHA256 != got {
		want := "(none)"
		if len(vr.Statement.Subjects) > 0 {
			want = vr.Statement.Subjects[0].SHA256
		}
		err = fmt.Errorf("%w: %s has sha256 %s, the statement names %s: the record changed since it was signed", certify.ErrSubjectDigest, rp, got, want)
	}
	if !v.check("record digest", err, rp) {
		return rp, nil, v.failed
	}
	return rp, recBytes, nil
}

// specFor returns the spec a statement names: the built-in one, or
// specFile, whose digest must be the named one (step "spec").
func specFor(want certify.SpecRef, specFile string, v *verifyStep) (*certify.Spec, string, bool, error) {
	var spec *certify.Spec
	var digest string
	var err error
	if specFile == "" {
		s, raw := certify.DefaultSpec()
		spec, digest = s, certify.SpecDigest(raw)
	} else if spec, digest, err = loadSpec(specFile); err != nil {
		return nil, "", false, err
	}
	if digest != want.Digest {
		err = fmt.Errorf("it was judged by spec %s v%s (%s), not %s: give that spec with --spec", want.Name, want.Version, want.Digest, digest)
	}
	// A spec file may carry any name but the built-in one's; only the
	// digest says which rules were applied.
	_, builtinRaw := certify.DefaultSpec()
	builtin := digest == certify.SpecDigest(builtinRaw)
	which := "the built-in spec"
	if !builtin {
		which = "NOT the built-in spec: " + specFile
	}
	if !v.check("spec", err, fmt.Sprintf("%s v%s %s (%s)", want.Name, want.Version, digest, which)) {
		return nil, "", false, v.failed
	}
	return spec, digest, builtin, nil
}

// verifyCert checks a certificate step by step, printing each step to
// details; the error names the first step that failed.
func verifyCert(certPath string, pubPaths []string, recordFlag, specFile string, details io.Writer) (*verified, error) {
	pubs, err := loadPubs(pubPaths)
	if err != nil {
		return nil, err
	}
	v := &verifyStep{w: details}
	vr, err := openStatement(certPath, pubs, v)
	if err != nil {
		return nil, err
	}
	out := &verified{vr: vr}
	if vr.Statement.PredicateType != certify.PredicateCertificate {
		err = fmt.Errorf("%w: %s is a %s statement, not a certificate", certify.ErrPredicateType, certPath, vr.Statement.PredicateType)
	}
	if !v.check("predicate type", err, vr.Statement.PredicateType) {
		return nil, v.failed
	}
	cert, err := certify.DecodeCertificate(vr.Statement.Predicate)
	if !v.check("certificate", err, "version "+certify.CertificateVersion) {
		return nil, v.failed
	}
	out.cert = cert

	rp, recBytes, err := readSubject(certPath, recordFlag, vr, v)
	if err != nil {
		return nil, err
	}
	out.recordPath = rp
	rec, err := results.Decode(recBytes)
	if !v.check("record schema", err, fmt.Sprintf("schema_version %d", recSchema(rec))) {
		return nil, v.failed
	}
	out.rec = rec

	spec, digest, builtin, err := specFor(cert.Spec, specFile, v)
	if err != nil {
		return nil, err
	}
	out.builtinSpec, out.spec = builtin, spec

	// A cluster record is recomputed with its node records: a node record
	// edited after the merge no longer matches its digest, and fails here.
	again, err := certify.EvaluateFile(rp, rec, spec, digest, certify.EvalOptions{Profile: cert.Profile, AllowEstimated: cert.AllowEstimated, Now: cert.IssuedAt})
	if err == nil {
		if diffs := certify.CompareSummaries(cert, again); len(diffs) > 0 {
			var msg []string
			for _, d := range diffs {
				msg = append(msg, fmt.Sprintf("%s %s: %s", d.Workload, d.Metric, diffText(d)))
			}
			err = fmt.Errorf("the certificate's summaries disagree with its record's raw numbers: %s", strings.Join(msg, "; "))
		}
	}
	if err == nil {
		err = sameCertificate(cert, again)
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

// printMeaning says what a verified signature proves, and lists the
// consistency checks that were made.
func printMeaning(w io.Writer) {
	fmt.Fprintln(w, "What this proves:")
	for _, line := range report.Wrap(certify.SignatureMeaning, 110) {
		fmt.Fprintln(w, "  "+line)
	}
	fmt.Fprintln(w, "Checked for internal consistency:")
	for _, c := range certify.ConsistencyChecks() {
		for i, line := range report.Wrap(c, 106) {
			if i == 0 {
				fmt.Fprintln(w, "  - "+line)
			} else {
				fmt.Fprintln(w, "    "+line)
			}
		}
	}
}

func cmdVerify(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	var pubs listFlag
	fs.Var(&pubs, "pub", "public key to accept (repeatable); the statement must be signed by one of them")
	record := fs.String("record", "", "the certified record (default: the subject's name next to CERT)")
	specFile := fs.String("spec", "", "the spec the certificate names, if it is not the embedded v1")
	original := fs.String("original", "", "for a reproduction statement: the original certificate, to check the statement names it and describes it truly")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(pubs) == 0 {
		return usagef("verify takes one CERT and at least one --pub PUB")
	}
	// A reproduction statement is verified as one; everything else as a
	// certificate.
	if kind, _ := statementKind(pos[0], pubs); kind == certify.PredicateReproduction {
		return verifyReproduction(pos[0], pubs, *record, *specFile, *original, stdout)
	}
	if *original != "" {
		return usagef("--original is for reproduction statements; %s is not one", pos[0])
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
	fmt.Fprintf(stdout, "VERIFIED: %s certifies run %s (%s) at %s by %s %s v%s, profile %s; %s\n", pos[0], v.rec.RunID, v.rec.Host.CPUModel,
		v.cert.Level, spec, v.cert.Spec.Name, v.cert.Spec.Version, v.cert.Profile, ratingsLine(v.cert))
	stdout.Write(details.Bytes())
	fmt.Fprintf(stdout, "Profile %s\n", v.spec.DescribeProfile(v.cert.Profile))
	printCeilings(stdout, v.cert)
	printMeaning(stdout)
	return nil
}

// statementKind is the predicate type of the statement at path, when its
// signature holds with one of pubs; "" otherwise (verify then reports why,
// step by step).
func statementKind(path string, pubPaths []string) (string, error) {
	pubs, err := loadPubs(pubPaths)
	if err != nil {
		return "", err
	}
	raw, err := certify.ReadEnvelopeFile(path)
	if err != nil {
		return "", err
	}
	vr, err := certify.Verify(raw, pubs...)
	if err != nil || vr.Statement == nil {
		return "", err
	}
	return vr.Statement.PredicateType, nil
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

// verifyReproduction checks a reproduction statement: its signature and
// statement, the rerun's record it names, that it holds together, that
// its rerun figures are what that record gives, and, with --original,
// that it names and describes that certificate truly.
func verifyReproduction(path string, pubPaths []string, recordFlag, specFile, original string, stdout io.Writer) error {
	pubs, err := loadPubs(pubPaths)
	if err != nil {
		return err
	}
	var details bytes.Buffer
	v := &verifyStep{w: &details}
	fail := func(err error) error {
		fmt.Fprintf(stdout, "NOT VERIFIED: %s: %v\n", path, err)
		stdout.Write(details.Bytes())
		var u usageError
		if errors.As(err, &u) {
			return err
		}
		return fmt.Errorf("verification failed: %w", err)
	}
	vr, err := openStatement(path, pubs, v)
	if err != nil {
		return fail(err)
	}
	st, err := certify.DecodeReproduction(vr.Statement.Predicate)
	if !v.check("reproduction", err, "version "+certify.ReproductionVersion) {
		return fail(v.failed)
	}
	_, recBytes, err := readSubject(path, recordFlag, vr, v)
	if err != nil {
		return fail(err)
	}
	rec, err := results.Decode(recBytes)
	if err == nil && rec.RunID != st.Again.RunID {
		err = fmt.Errorf("the record is run %s, the statement's rerun is %s", rec.RunID, st.Again.RunID)
	}
	if !v.check("rerun record", err, "run "+st.Again.RunID) {
		return fail(v.failed)
	}
	var ovr *certify.Verified
	var ocert *certify.Certificate
	if original != "" {
		ov := &verifyStep{w: io.Discard}
		ovr, err = openStatement(original, pubs, ov)
		if err == nil {
			ocert, err = certify.DecodeCertificate(ovr.Statement.Predicate)
		}
		if err == nil {
			err = certify.CheckReproductionOriginal(st, ovr, ocert)
		}
		okText := ""
		if ovr != nil {
			okText = fmt.Sprintf("%s: statement sha256:%s, signed by key id %s; run, host, level, spec and profile as the statement says", original, ovr.PayloadSHA256, ovr.KeyID)
		}
		if !v.check("original", err, okText) {
			return fail(v.failed)
		}
	}
	origDigest := ""
	if ovr != nil {
		origDigest = ovr.PayloadSHA256
	}
	err = certify.VerifyReproduction(st, origDigest)
	if !v.check("consistency", err, "the verdict, checks and hardware follow from the statement's own numbers") {
		return fail(v.failed)
	}
	// The rerun is recomputed from its record, by the spec the original
	// was judged by: its host, command line, level and figures must be
	// what the record gives.
	spec, digest, _, err := specFor(st.Original.Spec, specFile, v)
	if err != nil {
		return fail(err)
	}
	again, err := certify.Evaluate(rec, spec, digest, certify.EvalOptions{Profile: st.Original.Profile, AllowEstimated: true, Now: rec.FinishedAt})
	if err == nil {
		err = sameRerun(st, rec, again)
	}
	if !v.check("rerun", err, "its host, command line, level, estimated flag and every figure are what its record gives") {
		return fail(v.failed)
	}
	// With the original, the whole comparison is made again: every check,
	// tolerance, original figure, problem and the verdict.
	partial := ""
	if ocert != nil {
		again, err := certify.Evaluate(rec, spec, digest, certify.EvalOptions{Profile: ocert.Profile, AllowEstimated: ocert.AllowEstimated, Now: rec.FinishedAt})
		if err == nil {
			err = sameReproduction(st.Reproduction, certify.Reproduce(ocert, again, spec))
		}
		if !v.check("comparison", err, "made again from the two certificates: every check, tolerance, figure and the verdict agree") {
			return fail(v.failed)
		}
	} else {
		fmt.Fprintf(&details, "  --   %-18s not checked: give --original CERT to check that the statement names and describes that certificate truly, and to make the comparison again\n", "original")
		partial = " (its description of the original NOT checked: give --original CERT)"
	}
	fmt.Fprintf(stdout, "VERIFIED: %s: key id %s reran certificate statement sha256:%s (run %s, %s) as run %s: %s%s\n",
		path, vr.KeyID, st.Original.StatementSHA256, st.Original.RunID, st.Original.Level, st.Again.RunID, st.Reproduction.Verdict, partial)
	stdout.Write(details.Bytes())
	fmt.Fprintln(stdout, "What this proves:")
	for _, line := range report.Wrap("The signature proves who signed the reproduction and that nothing in it or the rerun's record changed since. "+
		"That the rerun really ran on the hardware it names is the reproducer's claim, as a certificate's figures are its signer's.", 110) {
		fmt.Fprintln(stdout, "  "+line)
	}
	return nil
}

// sameRerun requires a reproduction statement's rerun — host, command
// line, level, estimated flag, figures — to be what the rerun's record
// gives.
func sameRerun(st *certify.ReproductionStatement, rec *results.Record, again *certify.Certificate) error {
	a, _ := json.Marshal(st.Again.Host)
	b, _ := json.Marshal(rec.Host)
	if !bytes.Equal(a, b) {
		return fmt.Errorf("again.host is %s, the rerun's record says %s", a, b)
	}
	if !slices.Equal(st.Again.Args, rec.Config.Args) {
		return fmt.Errorf("again.args is %q, the rerun's record ran %q", st.Again.Args, rec.Config.Args)
	}
	if st.Again.Level != again.Level {
		return fmt.Errorf("the statement says the rerun reached %s, its record gives %s", st.Again.Level, again.Level)
	}
	if st.Again.Estimated != again.Estimated {
		return fmt.Errorf("again.estimated is %t, the rerun's record gives %t", st.Again.Estimated, again.Estimated)
	}
	figs := map[string]map[string]certify.Figure{}
	for _, w := range again.Workloads {
		figs[w.Name] = w.Figures
	}
	for _, c := range st.Reproduction.Checks {
		f, ok := figs[c.Workload][c.Metric]
		if c.Skipped || !ok {
			continue
		}
		if math.Abs(f.Median-c.Again) > 1e-9*math.Max(1, math.Abs(f.Median)) {
			return fmt.Errorf("%s %s: the statement says the rerun gave %.6g, its record gives %.6g", c.Workload, c.Metric, c.Again, f.Median)
		}
	}
	return nil
}

// sameReproduction requires a signed comparison to be the one the two
// certificates give now; numbers agree to 1e-9 relative.
func sameReproduction(signed, again certify.Reproduction) error {
	near := func(x, y float64) bool { return x == y || math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y)) }
	if signed.Holds != again.Holds || signed.Verdict != again.Verdict || signed.SameHardware != again.SameHardware ||
		!slices.Equal(signed.HardwareDiffs, again.HardwareDiffs) || !slices.Equal(signed.Problems, again.Problems) {
		return fmt.Errorf("the signed comparison says %q (holds %t), the two certificates give %q (holds %t)", signed.Verdict, signed.Holds, again.Verdict, again.Holds)
	}
	if len(signed.Checks) != len(again.Checks) {
		return fmt.Errorf("the signed comparison has %d checks, the two certificates give %d", len(signed.Checks), len(again.Checks))
	}
	for i, c := range signed.Checks {
		g := again.Checks[i]
		if c.Workload != g.Workload || c.Metric != g.Metric || c.Holds != g.Holds || c.Skipped != g.Skipped ||
			!near(c.Original, g.Original) || !near(c.Again, g.Again) || !near(c.Tolerance, g.Tolerance) || !near(c.RelDiff, g.RelDiff) {
			return fmt.Errorf("check %s %s: signed original %.6g, again %.6g, tolerance %.3g, holds %t; the certificates give %.6g, %.6g, %.3g, %t",
				c.Workload, c.Metric, c.Original, c.Again, c.Tolerance, c.Holds, g.Original, g.Again, g.Tolerance, g.Holds)
		}
	}
	return nil
}

func cmdReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reproduce", stderr)
	var pubs listFlag
	fs.Var(&pubs, "pub", "public key the certificate must be signed by (repeatable)")
	key := fs.String("key", "", "private key to sign the reproduction statement with")
	out := fs.String("out", "results", "directory for the new run")
	record := fs.String("record", "", "the certified record (default: next to CERT)")
	specFile := fs.String("spec", "", "the spec the certificate names, if it is not the embedded v1")
	// Paths are the reproducer's own choice, never the certificate's.
	fs.String("blas", "", "CBLAS library PATH for the rerun, 'gonum', or 'default' (the usual search); needed when the original named one")
	fs.String("cuda-lib-dir", "", "directory of the CUDA runtime and cuBLAS for the rerun, or 'default' (the system's); needed when the original named one")
	fs.String("sysfs-root", "", "where sysfs is mounted, for the rerun's meters; needed when the original named a root")
	fs.String("proc-root", "", "where procfs is mounted, for the rerun; needed when the original named a root")
	suiteFile := fs.String("suite", "", "a suite FILE you trust, for a certificate whose run used a suite file")
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

	// The rerun's command line comes from an allow-list of flags that
	// select standard work; a path the original named (a library, a root,
	// a suite file) is never carried: the reproducer chooses their own.
	plan, err := certify.RerunArgs(v.rec.Config.Args)
	if err != nil {
		return usageError{fmt.Errorf("reproduce: %w", err)}
	}
	chosen := map[string]bool{}
	var own []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "blas", "cuda-lib-dir", "sysfs-root", "proc-root", "suite":
			chosen[f.Name] = true
			val := f.Value.String()
			if (f.Name == "blas" || f.Name == "cuda-lib-dir") && val == "default" {
				return // the usual search: no flag
			}
			own = append(own, "--"+f.Name+"="+val)
		}
	})
	if err := plan.Unchosen(chosen); err != nil {
		return usageError{fmt.Errorf("reproduce: %w", err)}
	}
	for _, n := range plan.Notes {
		fmt.Fprintln(stdout, "note: "+n)
	}
	orig := v.rec.Config
	suiteName := plan.Suite
	if *suiteFile != "" {
		suiteName = *suiteFile
	}
	if suiteName == "" {
		return usagef("reproduce: the original ran a suite file; pass --suite FILE (a file you trust with suite %s v%s)", orig.Suite, orig.SuiteVersion)
	}
	if s, err := workloads.LoadSuite(suiteName); err != nil {
		return usageError{fmt.Errorf("reproduce: the certificate ran suite %s, which cannot be loaded here: %w", orig.Suite, err)}
	} else if s.Name != orig.Suite || s.Version != orig.SuiteVersion {
		return fmt.Errorf("reproduce: the certificate ran suite %s v%s; %s here is %s v%s, so a rerun would not be the same work", orig.Suite, orig.SuiteVersion, suiteName, s.Name, s.Version)
	}
	runArgs := append(append(append([]string{}, plan.Args...), own...), "--out="+*out)
	fmt.Fprintf(stdout, "rerun: joulebench %s\n", strings.Join(runArgs, " "))
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
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "problem: %s\n", p)
	}
	fmt.Fprintf(stdout, "verdict: %s\n", rep.Verdict)

	st, err := certify.NewReproductionStatement(v.vr, v.cert, againCert, runArgs, rep)
	if err != nil {
		return err
	}
	subject, err := certify.FileSubject(newPath)
	if err != nil {
		return err
	}
	env, err := certify.Sign(subject, certify.PredicateReproduction, st, priv)
	if err != nil {
		return err
	}
	stPath := filepath.Join(filepath.Dir(newPath), ReproductionFile)
	if err := results.WriteFileAtomic(stPath, env, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reproduction statement: %s (names certificate statement sha256:%s)\n", stPath, v.vr.PayloadSHA256)
	if !rep.Holds {
		return fmt.Errorf("reproduce: %s", rep.Verdict)
	}
	return nil
}
