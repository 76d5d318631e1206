package config

import (
	"strings"
	"testing"
)

// accessBase is a profile with the API on and a provider.
const accessBase = "[P]\nApi_listen=127.0.0.1:8080\n"

func TestDecodeAccessErrors(t *testing.T) {
	for _, tt := range []struct {
		lines string // from line 3
		line  int
		key   string
		msg   string
	}{
		{"Api_oidc_issuer=http://idp.example/realms/x", 3, "Api_oidc_issuer", "must be https (http only on a loopback address)"},
		{"Api_oidc_issuer=idp.example", 3, "Api_oidc_issuer", "not an absolute http(s) URL"},
		{"Api_oidc_issuer=https://idp.example/?x=1", 3, "Api_oidc_issuer", "without query"},
		{"Api_oidc_issuer=https://idp.example\nApi_oidc_roles=g=admin", 3, "Api_oidc_issuer", "needs Api_oidc_client_id"},
		{"Api_oidc_issuer=https://idp.example\nApi_oidc_client_id=dsynth", 3, "Api_oidc_issuer", "needs Api_oidc_roles"},
		{"Api_oidc_client_id=dsynth", 3, "Api_oidc_client_id", "needs Api_oidc_issuer"},
		{"Api_oidc_roles=admins", 3, "Api_oidc_roles", `"admins" is not VALUE=ROLE`},
		{"Api_oidc_roles=a=admin,b=read,a=user", 3, "Api_oidc_roles", `"a" is mapped twice`},
		{"Api_oidc_roles=a=admin,,b=read", 3, "Api_oidc_roles", `"" is not VALUE=ROLE`},
		{"Api_oidc_roles=a%2=admin", 3, "Api_oidc_roles", `bad percent-encoding`},
		{"Api_oidc_roles=", 3, "Api_oidc_roles", "no value"},
		{"Api_oidc_redirect_url=https://dsynth.example/login", 3, "Api_oidc_redirect_url", "must be /auth/oidc/callback"},
		{"Api_oidc_client_secret_file=secret", 3, "Api_oidc_client_secret_file", "not an absolute path"},
		{"Api_tls_cert=/etc/dsynth/api.crt", 3, "Api_tls_cert", "needs Api_tls_key"},
		{"Api_tls_key=/etc/dsynth/api.key", 3, "Api_tls_key", "needs Api_tls_cert"},
		{"Api_client_ca=/etc/dsynth/ca.pem\nApi_client_roles=cn:a=admin", 3, "Api_client_ca", "needs Api_tls_cert"},
		{"Api_tls_cert=/c\nApi_tls_key=/k\nApi_client_ca=/etc/dsynth/ca.pem", 5, "Api_client_ca", "needs Api_client_roles"},
		{"Api_tls_cert=/c\nApi_tls_key=/k\nApi_client_roles=cn:a=admin", 5, "Api_client_roles", "needs Api_client_ca"},
	} {
		t.Run(tt.lines, func(t *testing.T) {
			_, err := decodeText(t, accessBase+tt.lines+"\nApi_anonymous_read=true\n", "P")
			checkParseError(t, err, tt.line, tt.key, tt.msg)
		})
	}
	// Tokens are told apart by their issuer.
	_, err := decodeText(t, accessBase+"Api_token_keys=/k\nApi_token_issuer=https://idp.example\nApi_oidc_issuer=https://idp.example\nApi_oidc_client_id=c\nApi_oidc_roles=g=read\n", "P")
	checkParseError(t, err, 5, "Api_oidc_issuer", "is also Api_token_issuer")
	// TLS is the network server's.
	_, err = decodeText(t, "[P]\nApi_tls_cert=/c\nApi_tls_key=/k\n", "P")
	checkParseError(t, err, 2, "Api_tls_cert", "needs Api_listen")
}

func TestDecodeAccess(t *testing.T) {
	p, err := decodeText(t, accessBase+strings.Join([]string{
		"Api_oidc_issuer=https://idp.example/realms/build",
		"Api_oidc_client_id=go-dsynth",
		"Api_oidc_roles=dsynth-admins=admin,dsynth-ops=builder,*=read",
		"Api_oidc_redirect_url=https://dsynth.example:8443/auth/oidc/callback",
		"Api_oidc_client_secret_file=/etc/dsynth/oidc-secret",
		"Api_tls_cert=/etc/dsynth/api.crt",
		"Api_tls_key=/etc/dsynth/api.key",
		"Api_client_ca=/etc/dsynth/clients.pem",
		"Api_client_roles=cn:ci=user,ou:ops=builder,cn:A%2C%20B=read",
	}, "\n")+"\n", "P")
	if err != nil {
		t.Fatal(err)
	}
	if p.APIOIDCIssuer != "https://idp.example/realms/build" || p.APIOIDCClientID != "go-dsynth" || p.APIOIDCRoleClaim != DefaultOIDCRoleClaim ||
		p.APIOIDCRedirectURL != "https://dsynth.example:8443/auth/oidc/callback" || p.APIOIDCClientSecretFile != "/etc/dsynth/oidc-secret" ||
		p.APITLSCert != "/etc/dsynth/api.crt" || p.APITLSKey != "/etc/dsynth/api.key" || p.APIClientCA != "/etc/dsynth/clients.pem" {
		t.Fatalf("decoded %+v", p)
	}
	rules, err := p.APIOIDCRoles.Rules()
	if err != nil || len(rules) != 3 || rules[2] != (RoleRule{Value: "*", Role: "read"}) || p.APIOIDCRoles.Line != 5 || p.APIOIDCRoles.File != "dsynth.ini" {
		t.Fatalf("Api_oidc_roles: %+v %v (%+v)", rules, err, p.APIOIDCRoles)
	}
	if m := p.APIClientRoles; m.Line != 11 || m.Key != "Api_client_roles" {
		t.Fatalf("Api_client_roles at %+v", m)
	}
	if rules, _ := p.APIClientRoles.Rules(); len(rules) != 3 || rules[2].Value != "cn:A, B" {
		t.Fatalf("Api_client_roles: %+v, want the third value percent-decoded", rules)
	}
	// The provider or the client CA alone makes the API usable: no
	// "would refuse every client".
	if _, err := decodeText(t, accessBase+"Api_oidc_issuer=http://127.0.0.1:5556/dex\nApi_oidc_client_id=x\nApi_oidc_roles=g=read\n", "P"); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeText(t, accessBase+"Api_tls_cert=/c\nApi_tls_key=/k\nApi_client_ca=/ca\nApi_client_roles=*=read\n", "P"); err != nil {
		t.Fatal(err)
	}
}

func TestParseRoleRules(t *testing.T) {
	r, err := ParseRoleRules("uri:spiffe://x/y?a=b=user,g=admin")
	if err != nil || len(r) != 2 || r[0] != (RoleRule{Value: "uri:spiffe://x/y?a=b", Role: "user"}) || r[1] != (RoleRule{Value: "g", Role: "admin"}) {
		t.Fatalf("%+v %v: want values split at the last '='", r, err)
	}
	for _, bad := range []string{"g=", "=g", "g", "", "a=read,", "a b=read"} {
		if _, err := ParseRoleRules(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
