package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// oidcHTTPTimeout bounds one request to the provider: discovery, its key
// set, a code exchange.
const oidcHTTPTimeout = 10 * time.Second

// OIDCConfig is what an OIDC verifier needs: the provider, the client id
// its tokens name as their audience, and how their claims give a role.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is
	// Issuer + "/.well-known/openid-configuration" and must name it.
	Issuer string
	// ClientID is go-dsynth's client at the provider: the audience a
	// token must name.
	ClientID string
	// RoleClaim is the claim whose values RoleMap maps: a list of strings
	// or one string. A dotted name (realm_access.roles) reaches into
	// nested objects when no top-level claim has that name.
	RoleClaim string
	// Roles maps the claim's values to a role.
	Roles *RoleMap
	// HTTPClient talks to the provider (nil: one with a 10 s timeout).
	HTTPClient *http.Client
}

// OIDC verifies the bearer tokens of an OpenID Connect provider, found
// by discovery: their signature against the provider's key set (fetched
// once, fetched again when a token names a key id not in it, which is how
// providers rotate keys), their issuer, their audience (the client id),
// their expiry, and the role their claims map to. Discovery happens on
// first use and is retried on the next use while it fails, so an
// unreachable provider refuses its tokens without stopping the server.
type OIDC struct {
	cfg OIDCConfig

	mu   sync.Mutex
	prov *oidc.Provider
}

// NewOIDC returns the verifier of cfg's provider. It does not contact
// the provider.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("oidc: no issuer")
	case cfg.ClientID == "":
		return nil, errors.New("oidc: no client id")
	case cfg.Roles == nil:
		return nil, errors.New("oidc: no role mapping")
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "groups"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: oidcHTTPTimeout}
	}
	return &OIDC{cfg: cfg}, nil
}

// Issuer implements TokenVerifier.
func (o *OIDC) Issuer() string { return o.cfg.Issuer }

// provider returns the discovered provider, discovering it first if
// needed.
func (o *OIDC) provider(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.prov != nil {
		return o.prov, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery of %s: %w", o.cfg.Issuer, err)
	}
	o.prov = p
	return p, nil
}

// Verify implements TokenVerifier: the token must be signed by one of
// the provider's keys with an algorithm it announces, name the provider
// as issuer and the client id as audience, not be expired at now (its
// nbf may be up to 5 minutes ahead), and carry a role claim value that
// the role mapping maps.
func (o *OIDC) Verify(ctx context.Context, token string, now time.Time) (Principal, error) {
	idt, err := o.verify(ctx, token, now)
	if err != nil {
		return Principal{}, err
	}
	return o.principal(idt)
}

// verify checks a token's signature, issuer, audience and expiry.
func (o *OIDC) verify(ctx context.Context, token string, now time.Time) (*oidc.IDToken, error) {
	p, err := o.provider(ctx)
	if err != nil {
		return nil, err
	}
	v := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: func() time.Time { return now }})
	idt, err := v.Verify(ctx, token)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return nil, fmt.Errorf("oidc: the token expired at %s", exp.Expiry.UTC().Format(time.RFC3339))
		}
		return nil, fmt.Errorf("oidc: %w", trimOIDC(err))
	}
	return idt, nil
}

// trimOIDC drops the "oidc: " go-oidc puts in front of its messages.
func trimOIDC(err error) error {
	if s, ok := strings.CutPrefix(err.Error(), "oidc: "); ok {
		return errors.New(s)
	}
	return err
}

// principal maps a verified token to its principal: named by its
// preferred_username, else its email, else its subject; with the highest
// role its role claim maps to.
func (o *OIDC) principal(idt *oidc.IDToken) (Principal, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Principal{}, fmt.Errorf("oidc: claims: %w", err)
	}
	name := idt.Subject
	for _, c := range []string{"email", "preferred_username"} {
		if s, ok := claims[c].(string); ok && s != "" {
			name = s
		}
	}
	if name == "" {
		return Principal{}, errors.New("oidc: the token names no subject")
	}
	values, present, err := claimValues(claims, o.cfg.RoleClaim)
	if err != nil {
		return Principal{}, fmt.Errorf("oidc: %s: %w", name, err)
	}
	role, ok := o.cfg.Roles.Role(values)
	if !ok {
		if !present {
			return Principal{}, fmt.Errorf("oidc: %s: the token has no %q claim and Api_oidc_roles has no *= rule", name, o.cfg.RoleClaim)
		}
		return Principal{}, fmt.Errorf("oidc: %s: no value of the %q claim (%s) is mapped to a role by Api_oidc_roles", name, o.cfg.RoleClaim, strings.Join(values, ", "))
	}
	return Principal{Name: name, Role: role, Method: MethodOIDC, Expires: idt.Expiry}, nil
}

// claimValues reads a role claim: a string or a list of strings, at the
// top level or, for a dotted name no top-level claim has, inside nested
// objects. present is false when the claim is absent.
func claimValues(claims map[string]any, name string) (values []string, present bool, err error) {
	v, ok := claims[name]
	if !ok && strings.Contains(name, ".") {
		var cur any = claims
		ok = true
		for _, part := range strings.Split(name, ".") {
			m, isMap := cur.(map[string]any)
			if !isMap {
				ok = false
				break
			}
			if cur, ok = m[part]; !ok {
				break
			}
		}
		v = cur
	}
	if !ok || v == nil {
		return nil, false, nil
	}
	switch t := v.(type) {
	case string:
		return []string{t}, true, nil
	case []any:
		for _, e := range t {
			s, isString := e.(string)
			if !isString {
				return nil, true, fmt.Errorf("the %q claim holds a %T, not a string", name, e)
			}
			values = append(values, s)
		}
		return values, true, nil
	}
	return nil, true, fmt.Errorf("the %q claim is a %T, not a string or a list of strings", name, v)
}

// OAuth2Config returns the authorization-code flow's configuration at
// the provider for a client that comes back at redirectURL, asking for
// the openid scope and, as most providers want it to send groups, the
// profile, email and groups scopes when the provider announces them.
// secret is "" for a public client (PKCE alone).
func (o *OIDC) OAuth2Config(ctx context.Context, redirectURL, secret string) (*oauth2.Config, error) {
	p, err := o.provider(ctx)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Scopes []string `json:"scopes_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: discovery document: %w", err)
	}
	scopes := []string{oidc.ScopeOpenID}
	for _, s := range []string{"profile", "email", "groups"} {
		for _, m := range meta.Scopes {
			if m == s {
				scopes = append(scopes, s)
			}
		}
	}
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: redirectURL, Scopes: scopes}, nil
}

// HTTPContext returns ctx carrying the HTTP client that talks to the
// provider, for oauth2's code exchange.
func (o *OIDC) HTTPContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, o.cfg.HTTPClient)
}

// VerifyLogin checks the ID token of a login: as Verify, and its nonce
// must be the one the login sent.
func (o *OIDC) VerifyLogin(ctx context.Context, token, nonce string, now time.Time) (Principal, error) {
	idt, err := o.verify(ctx, token, now)
	if err != nil {
		return Principal{}, err
	}
	if nonce == "" || idt.Nonce != nonce {
		return Principal{}, errors.New("oidc: the ID token's nonce is not the login's")
	}
	return o.principal(idt)
}
