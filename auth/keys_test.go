package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/config"
)

func digestOf(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func TestParseKeys(t *testing.T) {
	text := "# API keys\n\n" +
		"ci read " + digestOf("k1") + "\n" +
		"  ops\tadmin   " + strings.ToUpper(digestOf("k2")) + "  \n" +
		"# builder\n" +
		"bot@host build " + digestOf("k3") + "\n" +
		"cfg builder " + digestOf("k4") + " expires=2027-01-01T00:00:00Z\n" +
		"ci read " + digestOf("k5") // a second key of ci (rotation); no newline
	ks, err := ParseKeys("keys", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, key string
		role      Role
	}{{"ci", "k1", RoleRead}, {"ops", "k2", RoleAdmin}, {"bot@host", "k3", RoleUser}, {"cfg", "k4", RoleBuilder}, {"ci", "k5", RoleRead}}
	if len(ks.List) != len(want) {
		t.Fatalf("%d keys, want %d", len(ks.List), len(want))
	}
	for _, w := range want {
		k, err := ks.Lookup(w.key, now)
		if err != nil || k.Name != w.name || k.Role != w.role {
			t.Errorf("Lookup(%s) = %+v %v, want %s %v", w.key, k, err, w.name, w.role)
		}
	}
	for _, bad := range []string{"", "k", "k1 ", digestOf("k1"), "K1"} {
		if k, err := ks.Lookup(bad, now); err == nil {
			t.Errorf("Lookup(%q) found %+v", bad, k)
		}
	}
	// The expiry is exclusive: valid before it, refused from it on.
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := ks.Lookup("k4", exp.Add(-time.Second)); err != nil {
		t.Errorf("before its expiry: %v", err)
	}
	if _, err := ks.Lookup("k4", exp); !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), `key "cfg"`) {
		t.Errorf("at its expiry: %v", err)
	}
	var none *Keys
	if _, err := none.Lookup("k1", now); err == nil {
		t.Error("nil keys found a key")
	}
}

