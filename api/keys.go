package api

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/go-dsynth/go-dsynth/config"
)

// Role is what a key may do. Roles are ordered: each includes the ones
// below it (the seed's authorization matrix: anonymous clients may read
// when allowed, "build" may also start and stop builds, "admin" may also
// change the configuration and the database).
type Role int

// Roles, lowest first. RoleNone is no role at all (an anonymous client
// when anonymous reading is off).
const (
	RoleNone Role = iota
	RoleRead
	RoleBuild
	RoleAdmin
)

var roleNames = [...]string{RoleNone: "none", RoleRead: "read", RoleBuild: "build", RoleAdmin: "admin"}

// String returns the role's name in the keys file.
func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("Role(%d)", int(r))
	}
	return roleNames[r]
}

// Allows reports whether a client with role r may use an endpoint that
// needs role need.
func (r Role) Allows(need Role) bool { return need > RoleNone && r >= need }

// ParseRole reads a role name of the keys file (read, build, admin).
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if i > int(RoleNone) && s == n {
			return Role(i), nil
		}
	}
	return RoleNone, fmt.Errorf("unknown role %q: use read, build or admin", s)
}

// Key is one line of the keys file: a name for the key's holder (it is
// what the logs show, never the key), its role and the SHA-256 digest of
// the key.
type Key struct {
	Name   string
	Role   Role
	Digest [sha256.Size]byte
}

// Keys is a parsed keys file.
type Keys struct {
	// File is where the keys came from (for messages).
	File string
	List []Key
}

// keyName is what a key's name may look like.
var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ParseKeys reads a keys file: one "NAME ROLE SHA256HEX" line per key,
// fields separated by blanks; blank lines and lines starting with # are
// skipped. Every problem is a *config.ParseError naming file and line: a
// wrong field count, a bad name, an unknown role, a digest that is not 64
// hex digits, a name or digest used twice.
func ParseKeys(file string, r io.Reader) (*Keys, error) {
	ks := &Keys{File: file}
	names := map[string]int{}
	digests := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, err := parseKeyLine(text)
		if err == nil && names[k.Name] != 0 {
			err = fmt.Errorf("key name %q already used on line %d", k.Name, names[k.Name])
		}
		if err == nil && digests[k.Digest] != 0 {
			err = fmt.Errorf("the same key digest is already on line %d", digests[k.Digest])
		}
		if err != nil {
			return nil, &config.ParseError{File: file, Line: line, Msg: err.Error()}
		}
		names[k.Name], digests[k.Digest] = line, line
		ks.List = append(ks.List, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("api keys: %s: %w", file, err)
	}
	return ks, nil
}

// parseKeyLine reads one non-comment line.
func parseKeyLine(text string) (Key, error) {
	f := strings.Fields(text)
	if len(f) != 3 {
		return Key{}, fmt.Errorf("want NAME ROLE SHA256HEX, found %d field(s)", len(f))
	}
	if !keyName.MatchString(f[0]) {
		return Key{}, fmt.Errorf("bad key name %q: letters, digits, '.', '_', '@', '-', at most 64", f[0])
	}
	role, err := ParseRole(f[1])
	if err != nil {
		return Key{}, err
	}
	d, err := hex.DecodeString(f[2])
	if err != nil || len(d) != sha256.Size {
		// The field is not quoted: it may be a key pasted by mistake.
		return Key{}, fmt.Errorf("the third field must be the key's SHA-256 digest, 64 hex digits (sha256sum of the key); it has %d character(s)", len(f[2]))
	}
	k := Key{Name: f[0], Role: role}
	copy(k.Digest[:], d)
	return k, nil
}

// LoadKeys reads and parses a keys file. A file that others than its
// owner and group may write is refused: whoever can add a line can give
// themselves admin.
func LoadKeys(path string) (*Keys, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	if st.Mode().Perm()&0o002 != 0 {
		return nil, fmt.Errorf("api keys: %s is writable by everyone (mode %v): chmod o-w it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	return ParseKeys(path, bytes.NewReader(b))
}

// Lookup returns the key whose digest is SHA-256(secret). Every stored
// digest is compared in constant time, whichever matches, so the time
// taken tells nothing about the keys.
func (ks *Keys) Lookup(secret string) (Key, bool) {
	if ks == nil || secret == "" {
		return Key{}, false
	}
	d := sha256.Sum256([]byte(secret))
	found, match := -1, 0
	for i := range ks.List {
		eq := subtle.ConstantTimeCompare(d[:], ks.List[i].Digest[:])
		found = subtle.ConstantTimeSelect(eq&(1-match), i, found)
		match |= eq
	}
	if match == 0 {
		return Key{}, false
	}
	return ks.List[found], true
}
