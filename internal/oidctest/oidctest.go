// Package oidctest starts a real OpenID Connect provider for tests: the
// oauth2-proxy mockoidc server (discovery, JWKS, authorization and token
// endpoints with PKCE), with what go-dsynth's tests need around it: its
// requests serialized (mockoidc's session store is a plain map), counts
// of key-set fetches, key rotation, users with arbitrary claims, and
// tokens signed with its key. Only tests import it.
package oidctest

import (
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// Provider is a running mock provider.
type Provider struct {
	M *mockoidc.MockOIDC

	mu          sync.Mutex
	jwksFetches int
	fetched     chan struct{}
}

// Start runs a provider on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{M: m, fetched: make(chan struct{}, 64)}
	// One request at a time: mockoidc's session store and key pair are
	// not guarded, and a test rotates the key between requests.
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if strings.HasSuffix(r.URL.Path, mockoidc.JWKSEndpoint) {
				p.jwksFetches++
			}
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return p
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.M.Issuer() }

// ClientID is the client the provider knows.
func (p *Provider) ClientID() string { return p.M.ClientID }

// ClientSecret is that client's secret.
func (p *Provider) ClientSecret() string { return p.M.ClientSecret }

// JWKSFetches is how many times the key set was fetched.
func (p *Provider) JWKSFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksFetches
}

// Rotate replaces the provider's signing key by a new one: its key set
// then holds only the new key.
func (p *Provider) Rotate(t testing.TB) {
	t.Helper()
	kp, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.M.Keypair = kp
	p.mu.Unlock()
}

// Key is the provider's current signing key.
func (p *Provider) Key() *rsa.PrivateKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.M.Keypair.PrivateKey
}

// Claims are a token's claims: the registered ones Sign fills in and any
// others.
type Claims map[string]any

// Sign returns a token signed with the provider's current key, naming it
// as issuer and its client as audience, issued at now and valid for ttl,
// with extra claims (which override those).
func (p *Provider) Sign(t testing.TB, sub string, now time.Time, ttl time.Duration, extra Claims) string {
	t.Helper()
	c := jwt.MapClaims{
		"iss": p.Issuer(), "aud": p.ClientID(), "sub": sub,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.M.Keypair.SignJWT(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// User is a user the authorization endpoint logs in, with arbitrary
// claims in its ID token (beside the registered ones and the nonce).
type User struct {
	Subject string
	Extra   Claims
}

// QueueUser makes u the user of the next authorization.
func (p *Provider) QueueUser(u User) { p.M.QueueUser(&u) }

// ID implements mockoidc.User.
func (u *User) ID() string { return u.Subject }

// Userinfo implements mockoidc.User.
func (u *User) Userinfo([]string) ([]byte, error) {
	m := map[string]any{"sub": u.Subject}
	for k, v := range u.Extra {
		m[k] = v
	}
	return json.Marshal(m)
}

// Claims implements mockoidc.User.
func (u *User) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	b, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	c := jwt.MapClaims{}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	for k, v := range u.Extra {
		c[k] = v
	}
	return c, nil
}
