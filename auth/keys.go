package auth

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
	"time"

	"github.com/go-dsynth/go-dsynth/config"
)

// Key is one line of the keys file: a name for the key's holder (it is
// what the logs show, never the key), its role, the SHA-256 digest of
// the key and, optionally, when it expires.
//
// A name may have several keys, all with the same role: that is how a key
// is rotated (add the new one, move the clients, revoke the name's old
// line or let it expire).
type Key struct {
	Name   string
	Role   Role
	Digest [sha256.Size]byte
	// Expires is the end of the key's validity (zero: none).
	Expires time.Time
	// Line is the key's line in its file.
	Line int
}

// Keys is a parsed keys file.
type Keys struct {
	// File is where the keys came from (for messages).
	File string
	List []Key
}

// keyName is what a key's name may look like.
var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// reservedNames are words of the api-key command that cannot name a key.
var reservedNames = map[string]bool{"revoke": true, "list": true}

// CheckKeyName refuses what cannot name a key.
func CheckKeyName(name string) error {
	if !keyName.MatchString(name) {
		return fmt.Errorf("bad key name %q: letters, digits, '.', '_', '@', '-', at most 64", name)
	}
	if reservedNames[name] {
		return fmt.Errorf("%q cannot name a key: it is a word of the api-key command", name)
	}
	return nil
}

// ParseKeys reads a keys file: one "NAME ROLE SHA256HEX [expires=TIME]"
// line per key, fields separated by blanks, TIME in RFC 3339; blank lines
// and lines starting with # are skipped. Every problem is a
// *config.ParseError naming file and line: a wrong field count, a bad
// name, an unknown role, a digest that is not 64 hex digits, a digest used
// twice, a name given two roles, a malformed expiry.
func ParseKeys(file string, r io.Reader) (*Keys, error) {
	ks := &Keys{File: file}
	names := map[string]Key{}
	digests := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(r)
	line := 1
	for ; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, err := parseKeyLine(text)
		if prev, ok := names[k.Name]; err == nil && ok && prev.Role != k.Role {
			err = fmt.Errorf("key name %q has role %s on line %d: all keys of a name have one role", k.Name, prev.Role, prev.Line)
		}
		if err == nil && digests[k.Digest] != 0 {
			err = fmt.Errorf("the same key digest is already on line %d", digests[k.Digest])
		}
		if err != nil {
			return nil, &config.ParseError{File: file, Line: line, Msg: err.Error()}
		}
		k.Line = line
		if _, ok := names[k.Name]; !ok {
			names[k.Name] = k
		}
		digests[k.Digest] = line
		ks.List = append(ks.List, k)
	}
	if err := sc.Err(); err != nil {
		// A line too long for the scanner (over 64 KiB) stops it there.
		return nil, &config.ParseError{File: file, Line: line, Msg: "cannot read the line: " + err.Error()}
	}
	return ks, nil
}

// parseKeyLine reads one non-comment line.
func parseKeyLine(text string) (Key, error) {
	f := strings.Fields(text)
	if len(f) != 3 && len(f) != 4 {
		return Key{}, fmt.Errorf("want NAME ROLE SHA256HEX [expires=TIME], found %d field(s)", len(f))
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
	if len(f) == 4 {
		v, ok := strings.CutPrefix(f[3], "expires=")
		if !ok {
			return Key{}, fmt.Errorf("the fourth field must be expires=TIME, found %q", f[3])
		}
		if k.Expires, err = time.Parse(time.RFC3339, v); err != nil {
			return Key{}, fmt.Errorf("expires=%s: want an RFC 3339 time such as 2027-01-31T00:00:00Z", v)
		}
	}
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

// ErrExpired is wrapped by Lookup's error for a key past its expiry.
var ErrExpired = fmt.Errorf("credential expired")

// Lookup returns the key whose digest is SHA-256(secret), if it has not
// expired at now. Every stored digest is compared in constant time,
// whichever matches, so the time taken tells nothing about the keys.
func (ks *Keys) Lookup(secret string, now time.Time) (Key, error) {
	if ks == nil || secret == "" {
		return Key{}, errNoSuchKey
	}
	d := sha256.Sum256([]byte(secret))
	found, match := -1, 0
	for i := range ks.List {
		eq := subtle.ConstantTimeCompare(d[:], ks.List[i].Digest[:])
		found = subtle.ConstantTimeSelect(eq&(1-match), i, found)
		match |= eq
	}
	if match == 0 {
		return Key{}, errNoSuchKey
	}
	k := ks.List[found]
	if !k.Expires.IsZero() && !now.Before(k.Expires) {
		return Key{}, fmt.Errorf("key %q: %w at %s", k.Name, ErrExpired, k.Expires.UTC().Format(time.RFC3339))
	}
	return k, nil
}

// errNoSuchKey is Lookup's answer for a secret no line holds.
var errNoSuchKey = fmt.Errorf("the API key is not valid")
