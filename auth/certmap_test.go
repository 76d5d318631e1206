package auth_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/certtest"
)

func certMapper(t *testing.T, text string) (*auth.CertMapper, error) {
	t.Helper()
	return auth.NewCertMapper(config.RoleMapping{File: "dsynth.ini", Line: 9, Key: "Api_client_roles", Text: text})
}

func TestCertMapper(t *testing.T) {
	ca := certtest.NewCA(t, "client CA")
	m, err := certMapper(t, "cn:alice=admin,ou:ops=builder,dns:ci.example.org=user,email:bob@example.org=read,uri:spiffe://example.org/ci=user")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec certtest.Spec
		name string
		role auth.Role
	}{
		{certtest.Spec{CN: "alice", OU: []string{"ops"}}, "alice", auth.RoleAdmin},
		{certtest.Spec{CN: "carol", OU: []string{"dev", "ops"}}, "carol", auth.RoleBuilder},
		{certtest.Spec{DNS: []string{"ci.example.org"}}, "ci.example.org", auth.RoleUser},
		{certtest.Spec{Emails: []string{"bob@example.org"}}, "bob@example.org", auth.RoleRead},
		{certtest.Spec{URIs: []string{"spiffe://example.org/ci"}}, "spiffe://example.org/ci", auth.RoleUser},
	} {
		cert := ca.Issue(t, c.spec).Cert
		p, err := m.Principal(cert)
		if err != nil || p.Name != c.name || p.Role != c.role || p.Method != auth.MethodTLS || !p.Expires.Equal(cert.NotAfter) {
			t.Errorf("%+v: %+v, %v; want %s with role %v", c.spec, p, err, c.name, c.role)
		}
	}
	_, err = m.Principal(ca.Issue(t, certtest.Spec{CN: "mallory", OU: []string{"dev"}}).Cert)
	if err == nil || !strings.Contains(err.Error(), `certificate "mallory": nothing in it (cn:mallory, ou:dev) is mapped to a role by Api_client_roles`) {
		t.Fatalf("unmapped certificate: %v", err)
	}
	star, err := certMapper(t, "*=read,cn:alice=admin")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := star.Principal(ca.Issue(t, certtest.Spec{CN: "anyone"}).Cert); err != nil || p.Role != auth.RoleRead {
		t.Fatalf("*=read: %+v, %v", p, err)
	}
}

func TestCertMapperErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"alice=admin", `dsynth.ini:9: Api_client_roles: alice=admin: a certificate value is cn:VALUE, ou:VALUE, dns:VALUE, email:VALUE, uri:VALUE or *`},
		{"cn:=admin", `cn:=admin: a certificate value is`},
		{"cn:alice=god", `unknown role "god"`},
	} {
		if _, err := certMapper(t, c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}

func TestLoadClientCA(t *testing.T) {
	dir := t.TempDir()
	a, b := certtest.NewCA(t, "a"), certtest.NewCA(t, "b")
	bundle := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(bundle, append(a.PEM, b.PEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	pool, err := auth.LoadClientCA(bundle)
	if err != nil {
		t.Fatal(err)
	}
	// Both CAs of the bundle are in the pool.
	for _, ca := range []*certtest.CA{a, b} {
		leaf := ca.Issue(t, certtest.Spec{CN: "x"}).Cert
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("a certificate of %s: %v", ca.Cert.Subject.CommonName, err)
		}
	}
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("nothing\n"), 0o644)
	if _, err := auth.LoadClientCA(empty); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Fatalf("empty bundle: %v", err)
	}
	key := filepath.Join(dir, "key.pem")
	os.WriteFile(key, a.Issue(t, certtest.Spec{CN: "k"}).KeyPEM, 0o600)
	if _, err := auth.LoadClientCA(key); err == nil || !strings.Contains(err.Error(), `a "PRIVATE KEY" PEM block`) {
		t.Fatalf("a key file as bundle: %v", err)
	}
	if _, err := auth.LoadClientCA(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing bundle loaded")
	}
}
