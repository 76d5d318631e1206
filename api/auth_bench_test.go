package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/auth"
)

// benchAuthServer is a server whose token keys hold an HS256, an RS256 and
// an EdDSA key, and a route that answers "ok" without reading anything:
// what a request costs there is the authentication and the routing.
func benchAuthServer(b *testing.B) (s *Server, tokens map[string]string, ids benchIdentities) {
	b.Helper()
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "hs.key"), []byte(strings.Repeat("h", 48)), 0o600)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(rk)
	os.WriteFile(filepath.Join(dir, "rs.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	_, ek, _ := ed25519.GenerateKey(rand.Reader)
	der, _ = x509.MarshalPKCS8PrivateKey(ek)
	os.WriteFile(filepath.Join(dir, "ed.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "token.keys"), []byte("hs HS256 hs.key\nrs RS256 rs.pem\ned EdDSA ed.pem\n"), 0o600)
	tk, err := auth.LoadTokenKeys(filepath.Join(dir, "token.keys"), "", "")
	if err != nil {
		b.Fatal(err)
	}
	tokens = map[string]string{}
	for _, kid := range []string{"hs", "rs", "ed"} {
		if tokens[kid], err = tk.Mint("bench", auth.RoleRead, time.Hour, kid, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	ids = newBenchIdentities(b) // OpenID Connect and client certificates (authbench_test.go)
	s, err = New(Options{BuildBase: b.TempDir(), Keys: testKeys(&testing.T{}), Tokens: []auth.TokenVerifier{tk, ids.oidc}, ClientCert: ids.clientCert, AnonymousRead: true})
	if err != nil {
		b.Fatal(err)
	}
	s.handle(s.mux, route{pattern: "GET /api/v1/bench-ok", need: auth.PermRead, data: func(*http.Request) (any, error) { return "ok", nil }})
	return s, tokens, ids
}

// BenchmarkAuthenticate is the cost of one request per authentication
// method, beside the same request without credentials (anonymous
// reading): none, an API key, JWTs signed with HS256, RS256 and EdDSA,
// an OpenID Connect provider's token (its key set cached) and a verified
// client certificate (its mapping to a role). Run with -count N, the methods take turns (none, key, …, none,
// key, …): scripts/bench/auth.sh reports each one's median against none's.
func BenchmarkAuthenticate(b *testing.B) {
	s, tokens, ids := benchAuthServer(b)
	cases := []struct {
		name, header, value string
		tls                 *tls.ConnectionState
	}{
		{"none", "", "", nil},
		{"key", "X-API-Key", readKey, nil},
		{"hs256", "Authorization", "Bearer " + tokens["hs"], nil},
		{"rs256", "Authorization", "Bearer " + tokens["rs"], nil},
		{"eddsa", "Authorization", "Bearer " + tokens["ed"], nil},
		{"oidc", "Authorization", "Bearer " + ids.oidcToken, nil},
		{"mtls", "", "", ids.tls},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/bench-ok", nil)
			if c.header != "" {
				req.Header.Set(c.header, c.value)
			}
			req.TLS = c.tls
			for b.Loop() {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d %s", c.name, w.Code, w.Body)
				}
			}
		})
	}
}
