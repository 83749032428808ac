package certify

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

// reproFakeRecord is the test record measured by the fake meter: level 0.
func reproFakeRecord() *results.Record {
	rec := evalTestRecord()
	rec.Meters = []results.Meter{forgeryFake()}
	return rec
}

// Issue 7 item 5: a level 0 original gets no verdict that reads as a
// measurement, however well its figures agree.
func TestReproduceLevel0IsNotAMeasurement(t *testing.T) {
	s, _ := DefaultSpec()
	orig := evalDefault(t, reproFakeRecord(), EvalOptions{AllowEstimated: true})
	if orig.Level.Level != 0 {
		t.Fatalf("fake meter at %s", orig.Level)
	}
	again := reproFakeRecord()
	again.RunID = "20261128T080000Z-rerun"
	r := Reproduce(orig, evalDefault(t, again, EvalOptions{AllowEstimated: true}), s)
	if r.Holds || r.Verdict != VerdictNotAMeasurement || strings.Contains(r.Verdict, VerdictReproduced+";") {
		t.Errorf("level 0: holds %t, %q", r.Holds, r.Verdict)
	}
	// The figures are still compared, as a consistency check.
	if len(r.Checks) != 10 || !r.Checks[0].Holds {
		t.Errorf("checks %+v", r.Checks)
	}
	// An estimate too.
	est := evalTestRecord()
	est.Meters = []results.Meter{{Name: "estimate", Method: results.MethodModel, Estimated: true, Domains: []results.Domain{
		{Name: "package-0", Kind: "package", InTotal: true}}}}
	oc := evalDefault(t, est, EvalOptions{AllowEstimated: true})
	if r := Reproduce(oc, oc, s); r.Holds || r.Verdict != VerdictNotAMeasurement {
		t.Errorf("estimate: %+v", r)
	}
}

// A rerun that breaks the rules, reaches another level or measures with
// other meters does not reproduce the original, whatever its figures.
func TestReproduceProblems(t *testing.T) {
	s, _ := DefaultSpec()
	orig := evalDefault(t, evalTestRecord(), EvalOptions{})
	for _, tc := range []struct {
		name string
		edit func(r *results.Record)
		want string
	}{
		{"rerun breaks a rule", func(r *results.Record) { r.Workloads[0].Reps[0].Check = nil }, "the rerun fails the spec's hard rules: gemm-fp64-2048: answer checked"},
		{"rerun at another level", func(r *results.Record) { r.Meters = []results.Meter{evalRAPL(false)} }, "the rerun reached level 1 (component), the original level 2 (node)"},
		{"rerun with other meters", func(r *results.Record) {
			r.Meters = append(r.Meters, results.Meter{Name: "nvml", Method: results.MethodCounter, Domains: []results.Domain{{Name: "gpu-0", Kind: "gpu"}}})
		}, "the rerun measured with rapl (counter), nvml (counter), the original with rapl (counter)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			again := evalScaled(1.0)
			tc.edit(again)
			r := Reproduce(orig, evalDefault(t, again, EvalOptions{}), s)
			if r.Holds || !strings.HasPrefix(r.Verdict, VerdictNotReproduced+": ") || !strings.Contains(r.Verdict, tc.want) {
				t.Errorf("holds %t, %s", r.Holds, r.Verdict)
			}
		})
	}
}

// reproStatement signs the test certificate, reruns it (4% more energy)
// and returns the original's verification and certificate and the
// reproduction statement, as reproduce builds them.
func reproStatement(t *testing.T, scale float64) (*Verified, *Certificate, *ReproductionStatement) {
	t.Helper()
	pub, priv := keyTest()
	s, _ := DefaultSpec()
	orig := evalDefault(t, evalTestRecord(), EvalOptions{})
	env, err := Sign(Subject{Name: "record.json", SHA256: strings.Repeat("ab", 32)}, PredicateCertificate, orig, priv)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(env, pub)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := DecodeCertificate(v.Statement.Predicate)
	if err != nil {
		t.Fatal(err)
	}
	again := evalDefault(t, evalScaled(scale), EvalOptions{})
	plan, err := RerunArgs(evalTestRecord().Config.Args)
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewReproductionStatement(v, decoded, again, append(plan.Args, "--out=again"), Reproduce(decoded, again, s))
	if err != nil {
		t.Fatal(err)
	}
	return v, decoded, st
}

func TestReproductionStatementRoundTrip(t *testing.T) {
	pub, priv := keyTest()
	v, orig, st := reproStatement(t, 1.04)
	if st.Version != ReproductionVersion || st.Original.StatementSHA256 != v.PayloadSHA256 || st.Original.KeyID != KeyID(pub) ||
		st.Original.Level.Level != 2 || st.Original.Spec != orig.Spec || st.Original.Profile != "certify" ||
		st.Reproduction.Verdict != VerdictReproduced || !st.Reproduction.Holds {
		t.Fatalf("statement %+v", st)
	}
	if got := strings.Join(st.Again.Args, " "); got != "run --suite=certify --region=DE --pue=1.2 --out=again" {
		t.Errorf("again.args = %s", got)
	}
	env, err := Sign(Subject{Name: "record.json", SHA256: strings.Repeat("cd", 32)}, PredicateReproduction, st, priv)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := Verify(env, pub)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeReproduction(rv.Statement.Predicate)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyReproduction(back, v.PayloadSHA256); err != nil {
		t.Error(err)
	}
	if err := CheckReproductionOriginal(back, v, orig); err != nil {
		t.Error(err)
	}
	a, _ := json.Marshal(st)
	b, _ := json.Marshal(back)
	if string(a) != string(b) {
		t.Errorf("statement changed in signing:\n%s\n%s", a, b)
	}
}