// TestParseKeysErrors: every malformed line is a *config.ParseError naming
// the file and the line, and the message never repeats the field that may
// be a key pasted by mistake.
func TestParseKeysErrors(t *testing.T) {
	good := "ci read " + digestOf("k1") + "\n"
	for _, tt := range []struct{ line, msg string }{
		{"ci read", "want NAME ROLE SHA256HEX [expires=TIME], found 2 field(s)"},
		{"ci read " + digestOf("x") + " extra", "the fourth field must be expires=TIME"},
		{"ci read " + digestOf("x") + " expires=2027-13-01", "want an RFC 3339 time"},
		{"ci read " + digestOf("x") + " expires=2027-01-01T00:00:00Z x", "found 5 field(s)"},
		{"ci write " + digestOf("x"), `unknown role "write"`},
		{"ci none " + digestOf("x"), `unknown role "none"`},
		{"ci anonymous " + digestOf("x"), `unknown role "anonymous"`},
		{"ci Read " + digestOf("x"), `unknown role "Read"`},
		{"-ci read " + digestOf("x"), "bad key name"},
		{"c/i read " + digestOf("x"), "bad key name"},
		{"ci read my-secret-key", "64 hex digits"},
		{"ci read " + digestOf("x")[:63], "it has 63 character(s)"},
		{"ci read " + digestOf("x")[:62] + "zz", "64 hex digits"},
		{"ci admin " + digestOf("x"), `key name "ci" has role read on line 1`},
		{"other read " + digestOf("k1"), "already on line 1"},
	} {
		_, err := ParseKeys("/etc/dsynth/api.keys", strings.NewReader(good+"# c\n"+tt.line+"\n"))
		var pe *config.ParseError
		if !errors.As(err, &pe) || pe.File != "/etc/dsynth/api.keys" || pe.Line != 3 || !strings.Contains(pe.Msg, tt.msg) {
			t.Errorf("%q: %v, want /etc/dsynth/api.keys:3 saying %q", tt.line, err, tt.msg)
			continue
		}
		if !strings.HasPrefix(err.Error(), "/etc/dsynth/api.keys:3: ") {
			t.Errorf("message %q does not start with file:line", err)
		}
		if strings.Contains(err.Error(), "my-secret-key") {
			t.Errorf("the message repeats the key: %v", err)
		}
	}
}

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "api.keys")
	os.WriteFile(path, []byte("ci read "+digestOf("k1")+"\nbad line\n"), 0o600)
	_, err := LoadKeys(path)
	var pe *config.ParseError
	if !errors.As(err, &pe) || pe.File != path || pe.Line != 2 {
		t.Errorf("malformed file: %v", err)
	}
	os.WriteFile(path, []byte("ci read "+digestOf("k1")+"\n"), 0o600)
	if ks, err := LoadKeys(path); err != nil || len(ks.List) != 1 || ks.File != path {
		t.Errorf("good file: %+v %v", ks, err)
	}
	os.Chmod(path, 0o666)
	if _, err := LoadKeys(path); err == nil || !strings.Contains(err.Error(), "writable by everyone") {
		t.Errorf("world-writable file: %v", err)
	}
	if _, err := LoadKeys(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestNewKeyAndAppendKey(t *testing.T) {
	key, line, err := NewKey(bytes.NewReader(bytes.Repeat([]byte{7}, 32)), "ci", RoleUser, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if key != strings.Repeat("07", 32) || line != "ci user "+digestOf(key)+"\n" {
		t.Errorf("NewKey = %q, %q", key, line)
	}
	exp := time.Date(2027, 3, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))
	if _, line, err := NewKey(nil, "ci", RoleRead, exp); err != nil || !strings.HasSuffix(line, " expires=2027-03-01T11:00:00Z\n") {
		t.Errorf("NewKey with expiry: %q %v", line, err)
	}
	for _, name := range []string{"a b", "revoke", "list"} {
		if _, _, err := NewKey(nil, name, RoleRead, time.Time{}); err == nil {
			t.Errorf("NewKey accepted the name %q", name)
		}
	}
	if _, _, err := NewKey(nil, "x", RoleNone, time.Time{}); err == nil {
		t.Error("NewKey accepted RoleNone")
	}
	if _, _, err := NewKey(nil, "x", RoleAnonymous, time.Time{}); err == nil {
		t.Error("NewKey accepted RoleAnonymous")
	}

	path := filepath.Join(t.TempDir(), "api.keys")
	k1, err := AppendKey(path, "ci", RoleRead, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("new keys file: %v %v", st.Mode(), err)
	}
	// A file without a final newline gets one before the new line.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("# no newline")
	f.Close()
	k2, err := AppendKey(path, "ops", RoleAdmin, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if k1 == k2 || len(k1) != 64 {
		t.Errorf("keys %q %q", k1, k2)
	}
	// Rotation: a second key for ci, with the same role; both work.
	k3, err := AppendKey(path, "ci", RoleRead, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ks, err := LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{k1: "ci read", k2: "ops admin", k3: "ci read"} {
		if k, err := ks.Lookup(key, now); err != nil || k.Name+" "+k.Role.String() != want {
			t.Errorf("key for %s: %+v %v", want, k, err)
		}
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), k1) || strings.Contains(string(b), k2) {
		t.Error("the keys file holds a key, not only its digest")
	}
	// A name with another role, or a malformed file: nothing is appended.
	if _, err := AppendKey(path, "ci", RoleAdmin, time.Time{}); err == nil || !strings.Contains(err.Error(), `already has a key named "ci" with role read`) {
		t.Errorf("name with another role: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(b) {
		t.Error("a refused AppendKey changed the file")
	}
	os.WriteFile(path, append(b, "broken\n"...), 0o600)
	if _, err := AppendKey(path, "new", RoleRead, time.Time{}); err == nil {
		t.Error("appended to a malformed file")
	}
	if after, _ := os.ReadFile(path); string(after) != string(b)+"broken\n" {
		t.Error("a refused AppendKey changed the file")
	}
}

// TestRevokeKeys: revoking a name removes all its keys and nothing else,
// keeps comments and the file's mode; an unknown name or a malformed file
// changes nothing.
func TestRevokeKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.keys")
	text := "# ops keys\nci read " + digestOf("k1") + "\nops admin " + digestOf("k2") + "\n# rotated\nci read " + digestOf("k3") + "\n"
	os.WriteFile(path, []byte(text), 0o640)
	n, err := RevokeKeys(path, "ci")
	if err != nil || n != 2 {
		t.Fatalf("RevokeKeys = %d, %v", n, err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "# ops keys\nops admin "+digestOf("k2")+"\n# rotated\n" {
		t.Errorf("after revoking ci:\n%s", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the old 0640", st.Mode().Perm())
	}
	ks, _ := LoadKeys(path)
	for _, k := range []string{"k1", "k3"} {
		if _, err := ks.Lookup(k, now); err == nil {
			t.Errorf("revoked key %s still valid", k)
		}
	}
	if _, err := RevokeKeys(path, "ci"); err == nil || !strings.Contains(err.Error(), `no key named "ci"`) {
		t.Errorf("revoking again: %v", err)
	}
	os.WriteFile(path, append(b, "broken\n"...), 0o640)
	if _, err := RevokeKeys(path, "ops"); err == nil {
		t.Error("revoked in a malformed file")
	}
	if after, _ := os.ReadFile(path); string(after) != string(b)+"broken\n" {
		t.Error("a refused RevokeKeys changed the file")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}
