package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-dsynth/go-dsynth/config"
)

// FuzzParseKeys checks the API keys file parser on arbitrary text: it
// never panics; every error names the file and the line (file:line); the
// keys it accepts have each digest once and one role per name, and
// written out again ("NAME ROLE SHA256HEX [expires=TIME]" lines) they
// read back the same.
func FuzzParseKeys(f *testing.F) {
	digest := func(s string) string { d := sha256.Sum256([]byte(s)); return hex.EncodeToString(d[:]) }
	for _, s := range []string{
		"",
		"# comment\n\nci build " + digest("a") + "\n",
		"alice read " + digest("a") + "\nbob admin " + digest("b") + "\n",
		"alice read " + digest("a") + "\nalice admin " + digest("b") + "\n",
		"alice read " + digest("a") + "\nalice read " + digest("b") + " expires=2027-01-31T00:00:00Z\n",
		"alice read " + digest("a") + "\nbob admin " + digest("a") + "\n",
		"alice\tread\t" + strings.ToUpper(digest("a")) + "\r\n",
		"alice superuser " + digest("a"),
		"al ice read " + digest("a"),
		"alice read deadbeef",
		"alice read " + digest("a") + " extra",
		"alice read " + digest("a") + " expires=9999-12-31T23:59:59+14:00",
		"alice read " + digest("a") + " expires=yesterday",
		"a@b.c-d_e read " + digest("a"),
		strings.Repeat("x", 70000) + " read " + digest("a") + "\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		nlines := strings.Count(text, "\n") + 1
		ks, err := ParseKeys("fuzz.keys", strings.NewReader(text))
		if err != nil {
			var pe *config.ParseError
			if !errors.As(err, &pe) || pe.File != "fuzz.keys" || pe.Line < 1 || pe.Line > nlines {
				t.Fatalf("error %v (%T) does not locate a line of the file (%d lines)", err, err, nlines)
			}
			if prefix := fmt.Sprintf("fuzz.keys:%d: ", pe.Line); !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("error %q does not start with %q", err, prefix)
			}
			return
		}
		var out bytes.Buffer
		roles := map[string]Role{}
		digests := map[[sha256.Size]byte]bool{}
		for _, k := range ks.List {
			if r, ok := roles[k.Name]; (ok && r != k.Role) || digests[k.Digest] {
				t.Fatalf("key %q: a second role or a digest twice accepted", k.Name)
			}
			roles[k.Name], digests[k.Digest] = k.Role, true
			if r, err := ParseRole(k.Role.String()); err != nil || r != k.Role {
				t.Fatalf("key %q has role %v, which does not read back: %v", k.Name, k.Role, err)
			}
			fmt.Fprintf(&out, "%s %s %s", k.Name, k.Role, hex.EncodeToString(k.Digest[:]))
			if !k.Expires.IsZero() {
				fmt.Fprintf(&out, " expires=%s", k.Expires.Format(time.RFC3339))
			}
			out.WriteByte('\n')
		}
		again, err := ParseKeys("again.keys", &out)
		if err != nil {
			t.Fatalf("written out again, the keys do not parse: %v\n%s", err, out.String())
		}
		if len(again.List) != len(ks.List) {
			t.Fatalf("written out again: %d keys, want %d", len(again.List), len(ks.List))
		}
		for i, k := range ks.List {
			a := again.List[i]
			if a.Name != k.Name || a.Role != k.Role || a.Digest != k.Digest || !a.Expires.Equal(k.Expires) {
				t.Fatalf("key %d reads back as %q %v %v, want %q %v %v", i, a.Name, a.Role, a.Expires, k.Name, k.Role, k.Expires)
			}
		}
	})
}

