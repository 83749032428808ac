package certify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/results"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Names that identify a joulebench certificate. They are part of the signed
// bytes, so changing one is a new format version, not a refactoring.
const (
	// PayloadType is the DSSE payload type of an in-toto Statement.
	PayloadType = "application/vnd.in-toto+json"
	// StatementType is the in-toto Statement version joulebench writes and reads.
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateCertificate is the predicate type of a joulebench certificate.
	PredicateCertificate = "https://joulebench.dev/certificate/v1"
	// PredicateReproduction is the predicate type of a joulebench reproduction
	// report.
	PredicateReproduction = "https://joulebench.dev/reproduction/v1"
)

// envPredicatePrefix is what every joulebench predicate type starts with; a
// type with this prefix that is not listed in envKnownPredicates comes from
// another joulebench version.
const envPredicatePrefix = "https://joulebench.dev/"

// envKnownPredicates are the predicate types this joulebench can read.
var envKnownPredicates = []string{PredicateCertificate, PredicateReproduction}

// Errors Verify and CheckSubject wrap, one per step, so that callers can
// tell with errors.Is which check failed. Each is wrapped with details of
// the failure and what to do about it.
var (
	// ErrNotEnvelope: the input is not JSON, is truncated, or is JSON but
	// not a DSSE envelope (no payload, payload not base64).
	ErrNotEnvelope = errors.New("not a DSSE envelope")
	// ErrPayloadType: the envelope carries something other than an in-toto
	// Statement.
	ErrPayloadType = errors.New("wrong payload type")
	// ErrNoSignature: the envelope has no signatures.
	ErrNoSignature = errors.New("envelope is not signed")
	// ErrBadSignature: no signature verifies against any of the given keys:
	// the envelope was changed after signing or was signed by another key.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrStatementType: the signed payload is not a valid in-toto Statement v1.
	ErrStatementType = errors.New("not an in-toto Statement v1")
	// ErrPredicateType: the predicate type is not one this joulebench reads,
	// either foreign or a joulebench version other than v1.
	ErrPredicateType = errors.New("unknown predicate type")
	// ErrSubjectDigest: the record file's sha256 is not the certified one.
	ErrSubjectDigest = errors.New("record does not match the certificate")
)

// Subject names the file a statement is about and its SHA-256 (lowercase
// hex), as in an in-toto ResourceDescriptor.
type Subject struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Statement is the verified content of an envelope: an in-toto Statement v1.
type Statement struct {
	Type          string    `json:"_type"`
	Subjects      []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	// Predicate is the predicate as compact JSON with object keys sorted.
	// Its numbers went through float64 (protobuf's Struct), which Sign
	// guarantees is lossless for what it signs.
	Predicate json.RawMessage `json:"predicate"`
}

// Verified is what Verify found. After a successful Verify every field is
// set. When a signature verified but the signed statement did not parse or
// check (ErrStatementType, ErrPredicateType), Verify returns a Verified
// with KeyID and PayloadSHA256 and a nil Statement alongside the error, so
// that a caller can say "the signature is good, the statement is not"
// rather than blame the signature.
type Verified struct {
	// KeyID is the KeyID of the public key whose signature verified.
	KeyID string `json:"keyid"`
	// PayloadSHA256 is the lowercase hex sha256 of the signed payload (the
	// statement's bytes). It names the statement itself: unlike the
	// envelope file's bytes, it does not change when keyid hints are
	// edited or signatures added.
	PayloadSHA256 string `json:"payload_sha256"`
	// Statement is the signed statement; nil when it failed to parse.
	Statement *Statement `json:"statement"`
}

