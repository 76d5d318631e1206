package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/certtest"
	"github.com/go-dsynth/go-dsynth/internal/httpserve"
	"github.com/go-dsynth/go-dsynth/internal/oidctest"
)

// tlsClient asks over HTTPS trusting roots, presenting cert when not nil
// (whatever CAs the server asks for).
func tlsClient(roots *x509.CertPool, cert *certtest.Issued) *http.Client {
	cfg := &tls.Config{RootCAs: roots}
	if cert != nil {
		c := cert.TLS()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
	}
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: cfg}}
}

// TestExternalIdentities runs the API over HTTPS with client
// certificates and the mock provider's tokens: each gets its mapped role,
// a certificate that does not verify fails the handshake, one that maps
// to no role and a token of the wrong audience are 401, and a client
// without a certificate still uses a key.
func TestExternalIdentities(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	serverCA, clientCA, foreignCA := certtest.NewCA(t, "server CA"), certtest.NewCA(t, "client CA"), certtest.NewCA(t, "foreign CA")
	cert, err := httpserve.LoadCertificate(serverCA.Issue(t, certtest.Spec{CN: "api", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}).WriteFiles(t, dir, "api"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := auth.NewCertMapper(config.RoleMapping{File: "dsynth.ini", Line: 3, Key: "Api_client_roles", Text: "cn:alice=admin,ou:readers=read"})
	if err != nil {
		t.Fatal(err)
	}
	p := oidctest.Start(t)
	roles, err := auth.NewRoleMap(config.RoleMapping{File: "dsynth.ini", Line: 4, Key: "Api_oidc_roles", Text: "dsynth-readers=read,dsynth-admins=admin"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	idp, err := auth.NewOIDC(auth.OIDCConfig{Issuer: p.Issuer(), ClientID: p.ClientID(), Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, Options{BuildBase: f.base, Tokens: []auth.TokenVerifier{idp}, ClientCert: certs.Principal})
	s.handle(s.mux, route{pattern: "GET /api/v1/admin-only", need: auth.PermAdmin, data: func(*http.Request) (any, error) { return "ok", nil }})
	srv, err := ListenTLS("127.0.0.1:0", s, nil, httpserve.TLSConfig(cert, clientCA.Pool()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })

	now := time.Now()
	readerToken := p.Sign(t, "u1", now, time.Hour, oidctest.Claims{"preferred_username": "rita", "groups": []string{"dsynth-readers"}})
	adminToken := p.Sign(t, "u2", now, time.Hour, oidctest.Claims{"preferred_username": "root", "groups": []string{"dsynth-admins"}})
	otherAud := p.Sign(t, "u2", now, time.Hour, oidctest.Claims{"groups": []string{"dsynth-admins"}, "aud": "someone-else"})
	alice := clientCA.Issue(t, certtest.Spec{CN: "alice"})
	bob := clientCA.Issue(t, certtest.Spec{CN: "bob", OU: []string{"readers"}})
	mallory := clientCA.Issue(t, certtest.Spec{CN: "mallory"})
	expired := clientCA.Issue(t, certtest.Spec{CN: "alice", NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	forged := foreignCA.Issue(t, certtest.Spec{CN: "alice"})

	for _, c := range []struct {
		name    string
		cert    *certtest.Issued
		header  []string
		path    string
		code    int
		message string // in the error's message
	}{
		{"admin certificate", alice, nil, "/api/v1/admin-only", 200, ""},
		{"read certificate", bob, nil, "/api/v1/status", 200, ""},
		{"read certificate, admin route", bob, nil, "/api/v1/admin-only", 403, `mtls "bob" has role read`},
		{"unmapped certificate", mallory, nil, "/api/v1/status", 401, `client certificate: certificate "mallory": nothing in it (cn:mallory) is mapped to a role by Api_client_roles`},
		{"expired certificate", expired, nil, "/api/v1/status", 0, ""},
		{"certificate of another CA", forged, nil, "/api/v1/status", 0, ""},
		{"no certificate, a key", nil, []string{"X-API-Key", readKey}, "/api/v1/status", 200, ""},
		{"no certificate, nothing", nil, nil, "/api/v1/status", 401, "credentials are required"},
		{"reader token", nil, []string{"Authorization", "Bearer " + readerToken}, "/api/v1/status", 200, ""},
		{"reader token, admin route", nil, []string{"Authorization", "Bearer " + readerToken}, "/api/v1/admin-only", 403, `oidc "rita" has role read`},
		{"admin token", nil, []string{"Authorization", "Bearer " + adminToken}, "/api/v1/admin-only", 200, ""},
		{"token of another audience", nil, []string{"Authorization", "Bearer " + otherAud}, "/api/v1/status", 401, `oidc: expected audience`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "https://"+srv.Addr()+c.path, nil)
			if c.header != nil {
				req.Header.Set(c.header[0], c.header[1])
			}
			resp, err := tlsClient(serverCA.Pool(), c.cert).Do(req)
			if c.code == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("served (%s); want the handshake refused", resp.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error *ErrorBody `json:"error"`
			}
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != c.code {
				t.Fatalf("%s, want %d (%+v)", resp.Status, c.code, body.Error)
			}
			if c.message != "" && (body.Error == nil || !strings.Contains(body.Error.Message, c.message)) {
				t.Fatalf("error %+v, want a message containing %q", body.Error, c.message)
			}
		})
	}
}
