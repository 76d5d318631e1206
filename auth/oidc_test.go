package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/oidctest"
)

// roleMap parses a mapping written on line 7 of dsynth.ini.
func roleMap(t *testing.T, text string) *auth.RoleMap {
	t.Helper()
	m, err := auth.NewRoleMap(config.RoleMapping{File: "dsynth.ini", Line: 7, Key: "Api_oidc_roles", Text: text}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newOIDC(t *testing.T, p *oidctest.Provider, claim, roles string) *auth.OIDC {
	t.Helper()
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: p.Issuer(), ClientID: p.ClientID(), RoleClaim: claim, Roles: roleMap(t, roles)})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOIDCVerify(t *testing.T) {
	p := oidctest.Start(t)
	o := newOIDC(t, p, "groups", "dsynth-admins=admin,dsynth-ops=builder,readers=read")
	if o.Issuer() != p.Issuer() {
		t.Fatalf("Issuer() = %q, want %q", o.Issuer(), p.Issuer())
	}
	ctx := context.Background()
	now := time.Now()
	good := p.Sign(t, "u1", now, time.Hour, oidctest.Claims{"preferred_username": "jane", "groups": []string{"engineering", "dsynth-ops", "readers"}})
	pr, err := o.Verify(ctx, good, now)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Name != "jane" || pr.Role != auth.RoleBuilder || pr.Method != auth.MethodOIDC || pr.Expires.Unix() != now.Add(time.Hour).Unix() {
		t.Fatalf("principal = %+v, want jane, builder (the highest mapped group), oidc, expiring in an hour", pr)
	}

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	groups := oidctest.Claims{"groups": []string{"dsynth-admins"}}
	for _, c := range []struct {
		name, token, want string
	}{
		{"expired", p.Sign(t, "u1", now.Add(-2*time.Hour), time.Hour, groups), "expired"},
		{"wrong audience", p.Sign(t, "u1", now, time.Hour, oidctest.Claims{"groups": []string{"dsynth-admins"}, "aud": "another-client"}), "audience"},
		{"wrong issuer", p.Sign(t, "u1", now, time.Hour, oidctest.Claims{"groups": []string{"dsynth-admins"}, "iss": "https://idp.example"}), "different provider"},
		{"unsigned", unsigned(t, p, now), "malformed"},
		{"wrong key", resign(t, p.Sign(t, "u1", now, time.Hour, groups), otherKey), "signature"},
		{"unmapped group", p.Sign(t, "u1", now, time.Hour, oidctest.Claims{"email": "x@example.org", "groups": []string{"engineering"}}), `x@example.org: no value of the "groups" claim (engineering) is mapped`},
		{"no role claim", p.Sign(t, "u1", now, time.Hour, nil), `no "groups" claim`},
		{"role claim of numbers", p.Sign(t, "u1", now, time.Hour, oidctest.Claims{"groups": []int{1}}), "not a string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pr, err := o.Verify(ctx, c.token, now)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Verify = %+v, %v; want an error containing %q", pr, err, c.want)
			}
		})
	}
}

// unsigned is a token with alg "none" and the claims of a valid one.
func unsigned(t *testing.T, p *oidctest.Provider, now time.Time) string {
	t.Helper()
	good := p.Sign(t, "u1", now, time.Hour, oidctest.Claims{"groups": []string{"dsynth-admins"}})
	parts := strings.Split(good, ".")
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return hdr + "." + parts[1] + "."
}

// resign signs a token's claims, with its kid, by another key.
func resign(t *testing.T, token string, key *rsa.PrivateKey) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	n := jwt.NewWithClaims(jwt.SigningMethodRS256, tok.Claims)
	n.Header["kid"] = tok.Header["kid"]
	s, err := n.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOIDCRoleClaimShapes(t *testing.T) {
	p := oidctest.Start(t)
	ctx := context.Background()
	now := time.Now()
	// A string claim.
	o := newOIDC(t, p, "role", "ops=user")
	pr, err := o.Verify(ctx, p.Sign(t, "u2", now, time.Hour, oidctest.Claims{"role": "ops"}), now)
	if err != nil || pr.Role != auth.RoleUser || pr.Name != "u2" {
		t.Fatalf("string claim: %+v, %v; want u2 (the subject: no username or email), user", pr, err)
	}
	// A nested claim, and "*" for everyone else.
	o = newOIDC(t, p, "realm_access.roles", "dsynth-admin=admin,*=read")
	pr, err = o.Verify(ctx, p.Sign(t, "u3", now, time.Hour, oidctest.Claims{"realm_access": map[string]any{"roles": []string{"dsynth-admin"}}}), now)
	if err != nil || pr.Role != auth.RoleAdmin {
		t.Fatalf("nested claim: %+v, %v; want admin", pr, err)
	}
	pr, err = o.Verify(ctx, p.Sign(t, "u4", now, time.Hour, nil), now)
	if err != nil || pr.Role != auth.RoleRead {
		t.Fatalf("*=read without the claim: %+v, %v; want read", pr, err)
	}
}

