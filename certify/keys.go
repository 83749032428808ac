package certify

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/joulebench/joulebench/internal/infile"
)

// File names WriteKeyPair uses inside the directory given to
// `joulebench keygen --out DIR`.
const (
	PrivateKeyFile = "joulebench.key"
	PublicKeyFile  = "joulebench.pub"
)

// PEM block types: PKCS#8 for the private key and PKIX (SubjectPublicKeyInfo)
// for the public key, the forms openssl, cosign and Go's crypto/x509 all read.
const (
	keyPEMPrivate = "PRIVATE KEY"
	keyPEMPublic  = "PUBLIC KEY"
)

// ErrKeyPermissions reports a private key file that group or others can
// access. Like ssh's "UNPROTECTED PRIVATE KEY FILE", joulebench refuses to
// sign with it: a key others could read may already have leaked.
var ErrKeyPermissions = errors.New("private key is accessible by group or others")

// ErrKeyFormat reports a key file that is not the PEM form joulebench keygen
// writes (PKCS#8 "PRIVATE KEY" or PKIX "PUBLIC KEY" holding an Ed25519 key).
var ErrKeyFormat = errors.New("unsupported key file")

// GenerateKey returns a new Ed25519 key pair from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	return pub, priv, nil
}

// KeyID returns the hex SHA-256 of pub's PKIX (SubjectPublicKeyInfo) DER
// encoding: the bytes inside joulebench.pub's PEM block, so anyone can
// recompute it with
//
//	openssl pkey -pubin -in joulebench.pub -outform DER | openssl dgst -sha256
func KeyID(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		// Unreachable: x509 encodes any ed25519.PublicKey value without
		// looking at its contents.
		panic(fmt.Sprintf("certify: marshal Ed25519 public key: %v", err))
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// WriteKeyPair writes priv as DIR/joulebench.key (PKCS#8 PEM, mode 0600) and
// pub as DIR/joulebench.pub (PKIX PEM, mode 0644), creating DIR (mode 0700)
// if needed. It never overwrites: if either file exists it fails with an
// error wrapping fs.ErrExist, since replacing a key silently would orphan
// every certificate signed with the old one. Each file is written to a
// temporary file first and then linked into place, so a crash never leaves a
// half-written key under the final name, and the private key is never
// readable by others, not even for a moment.
func WriteKeyPair(dir string, pub ed25519.PublicKey, priv ed25519.PrivateKey) (privPath, pubPath string, err error) {
	if len(priv) != ed25519.PrivateKeySize || len(pub) != ed25519.PublicKeySize {
		return "", "", fmt.Errorf("write key pair to %s: %w: not an Ed25519 key pair (private %d bytes, public %d bytes)", dir, ErrKeyFormat, len(priv), len(pub))
	}
	if !pub.Equal(priv.Public()) {
		return "", "", fmt.Errorf("write key pair to %s: the public key does not belong to the private key", dir)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", fmt.Errorf("write key pair to %s: encode private key: %w", dir, err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", "", fmt.Errorf("write key pair to %s: encode public key: %w", dir, err)
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("write key pair: %w", err)
	}
	privPath = filepath.Join(dir, PrivateKeyFile)
	pubPath = filepath.Join(dir, PublicKeyFile)
	// Check both before writing either, so a refusal leaves nothing behind.
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("write key pair: %s already exists; refusing to overwrite a key (move it away or choose another --out directory): %w", p, fs.ErrExist)
		}
	}

	privPEM := pem.EncodeToMemory(&pem.Block{Type: keyPEMPrivate, Bytes: privDER})
	if err := keyWriteNew(privPath, privPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("write key pair: %w", err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: keyPEMPublic, Bytes: pubDER})
	if err := keyWriteNew(pubPath, pubPEM, 0o644); err != nil {
		// A private key without its public half is useless for verifying and
		// would block the next keygen run, so take it back.
		os.Remove(privPath)
		return "", "", fmt.Errorf("write key pair: %w", err)
	}
	return privPath, pubPath, nil
}

// keyWriteNew atomically creates path with data and mode perm, failing with
// fs.ErrExist if path already exists.
func keyWriteNew(path string, data []byte, perm fs.FileMode) (err error) {
	// os.CreateTemp creates the file with mode 0600, so the private key is
	// never exposed while it is being written.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmpPath := tmp.Name()
	defer func() {
		// After a successful link the temporary name is just a second
		// name for the file; on failure it is debris. Remove it either way.
		os.Remove(tmpPath)
	}()
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	// link(2), unlike rename(2), fails when the target exists, so two keygen
	// runs racing on one directory cannot overwrite each other's key.
	err = os.Link(tmpPath, path)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; refusing to overwrite a key: %w", path, fs.ErrExist)
	}
	// Some filesystems (FAT, some network and FUSE mounts) have no hard
	// links; fall back to rename after one more existence check.
	if _, statErr := os.Lstat(path); statErr == nil {
		return fmt.Errorf("%s already exists; refusing to overwrite a key: %w", path, fs.ErrExist)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// LoadPrivateKey reads an Ed25519 private key written by WriteKeyPair (PKCS#8
// PEM). It refuses, with ErrKeyPermissions, a file whose mode grants group or
// others any access, as ssh does; the error says which chmod fixes it. Other
// problems (not PEM, the wrong PEM block, an encrypted or non-Ed25519 key)
// wrap ErrKeyFormat.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := keyReadFile(path, true)
	if err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}
	der, err := keyDecodePEM(data, keyPEMPrivate)
	if err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("load private key %s: %w: not a PKCS#8 key (%v); generate one with joulebench keygen", path, ErrKeyFormat, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("load private key %s: %w: it is a %s key, but joulebench signs with Ed25519 only; generate one with joulebench keygen", path, ErrKeyFormat, keyAlgorithm(key))
	}
	return priv, nil
}

