package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-dsynth/go-dsynth/config"
)

// tokenFixture writes a token keys file with an HS256, an RS256 and an
// EdDSA key (private), plus an RS256 key known only by its public half.
type tokenFixture struct {
	dir, file     string
	rsa           *rsa.PrivateKey
	ed            ed25519.PrivateKey
	secret        []byte
	publicOnlyRSA *rsa.PrivateKey
}

func writePEM(t *testing.T, path, typ string, der []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
}

func newTokenFixture(t *testing.T) *tokenFixture {
	t.Helper()
	f := &tokenFixture{dir: t.TempDir(), secret: []byte(strings.Repeat("s3cr3t-", 6))}
	var err error
	if f.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if f.publicOnlyRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if _, f.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(f.dir, "hs.key"), append(f.secret, '\n'), 0o600)
	der, _ := x509.MarshalPKCS8PrivateKey(f.rsa)
	writePEM(t, filepath.Join(f.dir, "rs.pem"), "PRIVATE KEY", der, 0o600)
	der, _ = x509.MarshalPKCS8PrivateKey(f.ed)
	writePEM(t, filepath.Join(f.dir, "ed.pem"), "PRIVATE KEY", der, 0o600)
	der, _ = x509.MarshalPKIXPublicKey(&f.publicOnlyRSA.PublicKey)
	writePEM(t, filepath.Join(f.dir, "pub.pem"), "PUBLIC KEY", der, 0o644)
	f.file = filepath.Join(f.dir, "token.keys")
	os.WriteFile(f.file, []byte("# kid alg file\nhs-1 HS256 hs.key\nrs-1 RS256 rs.pem\npub-1 RS256 pub.pem\ned-1 EdDSA "+filepath.Join(f.dir, "ed.pem")+"\n"), 0o600)
	return f
}

func (f *tokenFixture) load(t *testing.T) *TokenKeys {
	t.Helper()
	tk, err := LoadTokenKeys(f.file, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestTokenRoundTrip: a token minted with each algorithm verifies to its
// name and role; without a kid the newest signing key (the last) mints.
func TestTokenRoundTrip(t *testing.T) {
	f := newTokenFixture(t)
	tk := f.load(t)
	for _, kid := range []string{"hs-1", "rs-1", "ed-1"} {
		tok, err := tk.Mint("ci", RoleUser, time.Hour, kid, now)
		if err != nil {
			t.Fatalf("%s: %v", kid, err)
		}
		p, err := tk.VerifyToken(tok, now.Add(30*time.Minute))
		if err != nil || p.Name != "ci" || p.Role != RoleUser || p.Method != MethodJWT || !p.Expires.Equal(now.Add(time.Hour)) {
			t.Errorf("%s: %+v %v", kid, p, err)
		}
		if !LooksLikeJWT(tok) || LooksLikeJWT(strings.Repeat("ab", 32)) {
			t.Errorf("LooksLikeJWT wrong on %q", tok)
		}
	}
	tok, _ := tk.Mint("ci", RoleRead, 0, "", now)
	parsed, _, _ := jwt.NewParser().ParseUnverified(tok, &TokenClaims{})
	if parsed.Header["kid"] != "ed-1" || parsed.Method.Alg() != "EdDSA" {
		t.Errorf("default signing key: %v %v", parsed.Header["kid"], parsed.Method.Alg())
	}
	if c := parsed.Claims.(*TokenClaims); !c.ExpiresAt.Time.Equal(now.Add(DefaultTokenTTL)) || c.Issuer != DefaultIssuer || c.ID == "" {
		t.Errorf("claims %+v", c)
	}
	if _, err := tk.Mint("ci", RoleRead, 0, "pub-1", now); err == nil || !strings.Contains(err.Error(), `no key "pub-1" with private material`) {
		t.Errorf("minting with a public key: %v", err)
	}
	if _, err := tk.Mint("a b", RoleRead, 0, "", now); err == nil {
		t.Error("minted for a bad name")
	}
}

// sign makes a token with arbitrary claims, header and key, as an
// attacker or a misconfigured issuer would.
func sign(t *testing.T, method jwt.SigningMethod, kid string, key any, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenRefusals: every way a token can be wrong is refused.
func TestTokenRefusals(t *testing.T) {
	f := newTokenFixture(t)
	tk := f.load(t)
	claims := func(mod func(*TokenClaims)) *TokenClaims {
		c := &TokenClaims{Role: "admin", RegisteredClaims: jwt.RegisteredClaims{
			Subject: "mallory", Issuer: DefaultIssuer, Audience: jwt.ClaimStrings{DefaultAudience},
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
		if mod != nil {
			mod(c)
		}
		return c
	}
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(&f.rsa.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	good := sign(t, jwt.SigningMethodRS256, "rs-1", f.rsa, claims(nil))
	if p, err := tk.VerifyToken(good, now); err != nil || p.Role != RoleAdmin {
		t.Fatalf("the control token: %+v %v", p, err)
	}
	for _, tt := range []struct {
		name, token, msg string
	}{
		{"expired", sign(t, jwt.SigningMethodRS256, "rs-1", f.rsa, claims(func(c *TokenClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) })), "expired"},
		{"no exp", sign(t, jwt.SigningMethodRS256, "rs-1", f.rsa, claims(func(c *TokenClaims) { c.ExpiresAt = nil })), "exp"},
		{"not yet valid", sign(t, jwt.SigningMethodRS256, "rs-1", f.rsa, claims(func(c *TokenClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) })), "not valid yet"},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, "rs-1", f.rsa, claims(func(c *TokenClaims) { c.Audience = jwt.ClaimStrings{"other"} })), "aud"},
		{"wrong issuer", sign(t, jwt.SigningMethodRS256, "rs-1", f.rsa, claims(func(c *TokenClaims) { c.Issuer = "evil" })), "iss"},
		{"unsigned", sign(t, jwt.SigningMethodNone, "rs-1", jwt.UnsafeAllowNoneSignatureType, claims(nil)), "signing method none"},
		{"wrong key", sign(t, jwt.SigningMethodRS256, "rs-1", otherRSA, claims(nil)), "verification error"},
		{"unknown kid (rotated out)", sign(t, jwt.SigningMethodRS256, "rs-0", f.rsa, claims(nil)), `unknown key id "rs-0"`},
		{"no kid", sign(t, jwt.SigningMethodRS256, "", f.rsa, claims(nil)), `unknown key id ""`},
		{"alg confusion: HS256 with the RSA public key", sign(t, jwt.SigningMethodHS256, "rs-1", pubPEM, claims(nil)), "key rs-1 is RS256, the token says HS256"},
		{"bad role", sign(t, jwt.SigningMethodRS256, "rs-1", f.rsa, claims(func(c *TokenClaims) { c.Role = "root" })), `unknown role "root"`},
		{"bad subject", sign(t, jwt.SigningMethodRS256, "rs-1", f.rsa, claims(func(c *TokenClaims) { c.Subject = "a\x1bb" })), "subject"},
		{"garbage", "a.b.c", "token"},
	} {
		p, err := tk.VerifyToken(tt.token, now)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %+v, %v; want an error saying %q", tt.name, p, err, tt.msg)
		}
	}
	// Within the allowed skew, a just-expired token still passes.
	skewed := sign(t, jwt.SigningMethodEdDSA, "ed-1", f.ed, claims(func(c *TokenClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-10 * time.Second)) }))
	if _, err := tk.VerifyToken(skewed, now); err != nil {
		t.Errorf("10 s past exp, within the leeway: %v", err)
	}
	// The public-only key verifies what its private half signed.
	if p, err := tk.VerifyToken(sign(t, jwt.SigningMethodRS256, "pub-1", f.publicOnlyRSA, claims(nil)), now); err != nil || p.Name != "mallory" {
		t.Errorf("public-only key: %+v %v", p, err)
	}
	// A configured issuer and audience replace the defaults.
	tk2, err := LoadTokenKeys(f.file, "https://ci.example", "dsynth-prod")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk2.VerifyToken(good, now); err == nil {
		t.Error("a token for the default audience passed a configured one")
	}
	if tok, err := tk2.Mint("ci", RoleRead, time.Hour, "", now); err != nil {
		t.Fatal(err)
	} else if _, err := tk2.VerifyToken(tok, now); err != nil {
		t.Errorf("minted with the configured issuer: %v", err)
	}
}

