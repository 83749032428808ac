package certify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/joulebench/joulebench/internal/infile"
)

// filesNoBlock runs f and fails the test if it has not returned within a
// few seconds: a FIFO must be refused, not waited on.
func filesNoBlock(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s blocked", what)
		return nil
	}
}

// filesHostile returns paths that are not regular files: /dev/zero (which
// never ends), a FIFO (whose open waits for a writer) and a directory.
func filesHostile(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "cert.dsse.json")
	mkfifo(t, fifo)
	out := map[string]string{"FIFO": fifo, "directory": dir}
	if _, err := os.Stat("/dev/zero"); err == nil {
		out["character device"] = "/dev/zero"
	}
	return out
}

// filesSized writes a file of size bytes: head, padded with spaces.
func filesSized(t *testing.T, name string, head []byte, size int) string {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = ' '
	}
	copy(data, head)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 7 item 4: `verify /dev/zero` ran out of memory, a FIFO hung it,
// and a certificate padded to 40 MB verified. Every file certify reads
// is bounded and must be a regular file.
func TestReadEnvelopeFileRefusesNonFiles(t *testing.T) {
	pub, _ := keyTest()
	for kind, p := range filesHostile(t) {
		err := filesNoBlock(t, "ReadEnvelopeFile("+p+")", func() error { _, err := ReadEnvelopeFile(p); return err })
		if !errors.Is(err, ErrNotEnvelope) || !errors.Is(err, infile.ErrNotRegular) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), kind) {
			t.Errorf("ReadEnvelopeFile(%s) = %v, want ErrNotEnvelope naming a %s", p, err, kind)
		}
		err = filesNoBlock(t, "VerifyFile("+p+")", func() error { _, err := VerifyFile(p, pub); return err })
		if !errors.Is(err, ErrNotEnvelope) || !strings.HasPrefix(err.Error(), "verify "+p+": ") {
			t.Errorf("VerifyFile(%s) = %v", p, err)
		}
	}
}

func TestReadEnvelopeFileLimit(t *testing.T) {
	pub, _ := keyTest()
	good := envTestEnvelope(t)
	// Padded to exactly the limit, it is still a certificate: JSON allows
	// the whitespace, and the signature covers the payload, not the file.
	at := filesSized(t, "at.dsse.json", good, infile.MaxCertificate)
	if _, err := VerifyFile(at, pub); err != nil {
		t.Fatalf("a certificate of exactly %d bytes: %v", infile.MaxCertificate, err)
	}
	for _, size := range []int{infile.MaxCertificate + 1, 40 << 20} {
		p := filesSized(t, "padded.dsse.json", good, size)
		_, err := VerifyFile(p, pub)
		if !errors.Is(err, ErrNotEnvelope) || !errors.Is(err, infile.ErrTooLarge) {
			t.Fatalf("%d bytes: %v, want ErrNotEnvelope and ErrTooLarge", size, err)
		}
		for _, w := range []string{p, "4 MiB", "kilobytes", "joulebench certify"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%d bytes: error %q does not say %q", size, err, w)
			}
		}
	}
}

func TestLoadSpecRefusesNonFiles(t *testing.T) {
	for kind, p := range filesHostile(t) {
		err := filesNoBlock(t, "LoadSpec("+p+")", func() error { _, _, err := LoadSpec(p); return err })
		if !errors.Is(err, infile.ErrNotRegular) || !strings.Contains(err.Error(), kind) {
			t.Errorf("LoadSpec(%s) = %v", p, err)
		}
	}
	_, raw := DefaultSpec()
	p := filesSized(t, "big.json", raw, infile.MaxSpec+1)
	if _, _, err := LoadSpec(p); !errors.Is(err, infile.ErrTooLarge) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("a spec over 1 MiB: %v", err)
	}
	p = filesSized(t, "spec.json", raw, len(raw)+4096)
	if _, _, err := LoadSpec(p); err == nil || !strings.Contains(err.Error(), "name") {
		// The built-in spec padded is no longer the built-in spec's bytes.
		t.Errorf("the built-in spec, padded: %v", err)
	}
}