// FileSubject returns the Subject for the file at path: its base name and
// the SHA-256 of its contents.
func FileSubject(path string) (Subject, error) {
	sum, err := envFileSHA256(path)
	if err != nil {
		return Subject{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return Subject{Name: filepath.Base(path), SHA256: sum}, nil
}

// Sign builds an in-toto Statement v1 about subject with predicate (any value
// that encoding/json marshals to an object) under predicateType, wraps it in
// a DSSE envelope signed with priv (Ed25519 over DSSE's PAE, keyid
// KeyID(pub)), and returns the envelope as indented JSON ending in a newline.
//
// The statement is built with github.com/in-toto/attestation/go/v1 and
// serialised with protojson, then compacted with encoding/json's Compact.
// protojson emits fields in proto order and map keys (the subject digest, the
// predicate's objects) sorted, but deliberately inserts random whitespace to
// stop people depending on its bytes; Compact removes exactly that
// whitespace. Ed25519 is deterministic, so the same inputs give the same
// envelope bytes with a given version of google.golang.org/protobuf. A
// different version may format numbers or escape strings differently; old
// envelopes still verify (the signature covers the bytes as written), only
// golden files would need -update.
//
// Integers beyond ±2^53 in predicate are refused: protobuf's Struct holds
// numbers as float64, which would round them silently. Store such values as
// strings.
func Sign(subject Subject, predicateType string, predicate any, priv ed25519.PrivateKey) ([]byte, error) {
	payload, err := envStatement(subject, predicateType, predicate)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	out, err := envSign(PayloadType, payload, priv)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return out, nil
}

// envStatement returns the payload bytes of the statement Sign signs.
func envStatement(subject Subject, predicateType string, predicate any) ([]byte, error) {
	if err := envCheckPredicateType(predicateType); err != nil {
		return nil, err
	}
	if subject.Name == "" {
		return nil, errors.New("subject has no name")
	}
	if b, err := hex.DecodeString(subject.SHA256); err != nil || len(b) != sha256.Size || subject.SHA256 != strings.ToLower(subject.SHA256) {
		return nil, fmt.Errorf("subject %s: sha256 %q is not 64 lowercase hex digits", subject.Name, subject.SHA256)
	}

	pj, err := json.Marshal(predicate)
	if err != nil {
		return nil, fmt.Errorf("encode predicate: %w", err)
	}
	if err := envCheckExactNumbers(pj); err != nil {
		return nil, fmt.Errorf("encode predicate: %w", err)
	}
	var ps structpb.Struct
	if err := protojson.Unmarshal(pj, &ps); err != nil {
		// protojson wants an object here; arrays, strings, null and
		// json.RawMessage holding them all land in this error.
		return nil, fmt.Errorf("encode predicate: it must encode to a JSON object: %w", err)
	}

	st := &intoto.Statement{
		Type: StatementType,
		Subject: []*intoto.ResourceDescriptor{{
			Name:   subject.Name,
			Digest: map[string]string{string(intoto.AlgorithmSHA256): subject.SHA256},
		}},
		PredicateType: predicateType,
		Predicate:     &ps,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("build statement: %w", err)
	}
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	var payload bytes.Buffer
	if err := json.Compact(&payload, raw); err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	return payload.Bytes(), nil
}

// envCheckExactNumbers refuses integers that float64 cannot hold exactly.
func envCheckExactNumbers(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		n, ok := tok.(json.Number)
		if !ok || strings.ContainsAny(string(n), ".eE") {
			// Fractions come from Go float64s, whose shortest decimal form
			// round-trips exactly.
			continue
		}
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i >= -(1<<53) && i <= 1<<53 {
			continue
		}
		// A large float64 (2.58e16 FLOPs) is written by encoding/json in
		// integer form; it survives protobuf's float64 exactly when its
		// float64 value prints back as the same digits. An int64 that a
		// float64 cannot hold (2^53+1) does not.
		if f, err := strconv.ParseFloat(string(n), 64); err == nil && strconv.FormatFloat(f, 'f', -1, 64) == string(n) {
			continue
		}
		return fmt.Errorf("number %s does not fit in a float64 exactly (in-toto predicates are protobuf Structs, whose numbers are float64); store it as a string", n)
	}
}

// envSign wraps payload in a DSSE envelope signed by priv.
func envSign(payloadType string, payload []byte, priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key has %d bytes, want an Ed25519 key of %d", ErrKeyFormat, len(priv), ed25519.PrivateKeySize)
	}
	pub := priv.Public().(ed25519.PublicKey)
	signer, err := dsse.NewEnvelopeSigner(&envEd25519{pub: pub, priv: priv, keyID: KeyID(pub)})
	if err != nil {
		return nil, err
	}
	env, err := signer.SignPayload(context.Background(), payloadType, payload)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// envEd25519 signs and verifies for dsse with a raw Ed25519 key: Ed25519
// signs the PAE bytes themselves (no pre-hash), which is what
// `openssl pkeyutl -rawin` and cosign's Ed25519 verifier expect.
type envEd25519 struct {
	pub   ed25519.PublicKey
	priv  ed25519.PrivateKey // nil when only verifying
	keyID string
}

var _ dsse.SignerVerifier = (*envEd25519)(nil)

func (k *envEd25519) Sign(_ context.Context, data []byte) ([]byte, error) {
	if k.priv == nil {
		return nil, errors.New("no private key")
	}
	return ed25519.Sign(k.priv, data), nil
}

func (k *envEd25519) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(k.pub, data, sig) {
		return ErrBadSignature
	}
	return nil
}

