package certify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The test keys derive from fixed seeds, so the committed key files, the
// golden envelope and every run agree. They are public: never trust them.
var (
	keyTestSeed  = sha256.Sum256([]byte("joulebench test key 1: public, never trust it"))
	keyTestSeed2 = sha256.Sum256([]byte("joulebench test key 2: public, never trust it"))
)

const (
	keyTestdataPriv = "testdata/keys/test.key"
	keyTestdataPub  = "testdata/keys/test.pub"
)

// keyTest returns the test key pair.
func keyTest() (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(keyTestSeed[:])
	return priv.Public().(ed25519.PublicKey), priv
}

// keyTest2 returns a second, unrelated key pair.
func keyTest2() (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(keyTestSeed2[:])
	return priv.Public().(ed25519.PublicKey), priv
}

// keyWriteFile writes data to a new file in t's temp dir with mode perm,
// chmod'ing explicitly so the umask does not matter.
func keyWriteFile(t *testing.T, name string, data []byte, perm fs.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
	return p
}

// keyCopyPrivate copies the committed test key to a temp file with mode
// 0600: git does not record 0600, so the checked-out file may be 0644.
func keyCopyPrivate(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(keyTestdataPriv)
	if err != nil {
		t.Fatal(err)
	}
	return keyWriteFile(t, "test.key", data, 0o600)
}

func TestKeyTestdataMatchesSeed(t *testing.T) {
	pub, priv := keyTest()
	if *update {
		dir := t.TempDir()
		if _, _, err := WriteKeyPair(dir, pub, priv); err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct {
			from, to string
			perm     fs.FileMode
		}{{PrivateKeyFile, keyTestdataPriv, 0o600}, {PublicKeyFile, keyTestdataPub, 0o644}} {
			data, err := os.ReadFile(filepath.Join(dir, f.from))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f.to, data, f.perm); err != nil {
				t.Fatal(err)
			}
		}
	}
	gotPriv, err := LoadPrivateKey(keyCopyPrivate(t))
	if err != nil {
		t.Fatal(err)
	}
	if !gotPriv.Equal(priv) {
		t.Errorf("%s is not the key from keyTestSeed; run go test -run TestKeyTestdataMatchesSeed -update", keyTestdataPriv)
	}
	gotPub, err := LoadPublicKey(keyTestdataPub)
	if err != nil {
		t.Fatal(err)
	}
	if !gotPub.Equal(pub) {
		t.Errorf("%s is not the key from keyTestSeed; run go test -run TestKeyTestdataMatchesSeed -update", keyTestdataPub)
	}
}

func TestKeyGenerateWriteLoadRoundTrip(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "keys") // WriteKeyPair creates it
	privPath, pubPath, err := WriteKeyPair(dir, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	if privPath != filepath.Join(dir, "joulebench.key") || pubPath != filepath.Join(dir, "joulebench.pub") {
		t.Errorf("paths = %s, %s", privPath, pubPath)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]fs.FileMode{privPath: 0o600, pubPath: 0o644, dir: 0o700} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s: mode %04o, want %04o", p, got, want)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %v, want only the two key files (no temporary files left)", names)
	}

	gotPriv, err := LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	if !gotPriv.Equal(priv) {
		t.Error("loaded private key differs from the written one")
	}
	gotPub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !gotPub.Equal(pub) {
		t.Error("loaded public key differs from the written one")
	}

	privPEM, _ := os.ReadFile(privPath)
	pubPEM, _ := os.ReadFile(pubPath)
	if !strings.HasPrefix(string(privPEM), "-----BEGIN PRIVATE KEY-----\n") {
		t.Errorf("private key file starts %q, want a PKCS#8 PEM block", keyFirstLine(privPEM))
	}
	if !strings.HasPrefix(string(pubPEM), "-----BEGIN PUBLIC KEY-----\n") {
		t.Errorf("public key file starts %q, want a PKIX PEM block", keyFirstLine(pubPEM))
	}
}

func keyFirstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

func TestKeyWriteRefusesOverwrite(t *testing.T) {
	pub, priv := keyTest()
	pub2, priv2 := keyTest2()

	t.Run("both exist", func(t *testing.T) {
		dir := t.TempDir()
		privPath, _, err := WriteKeyPair(dir, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(privPath)
		_, _, err = WriteKeyPair(dir, pub2, priv2)
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("second WriteKeyPair: err = %v, want fs.ErrExist", err)
		}
		if !strings.Contains(err.Error(), "refusing to overwrite") || !strings.Contains(err.Error(), privPath) {
			t.Errorf("error %q should name %s and say it refuses to overwrite", err, privPath)
		}
		after, _ := os.ReadFile(privPath)
		if string(before) != string(after) {
			t.Error("the existing key was changed")
		}
	})
	t.Run("only public exists", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, PublicKeyFile), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := WriteKeyPair(dir, pub, priv)
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("err = %v, want fs.ErrExist", err)
		}
		if _, err := os.Stat(filepath.Join(dir, PrivateKeyFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a refused WriteKeyPair left %s behind (stat: %v)", PrivateKeyFile, err)
		}
	})
	t.Run("keyWriteNew races", func(t *testing.T) {
		// The existence check in WriteKeyPair can be raced; the link must
		// still refuse.
		p := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(p, []byte("first"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := keyWriteNew(p, []byte("second"), 0o600); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("err = %v, want fs.ErrExist", err)
		}
		if got, _ := os.ReadFile(p); string(got) != "first" {
			t.Errorf("file now holds %q", got)
		}
		entries, _ := os.ReadDir(filepath.Dir(p))
		if len(entries) != 1 {
			t.Errorf("%d files in dir, want 1 (temporary file left behind)", len(entries))
		}
	})
	t.Run("mismatched pair", func(t *testing.T) {
		_, _, err := WriteKeyPair(t.TempDir(), pub2, priv)
		if err == nil || !strings.Contains(err.Error(), "does not belong") {
			t.Fatalf("err = %v, want a mismatch error", err)
		}
	})
}

