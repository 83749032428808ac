package certify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

const (
	envGoldenPath = "testdata/envelope/golden.dsse.json"
	envRecordPath = "testdata/envelope/record.json"
)

// envTestCert stands in for the certificate the evaluation code builds: the
// envelope code must carry any JSON object, numbers and odd strings intact.
type envTestCert struct {
	Level    string         `json:"level"`
	Rating   string         `json:"rating"`
	EnergyJ  float64        `json:"energy_j"`
	FLOPsPJ  float64        `json:"flops_per_j"`
	Samples  int64          `json:"samples"`
	Rules    []string       `json:"rules"`
	Note     string         `json:"note"`
	Host     map[string]any `json:"host"`
	Estimate bool           `json:"estimated"`
}

var envTestPredicate = envTestCert{
	Level:   "L2",
	Rating:  "A",
	EnergyJ: 1234.5678,
	FLOPsPJ: 3.1e10,
	Samples: 1 << 53, // the largest integer Sign accepts
	Rules:   []string{"min-duration", "idle-subtracted"},
	Note:    "µJ <&> \"quoted\" \u2028 tab\t",
	Host:    map[string]any{"cpu": "EPYC 9654", "gpus": 8.0, "z": nil},
}

// envTestSubject is the subject of the golden envelope: the committed record.
func envTestSubject(t testing.TB) Subject {
	t.Helper()
	s, err := FileSubject(envRecordPath)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// envTestEnvelope signs the golden inputs.
func envTestEnvelope(t testing.TB) []byte {
	t.Helper()
	_, priv := keyTest()
	out, err := Sign(envTestSubject(t), PredicateCertificate, envTestPredicate, priv)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// envEdit decodes an envelope, lets edit change it and re-encodes it,
// without re-signing.
func envEdit(t testing.TB, data []byte, edit func(*dsse.Envelope)) []byte {
	t.Helper()
	var env dsse.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	edit(&env)
	out, err := json.Marshal(&env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// envFlip flips one bit in byte i of a base64 field's decoded bytes.
func envFlip(t testing.TB, b64 string, i int) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	raw[i] ^= 0x01
	return base64.StdEncoding.EncodeToString(raw)
}

// envStatementJSON writes a statement by hand, to sign what Sign refuses to.
func envStatementJSON(typ, predicateType, subject string) []byte {
	return fmt.Appendf(nil, `{"_type":%q,"subject":[%s],"predicateType":%q,"predicate":{"level":"L1"}}`,
		typ, subject, predicateType)
}

const envTestSubjectJSON = `{"name":"r.json","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}`

func TestSignVerifyRoundTrip(t *testing.T) {
	pub, _ := keyTest()
	data := envTestEnvelope(t)
	v, err := Verify(data, pub)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyID != KeyID(pub) {
		t.Errorf("KeyID = %s, want %s", v.KeyID, KeyID(pub))
	}
	st := v.Statement
	if st.Type != StatementType || st.PredicateType != PredicateCertificate {
		t.Errorf("types = %q, %q", st.Type, st.PredicateType)
	}
	if want := []Subject{envTestSubject(t)}; !reflect.DeepEqual(st.Subjects, want) {
		t.Errorf("subjects = %+v, want %+v", st.Subjects, want)
	}
	var got envTestCert
	if err := json.Unmarshal(st.Predicate, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, envTestPredicate) {
		t.Errorf("predicate round trip:\n got %+v\nwant %+v", got, envTestPredicate)
	}
	if err := CheckSubject(v, envRecordPath); err != nil {
		t.Error(err)
	}

	// The envelope is what DSSE and in-toto specify, field by field.
	var env struct {
		PayloadType string
		Payload     string
		Signatures  []struct{ KeyID, Sig string }
	}
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	if env.PayloadType != "application/vnd.in-toto+json" || len(env.Signatures) != 1 || env.Signatures[0].KeyID != KeyID(pub) {
		t.Errorf("envelope header = %q, %+v", env.PayloadType, env.Signatures)
	}
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if !ed25519.Verify(pub, PAE(PayloadType, payload), sig) {
		t.Error("signature is not plain Ed25519 over PAE")
	}
	if !bytes.HasPrefix(payload, []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"record.json","digest":{"sha256":"`)) {
		t.Errorf("payload starts %.120s", payload)
	}
	if !bytes.HasSuffix(data, []byte("}\n")) {
		t.Error("envelope does not end in a newline")
	}
}

func TestSignGolden(t *testing.T) {
	got := envTestEnvelope(t)
	if *update {
		if err := os.WriteFile(envGoldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(envGoldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gotPath := strings.TrimSuffix(envGoldenPath, ".json") + ".got.json"
		os.WriteFile(gotPath, got, 0o644)
		t.Fatalf("Sign output differs from %s (wrote %s); if the change is intended, run go test ./certify -run TestSignGolden -update", envGoldenPath, gotPath)
	}
	// Same inputs, same bytes: Ed25519 and the payload encoding are
	// deterministic within a run too.
	if again := envTestEnvelope(t); !bytes.Equal(again, got) {
		t.Error("two Sign calls gave different bytes")
	}
	// The committed golden file verifies against the committed public key.
	pub, err := LoadPublicKey(keyTestdataPub)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyFile(envGoldenPath, pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSubject(v, envRecordPath); err != nil {
		t.Fatal(err)
	}
}

// envSentinels are the errors each bad input must be told apart by.
var envSentinels = []error{ErrNotEnvelope, ErrPayloadType, ErrNoSignature, ErrBadSignature, ErrStatementType, ErrPredicateType, ErrSubjectDigest, ErrKeyFormat}

func TestVerifyRejectsBadInput(t *testing.T) {
	pub, priv := keyTest()
	pub2, _ := keyTest2()
	good := envTestEnvelope(t)
	sign := func(payloadType string, payload []byte) []byte {
		out, err := envSign(payloadType, payload, priv)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	for _, tc := range []struct {
		name string
		data []byte
		pubs []ed25519.PublicKey
		want error
		msg  []string
	}{
		{"payload changed by one byte", envEdit(t, good, func(e *dsse.Envelope) { e.Payload = envFlip(t, e.Payload, 40) }), nil,
			ErrBadSignature, []string{"changed after signing", KeyID(pub)}},
		{"payload's last byte changed", envEdit(t, good, func(e *dsse.Envelope) {
			raw, _ := base64.StdEncoding.DecodeString(e.Payload)
			e.Payload = envFlip(t, e.Payload, len(raw)-1)
		}), nil, ErrBadSignature, nil},
		{"signature changed by one byte", envEdit(t, good, func(e *dsse.Envelope) { e.Signatures[0].Sig = envFlip(t, e.Signatures[0].Sig, 10) }), nil,
			ErrBadSignature, nil},
		{"signature truncated", envEdit(t, good, func(e *dsse.Envelope) { e.Signatures[0].Sig = e.Signatures[0].Sig[:40] }), nil,
			ErrBadSignature, nil},
		{"signature not base64", envEdit(t, good, func(e *dsse.Envelope) { e.Signatures[0].Sig = "%%%" }), nil,
			ErrBadSignature, []string{"base64"}},
		{"wrong key", good, []ed25519.PublicKey{pub2},
			ErrBadSignature, []string{KeyID(pub2), `"` + KeyID(pub) + `"`, "signed by another key"}},
		{"no key", good, []ed25519.PublicKey{},
			ErrBadSignature, []string{"no public key"}},
		{"no signatures", envEdit(t, good, func(e *dsse.Envelope) { e.Signatures = nil }), nil,
			ErrNoSignature, nil},
		{"truncated file", good[:len(good)/2], nil,
			ErrNotEnvelope, []string{"truncated"}},
		{"truncated by one byte", bytes.TrimSuffix(good, []byte("}\n")), nil,
			ErrNotEnvelope, []string{"truncated"}},
		{"not JSON", []byte("joulebench certificate, honest\n"), nil,
			ErrNotEnvelope, []string{"not JSON"}},
		{"empty file", nil, nil,
			ErrNotEnvelope, []string{"empty"}},
		{"JSON array", []byte(`[1,2]`), nil,
			ErrNotEnvelope, []string{"not an object"}},
		{"JSON null", []byte(`null`), nil,
			ErrNotEnvelope, nil},
		{"a record, not a certificate", []byte(`{"schema":"joulebench/record/v1","runs":[]}`), nil,
			ErrNotEnvelope, []string{"payload is missing"}},
		{"payload not base64", envEdit(t, good, func(e *dsse.Envelope) { e.Payload = "not base64!" }), nil,
			ErrNotEnvelope, []string{"not base64"}},
		{"payload type changed", envEdit(t, good, func(e *dsse.Envelope) { e.PayloadType = "application/json" }), nil,
			ErrPayloadType, []string{`"application/json"`, PayloadType}},
		{"wrong payload type, signed", sign("application/json", envStatementJSON(StatementType, PredicateCertificate, envTestSubjectJSON)), nil,
			ErrPayloadType, nil},
		{"unknown predicate version", sign(PayloadType, envStatementJSON(StatementType, "https://joulebench.dev/certificate/v2", envTestSubjectJSON)), nil,
			ErrPredicateType, []string{"unknown predicate version certificate/v2", "reads certificate/v1"}},
		{"foreign predicate", sign(PayloadType, envStatementJSON(StatementType, "https://slsa.dev/provenance/v1", envTestSubjectJSON)), nil,
			ErrPredicateType, []string{"not a joulebench predicate"}},
		{"statement type v0.1", sign(PayloadType, envStatementJSON("https://in-toto.io/Statement/v0.1", PredicateCertificate, envTestSubjectJSON)), nil,
			ErrStatementType, []string{"Statement/v0.1", "reads \"https://in-toto.io/Statement/v1\""}},
		{"signed payload not JSON", sign(PayloadType, []byte("hello")), nil,
			ErrStatementType, []string{"not an in-toto statement"}},
		{"no subject", sign(PayloadType, envStatementJSON(StatementType, PredicateCertificate, "")), nil,
			ErrStatementType, nil},
		{"subject without sha256", sign(PayloadType, envStatementJSON(StatementType, PredicateCertificate, `{"name":"r","digest":{"sha512":"`+strings.Repeat("ab", 64)+`"}}`)), nil,
			ErrStatementType, []string{"no sha256"}},
		{"subject digest not hex", sign(PayloadType, envStatementJSON(StatementType, PredicateCertificate, `{"name":"r","digest":{"sha256":"xyz"}}`)), nil,
			ErrStatementType, nil},
		{"duplicate key in statement", sign(PayloadType, []byte(`{"_type":"https://in-toto.io/Statement/v1","_type":"x"}`)), nil,
			ErrStatementType, nil},
		// protojson discards an unknown field, and does not notice it twice.
		{"duplicate unknown key in statement", sign(PayloadType, []byte(`{"_type":"https://in-toto.io/Statement/v1","x":1,"x":2,"subject":[`+envTestSubjectJSON+`],"predicateType":"`+PredicateCertificate+`","predicate":{"level":"L1"}}`)), nil,
			ErrStatementType, []string{`duplicate JSON key "x"`}},
		{"duplicate key in predicate", sign(PayloadType, []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[`+envTestSubjectJSON+`],"predicateType":"`+PredicateCertificate+`","predicate":{"level":"L1","level":"L3"}}`)), nil,
			ErrStatementType, []string{`"level"`}},
		{"duplicate escaped key deep in predicate", sign(PayloadType, []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[`+envTestSubjectJSON+`],"predicateType":"`+PredicateCertificate+`","predicate":{"w":[{"x":{"a":1,"\u0061":2}}]}}`)), nil,
			ErrStatementType, []string{`duplicate`}},
		{"duplicate escaped unknown key", sign(PayloadType, []byte(`{"_type":"https://in-toto.io/Statement/v1","zz":{"a":1,"\u0061":2},"subject":[`+envTestSubjectJSON+`],"predicateType":"`+PredicateCertificate+`","predicate":{"w":1}}`)), nil,
			ErrStatementType, []string{`duplicate JSON key "a"`, "zz.a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pubs := tc.pubs
			if pubs == nil {
				pubs = []ed25519.PublicKey{pub}
			}
			v, err := Verify(tc.data, pubs...)
			if err == nil {
				t.Fatalf("Verify accepted it: %+v", v.Statement)
			}
			// A statement error follows a good signature: the result says
			// whose, and what was signed, with no statement.
			if errors.Is(err, ErrStatementType) || errors.Is(err, ErrPredicateType) {
				var env dsse.Envelope
				json.Unmarshal(tc.data, &env)
				payload, _ := base64.StdEncoding.DecodeString(env.Payload)
				if v == nil || v.Statement != nil || v.KeyID != KeyID(pub) || v.PayloadSHA256 != fmt.Sprintf("%x", sha256.Sum256(payload)) {
					t.Errorf("statement error: Verified = %+v, want the key id and payload digest without a statement", v)
				}
			} else if v != nil {
				t.Errorf("Verified = %+v with a signature error", v)
			}
			for _, s := range envSentinels {
				if got, want := errors.Is(err, s), s == tc.want; got != want {
					t.Errorf("errors.Is(err, %q) = %v, want %v; err = %v", s, got, want, err)
				}
			}
			if !strings.HasPrefix(err.Error(), "verify certificate: ") {
				t.Errorf("error %q does not say what was being done", err)
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
		})
	}
}

func TestVerifySeveralKeys(t *testing.T) {
	pub, priv := keyTest()
	pub2, priv2 := keyTest2()
	data := envTestEnvelope(t)

	t.Run("second key matches", func(t *testing.T) {
		v, err := Verify(data, pub2, pub)
		if err != nil {
			t.Fatal(err)
		}
		if v.KeyID != KeyID(pub) {
			t.Errorf("KeyID = %s, want the second key's %s", v.KeyID, KeyID(pub))
		}
	})
	t.Run("same key twice", func(t *testing.T) {
		if _, err := Verify(data, pub, pub); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad key length", func(t *testing.T) {
		_, err := Verify(data, ed25519.PublicKey{1, 2, 3})
		if !errors.Is(err, ErrKeyFormat) {
			t.Fatalf("err = %v, want ErrKeyFormat", err)
		}
	})
	t.Run("two signatures, second key trusted", func(t *testing.T) {
		// Signed by two keys; trusting only the second must still work,
		// and report that key.
		signer, err := dsse.NewEnvelopeSigner(
			&envEd25519{pub: pub, priv: priv, keyID: KeyID(pub)},
			&envEd25519{pub: pub2, priv: priv2, keyID: KeyID(pub2)})
		if err != nil {
			t.Fatal(err)
		}
		payload, err := envStatement(envTestSubject(t), PredicateCertificate, envTestPredicate)
		if err != nil {
			t.Fatal(err)
		}
		env, err := signer.SignPayload(context.Background(), PayloadType, payload)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(env)
		v, err := Verify(data, pub2)
		if err != nil {
			t.Fatal(err)
		}
		if v.KeyID != KeyID(pub2) {
			t.Errorf("KeyID = %s, want %s", v.KeyID, KeyID(pub2))
		}
		// A broken first signature does not hide a good second one.
		broken := envEdit(t, data, func(e *dsse.Envelope) { e.Signatures[0].Sig = "%%%" })
		if _, err := Verify(broken, pub2); err != nil {
			t.Errorf("with a non-base64 first signature: %v", err)
		}
	})
	t.Run("keyid hints are ignored", func(t *testing.T) {
		// keyid is not signed; other tools leave it empty (cosign) or use
		// other conventions. Neither may change the verdict.
		for _, id := range []string{"", "SHA256:something-else", KeyID(pub2)} {
			edited := envEdit(t, data, func(e *dsse.Envelope) { e.Signatures[0].KeyID = id })
			v, err := Verify(edited, pub)
			if err != nil {
				t.Errorf("keyid %q: %v", id, err)
				continue
			}
			if v.KeyID != KeyID(pub) {
				t.Errorf("keyid %q: KeyID = %s", id, v.KeyID)
			}
		}
	})
}

// envCosignAdapter mimics how cosign 2.x checks a DSSE attestation with
// --key: sigstore's dsse.VerifierAdapter with no Pub and no PubKeyID, so
// go-securesystemslib cannot derive a keyid and tries the key on every
// signature whatever its keyid says.
type envCosignAdapter struct{ pub ed25519.PublicKey }

func (a envCosignAdapter) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(a.pub, data, sig) {
		return errors.New("bad signature")
	}
	return nil
}
func (envCosignAdapter) KeyID() (string, error)   { return "", nil }
func (envCosignAdapter) Public() crypto.PublicKey { return nil }

func TestEnvCosignStyleVerification(t *testing.T) {
	pub, _ := keyTest()
	var env dsse.Envelope
	if err := json.Unmarshal(envTestEnvelope(t), &env); err != nil {
		t.Fatal(err)
	}
	ev, err := dsse.NewEnvelopeVerifier(envCosignAdapter{pub})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Verify(context.Background(), &env); err != nil {
		t.Fatalf("a cosign-style verifier rejects the envelope: %v", err)
	}
}

func TestCheckSubject(t *testing.T) {
	pub, _ := keyTest()
	v, err := Verify(envTestEnvelope(t), pub)
	if err != nil {
		t.Fatal(err)
	}
	record, err := os.ReadFile(envRecordPath)
	if err != nil {
		t.Fatal(err)
	}
	want := v.Statement.Subjects[0].SHA256

	t.Run("unchanged copy", func(t *testing.T) {
		if err := CheckSubject(v, keyWriteFile(t, "copy.json", record, 0o644)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("record changed by one byte", func(t *testing.T) {
		changed := bytes.Clone(record)
		changed[len(changed)/2] ^= 0x01
		p := keyWriteFile(t, "record.json", changed, 0o644)
		err := CheckSubject(v, p)
		if !errors.Is(err, ErrSubjectDigest) {
			t.Fatalf("err = %v, want ErrSubjectDigest", err)
		}
		got, _ := FileSubject(p)
		for _, m := range []string{p, want, got.SHA256, "the record changed since it was certified"} {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("error %q lacks %q", err, m)
			}
		}
	})
	t.Run("missing record", func(t *testing.T) {
		err := CheckSubject(v, filepath.Join(t.TempDir(), "none.json"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("no subject", func(t *testing.T) {
		if err := CheckSubject(&Verified{Statement: &Statement{}}, envRecordPath); !errors.Is(err, ErrSubjectDigest) {
			t.Fatalf("err = %v, want ErrSubjectDigest", err)
		}
	})
}

func TestSignRefusesBadInput(t *testing.T) {
	_, priv := keyTest()
	subject := Subject{Name: "r.json", SHA256: strings.Repeat("ab", 32)}
	for _, tc := range []struct {
		name      string
		subject   Subject
		predType  string
		predicate any
		want      string
	}{
		{"unknown predicate type", subject, "https://joulebench.dev/certificate/v2", map[string]int{}, "unknown predicate version"},
		{"foreign predicate type", subject, "https://example.com/x", map[string]int{}, "not a joulebench predicate"},
		{"short digest", Subject{Name: "r", SHA256: "abcd"}, PredicateCertificate, map[string]int{}, "64 lowercase hex"},
		{"upper-case digest", Subject{Name: "r", SHA256: strings.Repeat("AB", 32)}, PredicateCertificate, map[string]int{}, "64 lowercase hex"},
		{"no name", Subject{SHA256: subject.SHA256}, PredicateCertificate, map[string]int{}, "no name"},
		{"array predicate", subject, PredicateCertificate, []int{1}, "JSON object"},
		{"string predicate", subject, PredicateCertificate, "x", "JSON object"},
		{"nil predicate", subject, PredicateCertificate, nil, "JSON object"},
		{"unencodable predicate", subject, PredicateCertificate, map[string]any{"f": func() {}}, "encode predicate"},
		{"integer beyond 2^53", subject, PredicateCertificate, map[string]int64{"uj": 1<<53 + 1}, "store it as a string"},
		{"negative integer beyond 2^53", subject, PredicateCertificate, map[string]any{"a": []int64{-(1<<53 + 1)}}, "store it as a string"},
		{"uint64", subject, PredicateCertificate, map[string]uint64{"uj": 1 << 63}, "store it as a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sign(tc.subject, tc.predType, tc.predicate, priv)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "sign: ") {
				t.Fatalf("err = %v, want one starting \"sign: \" and containing %q", err, tc.want)
			}
		})
	}
	t.Run("bad private key", func(t *testing.T) {
		if _, err := Sign(subject, PredicateCertificate, map[string]int{}, ed25519.PrivateKey{1}); !errors.Is(err, ErrKeyFormat) {
			t.Fatalf("err = %v, want ErrKeyFormat", err)
		}
	})
	t.Run("json.RawMessage predicate", func(t *testing.T) {
		out, err := Sign(subject, PredicateReproduction, json.RawMessage(`{"b":1,"a":[true,null,"x"]}`), priv)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := keyTest()
		v, err := Verify(out, pub)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(v.Statement.Predicate); got != `{"a":[true,null,"x"],"b":1}` {
			t.Errorf("predicate = %s", got)
		}
		if v.Statement.PredicateType != PredicateReproduction {
			t.Errorf("predicate type = %s", v.Statement.PredicateType)
		}
	})
}

func TestVerifyFileNamesTheFile(t *testing.T) {
	pub, _ := keyTest()
	p := keyWriteFile(t, "cert.dsse.json", []byte("{"), 0o644)
	_, err := VerifyFile(p, pub)
	if !errors.Is(err, ErrNotEnvelope) || !strings.HasPrefix(err.Error(), "verify "+p+": ") {
		t.Fatalf("err = %v, want ErrNotEnvelope prefixed with the file name", err)
	}
	_, err = VerifyFile(filepath.Join(t.TempDir(), "none"), pub)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}
