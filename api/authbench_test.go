package api

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/certtest"
	"github.com/go-dsynth/go-dsynth/internal/oidctest"
)

// benchIdentities are the external identities of BenchmarkAuthenticate:
// the mock OpenID Connect provider's verifier and a token of it (mapped to
// read; the key set is fetched by the first request and cached after),
// and a client certificate mapper with the connection state of a
// verified certificate (mapped to admin; the handshake itself is per
// connection, not per request, and not measured).
type benchIdentities struct {
	oidc       *auth.OIDC
	oidcToken  string
	clientCert func(*x509.Certificate) (auth.Principal, error)
	tls        *tls.ConnectionState
}

func newBenchIdentities(b *testing.B) benchIdentities {
	b.Helper()
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
	return benchIdentities{
		oidc:       idp,
		oidcToken:  p.Sign(b, "u1", time.Now(), time.Hour, oidctest.Claims{"preferred_username": "rita", "groups": []string{"staff", "dsynth-readers"}}),
		clientCert: certs.Principal,
		tls:        &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf, ca.Cert}}},
	}
}