// fuzzNow is the fixed clock of FuzzVerifyToken (whole seconds: JWT
// times are).
var fuzzNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// FuzzVerifyToken checks the mapping of token claims to a principal. It
// signs tokens from fuzzed claims — subject, role, issuer, audience, exp
// and nbf relative to now (each may be absent), and the key: HS256 or
// EdDSA as the kid says, HS256 under the EdDSA key's kid (algorithm
// confusion), an unknown kid — and VerifyToken must accept exactly those
// whose every check passes, with the principal the claims name. The same
// target also feeds VerifyToken the raw fuzzed string: no panic, and
// nothing accepted that is not signed by a key of the set.
func FuzzVerifyToken(f *testing.F) {
	secret := []byte(strings.Repeat("fuzz-secret-", 4))
	edPriv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	tk := &TokenKeys{File: "fuzz.tokens", Iss: DefaultIssuer, Audience: DefaultAudience, List: []TokenKey{
		{ID: "hs-1", Alg: "HS256", Verify: secret, Sign: secret, Line: 1},
		{ID: "ed-1", Alg: "EdDSA", Verify: edPriv.Public(), Sign: edPriv, Line: 2},
	}}
	good, err := tk.Mint("alice", RoleAdmin, time.Hour, "hs-1", fuzzNow)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("alice", "admin", DefaultIssuer, DefaultAudience, int64(3600), true, int64(0), true, uint8(0), good)
	f.Add("ci-bot", "build", DefaultIssuer, DefaultAudience, int64(30), true, int64(-10), true, uint8(1), "")
	f.Add("bob", "read", DefaultIssuer, DefaultAudience, int64(-30), true, int64(30), true, uint8(0), "a.b.c")
	f.Add("bob", "read", DefaultIssuer, DefaultAudience, int64(-31), true, int64(31), true, uint8(0), "")
	f.Add("bob", "read", "evil", DefaultAudience, int64(60), true, int64(0), false, uint8(0), "")
	f.Add("bob", "read", DefaultIssuer, "other", int64(60), true, int64(0), false, uint8(1), "")
	f.Add("bob", "root", DefaultIssuer, DefaultAudience, int64(60), false, int64(0), false, uint8(0), "")
	f.Add("../etc", "read", DefaultIssuer, DefaultAudience, int64(60), true, int64(0), false, uint8(2), "")
	f.Add("mallory", "admin", DefaultIssuer, DefaultAudience, int64(60), true, int64(0), false, uint8(3), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("", "", "", "", int64(1)<<40, true, int64(-1)<<40, true, uint8(0), strings.Replace(good, ".", "..", 1))
	f.Fuzz(func(t *testing.T, sub, role, iss, aud string, exp int64, hasExp bool, nbf int64, hasNbf bool, keySel uint8, raw string) {
		// Raw strings: whatever VerifyToken accepts names a valid
		// principal.
		if p, err := tk.VerifyToken(raw, fuzzNow); err == nil {
			if CheckKeyName(p.Name) != nil || p.Role < RoleRead || p.Role > RoleAdmin || p.Method != MethodJWT || !fuzzNow.Before(p.Expires.Add(tokenLeeway)) {
				t.Fatalf("raw token %q accepted as %+v", raw, p)
			}
		}
		// Times within ±300 years, as whole seconds.
		const span = 300 * 365 * 24 * 3600
		exp, nbf = exp%span, nbf%span
		claims := TokenClaims{Role: role, RegisteredClaims: jwt.RegisteredClaims{
			Subject: sub, Issuer: iss, Audience: jwt.ClaimStrings{aud},
		}}
		expAt, nbfAt := fuzzNow.Add(time.Duration(exp)*time.Second), fuzzNow.Add(time.Duration(nbf)*time.Second)
		if hasExp {
			claims.ExpiresAt = jwt.NewNumericDate(expAt)
		}
		if hasNbf {
			claims.NotBefore = jwt.NewNumericDate(nbfAt)
		}
		var method jwt.SigningMethod = jwt.SigningMethodHS256
		var key any = secret
		kid, keyOK := "hs-1", true
		switch keySel % 4 {
		case 1:
			method, key, kid = jwt.SigningMethodEdDSA, edPriv, "ed-1"
		case 2:
			kid, keyOK = "ed-1", false // HS256 under the EdDSA key's id
		case 3:
			kid, keyOK = "no-such-kid", false
		}
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		wantRole, roleErr := ParseRole(role)
		want := keyOK && iss == tk.Iss && aud == tk.Audience && roleErr == nil && CheckKeyName(sub) == nil &&
			hasExp && fuzzNow.Before(expAt.Add(tokenLeeway)) &&
			(!hasNbf || !fuzzNow.Before(nbfAt.Add(-tokenLeeway)))
		p, err := tk.VerifyToken(s, fuzzNow)
		if (err == nil) != want {
			t.Fatalf("claims %+v (kid %s, %s): VerifyToken error %v, want accepted %v", claims, kid, method.Alg(), err, want)
		}
		if err == nil && (p.Name != sub || p.Role != wantRole || p.Method != MethodJWT || !p.Expires.Equal(expAt)) {
			t.Fatalf("claims %+v map to %+v", claims, p)
		}
	})
}
