package certify

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// envCheckFuzzResult holds for every Verify outcome: failures wrap exactly
// one of the step sentinels, and successes are well-formed joulebench
// statements signed by the test key.
func envCheckFuzzResult(t *testing.T, v *Verified, err error) {
	t.Helper()
	pub, _ := keyTest()
	if err != nil {
		n := 0
		for _, s := range envSentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error wraps %d sentinels, want 1: %v", n, err)
		}
		// After a good signature a statement error says whose it was and
		// what was signed; before one, nothing.
		if errors.Is(err, ErrStatementType) || errors.Is(err, ErrPredicateType) {
			if v == nil || v.Statement != nil || v.KeyID != KeyID(pub) || len(v.PayloadSHA256) != 64 {
				t.Fatalf("statement error with Verified %+v", v)
			}
		} else if v != nil {
			t.Fatalf("error %v with Verified %+v", err, v)
		}
		return
	}
	if len(v.PayloadSHA256) != 64 {
		t.Fatalf("PayloadSHA256 %q", v.PayloadSHA256)
	}
	if v.KeyID != KeyID(pub) {
		t.Fatalf("KeyID = %s, want the test key's", v.KeyID)
	}
	st := v.Statement
	if st.Type != StatementType || !slices.Contains(envKnownPredicates, st.PredicateType) {
		t.Fatalf("verified a statement with types %q, %q", st.Type, st.PredicateType)
	}
	if len(st.Subjects) == 0 {
		t.Fatal("verified a statement without subjects")
	}
	for _, s := range st.Subjects {
		if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != 32 {
			t.Fatalf("verified a subject with sha256 %q", s.SHA256)
		}
	}
	var pred map[string]any
	if err := json.Unmarshal(st.Predicate, &pred); err != nil {
		t.Fatalf("predicate is not a JSON object: %v: %s", err, st.Predicate)
	}
}

// FuzzVerifyEnvelope feeds arbitrary bytes to Verify. Anything that verifies
// under the test key must decode to a statement with the expected types;
// short of forging Ed25519, only seeds and their harmless edits (keyids,
// whitespace) do.
func FuzzVerifyEnvelope(f *testing.F) {
	golden, err := os.ReadFile(envGoldenPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(golden[:len(golden)/2])
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AAAA"}]}`))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`))
	pub, _ := keyTest()
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Verify(data, pub)
		envCheckFuzzResult(t, v, err)
		if err == nil {
			// What verified must really be signed: recheck by hand.
			var env dsse.Envelope
			if json.Unmarshal(data, &env) != nil {
				t.Fatal("verified bytes that are not an envelope")
			}
			if env.PayloadType != PayloadType {
				t.Fatalf("verified payload type %q", env.PayloadType)
			}
		}
	})
}

// FuzzVerifyStatement signs arbitrary payloads with the test key, so that
// the fuzzer gets past the signature check and exercises the statement
// parser, which FuzzVerifyEnvelope can only reach through the seeds.
func FuzzVerifyStatement(f *testing.F) {
	golden, err := os.ReadFile(envGoldenPath)
	if err != nil {
		f.Fatal(err)
	}
	var env dsse.Envelope
	if err := json.Unmarshal(golden, &env); err != nil {
		f.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(payload)
	f.Add(envStatementJSON(StatementType, "https://joulebench.dev/certificate/v2", envTestSubjectJSON))
	f.Add(envStatementJSON("https://in-toto.io/Statement/v0.1", PredicateCertificate, envTestSubjectJSON))
	f.Add(envStatementJSON(StatementType, PredicateReproduction, envTestSubjectJSON+","+envTestSubjectJSON))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicate":null}`))
	f.Add([]byte(`[]`))
	pub, priv := keyTest()
	f.Fuzz(func(t *testing.T, payload []byte) {
		data, err := envSign(PayloadType, payload, priv)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Verify(data, pub)
		envCheckFuzzResult(t, v, err)
		if len(payload) == 0 {
			// An empty payload is not an envelope joulebench wrote.
			if !errors.Is(err, ErrNotEnvelope) {
				t.Fatalf("empty payload: err = %v, want ErrNotEnvelope", err)
			}
			return
		}
		if err != nil && !errors.Is(err, ErrStatementType) && !errors.Is(err, ErrPredicateType) {
			t.Fatalf("a validly signed payload failed before the statement checks: %v", err)
		}
	})
}