func TestLoadKeysRefuseNonFiles(t *testing.T) {
	for kind, p := range filesHostile(t) {
		for _, load := range []struct {
			name string
			f    func(string) error
		}{
			{"LoadPublicKey", func(p string) error { _, err := LoadPublicKey(p); return err }},
			{"LoadPrivateKey", func(p string) error { _, err := LoadPrivateKey(p); return err }},
		} {
			err := filesNoBlock(t, load.name+"("+p+")", func() error { return load.f(p) })
			if !errors.Is(err, ErrKeyFormat) || !errors.Is(err, infile.ErrNotRegular) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), kind) {
				t.Errorf("%s(%s) = %v", load.name, p, err)
			}
		}
	}
	pubPEM, _ := os.ReadFile(keyTestdataPub)
	big := filesSized(t, "big.pub", pubPEM, infile.MaxKey+1)
	if _, err := LoadPublicKey(big); !errors.Is(err, ErrKeyFormat) || !errors.Is(err, infile.ErrTooLarge) || !strings.Contains(err.Error(), "64 KiB") {
		t.Errorf("a public key file over 64 KiB: %v", err)
	}
	privPEM, _ := os.ReadFile(keyTestdataPriv)
	big = filesSized(t, "big.key", privPEM, infile.MaxKey+1)
	if _, err := LoadPrivateKey(big); !errors.Is(err, infile.ErrTooLarge) {
		t.Errorf("a private key file over 64 KiB: %v", err)
	}
	// Just under the limit, PEM's trailing whitespace is fine.
	at := filesSized(t, "at.pub", pubPEM, infile.MaxKey)
	if _, err := LoadPublicKey(at); err != nil {
		t.Errorf("a public key file of exactly 64 KiB: %v", err)
	}
}

func TestFileSubjectRefusesNonFiles(t *testing.T) {
	for kind, p := range filesHostile(t) {
		err := filesNoBlock(t, "FileSubject("+p+")", func() error { _, err := FileSubject(p); return err })
		if !errors.Is(err, infile.ErrNotRegular) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), kind) {
			t.Errorf("FileSubject(%s) = %v", p, err)
		}
		v := &Verified{Statement: &Statement{Subjects: []Subject{{Name: "r", SHA256: strings.Repeat("0", 64)}}}}
		err = filesNoBlock(t, "CheckSubject("+p+")", func() error { return CheckSubject(v, p) })
		if !errors.Is(err, infile.ErrNotRegular) {
			t.Errorf("CheckSubject(%s) = %v", p, err)
		}
	}
}

// Verified.PayloadSHA256 names the signed statement: editing the keyid
// hints or adding a signature changes the envelope file, not the digest.
func TestPayloadDigestNamesTheStatement(t *testing.T) {
	pub, _ := keyTest()
	_, priv2 := keyTest2()
	good := envTestEnvelope(t)
	v, err := Verify(good, pub)
	if err != nil {
		t.Fatal(err)
	}
	var env dsse.Envelope
	json.Unmarshal(good, &env)
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sum := sha256.Sum256(payload)
	if v.PayloadSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("PayloadSHA256 = %s, want %x", v.PayloadSHA256, sum)
	}
	other := envEdit(t, good, func(e *dsse.Envelope) {
		e.Signatures[0].KeyID = "edited"
		e.Signatures = append(e.Signatures, dsse.Signature{KeyID: "second", Sig: base64.StdEncoding.EncodeToString(
			ed25519.Sign(priv2, PAE(PayloadType, payload)))})
	})
	if bytes.Equal(other, good) {
		t.Fatal("the edit changed nothing")
	}
	v2, err := Verify(other, pub)
	if err != nil {
		t.Fatal(err)
	}
	if v2.PayloadSHA256 != v.PayloadSHA256 {
		t.Errorf("digest changed with the envelope's keyids and signatures: %s, %s", v.PayloadSHA256, v2.PayloadSHA256)
	}
}
