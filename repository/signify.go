package repository

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// signify's formats (OpenBSD's signify(1), Debian's signify-openbsd): a
// key or signature file is a line "untrusted comment: …" and a line of
// base64. The blobs start with the algorithm "Ed" and an 8-byte key
// number that ties signatures to keys; the signature is Ed25519 over the
// whole message.
const (
	commentPrefix = "untrusted comment: "
	pkAlg         = "Ed"
	kdfAlg        = "BK"
	secretLen     = 2 + 2 + 4 + 16 + 8 + 8 + 64
	publicLen     = 2 + 8 + 32
	signatureLen  = 2 + 8 + 64
)

// PublicKey is a signify public key.
type PublicKey struct {
	KeyNum [8]byte
	Key    ed25519.PublicKey
}

// SecretKey is an unencrypted signify secret key (`signify -G -n`).
type SecretKey struct {
	KeyNum [8]byte
	Key    ed25519.PrivateKey
}

// Public returns the secret key's public half.
func (k *SecretKey) Public() *PublicKey {
	return &PublicKey{KeyNum: k.KeyNum, Key: k.Key.Public().(ed25519.PublicKey)}
}

// GenerateKey makes a new key pair.
func GenerateKey() (*SecretKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("signify: %w", err)
	}
	k := &SecretKey{Key: priv}
	if _, err := rand.Read(k.KeyNum[:]); err != nil {
		return nil, fmt.Errorf("signify: %w", err)
	}
	return k, nil
}

// decodeFile reads the two lines of a signify file and returns the blob.
func decodeFile(name string, data []byte, want int) ([]byte, error) {
	lines := strings.SplitN(string(data), "\n", 3)
	if len(lines) < 2 || !strings.HasPrefix(lines[0], commentPrefix) {
		return nil, fmt.Errorf("%s:1: not a signify file (want a line %q, then base64)", name, commentPrefix+"…")
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || len(b) != want {
		return nil, fmt.Errorf("%s:2: not a signify blob of %d bytes", name, want)
	}
	if string(b[:2]) != pkAlg {
		return nil, fmt.Errorf("%s:2: unsupported algorithm %q (want %s)", name, b[:2], pkAlg)
	}
	return b, nil
}

func encodeFile(comment string, blob []byte) []byte {
	return []byte(commentPrefix + comment + "\n" + base64.StdEncoding.EncodeToString(blob) + "\n")
}

// ParsePublicKey reads a signify public key file's content.
func ParsePublicKey(name string, data []byte) (*PublicKey, error) {
	b, err := decodeFile(name, data, publicLen)
	if err != nil {
		return nil, err
	}
	k := &PublicKey{Key: ed25519.PublicKey(bytes.Clone(b[10:]))}
	copy(k.KeyNum[:], b[2:10])
	return k, nil
}

// Marshal writes the public key file.
func (k *PublicKey) Marshal(comment string) []byte {
	b := make([]byte, 0, publicLen)
	b = append(append(append(b, pkAlg...), k.KeyNum[:]...), k.Key...)
	return encodeFile(comment, b)
}

// ParseSecretKey reads an unencrypted signify secret key file's content;
// a passphrase-protected one is refused (dsynth signs unattended).
func ParseSecretKey(name string, data []byte) (*SecretKey, error) {
	b, err := decodeFile(name, data, secretLen)
	if err != nil {
		return nil, err
	}
	if string(b[2:4]) != kdfAlg {
		return nil, fmt.Errorf("%s:2: unsupported key derivation %q", name, b[2:4])
	}
	if rounds := binary.BigEndian.Uint32(b[4:8]); rounds != 0 {
		return nil, fmt.Errorf("%s: the key is protected by a passphrase: make one without (signify -G -n, or dsynth repo keygen)", name)
	}
	k := &SecretKey{Key: ed25519.PrivateKey(bytes.Clone(b[40:]))}
	copy(k.KeyNum[:], b[32:40])
	sum := sha512.Sum512(k.Key)
	if !bytes.Equal(sum[:8], b[24:32]) {
		return nil, fmt.Errorf("%s: checksum mismatch: the key is damaged", name)
	}
	return k, nil
}

// Marshal writes the secret key file (unencrypted: no KDF rounds).
func (k *SecretKey) Marshal(comment string) []byte {
	b := make([]byte, 0, secretLen)
	b = append(b, pkAlg...)
	b = append(b, kdfAlg...)
	b = append(b, 0, 0, 0, 0)          // rounds: none
	b = append(b, make([]byte, 16)...) // salt, unused without rounds
	sum := sha512.Sum512(k.Key)
	b = append(b, sum[:8]...)
	b = append(b, k.KeyNum[:]...)
	b = append(b, k.Key...)
	return encodeFile(comment, b)
}

// Sign returns the signature file of msg, its comment naming the public
// key file to verify it with.
func (k *SecretKey) Sign(msg []byte, pubName string) []byte {
	b := make([]byte, 0, signatureLen)
	b = append(append(append(b, pkAlg...), k.KeyNum[:]...), ed25519.Sign(k.Key, msg)...)
	return encodeFile("verify with "+pubName, b)
}

// ErrBadSignature is the answer of Verify for a signature that does not
// match the message.
var ErrBadSignature = errors.New("signature verification failed")

// Verify checks a signature file's content against msg.
func (k *PublicKey) Verify(name string, sig, msg []byte) error {
	b, err := decodeFile(name, sig, signatureLen)
	if err != nil {
		return err
	}
	if !bytes.Equal(b[2:10], k.KeyNum[:]) {
		return fmt.Errorf("%s: signed by another key (key number %x, the key's is %x)", name, b[2:10], k.KeyNum[:])
	}
	if !ed25519.Verify(k.Key, msg, b[10:]) {
		return fmt.Errorf("%s: %w", name, ErrBadSignature)
	}
	return nil
}
