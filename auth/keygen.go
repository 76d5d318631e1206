package auth

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
	"path/filepath"
	"strings"
	"time"
)

// NewKey returns a fresh key (32 random bytes, in hex) and its keys-file
// line "NAME ROLE SHA256HEX [expires=TIME]" (with a newline). rnd is the
// randomness (crypto/rand.Reader when nil); a zero expires adds no
// expiry.
func NewKey(rnd io.Reader, name string, role Role, expires time.Time) (key, line string, err error) {
	if err := CheckKeyName(name); err != nil {
		return "", "", err
	}
	if role < RoleRead || role > RoleAdmin {
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
	line = fmt.Sprintf("%s %s %s", name, role, hex.EncodeToString(d[:]))
	if !expires.IsZero() {
		line += " expires=" + expires.UTC().Format(time.RFC3339)
	}
	return key, line + "\n", nil
}

// AppendKey makes a key for name with role (expiring at expires, unless
// zero), appends its line to the keys file at path (created with mode
// 0600 when missing) and returns the key, which is stored nowhere else.
// The file is parsed first: a malformed file, or one where name already
// has another role, is left untouched. A name that already has keys of
// that role gets one more: that is a rotation.
func AppendKey(path, name string, role Role, expires time.Time) (string, error) {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("api keys: %w", err)
	}
	ks, err := ParseKeys(path, bytes.NewReader(old))
	if err != nil {
		return "", err
	}
	for _, k := range ks.List {
		if k.Name == name && k.Role != role {
			return "", fmt.Errorf("api keys: %s already has a key named %q with role %s (revoke it first to change its role)", path, name, k.Role)
		}
	}
	key, line, err := NewKey(nil, name, role, expires)
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

// RevokeKeys removes every key of name from the keys file at path and
// returns how many it removed. The file is rewritten atomically (a
// temporary file renamed over it, with the old file's mode), comments and
// other lines kept as they were; a malformed file, or a name with no key,
// is left untouched and is an error.
func RevokeKeys(path, name string) (int, error) {
	old, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("api keys: %w", err)
	}
	ks, err := ParseKeys(path, bytes.NewReader(old))
	if err != nil {
		return 0, err
	}
	drop := map[int]bool{}
	for _, k := range ks.List {
		if k.Name == name {
			drop[k.Line] = true
		}
	}
	if len(drop) == 0 {
		return 0, fmt.Errorf("api keys: %s has no key named %q", path, name)
	}
	var out strings.Builder
	for i, l := range strings.SplitAfter(string(old), "\n") {
		if !drop[i+1] {
			out.WriteString(l)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("api keys: %w", err)
	}
	if err := writeFileAtomic(path, []byte(out.String()), st.Mode().Perm()); err != nil {
		return 0, fmt.Errorf("api keys: %w", err)
	}
	return len(drop), nil
}

// writeFileAtomic replaces path by data: a temporary file beside it,
// synced, then renamed over it.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
