package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/results"
)

// The round trip of the issue: run (fake meter) → certify → verify →
// reproduce, all green; then the same with a tampered record and a tampered
// certificate, each red at its own step.
func TestCertifyRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the workloads twice")
	}
	dir := t.TempDir()
	spec := filepath.Join("testdata", "spec-fast.json")
	if _, _, err := runCLI(t, "keygen", "--out", filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	key, pub := filepath.Join(dir, "keys", "joulebench.key"), filepath.Join(dir, "keys", "joulebench.pub")
	if _, stderr, err := runCLI(t, "run", "--meter", "fake", "--idle", "300ms", "--warmup", "0", "--min-time", "300ms", "--reps", "3", "--interval", "20ms", "--region", "DE", "--out", filepath.Join(dir, "res")); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "res", "*"))
	run := runs[0]

	// The fake meter is level 0: refused without --allow-estimated.
	out, _, err := runCLI(t, "certify", run, "--key", key, "--spec", spec)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "--allow-estimated") {
		t.Fatalf("level 0 must be refused without --allow-estimated: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(run, CertificateFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused certification left a certificate behind")
	}
	out, _, err = runCLI(t, "certify", run, "--key", key, "--spec", spec, "--allow-estimated")
	if err != nil || !strings.Contains(out, "level 0 (synthetic: fake meter): ") {
		t.Fatalf("certify: %v\n%s", err, out)
	}
	cert := filepath.Join(run, CertificateFile)

	out, _, err = runCLI(t, "verify", cert, "--pub", pub, "--spec", spec)
	if err != nil || !strings.HasPrefix(out, "VERIFIED: ") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	// Without the spec it names, verify says which spec to give.
	if _, _, err := runCLI(t, "verify", cert, "--pub", pub); err == nil || !strings.Contains(err.Error(), "give that spec with --spec") {
		t.Errorf("verify with the wrong spec: %v", err)
	}

	for _, want := range []string{"profile quick", "Profile quick:", "What this proves:", "The signature proves who signed", "Checked for internal consistency:", "- throughput ceiling:"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}

	// A level 0 original is never "reproduced": its figures describe no
	// hardware.
	out, _, err = runCLI(t, "reproduce", cert, "--pub", pub, "--key", key, "--spec", spec, "--out", filepath.Join(dir, "again"))
	if err == nil || exitCode(err) != 1 || !strings.Contains(out, "verdict: not a measurement") || strings.Contains(out, "verdict: reproduced") {
		t.Fatalf("reproduce of a level 0 certificate: %v\n%s", err, out)
	}
	st, _ := filepath.Glob(filepath.Join(dir, "again", "*", ReproductionFile))
	if len(st) != 1 {
		t.Fatal("no reproduction statement written")
	}
	// verify checks a reproduction statement as one, and with --original
	// that it names and describes this very certificate.
	out, _, err = runCLI(t, "verify", st[0], "--pub", pub, "--spec", spec, "--original", cert)
	if err != nil || !strings.HasPrefix(out, "VERIFIED: ") || !strings.Contains(out, "ok   original") || !strings.Contains(out, "not a measurement") {
		t.Errorf("verify a reproduction statement: %v\n%s", err, out)
	}
	raw, _ := os.ReadFile(st[0])
	vst, err := certify.Verify(raw, mustPub(t, pub))
	if err != nil || vst.Statement.PredicateType != certify.PredicateReproduction {
		t.Fatalf("reproduction statement: %v", err)
	}
	// A reproduction statement re-signed to say "reproduced" does not hold
	// together.
	rs, err := certify.DecodeReproduction(vst.Statement.Predicate)
	if err != nil {
		t.Fatal(err)
	}
	rs.Reproduction.Holds, rs.Reproduction.Verdict = true, certify.VerdictReproduced
	privKey, _ := certify.LoadPrivateKey(key)
	againRecs, _ := filepath.Glob(filepath.Join(dir, "again", "*", "record.json"))
	sub, _ := certify.FileSubject(againRecs[0])
	forgedSt, err := certify.Sign(sub, certify.PredicateReproduction, rs, privKey)
	if err != nil {
		t.Fatal(err)
	}
	forgedPath := filepath.Join(filepath.Dir(againRecs[0]), "forged.dsse.json")
	os.WriteFile(forgedPath, forgedSt, 0o644)
	if out, _, err := runCLI(t, "verify", forgedPath, "--pub", pub, "--spec", spec); err == nil || !strings.Contains(out, "FAIL consistency") {
		t.Errorf("a reproduction statement promoted to \"reproduced\" must fail: %v\n%s", err, out)
	}
	// Without --original, verify says it did not check the statement's
	// description of the original.
	if out, _, err := runCLI(t, "verify", st[0], "--pub", pub, "--spec", spec); err != nil || !strings.Contains(out, "NOT checked: give --original CERT") {
		t.Errorf("verify without --original must say what it did not check: %v\n%s", err, out)
	}
	// A rerun on other hardware, whose statement claims the original's host
	// (and so "same hardware"): the rerun's own record gives it away.
	elsewhere, _ := results.ReadFile(againRecs[0])
	elsewhere.Host.CPUModel = "Intel Xeon Platinum 8480+ (another machine)"
	elsewherePath := filepath.Join(dir, "elsewhere", "record.json")
	results.WriteFile(elsewherePath, elsewhere)
	esub, _ := certify.FileSubject(elsewherePath)
	eenv, _ := certify.Sign(esub, certify.PredicateReproduction, rs0(t, vst), privKey)
	os.WriteFile(filepath.Join(dir, "elsewhere", ReproductionFile), eenv, 0o644)
	if out, _, err := runCLI(t, "verify", filepath.Join(dir, "elsewhere", ReproductionFile), "--pub", pub, "--spec", spec, "--original", cert); err == nil || !strings.Contains(out, "FAIL rerun") || !strings.Contains(out, "again.host") {
		t.Errorf("a statement that hides the rerun's host must fail at the rerun: %v\n%s", err, out)
	}
	// Each field a reproducer could bend is held to the rerun's record or,
	// with --original, to the comparison made again.
	for _, c := range []struct {
		name, step string
		edit       func(*certify.ReproductionStatement)
	}{
		{"another command line", "FAIL rerun", func(r *certify.ReproductionStatement) { r.Again.Args = []string{"run", "--suite=quick"} }},
		{"a looser tolerance", "FAIL comparison", func(r *certify.ReproductionStatement) {
			for i := range r.Reproduction.Checks {
				r.Reproduction.Checks[i].Tolerance = 1
			}
		}},
		{"another original figure", "FAIL comparison", func(r *certify.ReproductionStatement) {
			r.Reproduction.Checks[0].Original *= 1.04
			r.Reproduction.Checks[0].RelDiff = (r.Reproduction.Checks[0].Again - r.Reproduction.Checks[0].Original) / r.Reproduction.Checks[0].Original
		}},
	} {
		f, _ := certify.DecodeReproduction(vst.Statement.Predicate)
		c.edit(f)
		env, err := certify.Sign(sub, certify.PredicateReproduction, f, privKey)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(forgedPath, env, 0o644)
		if out, _, err := runCLI(t, "verify", forgedPath, "--pub", pub, "--spec", spec, "--original", cert); err == nil || !strings.Contains(out, c.step) {
			t.Errorf("a reproduction statement with %s must fail at %q: %v\n%s", c.name, c.step, err, out)
		}
	}

	// Item 4: a device or an oversized file is refused as bad input, never
	// read for ever.
	padded := filepath.Join(dir, "padded.dsse.json")
	env0, _ := os.ReadFile(cert)
	os.WriteFile(padded, append(env0, bytes.Repeat([]byte(" "), 40<<20)...), 0o644)
	for _, args := range [][]string{
		{"verify", "/dev/zero", "--pub", pub},
		{"verify", cert, "--pub", pub, "--spec", spec, "--record", "/dev/zero"},
		{"verify", padded, "--pub", pub, "--spec", spec, "--record", run},
		{"verify", cert, "--pub", "/dev/zero"},
		{"certify", "/dev/zero", "--key", key},
		{"certify", run, "--key", "/dev/zero", "--force"},
		{"certify", run, "--key", key, "--spec", "/dev/zero", "--force"},
	} {
		if _, _, err := runCLI(t, args...); err == nil || exitCode(err) != 2 {
			t.Errorf("%v: want exit 2, got %v", args, err)
		}
	}

	// Tampering, each caught at its own step.
	rec := filepath.Join(run, "record.json")
	orig, _ := os.ReadFile(rec)
	tampered := []byte(strings.Replace(string(orig), `"iters": `, `"iters": 1`, 1))
	os.WriteFile(rec, tampered, 0o644)
	out, _, err = runCLI(t, "verify", cert, "--pub", pub, "--spec", spec)
	if err == nil || exitCode(err) != 1 || !strings.Contains(out, "FAIL record digest") {
		t.Errorf("a tampered record must fail at the record digest: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "reproduce", cert, "--pub", pub, "--key", key, "--spec", spec, "--out", filepath.Join(dir, "again2")); err == nil {
		t.Error("reproduce must refuse a certificate that does not verify")
	}
	os.WriteFile(rec, orig, 0o644)

	env, _ := os.ReadFile(cert)
	bad := filepath.Join(dir, "bad.dsse.json")
	os.WriteFile(bad, []byte(strings.Replace(string(env), `"sig": "`, `"sig": "A`, 1)), 0o644)
	if out, _, err := runCLI(t, "verify", bad, "--pub", pub, "--spec", spec, "--record", run); err == nil || !strings.Contains(out, "FAIL signature") {
		t.Errorf("a tampered signature must fail at the signature: %v\n%s", err, out)
	}
	os.WriteFile(bad, env[:len(env)/2], 0o644)
	if _, _, err := runCLI(t, "verify", bad, "--pub", pub); err == nil || exitCode(err) != 2 {
		t.Errorf("a truncated certificate is bad input (exit 2): %v", err)
	}
	if _, _, err := runCLI(t, "keygen", "--out", filepath.Join(dir, "other")); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, "verify", cert, "--pub", filepath.Join(dir, "other", "joulebench.pub"), "--spec", spec); err == nil || !strings.Contains(out, "FAIL signature") {
		t.Errorf("the wrong key must fail at the signature: %v", err)
	}
	// A certificate re-signed by the right key after its host was edited:
	// the signature holds, the recomputation does not.
	vr, err := certify.Verify(env, mustPub(t, pub))
	if err != nil {
		t.Fatal(err)
	}
	var c certify.Certificate
	if err := json.Unmarshal(vr.Statement.Predicate, &c); err != nil {
		t.Fatal(err)
	}
	c.Host.CPUModel = "AMD EPYC 9965 192-Core Processor"
	priv, err := certify.LoadPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := certify.FileSubject(rec)
	forged, err := certify.Sign(subject, certify.PredicateCertificate, &c, priv)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bad, forged, 0o644)
	if out, _, err := runCLI(t, "verify", bad, "--pub", pub, "--spec", spec, "--record", run); err == nil || !strings.Contains(out, "FAIL summaries") || !strings.Contains(out, "host") {
		t.Errorf("a re-signed certificate with an edited host must fail at summaries: %v\n%s", err, out)
	}

	// A record whose stated energy was edited cannot be certified at all.
	r, _ := results.ReadFile(rec)
	r.Workloads[0].Reps[0].EnergyJ["package-0"] /= 4
	results.WriteFile(rec, r)
	if out, _, err := runCLI(t, "certify", run, "--key", key, "--spec", spec, "--allow-estimated"); err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("certify must not replace a certificate silently: %v\n%s", err, out)
	}
	if out, _, err := runCLI(t, "certify", run, "--key", key, "--spec", spec, "--allow-estimated", "--force"); err == nil || !strings.Contains(err.Error(), "raw readings") {
		t.Errorf("an edited record must be refused at raw readings: %v\n%s", err, out)
	}
	os.WriteFile(rec, orig, 0o644)

	os.Chmod(key, 0o644)
	if _, _, err := runCLI(t, "certify", run, "--key", key, "--spec", spec, "--allow-estimated", "--force"); err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a private key others can read must be refused: %v", err)
	}
}

// rs0 decodes a verified reproduction statement afresh.
func rs0(t *testing.T, v *certify.Verified) *certify.ReproductionStatement {
	t.Helper()
	r, err := certify.DecodeReproduction(v.Statement.Predicate)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustPub(t *testing.T, path string) []byte {
	t.Helper()
	k, err := certify.LoadPublicKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A record from a newer schema is bad input for certify, not a failure.
func TestCertifyNewerSchema(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "record.json")
	os.WriteFile(rec, []byte(`{"schema_version": 3}`), 0o644)
	runCLI(t, "keygen", "--out", filepath.Join(dir, "k"))
	_, _, err := runCLI(t, "certify", rec, "--key", filepath.Join(dir, "k", "joulebench.key"))
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "newer schema") {
		t.Errorf("want exit 2 naming the newer schema, got %v", err)
	}
}