// LoadPublicKey reads an Ed25519 public key in PKIX PEM form, as written by
// WriteKeyPair or `openssl pkey -pubout`. A file holds exactly one key; to
// trust several keys, load several files.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := keyReadFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("load public key %s: %w", path, err)
	}
	der, err := keyDecodePEM(data, keyPEMPublic)
	if err != nil {
		return nil, fmt.Errorf("load public key %s: %w", path, err)
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("load public key %s: %w: not a PKIX public key (%v)", path, ErrKeyFormat, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("load public key %s: %w: it is a %s key, but joulebench certificates are signed with Ed25519", path, ErrKeyFormat, keyAlgorithm(key))
	}
	return pub, nil
}

// keyReadFile reads a small regular file: at most infile.MaxKey (64 KiB;
// an Ed25519 PEM key is about 120 bytes), and never a FIFO, a device or a
// directory, which it refuses without blocking. For private keys it first
// checks the mode of the opened file (not the path, so the check and the
// read see the same file).
func keyReadFile(path string, private bool) ([]byte, error) {
	f, fi, err := infile.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && private {
			return nil, fmt.Errorf("%w (create a key pair with joulebench keygen --out DIR)", err)
		}
		if errors.Is(err, infile.ErrNotRegular) {
			return nil, fmt.Errorf("%w: %w", ErrKeyFormat, err)
		}
		return nil, err
	}
	defer f.Close()
	// Windows has no Unix permission bits (os reports 0666 or 0444 for every
	// file), so the check would refuse every key there; ACLs are out of scope.
	if private && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w (mode %04o), so it may have leaked; run chmod 600 %s", ErrKeyPermissions, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, infile.MaxKey+1))
	if err != nil {
		return nil, err
	}
	if len(data) > infile.MaxKey {
		return nil, fmt.Errorf("%w: %w: more than %s, the limit for a key file, so not a key (an Ed25519 PEM key is about 120 bytes)", ErrKeyFormat, infile.ErrTooLarge, infile.Human(infile.MaxKey))
	}
	return data, nil
}

// keyDecodePEM returns the DER bytes of the single PEM block of type want,
// explaining the usual mix-ups when the block is something else.
func keyDecodePEM(data []byte, want string) ([]byte, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: not PEM (expected a -----BEGIN %s----- block, as joulebench keygen writes)", ErrKeyFormat, want)
	}
	if block.Type != want {
		hint := ""
		switch {
		case want == keyPEMPrivate && block.Type == keyPEMPublic:
			hint = "; this is a public key: pass the private half (" + PrivateKeyFile + ")"
		case want == keyPEMPublic && (block.Type == keyPEMPrivate || block.Type == "ENCRYPTED PRIVATE KEY" || block.Type == "OPENSSH PRIVATE KEY"):
			hint = "; this is a private key: pass the public half (" + PublicKeyFile + ") and keep the private key to yourself"
		case block.Type == "ENCRYPTED PRIVATE KEY":
			hint = "; encrypted keys are not supported: generate a key with joulebench keygen and protect it with file permissions"
		case block.Type == "OPENSSH PRIVATE KEY":
			hint = "; OpenSSH keys are not supported: generate a key with joulebench keygen"
		}
		return nil, fmt.Errorf("%w: PEM block is %q, want %q%s", ErrKeyFormat, block.Type, want, hint)
	}
	if len(block.Headers) != 0 {
		// Legacy OpenSSL encryption ("Proc-Type: 4,ENCRYPTED") lives in headers.
		return nil, fmt.Errorf("%w: PEM block has headers (an encrypted key?); joulebench reads unencrypted PKCS#8/PKIX keys only", ErrKeyFormat)
	}
	if next, _ := pem.Decode(rest); next != nil {
		// One key per file keeps "which key is this?" unambiguous; several
		// trusted keys are several files.
		return nil, fmt.Errorf("%w: more than one PEM block; put one key in each file", ErrKeyFormat)
	}
	return block.Bytes, nil
}

// keyAlgorithm names a parsed key's algorithm for error messages.
func keyAlgorithm(key any) string {
	switch key.(type) {
	case *rsa.PrivateKey, *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PrivateKey, *ecdsa.PublicKey:
		return "ECDSA"
	case *ecdh.PrivateKey, *ecdh.PublicKey:
		return "X25519/ECDH"
	}
	return fmt.Sprintf("%T", key)
}