func (k *envEd25519) KeyID() (string, error) { return k.keyID, nil }

func (k *envEd25519) Public() crypto.PublicKey { return k.pub }

// PAE returns DSSE's pre-authentication encoding of a payload, the exact
// bytes an envelope's Ed25519 signature is over:
//
//	"DSSEv1" SP len(type) SP type SP len(payload) SP payload
//
// with lengths as decimal byte counts. With it a certificate can be checked
// by openssl alone (OpenSSL 3.0 or later, for -rawin) plus a POSIX shell, jq
// and base64. This recipe checks cert.dsse.json against joulebench.pub and
// record.json:
//
//	type=$(jq -r .payloadType cert.dsse.json)
//	jq -r .payload cert.dsse.json | base64 -d > payload.bin
//	jq -r '.signatures[0].sig' cert.dsse.json | base64 -d > sig.bin
//	{ printf 'DSSEv1 %d %s %d ' "${#type}" "$type" "$(wc -c < payload.bin)"; cat payload.bin; } > pae.bin
//	openssl pkeyutl -verify -pubin -inkey joulebench.pub -rawin -in pae.bin -sigfile sig.bin
//	jq -r '.subject[0].digest.sha256' payload.bin
//	openssl dgst -sha256 -r record.json | cut -d' ' -f1
//
// openssl must print "Signature Verified Successfully", and the last two
// commands must print the same digest, which shows the signed statement is
// about this very record. payload.bin is the statement; its predicate is the
// certificate. (openssl_test.go runs this recipe as written here.)
func PAE(payloadType string, payload []byte) []byte {
	return dsse.PAE(payloadType, payload)
}

// VerifyFile reads the envelope at path with ReadEnvelopeFile and verifies
// it like Verify, with the same partial result on a statement error.
func VerifyFile(path string, pubs ...ed25519.PublicKey) (*Verified, error) {
	data, err := ReadEnvelopeFile(path)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	v, err := envVerify(data, pubs)
	if err != nil {
		return v, fmt.Errorf("verify %s: %w", path, err)
	}
	return v, nil
}

// ReadEnvelopeFile reads a certificate or reproduction statement (a DSSE
// envelope) from path, refusing without blocking anything that is not a
// regular file (a FIFO, /dev/zero, a directory) and anything over
// infile.MaxCertificate (4 MiB): an envelope holds summaries, not raw
// readings, so it is kilobytes, and a bigger file is something else or
// padding. Such refusals wrap ErrNotEnvelope and infile.ErrNotRegular or
// infile.ErrTooLarge; a missing file wraps fs.ErrNotExist. Every error
// names the file.
func ReadEnvelopeFile(path string) ([]byte, error) {
	data, err := infile.Read(path, infile.MaxCertificate)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, infile.ErrTooLarge):
		return nil, fmt.Errorf("read certificate: %w: %w; a certificate holds summaries, not raw readings, so it is kilobytes: give the .dsse.json file that joulebench certify or reproduce wrote", ErrNotEnvelope, err)
	case errors.Is(err, infile.ErrNotRegular):
		return nil, fmt.Errorf("read certificate: %w: %w", ErrNotEnvelope, err)
	}
	return nil, fmt.Errorf("read certificate: %w", err)
}

// Verify checks a DSSE envelope holding a joulebench statement, step by step,
// failing at the first problem with an error that wraps the sentinel for that
// step: ErrNotEnvelope, ErrPayloadType, ErrNoSignature, ErrBadSignature
// (none of the envelope's signatures verifies with any of pubs),
// ErrStatementType, ErrPredicateType. The statement is parsed only after a
// signature has verified, so unauthenticated bytes never reach the parser.
//
// A statement error comes with a partial *Verified (KeyID, PayloadSHA256,
// no Statement): the signature is good, what it signed is not a statement
// this joulebench reads (a wrong _type, an unknown predicate version,
// duplicate keys). Every other error comes with nil.
//
// The envelope's keyid fields are hints that the signature does not cover;
// Verify ignores them and tries every given key on every signature, so an
// envelope signed by another tool with another keyid convention still
// verifies. The record itself is checked separately, with CheckSubject.
func Verify(envelopeJSON []byte, pubs ...ed25519.PublicKey) (*Verified, error) {
	v, err := envVerify(envelopeJSON, pubs)
	if err != nil {
		return v, fmt.Errorf("verify certificate: %w", err)
	}
	return v, nil
}

