package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-dsynth/go-dsynth/config"
)

// Token defaults: the issuer and audience go-dsynth mints and expects when
// the profile names none, the lifetime of a minted token, and the clock
// skew allowed when checking exp and nbf.
const (
	DefaultIssuer   = "go-dsynth"
	DefaultAudience = "go-dsynth"
	DefaultTokenTTL = 12 * time.Hour
	tokenLeeway     = 30 * time.Second
	// minHMACKey is the shortest HS256 secret accepted (RFC 7518 §3.2:
	// at least the hash's size).
	minHMACKey = 32
)

// TokenKey is one line of the token keys file: a key id, its algorithm
// and its key material. Verify is what checks signatures; Sign, when the
// file holds private material, is what mints.
type TokenKey struct {
	ID     string
	Alg    string // HS256, RS256 or EdDSA
	Verify any
	Sign   crypto.PrivateKey // nil: this key only verifies
	Line   int
}

// TokenKeys is a parsed token keys file, with the issuer and audience
// tokens must name.
type TokenKeys struct {
	File     string
	Iss      string // the iss claim its tokens carry (Issuer)
	Audience string
	List     []TokenKey
}

// kidPattern is what a key id may look like.
var kidPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// LoadTokenKeys reads a token keys file: one "KID ALG FILE" line per key,
// ALG one of HS256, RS256, EdDSA, FILE relative to the keys file's
// directory unless absolute. For HS256 FILE holds the shared secret (at
// least 32 bytes); for RS256 and EdDSA a PEM private key (which can also
// mint) or public key (which only verifies). Blank lines and # comments
// are skipped. Key files that anyone may read, or the keys file writable
// by anyone, are refused. Problems are *config.ParseError (file:line).
func LoadTokenKeys(path, issuer, audience string) (*TokenKeys, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("token keys: %w", err)
	}
	if st.Mode().Perm()&0o002 != 0 {
		return nil, fmt.Errorf("token keys: %s is writable by everyone (mode %v): chmod o-w it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token keys: %w", err)
	}
	if issuer == "" {
		issuer = DefaultIssuer
	}
	if audience == "" {
		audience = DefaultAudience
	}
	tk := &TokenKeys{File: path, Iss: issuer, Audience: audience}
	ids := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 1
	for ; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, err := parseTokenKeyLine(filepath.Dir(path), text)
		if err == nil && ids[k.ID] != 0 {
			err = fmt.Errorf("key id %q already used on line %d", k.ID, ids[k.ID])
		}
		if err != nil {
			return nil, &config.ParseError{File: path, Line: line, Msg: err.Error()}
		}
		k.Line = line
		ids[k.ID] = line
		tk.List = append(tk.List, k)
	}
	if err := sc.Err(); err != nil {
		// A line too long for the scanner (over 64 KiB) stops it there.
		return nil, &config.ParseError{File: path, Line: line, Msg: "cannot read the line: " + err.Error()}
	}
	if len(tk.List) == 0 {
		return nil, fmt.Errorf("token keys: %s holds no key", path)
	}
	return tk, nil
}

// parseTokenKeyLine reads one line and the key file it names.
func parseTokenKeyLine(dir, text string) (TokenKey, error) {
	f := strings.Fields(text)
	if len(f) != 3 {
		return TokenKey{}, fmt.Errorf("want KID ALG FILE, found %d field(s)", len(f))
	}
	k := TokenKey{ID: f[0], Alg: f[1]}
	if !kidPattern.MatchString(k.ID) {
		return TokenKey{}, fmt.Errorf("bad key id %q: letters, digits, '.', '_', '-', at most 64", k.ID)
	}
	file := f[2]
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	st, err := os.Stat(file)
	if err != nil {
		return TokenKey{}, fmt.Errorf("key %s: %w", k.ID, err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return TokenKey{}, fmt.Errorf("key %s: %w", k.ID, err)
	}
	secretFile := func() error {
		if st.Mode().Perm()&0o004 != 0 {
			return fmt.Errorf("key %s: %s holds secret key material and is readable by everyone (mode %v): chmod o-r it", k.ID, file, st.Mode().Perm())
		}
		return nil
	}
	switch k.Alg {
	case "HS256":
		if err := secretFile(); err != nil {
			return TokenKey{}, err
		}
		secret := bytes.TrimRight(raw, "\r\n")
		if len(secret) < minHMACKey {
			return TokenKey{}, fmt.Errorf("key %s: %s holds %d byte(s); an HS256 secret needs at least %d", k.ID, file, len(secret), minHMACKey)
		}
		k.Verify, k.Sign = secret, secret
	case "RS256", "EdDSA":
		pub, priv, err := parsePEMKey(raw)
		if err != nil {
			return TokenKey{}, fmt.Errorf("key %s: %s: %w", k.ID, file, err)
		}
		if priv != nil {
			if err := secretFile(); err != nil {
				return TokenKey{}, err
			}
		}
		switch pub.(type) {
		case *rsa.PublicKey:
			if k.Alg != "RS256" {
				return TokenKey{}, fmt.Errorf("key %s: %s is an RSA key, not an %s one", k.ID, file, k.Alg)
			}
		case ed25519.PublicKey:
			if k.Alg != "EdDSA" {
				return TokenKey{}, fmt.Errorf("key %s: %s is an Ed25519 key, not an %s one", k.ID, file, k.Alg)
			}
		default:
			return TokenKey{}, fmt.Errorf("key %s: %s: %T keys are not supported (RSA or Ed25519)", k.ID, file, pub)
		}
		k.Verify, k.Sign = pub, priv
	default:
		return TokenKey{}, fmt.Errorf("unknown algorithm %q: use HS256, RS256 or EdDSA", k.Alg)
	}
	return k, nil
}

// parsePEMKey reads one PEM block: a PKCS#8 or PKCS#1 private key, or a
// PKIX public key.
func parsePEMKey(raw []byte) (pub any, priv crypto.PrivateKey, err error) {
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "PRIVATE KEY":
		p, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, nil, err
		}
		signer, ok := p.(crypto.Signer)
		if !ok {
			return nil, nil, fmt.Errorf("%T cannot sign", p)
		}
		return signer.Public(), p, nil
	case "RSA PRIVATE KEY":
		p, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, nil, err
		}
		return &p.PublicKey, p, nil
	case "PUBLIC KEY":
		p, err := x509.ParsePKIXPublicKey(block.Bytes)
		return p, nil, err
	}
	return nil, nil, fmt.Errorf("PEM block %q: want PRIVATE KEY, RSA PRIVATE KEY or PUBLIC KEY", block.Type)
}

