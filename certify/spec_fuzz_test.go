package certify

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joulebench/joulebench/results"
)

// FuzzParseSpec: a spec file from outside (--spec) never panics the
// parser, and whatever it accepts has seven monotone bands per class.
func FuzzParseSpec(f *testing.F) {
	_, raw := DefaultSpec()
	f.Add(raw)
	if files, _ := filepath.Glob(filepath.Join("testdata", "spec", "*.json")); len(files) > 0 {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpec(data, "fuzz.json")
		if err != nil {
			return
		}
		for name, c := range s.Classes {
			if len(c.Bands) != 7 {
				t.Fatalf("class %s accepted with %d bands", name, len(c.Bands))
			}
		}
		if _, ok := s.Profiles[DefaultProfile]; !ok {
			t.Fatal("accepted a spec without the certify profile")
		}
	})
}

// FuzzDecodeCertificate: the predicate decoder verify uses never panics,
// and what it accepts is a version 2 certificate that encodes again.
func FuzzDecodeCertificate(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "golden", "certificate.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"version":"2"}`))
	f.Add([]byte(`{"version":"2","workloads":[{"ceiling":{"flops_per_s":1e300,"basis":""}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCertificate(data)
		if err != nil {
			return
		}
		if c.Version != CertificateVersion {
			t.Fatalf("accepted version %q", c.Version)
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("decoded certificate does not encode: %v", err)
		}
	})
}

// FuzzDecodeReproduction: a reproduction statement from outside never
// panics the decoder or VerifyReproduction, and one that verifies is
// never a reproduced level 0 original.
func FuzzDecodeReproduction(f *testing.F) {
	f.Add([]byte(`{"version":"2"}`))
	f.Add([]byte(`{"version":"2","original":{"statement_sha256":"` + strings.Repeat("a", 64) + `","key_id":"` + strings.Repeat("b", 64) + `","level":{"level":2}},` +
		`"again":{"level":{"level":2}},"reproduction":{"same_hardware":true,"checks":[{"workload":"w","metric":"flops_per_j","original":1,"again":1.05,"rel_diff":0.05,"tolerance":0.1,"holds":true}],"holds":true,"verdict":"reproduced"}}`))
	f.Add([]byte(`{"version":"2","original":{"level":{"level":0}},"reproduction":{"checks":[{"metric":"workload"}],"verdict":"reproduced","holds":true}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := DecodeReproduction(data)
		if err != nil {
			return
		}
		if err := VerifyReproduction(st, ""); err != nil {
			return
		}
		r := st.Reproduction
		if r.Holds != (r.Verdict == VerdictReproduced) {
			t.Fatalf("verified holds=%t with verdict %q", r.Holds, r.Verdict)
		}
		if r.Holds && (st.Original.Level.Level == 0 || st.Original.Estimated || !r.SameHardware) {
			t.Fatalf("verified a reproduction of %+v on same hardware %t", st.Original.Level, r.SameHardware)
		}
		for _, c := range r.Checks {
			if r.Holds && !c.Skipped && !c.Holds {
				t.Fatalf("verified holds with a failed check %+v", c)
			}
		}
	})
}

// FuzzEvaluate: verify evaluates any record it is given, so a hostile
// record (from JSON: no NaN) never panics Evaluate, and two evaluations
// of it agree byte for byte.
func FuzzEvaluate(f *testing.F) {
	rec := evalTestRecord()
	evalSyncReadings(rec)
	rec.Readings = rec.Readings[:200] // keep the seed small
	seed, err := json.Marshal(rec)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"schema_version":2,"meters":[{"name":"rapl","method":"counter","domains":[{"name":"package-0","kind":"package","in_total":true,"max_energy_uj":10}]}],` +
		`"readings":[{"t_s":0,"meter":"rapl","edge":"w-start","energy_uj":[5]},{"t_s":1,"meter":"rapl","edge":"w-end","energy_uj":[2]}],` +
		`"workloads":[{"name":"gemm-fp64-64","reps":[{"edge":"w","duration_s":1,"work":{"flops":1,"items":1},"energy_j":{"package-0":1}}]}]}`))
	f.Add([]byte(`{"meters":[{"name":"fake","domains":[]}],"workloads":[{"name":"x","warmup":{},"reps":[{"check":{}}]}],"idle":{"edge":"i"}}`))
	s, raw := DefaultSpec()
	digest := SpecDigest(raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		var r1, r2 results.Record
		if json.Unmarshal(data, &r1) != nil || json.Unmarshal(data, &r2) != nil {
			return
		}
		c1, err1 := Evaluate(&r1, s, digest, EvalOptions{Now: evalTestNow})
		c2, err2 := Evaluate(&r2, s, digest, EvalOptions{Now: evalTestNow})
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("errors differ: %v, %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		a, _ := json.Marshal(c1)
		b, _ := json.Marshal(c2)
		if !bytes.Equal(a, b) {
			t.Fatal("two evaluations of one record differ")
		}
		if c1.Level.Level > 0 && c1.Estimated {
			t.Fatalf("an estimated record at %s", c1.Level)
		}
	})
}