func TestKeyLoadPrivateRefusesGroupOrOtherAccess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	data, err := os.ReadFile(keyTestdataPriv)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o620, 0o601, 0o666} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			p := keyWriteFile(t, "k.key", data, mode)
			_, err := LoadPrivateKey(p)
			if !errors.Is(err, ErrKeyPermissions) {
				t.Fatalf("err = %v, want ErrKeyPermissions", err)
			}
			msg := err.Error()
			for _, want := range []string{
				"load private key " + p,
				fmt.Sprintf("(mode %04o)", mode),
				"run chmod 600 " + p,
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
		})
	}
	for _, mode := range []fs.FileMode{0o600, 0o400} {
		t.Run(fmt.Sprintf("%04o ok", mode), func(t *testing.T) {
			if _, err := LoadPrivateKey(keyWriteFile(t, "k.key", data, mode)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestKeyLoadRejectsWrongFiles(t *testing.T) {
	privPEM, err := os.ReadFile(keyTestdataPriv)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile(keyTestdataPub)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	ecPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPubDER})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1, 2, 3}})

	for _, tc := range []struct {
		name    string
		private bool
		data    []byte
		want    []string
	}{
		{"private: public key given", true, pubPEM, []string{`PEM block is "PUBLIC KEY", want "PRIVATE KEY"`, "pass the private half"}},
		{"private: not PEM", true, []byte("hello\n"), []string{"not PEM"}},
		{"private: empty", true, nil, []string{"not PEM"}},
		{"private: ECDSA", true, ecPEM, []string{"ECDSA", "Ed25519 only"}},
		{"private: encrypted PKCS#8", true, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), []string{"encrypted keys are not supported"}},
		{"private: legacy encrypted", true, encrypted, []string{"headers"}},
		{"private: OpenSSH", true, pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte{1}}), []string{"OpenSSH keys are not supported"}},
		{"private: garbage DER", true, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}}), []string{"not a PKCS#8 key"}},
		{"private: two keys", true, append(append([]byte{}, privPEM...), privPEM...), []string{"more than one PEM block"}},
		{"public: private key given", false, privPEM, []string{`PEM block is "PRIVATE KEY", want "PUBLIC KEY"`, "keep the private key to yourself"}},
		{"public: not PEM", false, []byte("{}"), []string{"not PEM"}},
		{"public: ECDSA", false, ecPubPEM, []string{"ECDSA"}},
		{"public: two keys", false, append(append([]byte{}, pubPEM...), pubPEM...), []string{"one key in each file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := keyWriteFile(t, "k.pem", tc.data, 0o600)
			var err error
			if tc.private {
				_, err = LoadPrivateKey(p)
			} else {
				_, err = LoadPublicKey(p)
			}
			if !errors.Is(err, ErrKeyFormat) {
				t.Fatalf("err = %v, want ErrKeyFormat", err)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}

	t.Run("missing", func(t *testing.T) {
		_, err := LoadPrivateKey(filepath.Join(t.TempDir(), "nope.key"))
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "joulebench keygen") {
			t.Fatalf("err = %v, want fs.ErrNotExist with a keygen hint", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, err := LoadPublicKey(t.TempDir()); !errors.Is(err, ErrKeyFormat) {
			t.Fatalf("err = %v, want ErrKeyFormat", err)
		}
	})
}

func TestKeyIDIsSHA256OfPKIXDER(t *testing.T) {
	pub, _ := keyTest()
	// The DER inside joulebench.pub is what openssl and the README hash.
	data, err := os.ReadFile(keyTestdataPub)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	sum := sha256.Sum256(block.Bytes)
	if got, want := KeyID(pub), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("KeyID = %s, want sha256 of the PEM block's DER %s", got, want)
	}
	// An Ed25519 SubjectPublicKeyInfo is a fixed 12-byte header and the key.
	header, _ := hex.DecodeString("302a300506032b6570032100")
	sum = sha256.Sum256(append(header, pub...))
	if got, want := KeyID(pub), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("KeyID = %s, want %s", got, want)
	}
	pub2, _ := keyTest2()
	if KeyID(pub) == KeyID(pub2) {
		t.Error("two keys share a KeyID")
	}
}
