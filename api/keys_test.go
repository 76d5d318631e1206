package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
)

func digestOf(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

func TestParseKeys(t *testing.T) {
	text := "# API keys\n\n" +
		"ci read " + digestOf("k1") + "\n" +
		"  ops\tadmin   " + strings.ToUpper(digestOf("k2")) + "  \n" +
		"# builder\n" +
		"bot@host build " + digestOf("k3") // no newline
	ks, err := ParseKeys("keys", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, key string
		role      Role
	}{{"ci", "k1", RoleRead}, {"ops", "k2", RoleAdmin}, {"bot@host", "k3", RoleBuild}}
	if len(ks.List) != len(want) {
		t.Fatalf("%d keys, want %d", len(ks.List), len(want))
	}
	for _, w := range want {
		k, ok := ks.Lookup(w.key)
		if !ok || k.Name != w.name || k.Role != w.role {
			t.Errorf("Lookup(%s) = %+v %v, want %s %v", w.key, k, ok, w.name, w.role)
		}
	}
	for _, bad := range []string{"", "k", "k1 ", digestOf("k1"), "K1"} {
		if k, ok := ks.Lookup(bad); ok {
			t.Errorf("Lookup(%q) found %+v", bad, k)
		}
	}
	var none *Keys
	if _, ok := none.Lookup("k1"); ok {
		t.Error("nil keys found a key")
	}
}

// TestParseKeysErrors: every malformed line is a *config.ParseError naming
// the file and the line, and the message never repeats the field that may
// be a key pasted by mistake.
func TestParseKeysErrors(t *testing.T) {
	good := "ci read " + digestOf("k1") + "\n"
	for _, tt := range []struct{ line, msg string }{
		{"ci read", "want NAME ROLE SHA256HEX, found 2 field(s)"},
		{"ci read " + digestOf("x") + " extra", "found 4 field(s)"},
		{"ci write " + digestOf("x"), `unknown role "write"`},
		{"ci none " + digestOf("x"), `unknown role "none"`},
		{"ci Read " + digestOf("x"), `unknown role "Read"`},
		{"-ci read " + digestOf("x"), "bad key name"},
		{"c/i read " + digestOf("x"), "bad key name"},
		{"ci read my-secret-key", "64 hex digits"},
		{"ci read " + digestOf("x")[:63], "it has 63 character(s)"},
		{"ci read " + digestOf("x")[:62] + "zz", "64 hex digits"},
		{"ci admin " + digestOf("x"), `key name "ci" already used on line 1`},
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

func TestRoles(t *testing.T) {
	for _, tt := range []struct {
		have, need Role
		ok         bool
	}{
		{RoleRead, RoleRead, true}, {RoleRead, RoleBuild, false}, {RoleRead, RoleAdmin, false},
		{RoleBuild, RoleRead, true}, {RoleBuild, RoleBuild, true}, {RoleBuild, RoleAdmin, false},
		{RoleAdmin, RoleRead, true}, {RoleAdmin, RoleAdmin, true},
		{RoleNone, RoleRead, false}, {RoleAdmin, RoleNone, false},
	} {
		if got := tt.have.Allows(tt.need); got != tt.ok {
			t.Errorf("%v.Allows(%v) = %v", tt.have, tt.need, got)
		}
	}
	for _, r := range []Role{RoleRead, RoleBuild, RoleAdmin} {
		if p, err := ParseRole(r.String()); err != nil || p != r {
			t.Errorf("ParseRole(%q) = %v, %v", r, p, err)
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
	key, line, err := NewKey(bytes.NewReader(bytes.Repeat([]byte{7}, 32)), "ci", RoleBuild)
	if err != nil {
		t.Fatal(err)
	}
	if key != strings.Repeat("07", 32) || line != "ci build "+digestOf(key)+"\n" {
		t.Errorf("NewKey = %q, %q", key, line)
	}
	if _, _, err := NewKey(nil, "a b", RoleRead); err == nil {
		t.Error("NewKey accepted a bad name")
	}
	if _, _, err := NewKey(nil, "x", RoleNone); err == nil {
		t.Error("NewKey accepted RoleNone")
	}

	path := filepath.Join(t.TempDir(), "api.keys")
	k1, err := AppendKey(path, "ci", RoleRead)
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
	k2, err := AppendKey(path, "ops", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if k1 == k2 || len(k1) != 64 {
		t.Errorf("keys %q %q", k1, k2)
	}
	ks, err := LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := ks.Lookup(k1); !ok || k.Name != "ci" || k.Role != RoleRead {
		t.Errorf("first key: %+v %v", k, ok)
	}
	if k, ok := ks.Lookup(k2); !ok || k.Name != "ops" || k.Role != RoleAdmin {
		t.Errorf("second key: %+v %v", k, ok)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), k1) || strings.Contains(string(b), k2) {
		t.Error("the keys file holds a key, not only its digest")
	}
	// A name already used, or a malformed file: nothing is appended.
	if _, err := AppendKey(path, "ci", RoleAdmin); err == nil || !strings.Contains(err.Error(), `already has a key named "ci"`) {
		t.Errorf("duplicate name: %v", err)
	}
	os.WriteFile(path, append(b, "broken\n"...), 0o600)
	if _, err := AppendKey(path, "new", RoleRead); err == nil {
		t.Error("appended to a malformed file")
	}
	if after, _ := os.ReadFile(path); string(after) != string(b)+"broken\n" {
		t.Error("a refused AppendKey changed the file")
	}
}
