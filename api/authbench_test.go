package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/certtest"
	"github.com/go-dsynth/go-dsynth/internal/oidctest"
)

// BenchmarkAuthenticate is what authenticating costs a request, by
// method: none (an anonymous client where anonymous reading is on, the
// baseline), oidc (a token of the mock provider, its key set cached after
// the first request: signature, claims and role mapping), mtls (a
// client certificate the handshake verified, mapped to a role; the
// handshake itself is per connection, not per request).
func BenchmarkAuthenticate(b *testing.B) {
	ca := certtest.NewCA(b, "client CA")
	leaf := ca.Issue(b, certtest.Spec{CN: "alice", OU: []string{"ops"}, DNS: []string{"ci.example.org"}}).Cert
	certs, err := auth.NewCertMapper(config.RoleMapping{Text: "cn:alice=admin,ou:ops=builder,dns:ci.example.org=user"})
	if err != nil {
		b.Fatal(err)
	}
	p := oidctest.Start(b)
	roles, err := auth.NewRoleMap(config.RoleMapping{Text: "dsynth-readers=read,dsynth-admins=admin"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	idp, err := auth.NewOIDC(auth.OIDCConfig{Issuer: p.Issuer(), ClientID: p.ClientID(), Roles: roles})
	if err != nil {
		b.Fatal(err)
	}
	token := p.Sign(b, "u1", time.Now(), time.Hour, oidctest.Claims{"preferred_username": "rita", "groups": []string{"staff", "dsynth-readers"}})
	s, err := New(Options{BuildBase: b.TempDir(), AnonymousRead: true, Tokens: []auth.TokenVerifier{idp}, ClientCert: certs.Principal})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Stop(context.Background()) })

	none := httptest.NewRequest("GET", "/api/v1/status", nil)
	oidcReq := httptest.NewRequest("GET", "/api/v1/status", nil)
	oidcReq.Header.Set("Authorization", "Bearer "+token)
	mtls := httptest.NewRequest("GET", "/api/v1/status", nil)
	mtls.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf, ca.Cert}}}
	for _, c := range []struct {
		name   string
		req    *http.Request
		method auth.Method
		role   auth.Role
	}{
		{"none", none, auth.MethodAnonymous, auth.RoleAnonymous},
		{"oidc", oidcReq, auth.MethodOIDC, auth.RoleRead},
		{"mtls", mtls, auth.MethodTLS, auth.RoleAdmin},
	} {
		b.Run(c.name, func(b *testing.B) {
			// The first request fetches what is cached (the provider's
			// discovery document and key set) and checks the outcome.
			pr, aerr := s.authenticate(c.req)
			if aerr != nil || pr.Method != c.method || pr.Role != c.role {
				b.Fatalf("%+v, %v; want %s with role %v", pr, aerr, c.method, c.role)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, aerr := s.authenticate(c.req); aerr != nil {
					b.Fatal(aerr)
				}
			}
		})
	}
}