// TestOIDCKeyRotation: the key set is fetched once and cached; a token
// naming a key id the cache lacks (the provider rotated its key) makes
// the verifier fetch it again; a token of the retired key is then
// refused.
func TestOIDCKeyRotation(t *testing.T) {
	p := oidctest.Start(t)
	o := newOIDC(t, p, "groups", "g=read")
	ctx := context.Background()
	now := time.Now()
	claims := oidctest.Claims{"groups": []string{"g"}}
	old := p.Sign(t, "u", now, time.Hour, claims)
	for i := range 3 {
		if _, err := o.Verify(ctx, old, now); err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
	}
	if n := p.JWKSFetches(); n != 1 {
		t.Fatalf("the key set was fetched %d times for 3 tokens of one key, want 1 (cached)", n)
	}
	p.Rotate(t)
	fresh := p.Sign(t, "u", now, time.Hour, claims)
	if _, err := o.Verify(ctx, fresh, now); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
	if n := p.JWKSFetches(); n != 2 {
		t.Fatalf("after the rotation the key set was fetched %d times in all, want 2 (refreshed on the unknown kid)", n)
	}
	if _, err := o.Verify(ctx, fresh, now); err != nil || p.JWKSFetches() != 2 {
		t.Fatalf("the new key again: %v, %d fetches; want it cached", err, p.JWKSFetches())
	}
	if _, err := o.Verify(ctx, old, now); err == nil {
		t.Fatal("a token of the retired key verified")
	}
}

// TestOIDCProviderDown: an unreachable provider refuses tokens with the
// reason; nothing is cached, so it is asked again next time.
func TestOIDCProviderDown(t *testing.T) {
	p := oidctest.Start(t)
	issuer := p.Issuer()
	tok := p.Sign(t, "u", time.Now(), time.Hour, oidctest.Claims{"groups": []string{"g"}})
	p.M.Shutdown()
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: issuer, ClientID: p.ClientID(), Roles: roleMap(t, "g=read")})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := o.Verify(context.Background(), tok, time.Now()); err == nil || !strings.Contains(err.Error(), "discovery of "+issuer) {
			t.Fatalf("Verify with the provider down = %v, want a discovery error", err)
		}
	}
}

func TestRoleMapErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"g=root", `dsynth.ini:7: Api_oidc_roles: g=root: unknown role "root"`},
		{"g=admin,g=read", `dsynth.ini:7: Api_oidc_roles: "g" is mapped twice`},
		{"admin", `dsynth.ini:7: Api_oidc_roles: "admin" is not VALUE=ROLE`},
		{"=admin", `is not VALUE=ROLE`},
	} {
		_, err := auth.NewRoleMap(config.RoleMapping{File: "dsynth.ini", Line: 7, Key: "Api_oidc_roles", Text: c.text}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
	m := roleMap(t, "a=read,b=admin,x=y=user")
	for _, c := range []struct {
		values []string
		want   auth.Role
		ok     bool
	}{
		{[]string{"a"}, auth.RoleRead, true},
		{[]string{"a", "b"}, auth.RoleAdmin, true},
		{[]string{"x=y"}, auth.RoleUser, true},
		{[]string{"c"}, auth.RoleNone, false},
		{nil, auth.RoleNone, false},
	} {
		if r, ok := m.Role(c.values); r != c.want || ok != c.ok {
			t.Errorf("Role(%q) = %v, %v; want %v, %v", c.values, r, ok, c.want, c.ok)
		}
	}
}
