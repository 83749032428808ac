package certify

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// TestCosignVerifies checks the README's cosign command against a
// certificate: cosign, which shares no code with joulebench's verifier,
// must accept it, and refuse it when the record, the payload or the key is
// wrong. It skips unless cosign is on PATH; it is not a build dependency
// (`go install github.com/sigstore/cosign/v2/cmd/cosign@v2.4.1` gets it).
func TestCosignVerifies(t *testing.T) {
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		t.Skip("cosign not on PATH")
	}
	pubPEM, record := envTestFiles(t)
	otherPub, otherPriv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	_, otherPath, err := WriteKeyPair(t.TempDir(), otherPub, otherPriv)
	if err != nil {
		t.Fatal(err)
	}
	good := envTestEnvelope(t)

	// The README's command, with the file names of a run directory.
	run := func(t *testing.T, cert, record, pub []byte) (string, error) {
		d := envDir(t, map[string][]byte{"certificate.dsse.json": cert, "joulebench.pub": pub, "record.json": record})
		return envRun(d, cosign, "verify-blob-attestation", "--key", "joulebench.pub", "--insecure-ignore-tlog",
			"--type", PredicateCertificate, "--signature", "certificate.dsse.json", "record.json")
	}
	t.Run("good", func(t *testing.T) {
		if out, err := run(t, good, record, pubPEM); err != nil || !strings.Contains(out, "Verified OK") {
			t.Fatalf("cosign refuses a good certificate: %v\n%s", err, out)
		}
	})
	t.Run("record changed", func(t *testing.T) {
		changed := bytes.Clone(record)
		changed[10] ^= 0x01
		if out, err := run(t, good, changed, pubPEM); err == nil || strings.Contains(out, "Verified OK") {
			t.Fatalf("cosign accepts a changed record:\n%s", out)
		}
	})
	t.Run("payload changed", func(t *testing.T) {
		bad := envEdit(t, good, func(e *dsse.Envelope) { e.Payload = envFlip(t, e.Payload, 60) })
		if out, err := run(t, bad, record, pubPEM); err == nil || strings.Contains(out, "Verified OK") {
			t.Fatalf("cosign accepts a changed payload:\n%s", out)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		other, err := os.ReadFile(otherPath)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := run(t, good, record, other); err == nil || strings.Contains(out, "Verified OK") {
			t.Fatalf("cosign accepts another key:\n%s", out)
		}
	})
}