// TestLoadTokenKeysErrors: file:line for malformed lines, and the
// permission rules on secret material.
func TestLoadTokenKeysErrors(t *testing.T) {
	f := newTokenFixture(t)
	os.WriteFile(filepath.Join(f.dir, "short.key"), []byte("short"), 0o600)
	os.WriteFile(filepath.Join(f.dir, "open.key"), []byte(strings.Repeat("x", 40)), 0o644)
	for _, tt := range []struct{ line, msg string }{
		{"k1 HS256", "want KID ALG FILE, found 2"},
		{"k/1 HS256 hs.key", "bad key id"},
		{"k1 HS512 hs.key", `unknown algorithm "HS512"`},
		{"k1 HS256 missing.key", "no such file"},
		{"k1 HS256 short.key", "an HS256 secret needs at least 32"},
		{"k1 HS256 open.key", "readable by everyone"},
		{"k1 EdDSA rs.pem", "is an RSA key, not an EdDSA one"},
		{"k1 RS256 hs.key", "no PEM block"},
		{"hs-1 HS256 hs.key", `key id "hs-1" already used on line 1`},
	} {
		os.WriteFile(f.file, []byte("hs-1 HS256 hs.key\n\n"+tt.line+"\n"), 0o600)
		_, err := LoadTokenKeys(f.file, "", "")
		var pe *config.ParseError
		if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(pe.Msg, tt.msg) {
			t.Errorf("%q: %v, want line 3 saying %q", tt.line, err, tt.msg)
		}
	}
	os.WriteFile(f.file, []byte("hs-1 HS256 hs.key\n"+strings.Repeat("x", 70000)+"\n"), 0o600)
	var pe *config.ParseError
	if _, err := LoadTokenKeys(f.file, "", ""); !errors.As(err, &pe) || pe.Line != 2 {
		t.Errorf("a line over 64 KiB: %v, want file:2", err)
	}
	os.WriteFile(f.file, []byte("# nothing\n"), 0o600)
	if _, err := LoadTokenKeys(f.file, "", ""); err == nil || !strings.Contains(err.Error(), "holds no key") {
		t.Errorf("empty file: %v", err)
	}
	os.WriteFile(f.file, []byte("hs-1 HS256 hs.key\n"), 0o666)
	os.Chmod(f.file, 0o666)
	if _, err := LoadTokenKeys(f.file, "", ""); err == nil || !strings.Contains(err.Error(), "writable by everyone") {
		t.Errorf("world-writable file: %v", err)
	}
}