// Each field a reproducer could edit to turn a failed or meaningless
// reproduction into a success is caught, next to the honest statement.
func TestVerifyReproductionForgeries(t *testing.T) {
	v, orig, good := reproStatement(t, 1.04)
	_, _, failed := reproStatement(t, 1.2)
	if err := VerifyReproduction(failed, v.PayloadSHA256); err != nil || failed.Reproduction.Holds {
		t.Fatalf("the honest failed reproduction: %v, holds %t", err, failed.Reproduction.Holds)
	}
	clone := func(st *ReproductionStatement) *ReproductionStatement {
		b, _ := json.Marshal(st)
		var out ReproductionStatement
		json.Unmarshal(b, &out)
		return &out
	}
	for _, tc := range []struct {
		name   string
		from   *ReproductionStatement
		edit   func(st *ReproductionStatement)
		digest string
		want   string
	}{
		{"a failure said to hold", failed, func(st *ReproductionStatement) {
			st.Reproduction.Holds, st.Reproduction.Verdict = true, VerdictReproduced
		}, "", "its checks, problems and hardware give holds=false"},
		{"a failed check said to hold", failed, func(st *ReproductionStatement) {
			for i := range st.Reproduction.Checks {
				st.Reproduction.Checks[i].Holds = true
			}
			st.Reproduction.Holds, st.Reproduction.Verdict = true, VerdictReproduced
		}, "", "holds is true with a difference of -0.167"},
		{"a difference shrunk into the tolerance", failed, func(st *ReproductionStatement) {
			for i := range st.Reproduction.Checks {
				st.Reproduction.Checks[i].RelDiff, st.Reproduction.Checks[i].Holds = 0.01, true
			}
			st.Reproduction.Holds, st.Reproduction.Verdict = true, VerdictReproduced
		}, "", "rel_diff is 0.01"},
		{"a check skipped to hide it", failed, func(st *ReproductionStatement) {
			st.Reproduction.Checks[0].Skipped, st.Reproduction.Checks[0].Holds = true, true
		}, "", "is skipped but holds"},
		{"another verdict", good, func(st *ReproductionStatement) { st.Reproduction.Verdict = "reproduced (certified by the lab)" },
			"", "give holds=true, \"reproduced\""},
		{"another machine said to be the same", good, func(st *ReproductionStatement) {
			st.Again.Host.CPUModel = "Intel(R) Xeon(R) Platinum 8480+"
		}, "", "the two hosts differ"},
		{"a level 0 original reproduced", good, func(st *ReproductionStatement) {
			st.Original.Level = Level{Level: 0, Name: "synthetic: fake meter"}
			st.Again.Level = st.Original.Level
		}, "", "no rerun reproduces"},
		{"an estimated original reproduced", good, func(st *ReproductionStatement) { st.Original.Estimated = true },
			"", "no rerun reproduces"},
		{"a rerun at another level", good, func(st *ReproductionStatement) { st.Again.Level = Level{Level: 1, Name: "component"} },
			"", "yet no problem is listed"},
		{"another original", good, func(st *ReproductionStatement) {}, strings.Repeat("0", 64), "it reproduces another certificate"},
		{"no original digest", good, func(st *ReproductionStatement) { st.Original.StatementSHA256 = "" }, "", "statement_sha256"},
		{"another version", good, func(st *ReproductionStatement) { st.Version = "1" }, "", `version is "1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := VerifyReproduction(tc.from, tc.digest); tc.digest == "" && err != nil {
				t.Fatalf("the honest statement: %v", err)
			}
			st := clone(tc.from)
			tc.edit(st)
			err := VerifyReproduction(st, tc.digest)
			if !errors.Is(err, ErrReproduction) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}

	// The statement's copy of the original must be the original's.
	for _, edit := range []func(st *ReproductionStatement){
		func(st *ReproductionStatement) { st.Original.Level = Level{Level: 3, Name: "system", Reason: "x"} },
		func(st *ReproductionStatement) { st.Original.Profile = "quick" },
		func(st *ReproductionStatement) { st.Original.Spec.Digest = "sha256:" + strings.Repeat("1", 64) },
		func(st *ReproductionStatement) { st.Original.Host.LogicalCPUs = 8 },
		func(st *ReproductionStatement) { st.Original.KeyID = strings.Repeat("2", 64) },
		func(st *ReproductionStatement) { st.Original.RunID = "another" },
	} {
		st := clone(good)
		edit(st)
		if err := CheckReproductionOriginal(st, v, orig); !errors.Is(err, ErrReproduction) {
			t.Errorf("an edited copy of the original passed: %v", err)
		}
	}
}

func TestDecodeReproductionStrict(t *testing.T) {
	_, _, st := reproStatement(t, 1.04)
	good, _ := json.Marshal(st)
	if _, err := DecodeReproduction(good); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"unknown field": strings.Replace(string(good), `"version":"2"`, `"version":"2","verified_by":"lab"`, 1),
		"version 1":     strings.Replace(string(good), `"version":"2"`, `"version":"1"`, 1),
		"trailing data": string(good) + `{}`,
	} {
		if _, err := DecodeReproduction([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewReproductionStatement(nil, nil, nil, nil, Reproduction{}); err == nil {
		t.Error("a statement without its original")
	}
}
