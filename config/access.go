package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// accessKeys are the profile keys of the API's external identities:
// OpenID Connect tokens and logins, TLS and client certificates.
var accessKeys = [...]string{
	"Api_oidc_issuer", "Api_oidc_client_id", "Api_oidc_client_secret_file",
	"Api_oidc_role_claim", "Api_oidc_roles", "Api_oidc_redirect_url",
	"Api_tls_cert", "Api_tls_key", "Api_client_ca", "Api_client_roles",
}

// DefaultOIDCRoleClaim is the claim Api_oidc_role_claim names by default.
const DefaultOIDCRoleClaim = "groups"

// OIDCCallbackPath is the path of Api_oidc_redirect_url: where the
// dashboard's login comes back from the provider.
const OIDCCallbackPath = "/auth/oidc/callback"

// RoleRule is one VALUE=ROLE entry of a role mapping.
type RoleRule struct {
	// Value is what a token's role claim or a certificate carries ("*":
	// anything).
	Value string
	// Role is a role name, checked by package auth.
	Role string
}

// RoleMapping is an Api_oidc_roles or Api_client_roles checked by
// ParseRoleRules, and where it was written, for the errors of the checks
// that need package auth (role names, certificate attributes). It holds
// the text, not the rules, so that a Profile stays comparable.
type RoleMapping struct {
	File string
	Line int
	Key  string
	Text string
}

// Set reports whether the mapping was written.
func (m RoleMapping) Set() bool { return m.Text != "" }

// Rules returns the mapping's rules.
func (m RoleMapping) Rules() ([]RoleRule, error) {
	rules, err := ParseRoleRules(m.Text)
	if err != nil {
		return nil, m.Errorf("%v", err)
	}
	return rules, nil
}

// Errorf returns a *ParseError at the mapping's line.
func (m RoleMapping) Errorf(format string, args ...any) error {
	return &ParseError{File: m.File, Line: m.Line, Key: m.Key, Msg: fmt.Sprintf(format, args...)}
}

// ParseRoleRules reads a role mapping: comma-separated VALUE=ROLE
// entries (dsynth.ini's values are one word: no blanks), each split at
// its last '=' (a value may hold '=', a role never does). A value is
// percent-decoded, so that one holding a comma, a blank or a '%' can be
// written %2C, %20, %25. Values are unique; "*" matches anything.
func ParseRoleRules(s string) ([]RoleRule, error) {
	var rules []RoleRule
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		i := strings.LastIndexByte(f, '=')
		if i <= 0 || i == len(f)-1 || strings.ContainsAny(f, " \t") {
			return nil, fmt.Errorf("%q is not VALUE=ROLE (e.g. dsynth-admins=admin,dsynth-ops=builder,*=read)", f)
		}
		v, err := url.PathUnescape(f[:i])
		if err != nil {
			return nil, fmt.Errorf("%q: bad percent-encoding: %v", f, err)
		}
		r := RoleRule{Value: v, Role: f[i+1:]}
		if seen[r.Value] {
			return nil, fmt.Errorf("%q is mapped twice", r.Value)
		}
		seen[r.Value] = true
		rules = append(rules, r)
	}
	return rules, nil
}

// applyAccess decodes one of accessKeys.
func (d *decoder) applyAccess(e Entry) error {
	p := &d.p
	if d.access == nil {
		d.access = map[string]Entry{}
	}
	d.access[e.Key] = e
	var err error
	switch e.Key {
	case "Api_oidc_issuer":
		p.APIOIDCIssuer, err = d.httpURL(e, true)
	case "Api_oidc_client_id":
		p.APIOIDCClientID, err = d.word(e)
	case "Api_oidc_client_secret_file":
		p.APIOIDCClientSecretFile, err = d.dir(e)
	case "Api_oidc_role_claim":
		p.APIOIDCRoleClaim, err = d.word(e)
	case "Api_oidc_roles":
		p.APIOIDCRoles, err = d.roleMapping(e)
	case "Api_oidc_redirect_url":
		p.APIOIDCRedirectURL, err = d.httpURL(e, false)
		if err == nil {
			if u, _ := url.Parse(p.APIOIDCRedirectURL); u.Path != OIDCCallbackPath {
				err = d.errf(e, "the path of %q must be %s, where the dashboard's login comes back", e.Value, OIDCCallbackPath)
			}
		}
	case "Api_tls_cert":
		p.APITLSCert, err = d.dir(e)
	case "Api_tls_key":
		p.APITLSKey, err = d.dir(e)
	case "Api_client_ca":
		p.APIClientCA, err = d.dir(e)
	case "Api_client_roles":
		p.APIClientRoles, err = d.roleMapping(e)
	}
	return err
}

// roleMapping parses a VALUE=ROLE list.
func (d *decoder) roleMapping(e Entry) (RoleMapping, error) {
	if _, err := ParseRoleRules(e.Value); err != nil {
		return RoleMapping{}, d.errf(e, "%v", err)
	}
	return RoleMapping{File: d.file, Line: e.Line, Key: e.Key, Text: e.Value}, nil
}

// httpURL validates an absolute http(s) URL without query or fragment.
// An issuer must be https, except on a loopback address (a provider on
// the same machine, or a test's).
func (d *decoder) httpURL(e Entry, issuer bool) (string, error) {
	u, err := url.Parse(e.Value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", d.errf(e, "%q is not an absolute http(s) URL without query, fragment or user", e.Value)
	}
	if issuer && u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return "", d.errf(e, "%q: an OpenID Connect issuer must be https (http only on a loopback address)", e.Value)
	}
	return e.Value, nil
}

// loopbackHost reports whether h is localhost or a loopback address.
func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkAccess checks the keys of accessKeys together: what each needs
// of the others.
func (d *decoder) checkAccess() error {
	p := &d.p
	at := func(k string) Entry { return d.access[k] }
	need := func(have, want string) error {
		if d.access[have].Key != "" && d.access[want].Key == "" {
			return d.errf(at(have), "needs %s", want)
		}
		return nil
	}
	for _, pair := range [][2]string{
		{"Api_oidc_issuer", "Api_oidc_client_id"}, {"Api_oidc_issuer", "Api_oidc_roles"},
		{"Api_oidc_client_id", "Api_oidc_issuer"}, {"Api_oidc_roles", "Api_oidc_issuer"},
		{"Api_oidc_role_claim", "Api_oidc_issuer"}, {"Api_oidc_redirect_url", "Api_oidc_issuer"},
		{"Api_oidc_client_secret_file", "Api_oidc_redirect_url"},
		{"Api_tls_cert", "Api_tls_key"}, {"Api_tls_key", "Api_tls_cert"},
		{"Api_client_ca", "Api_tls_cert"}, {"Api_client_ca", "Api_client_roles"},
		{"Api_client_roles", "Api_client_ca"},
	} {
		if err := need(pair[0], pair[1]); err != nil {
			return err
		}
	}
	if p.APIListen == "" {
		for _, k := range []string{"Api_oidc_redirect_url", "Api_tls_cert"} {
			if d.access[k].Key != "" {
				return d.errf(at(k), "needs Api_listen: it is about the API's network server")
			}
		}
	}
	if p.APIOIDCIssuer != "" && p.APITokenKeys != "" && p.APITokenIssuer == p.APIOIDCIssuer {
		return d.errf(at("Api_oidc_issuer"), "is also Api_token_issuer: the API tells the issuers' tokens apart by their iss claim")
	}
	if p.APIOIDCIssuer != "" && p.APIOIDCRoleClaim == "" {
		p.APIOIDCRoleClaim = DefaultOIDCRoleClaim
	}
	return nil
}
