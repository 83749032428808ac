package certify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// These tests check the claim that certificates verify without joulebench:
// openssl checks the signature over PAE bytes built outside Go. They skip
// when the tools are missing, since neither openssl nor jq is a build
// dependency.

// envOpenSSL returns the openssl binary, skipping the test unless it is
// OpenSSL 3 or later (pkeyutl -rawin, needed for Ed25519, came in 3.0).
func envOpenSSL(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not on PATH")
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Skipf("openssl version: %v", err)
	}
	v := strings.TrimSpace(string(out))
	if !strings.HasPrefix(v, "OpenSSL ") || strings.HasPrefix(v, "OpenSSL 0.") || strings.HasPrefix(v, "OpenSSL 1.") {
		t.Skipf("%s has no pkeyutl -rawin for Ed25519; need OpenSSL 3.0 or later", v)
	}
	return bin
}

// envRun runs a command in dir and returns its combined output and error.
func envRun(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// envTestFiles reads the test key's public half (PEM) and the record the
// test certificates name as their subject.
func envTestFiles(t *testing.T) (pubPEM, record []byte) {
	t.Helper()
	pubPEM, err := os.ReadFile(keyTestdataPub)
	if err != nil {
		t.Fatal(err)
	}
	record, err = os.ReadFile(envRecordPath)
	if err != nil {
		t.Fatal(err)
	}
	return pubPEM, record
}

// envDir writes files into a fresh directory and returns it.
func envDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestOpenSSLVerifiesPAE(t *testing.T) {
	openssl := envOpenSSL(t)
	pub, priv, err := GenerateKey() // a fresh key, not only the golden one
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, pubPath, err := WriteKeyPair(dir, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Sign(envTestSubject(t), PredicateCertificate, envTestPredicate, priv)
	if err != nil {
		t.Fatal(err)
	}
	var env dsse.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	pae := PAE(env.PayloadType, payload)
	paePath := filepath.Join(dir, "pae.bin")
	sigPath := filepath.Join(dir, "sig.bin")
	if err := os.WriteFile(sigPath, sig, 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(pae []byte) (string, error) {
		if err := os.WriteFile(paePath, pae, 0o644); err != nil {
			t.Fatal(err)
		}
		return envRun(dir, openssl, "pkeyutl", "-verify", "-pubin", "-inkey", pubPath, "-rawin", "-in", paePath, "-sigfile", sigPath)
	}

	out, err := verify(pae)
	if err != nil || !strings.Contains(out, "Signature Verified Successfully") {
		t.Fatalf("openssl rejects a good signature: %v\n%s", err, out)
	}
	for _, i := range []int{0, len("DSSEv1 "), len(pae) / 2, len(pae) - 1} {
		bad := bytes.Clone(pae)
		bad[i] ^= 0x01
		out, err := verify(bad)
		if err == nil || strings.Contains(out, "Verified Successfully") {
			t.Errorf("openssl accepts PAE with byte %d changed:\n%s", i, out)
		}
	}

	// KeyID's doc comment shows how to recompute the key id with openssl.
	der, err := envRun(dir, openssl, "pkey", "-pubin", "-in", pubPath, "-outform", "DER", "-out", "pub.der")
	if err != nil {
		t.Fatalf("openssl pkey: %v\n%s", err, der)
	}
	out, err = envRun(dir, openssl, "dgst", "-sha256", "-r", "pub.der")
	if err != nil {
		t.Fatalf("openssl dgst: %v\n%s", err, out)
	}
	if got, _, _ := strings.Cut(out, " "); got != KeyID(pub) {
		t.Errorf("openssl's sha256 of the DER is %s, KeyID is %s", got, KeyID(pub))
	}
}

// envRecipe extracts the shell recipe from PAE's doc comment, so the README
// copy, the doc comment and this test cannot drift apart.
func envRecipe(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("envelope.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "//\ttype=$(jq") {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatal("no recipe (a line starting \"//\\ttype=$(jq\") in envelope.go")
	}
	var recipe []string
	for _, l := range lines[start:] {
		cmd, ok := strings.CutPrefix(l, "//\t")
		if !ok {
			break
		}
		recipe = append(recipe, cmd)
	}
	return strings.Join(recipe, "\n") + "\n"
}

func TestOpenSSLRecipe(t *testing.T) {
	envOpenSSL(t)
	for _, tool := range []string{"sh", "jq", "base64", "wc", "cut", "cat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
	recipe := envRecipe(t)
	pubPEM, record := envTestFiles(t)
	run := func(t *testing.T, cert, record []byte) (string, error) {
		dir := envDir(t, map[string][]byte{"cert.dsse.json": cert, "joulebench.pub": pubPEM, "record.json": record})
		// -e: a failing step fails the recipe, as a reader would notice.
		return envRun(dir, "sh", "-ec", recipe)
	}
	good := envTestEnvelope(t)

	t.Run("good", func(t *testing.T) {
		out, err := run(t, good, record)
		if err != nil || !strings.Contains(out, "Signature Verified Successfully") {
			t.Fatalf("recipe fails on a good certificate: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 2 || lines[len(lines)-1] != lines[len(lines)-2] || len(lines[len(lines)-1]) != 64 {
			t.Fatalf("the recipe's last two lines should be the same sha256:\n%s", out)
		}
	})
	t.Run("payload changed", func(t *testing.T) {
		bad := envEdit(t, good, func(e *dsse.Envelope) { e.Payload = envFlip(t, e.Payload, 60) })
		out, err := run(t, bad, record)
		if err == nil || strings.Contains(out, "Verified Successfully") {
			t.Fatalf("recipe accepts a changed payload:\n%s", out)
		}
	})
	t.Run("signature changed", func(t *testing.T) {
		bad := envEdit(t, good, func(e *dsse.Envelope) { e.Signatures[0].Sig = envFlip(t, e.Signatures[0].Sig, 0) })
		out, err := run(t, bad, record)
		if err == nil || strings.Contains(out, "Verified Successfully") {
			t.Fatalf("recipe accepts a changed signature:\n%s", out)
		}
	})
	t.Run("record changed", func(t *testing.T) {
		changed := bytes.Clone(record)
		changed[10] ^= 0x01
		out, err := run(t, good, changed)
		if err != nil {
			t.Fatalf("recipe: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if lines[len(lines)-1] == lines[len(lines)-2] {
			t.Fatalf("the digests agree for a changed record:\n%s", out)
		}
	})
}

// The README's copy of the recipe is the one TestOpenSSLRecipe runs, so
// that what people copy is what is tested.
func TestOpenSSLRecipeInREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Skip("no README next to the package:", err)
	}
	_, block, ok := strings.Cut(string(readme), "**Without joulebench.**")
	if !ok {
		t.Fatal("README lost its 'Without joulebench.' section")
	}
	_, block, _ = strings.Cut(block, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	if strings.TrimSpace(block) != strings.TrimSpace(envRecipe(t)) {
		t.Errorf("README's openssl recipe differs from the tested one in envelope.go:\nREADME:\n%s\ntested:\n%s", block, envRecipe(t))
	}
}
