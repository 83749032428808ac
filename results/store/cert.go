package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/joulebench/joulebench/certify"
	"github.com/joulebench/joulebench/results"
)

// certPattern is how certificates and reproduction statements next to a
// record are named (certificate.dsse.json, reproduction.dsse.json).
const certPattern = "*.dsse.json"

// findCertificates reads every DSSE file in dir. One that cannot be read
// or decoded is indexed as "unreadable" with the reason, not dropped: the
// index says it is there.
func findCertificates(dir, recordSHA string) []Certificate {
	paths, _ := filepath.Glob(filepath.Join(dir, certPattern))
	sort.Strings(paths)
	var out []Certificate
	for _, p := range paths {
		out = append(out, readCertificate(p, recordSHA))
	}
	return out
}

func readCertificate(path, recordSHA string) Certificate {
	c := Certificate{Path: path, Kind: "unreadable", Signature: Unverified, Level: -1}
	data, err := certify.ReadEnvelopeFile(path)
	if err != nil {
		c.Error = err.Error()
		return c
	}
	sum := sha256.Sum256(data)
	c.SHA256 = hex.EncodeToString(sum[:])
	if err := decodeUnverified(data, &c); err != nil {
		c.Kind = "unreadable"
		c.Error = err.Error()
		return c
	}
	c.MatchesRecord = c.SubjectSHA256 != "" && c.SubjectSHA256 == recordSHA
	return c
}

// decodeUnverified reads what a DSSE envelope's statement says without
// checking its signature: the index shows certificates, it does not vouch
// for them. The statement is held to the same strictness as a verified
// one where that costs nothing: no duplicate keys, a known predicate
// type, the certificate decoded strictly by certify.DecodeCertificate.
func decodeUnverified(data []byte, c *Certificate) error {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(data), &env); err != nil {
		return fmt.Errorf("%w: %v", certify.ErrNotEnvelope, err)
	}
	if env.PayloadType != certify.PayloadType {
		return fmt.Errorf("%w: payload type %q", certify.ErrPayloadType, env.PayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		if payload, err = base64.URLEncoding.DecodeString(env.Payload); err != nil {
			return fmt.Errorf("%w: payload is not base64", certify.ErrNotEnvelope)
		}
	}
	if err := results.CheckDuplicateKeys(payload); err != nil {
		return fmt.Errorf("%w: %v", certify.ErrStatementType, err)
	}
	var st struct {
		Type    string `json:"_type"`
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return fmt.Errorf("%w: %v", certify.ErrStatementType, err)
	}
	if st.Type != certify.StatementType {
		return fmt.Errorf("%w: _type %q", certify.ErrStatementType, st.Type)
	}
	if len(st.Subject) > 0 {
		c.SubjectSHA256 = strings.ToLower(st.Subject[0].Digest["sha256"])
	}
	switch st.PredicateType {
	case certify.PredicateCertificate:
		cert, err := certify.DecodeCertificate(st.Predicate)
		if err != nil {
			return err
		}
		c.Kind = "certificate"
		c.Level, c.LevelName = cert.Level.Level, cert.Level.Name
		c.SpecName, c.SpecVersion, c.Profile = cert.Spec.Name, cert.Spec.Version, cert.Profile
		c.Valid, c.EstimatedFigures = cert.Valid, cert.Estimated
		c.IssuedAt = cert.IssuedAt.UTC()
		return nil
	case certify.PredicateReproduction:
		// A reproduction statement's outcome is read by joulebench
		// verify; the index only notes that one is there.
		c.Kind = "reproduction"
		return nil
	}
	return fmt.Errorf("%w: %q", certify.ErrPredicateType, st.PredicateType)
}

var errNoRunID = errors.New("the record has no run_id")