func envVerify(data []byte, pubs []ed25519.PublicKey) (*Verified, error) {
	env, err := envDecode(data)
	if err != nil {
		return nil, err
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("%w: payload type is %q, want %q; this is not a joulebench certificate", ErrPayloadType, env.PayloadType, PayloadType)
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%w: the signatures list is empty; sign the record with joulebench certify", ErrNoSignature)
	}
	payload, keyID, err := envCheckSignature(env, pubs)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(payload)
	v := &Verified{KeyID: keyID, PayloadSHA256: hex.EncodeToString(sum[:])}
	st, err := envParseStatement(payload)
	if err != nil {
		return v, err
	}
	v.Statement = st
	return v, nil
}

// envDecode parses the envelope JSON without trusting any of it yet.
func envDecode(data []byte) (*dsse.Envelope, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotEnvelope)
	}
	if !json.Valid(trimmed) {
		var env dsse.Envelope
		err := json.Unmarshal(trimmed, &env) // for json's description of the problem
		what := "not JSON"
		if trimmed[0] == '{' {
			what = "truncated or damaged JSON"
		}
		return nil, fmt.Errorf("%w: %s (%v); expected the .dsse.json file joulebench certify writes", ErrNotEnvelope, what, err)
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: JSON but not an object; expected the .dsse.json file joulebench certify writes", ErrNotEnvelope)
	}
	var env dsse.Envelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return nil, fmt.Errorf("%w: %v; expected the .dsse.json file joulebench certify writes", ErrNotEnvelope, err)
	}
	if env.Payload == "" {
		return nil, fmt.Errorf("%w: payload is missing or empty; expected the .dsse.json file joulebench certify writes (is this the record instead of its certificate?)", ErrNotEnvelope)
	}
	if _, err := env.DecodeB64Payload(); err != nil {
		return nil, fmt.Errorf("%w: payload is not base64; the file was damaged", ErrNotEnvelope)
	}
	return &env, nil
}

// envCheckSignature returns the payload once a signature on it verifies with
// one of pubs, and that key's KeyID.
func envCheckSignature(env *dsse.Envelope, pubs []ed25519.PublicKey) ([]byte, string, error) {
	if len(pubs) == 0 {
		return nil, "", fmt.Errorf("%w: no public key given to verify with (pass the signer's joulebench.pub)", ErrBadSignature)
	}
	var verifiers []dsse.Verifier
	var tried []string
	seen := map[string]bool{}
	for i, pub := range pubs {
		if len(pub) != ed25519.PublicKeySize {
			return nil, "", fmt.Errorf("%w: public key %d has %d bytes, want %d", ErrKeyFormat, i+1, len(pub), ed25519.PublicKeySize)
		}
		id := KeyID(pub)
		if seen[id] {
			// dsse prints to stdout when two verifiers share a keyid;
			// the same key given twice adds nothing anyway.
			continue
		}
		seen[id] = true
		tried = append(tried, id)
		verifiers = append(verifiers, &envEd25519{pub: pub, keyID: id})
	}

	// Drop the keyid hints (see Verify) and signatures that are not even
	// base64, which would make dsse give up on the other signatures too.
	var envKeyIDs []string
	hinted := dsse.Envelope{PayloadType: env.PayloadType, Payload: env.Payload}
	for _, s := range env.Signatures {
		envKeyIDs = append(envKeyIDs, strconv.Quote(s.KeyID))
		if _, err := base64.StdEncoding.DecodeString(s.Sig); err != nil {
			if _, err := base64.URLEncoding.DecodeString(s.Sig); err != nil {
				continue
			}
		}
		hinted.Signatures = append(hinted.Signatures, dsse.Signature{Sig: s.Sig})
	}
	fail := fmt.Errorf("%w: none of the envelope's %d signature(s) (keyids %s) verifies with the given key(s) (keyids %s); the certificate was changed after signing, or it was signed by another key",
		ErrBadSignature, len(env.Signatures), strings.Join(envKeyIDs, ", "), strings.Join(tried, ", "))
	if len(hinted.Signatures) == 0 {
		return nil, "", fmt.Errorf("%w (no signature is valid base64)", fail)
	}

	ev, err := dsse.NewEnvelopeVerifier(verifiers...)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	accepted, payload, err := ev.VerifyAndDecode(context.Background(), &hinted)
	if err != nil || len(accepted) == 0 {
		return nil, "", fail
	}
	return payload, accepted[0].KeyID, nil
}