// TokenClaims are the claims of a go-dsynth token: the registered ones
// (sub is the principal's name) and its role.
type TokenClaims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// Mint signs a token for name with role, valid from now for ttl
// (DefaultTokenTTL when ≤ 0), with the key kid ("" : the last key of the
// file that holds private material, the newest by convention).
func (tk *TokenKeys) Mint(name string, role Role, ttl time.Duration, kid string, now time.Time) (string, error) {
	if err := CheckKeyName(name); err != nil {
		return "", err
	}
	if role < RoleRead || role > RoleAdmin {
		return "", fmt.Errorf("bad role %v", role)
	}
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	var key *TokenKey
	for i := len(tk.List) - 1; i >= 0; i-- {
		k := &tk.List[i]
		if (kid == "" || k.ID == kid) && k.Sign != nil {
			key = k
			break
		}
	}
	if key == nil {
		if kid != "" {
			return "", fmt.Errorf("token keys: %s has no key %q with private material to sign with", tk.File, kid)
		}
		return "", fmt.Errorf("token keys: %s has no key with private material to sign with (only public keys)", tk.File)
	}
	var jti [16]byte
	if _, err := io.ReadFull(rand.Reader, jti[:]); err != nil {
		return "", fmt.Errorf("token: random id: %w", err)
	}
	claims := TokenClaims{Role: role.String(), RegisteredClaims: jwt.RegisteredClaims{
		Subject:   name,
		Issuer:    tk.Iss,
		Audience:  jwt.ClaimStrings{tk.Audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		ID:        hex.EncodeToString(jti[:]),
	}}
	t := jwt.NewWithClaims(jwt.GetSigningMethod(key.Alg), claims)
	t.Header["kid"] = key.ID
	s, err := t.SignedString(key.Sign)
	if err != nil {
		return "", fmt.Errorf("token: sign with %s: %w", key.ID, err)
	}
	return s, nil
}

// VerifyToken checks a bearer token: its kid names a key of the file,
// its alg is that key's (never "none", never another algorithm with the
// same key material), its signature, issuer and audience match, exp is
// present and not past, nbf not ahead (30 s of clock skew allowed), and
// its subject and role are well formed. It returns the principal.
func (tk *TokenKeys) VerifyToken(token string, now time.Time) (Principal, error) {
	var key *TokenKey
	claims := &TokenClaims{}
	parser := jwt.NewParser(
		jwt.WithIssuer(tk.Iss), jwt.WithAudience(tk.Audience), jwt.WithExpirationRequired(),
		jwt.WithLeeway(tokenLeeway), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithValidMethods([]string{"HS256", "RS256", "EdDSA"}),
	)
	_, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for i := range tk.List {
			if tk.List[i].ID == kid {
				key = &tk.List[i]
			}
		}
		if key == nil {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		if t.Method.Alg() != key.Alg {
			return nil, fmt.Errorf("key %s is %s, the token says %s", key.ID, key.Alg, t.Method.Alg())
		}
		return key.Verify, nil
	})
	if err != nil {
		return Principal{}, fmt.Errorf("token: %w", err)
	}
	role, err := ParseRole(claims.Role)
	if err != nil {
		return Principal{}, fmt.Errorf("token: %w", err)
	}
	if err := CheckKeyName(claims.Subject); err != nil {
		return Principal{}, fmt.Errorf("token: subject: %w", err)
	}
	return Principal{Name: claims.Subject, Role: role, Method: MethodJWT, Expires: claims.ExpiresAt.Time}, nil
}

// LooksLikeJWT reports whether a bearer credential has a JWT's shape
// (three base64url parts), as opposed to an API key.
func LooksLikeJWT(s string) bool { return strings.Count(s, ".") == 2 }

// TokenVerifier checks the JWT bearer tokens of one issuer: go-dsynth's
// own token keys, or an OpenID Connect provider.
type TokenVerifier interface {
	// Issuer is the iss claim of the tokens it checks.
	Issuer() string
	// Verify checks a token and returns its principal.
	Verify(ctx context.Context, token string, now time.Time) (Principal, error)
}

// Issuer is the issuer go-dsynth's tokens name.
func (tk *TokenKeys) Issuer() string { return tk.Iss }

// Verify implements TokenVerifier.
func (tk *TokenKeys) Verify(_ context.Context, token string, now time.Time) (Principal, error) {
	return tk.VerifyToken(token, now)
}

// UnverifiedIssuer reads a token's iss claim without checking anything,
// to choose the verifier that will.
func UnverifiedIssuer(token string) (string, error) {
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return c.Issuer, nil
}
