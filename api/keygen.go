package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// NewKey returns a fresh key (32 random bytes, in hex) and its keys-file
// line "NAME ROLE SHA256HEX" (with a newline). rnd is the randomness
// (crypto/rand.Reader when nil).
func NewKey(rnd io.Reader, name string, role Role) (key, line string, err error) {
	if !keyName.MatchString(name) {
		return "", "", fmt.Errorf("bad key name %q: letters, digits, '.', '_', '@', '-', at most 64", name)
	}
	if role <= RoleNone || role > RoleAdmin {
		return "", "", fmt.Errorf("bad role %v", role)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", "", fmt.Errorf("api key: random bytes: %w", err)
	}
	key = hex.EncodeToString(b[:])
	d := sha256.Sum256([]byte(key))
	return key, fmt.Sprintf("%s %s %s\n", name, role, hex.EncodeToString(d[:])), nil
}

// AppendKey makes a key for name with role, appends its line to the keys
// file at path (created with mode 0600 when missing) and returns the key,
// which is stored nowhere else. The file is parsed first: a malformed file,
// or one that already has a key by that name, is left untouched.
func AppendKey(path, name string, role Role) (string, error) {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("api keys: %w", err)
	}
	ks, err := ParseKeys(path, bytes.NewReader(old))
	if err != nil {
		return "", err
	}
	for _, k := range ks.List {
		if k.Name == name {
			return "", fmt.Errorf("api keys: %s already has a key named %q (remove its line to replace it)", path, name)
		}
	}
	key, line, err := NewKey(nil, name, role)
	if err != nil {
		return "", err
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		line = "\n" + line
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("api keys: %w", err)
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return "", fmt.Errorf("api keys: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("api keys: %s: %w", path, err)
	}
	return key, nil
}