// envParseStatement parses and checks a verified payload.
func envParseStatement(payload []byte) (*Statement, error) {
	var st intoto.Statement
	// in-toto requires consumers to ignore fields they do not know.
	// protojson still rejects duplicate keys, so no second reading of the
	// same bytes can disagree with this one.
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("%w: the signed payload is not an in-toto statement: %v", ErrStatementType, err)
	}
	// protojson refuses a duplicate known field or map key, but not a
	// duplicate unknown field, which it discards; another reader might
	// take either copy. Refuse every duplicate key, anywhere.
	if err := results.CheckDuplicateKeys(payload); err != nil {
		return nil, fmt.Errorf("%w: the signed payload has a %v; a reader could take either value", ErrStatementType, err)
	}
	if st.GetType() != StatementType {
		return nil, fmt.Errorf("%w: statement _type is %q; this joulebench reads %q", ErrStatementType, st.GetType(), StatementType)
	}
	if err := envCheckPredicateType(st.GetPredicateType()); err != nil {
		return nil, err
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatementType, err)
	}
	out := &Statement{Type: st.GetType(), PredicateType: st.GetPredicateType()}
	for _, rd := range st.GetSubject() {
		sum := rd.GetDigest()[string(intoto.AlgorithmSHA256)]
		if sum == "" {
			return nil, fmt.Errorf("%w: subject %q has no sha256 digest", ErrStatementType, rd.GetName())
		}
		out.Subjects = append(out.Subjects, Subject{Name: rd.GetName(), SHA256: strings.ToLower(sum)})
	}
	pj, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return nil, fmt.Errorf("%w: predicate: %v", ErrStatementType, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, pj); err != nil {
		return nil, fmt.Errorf("%w: predicate: %v", ErrStatementType, err)
	}
	out.Predicate = compact.Bytes()
	return out, nil
}

// envCheckPredicateType accepts the predicate types this joulebench reads and
// explains the others.
func envCheckPredicateType(pt string) error {
	for _, known := range envKnownPredicates {
		if pt == known {
			return nil
		}
	}
	if kind, version, ok := envSplitPredicate(pt); ok {
		for _, known := range envKnownPredicates {
			if k, v, _ := envSplitPredicate(known); k == kind {
				return fmt.Errorf("%w: unknown predicate version %s/%s; this joulebench reads %s/%s (a certificate from a newer joulebench needs a newer joulebench)", ErrPredicateType, kind, version, k, v)
			}
		}
	}
	return fmt.Errorf("%w: %q is not a joulebench predicate; this joulebench reads %s", ErrPredicateType, pt, strings.Join(envKnownPredicates, " and "))
}

// envSplitPredicate splits "https://joulebench.dev/KIND/VERSION".
func envSplitPredicate(pt string) (kind, version string, ok bool) {
	rest, found := strings.CutPrefix(pt, envPredicatePrefix)
	if !found {
		return "", "", false
	}
	kind, version, found = strings.Cut(rest, "/")
	return kind, version, found && kind != "" && version != ""
}

// CheckSubject checks that the file at recordPath is what v's statement is
// about: its SHA-256 must equal a subject's sha256 digest. Otherwise the
// error wraps ErrSubjectDigest and shows both digests.
func CheckSubject(v *Verified, recordPath string) error {
	if v == nil || v.Statement == nil || len(v.Statement.Subjects) == 0 {
		return fmt.Errorf("check record %s: %w: the certificate names no subject", recordPath, ErrSubjectDigest)
	}
	got, err := envFileSHA256(recordPath)
	if err != nil {
		return fmt.Errorf("check record %s: %w", recordPath, err)
	}
	var want []string
	for _, s := range v.Statement.Subjects {
		if s.SHA256 == got {
			return nil
		}
		want = append(want, fmt.Sprintf("%s (sha256 %s)", s.Name, s.SHA256))
	}
	return fmt.Errorf("check record %s: %w: the record's sha256 is %s but the certificate is about %s; the record changed since it was certified, or it is another record",
		recordPath, ErrSubjectDigest, got, strings.Join(want, ", "))
}

// envFileSHA256 hashes a record file as it streams by, refusing what is not
// a regular file (a FIFO would block, /dev/zero never end) and anything
// over infile.MaxRecord, the most any record reader accepts.
func envFileSHA256(path string) (string, error) {
	f, _, err := infile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, infile.MaxRecord+1))
	if err != nil {
		return "", err
	}
	if n > infile.MaxRecord {
		return "", fmt.Errorf("%w: more than %s, the limit for a record", infile.ErrTooLarge, infile.Human(infile.MaxRecord))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
