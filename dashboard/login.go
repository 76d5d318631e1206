package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-dsynth/go-dsynth/auth"
)

// Paths of the login through an OpenID Connect provider.
const (
	// LoginInfoPath answers whether the login is offered (the page asks).
	LoginInfoPath = "/auth/oidc"
	// LoginPath starts a login: a redirect to the provider.
	LoginPath = "/auth/oidc/login"
	// CallbackPath is where the provider sends the browser back
	// (config.OIDCCallbackPath).
	CallbackPath = "/auth/oidc/callback"
)

// Limits of logins in progress: how long one may take at the provider,
// and how many are kept at once (each holds a PKCE verifier; beyond, the
// oldest is dropped).
const (
	loginTTL     = 10 * time.Minute
	loginPending = 1024
	stateCookie  = "dsynth_oidc_state"
)

// LoginConfig configures NewLogin.
type LoginConfig struct {
	// OIDC is the provider's verifier (Api_oidc_*).
	OIDC *auth.OIDC
	// RedirectURL is the callback's URL as the browser reaches it
	// (Api_oidc_redirect_url), registered at the provider.
	RedirectURL string
	// ClientSecret is the client's secret at the provider ("": a public
	// client, PKCE alone).
	ClientSecret string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Login is the dashboard's login through an OpenID Connect provider, the
// authorization-code flow with PKCE, the code exchanged by the server:
//
//   - GET /auth/oidc/login makes a state, a nonce and a PKCE verifier,
//     keeps the verifier and nonce on the server under the state (single
//     use, ten minutes), sets the state in an HttpOnly cookie bound to
//     /auth/oidc/ (so that a callback this browser did not start is
//     refused), and sends the browser to the provider with the S256
//     challenge;
//   - GET /auth/oidc/callback takes the state back (once), checks the
//     cookie, exchanges the code with the verifier, verifies the ID token
//     (signature, issuer, audience, expiry, nonce) and its role, and
//     sends the browser to /#token=ID_TOKEN: the page moves the token to
//     the tab's sessionStorage and removes it from the address bar. A
//     failure goes to /#login_error=MESSAGE instead.
//
// The token is the API's bearer credential (an OIDC token of
// Api_oidc_issuer); the server keeps no session.
type Login struct {
	cfg LoginConfig

	mu      sync.Mutex
	pending map[string]pendingLogin
}

// pendingLogin is a login sent to the provider.
type pendingLogin struct {
	verifier, nonce string
	expires         time.Time
}

// NewLogin returns the login handler; mount it at /auth/oidc (and under).
func NewLogin(cfg LoginConfig) (*Login, error) {
	if cfg.OIDC == nil {
		return nil, errors.New("dashboard login: no OpenID Connect provider")
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || u.Path != CallbackPath || u.Host == "" {
		return nil, fmt.Errorf("dashboard login: the redirect URL %q must be absolute and end in %s", cfg.RedirectURL, CallbackPath)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Login{cfg: cfg, pending: map[string]pendingLogin{}}, nil
}

// ServeHTTP serves the three paths of the login.
func (l *Login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Content-Type-Options", "nosniff")
	// GET only: a login and a callback change state, HEAD must not.
	if r.Method != http.MethodGet {
		hdr.Set("Allow", "GET")
		http.Error(w, "405 method not allowed: the login answers GET", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case LoginInfoPath:
		hdr.Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"login": LoginPath, "issuer": l.cfg.OIDC.Issuer()})
	case LoginPath:
		l.start(w, r)
	case CallbackPath:
		l.callback(w, r)
	default:
		http.NotFound(w, r)
	}
}

// random returns n random bytes, base64url.
func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// start sends the browser to the provider.
func (l *Login) start(w http.ResponseWriter, r *http.Request) {
	cfg, err := l.cfg.OIDC.OAuth2Config(r.Context(), l.cfg.RedirectURL, l.cfg.ClientSecret)
	if err != nil {
		l.fail(w, r, err.Error())
		return
	}
	state, err := random(32)
	if err != nil {
		l.fail(w, r, "no randomness: "+err.Error())
		return
	}
	nonce, err := random(32)
	if err != nil {
		l.fail(w, r, "no randomness: "+err.Error())
		return
	}
	p := pendingLogin{verifier: oauth2.GenerateVerifier(), nonce: nonce, expires: l.cfg.Now().Add(loginTTL)}
	l.put(state, p)
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: LoginInfoPath + "/", MaxAge: int(loginTTL / time.Second),
		HttpOnly: true, Secure: l.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(p.verifier), oauth2.SetAuthURLParam("nonce", nonce)), http.StatusFound)
}

// put records a pending login, dropping the expired ones and, when
// loginPending are still pending (abandoned logins, or a client opening
// logins in a loop), the oldest: memory stays bounded, and a flood must
// outpace a user's own login to spoil it.
func (l *Login) put(state string, p pendingLogin) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	oldest := ""
	for s, q := range l.pending {
		if now.After(q.expires) {
			delete(l.pending, s)
			continue
		}
		if oldest == "" || q.expires.Before(l.pending[oldest].expires) {
			oldest = s
		}
	}
	if len(l.pending) >= loginPending {
		delete(l.pending, oldest)
	}
	l.pending[state] = p
}

// secure says whether the state cookie is for HTTPS only: when the
// browser comes back over HTTPS (Api_oidc_redirect_url), or reached this
// server over TLS.
func (l *Login) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(l.cfg.RedirectURL, "https:")
}

// take removes and returns a pending login that has not expired.
func (l *Login) take(state string) (pendingLogin, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.pending[state]
	delete(l.pending, state)
	if !ok || l.cfg.Now().After(p.expires) {
		return pendingLogin{}, false
	}
	return p, true
}

// callback finishes a login the provider sends back.
func (l *Login) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	// The cookie goes whatever happens: a state is used once.
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: LoginInfoPath + "/", MaxAge: -1,
		HttpOnly: true, Secure: l.secure(r), SameSite: http.SameSiteLaxMode})
	c, err := r.Cookie(stateCookie)
	if state == "" || err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		l.fail(w, r, "this login was not started by this browser (state mismatch): start again")
		return
	}
	p, ok := l.take(state)
	if !ok {
		l.fail(w, r, "this login expired or was already used: start again")
		return
	}
	if e := q.Get("error"); e != "" {
		msg := "the provider refused the login: " + e
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		l.fail(w, r, msg)
		return
	}
	code := q.Get("code")
	if code == "" {
		l.fail(w, r, "the provider sent no code")
		return
	}
	cfg, err := l.cfg.OIDC.OAuth2Config(r.Context(), l.cfg.RedirectURL, l.cfg.ClientSecret)
	if err != nil {
		l.fail(w, r, err.Error())
		return
	}
	tok, err := cfg.Exchange(l.cfg.OIDC.HTTPContext(r.Context()), code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		l.fail(w, r, "the code exchange failed: "+err.Error())
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		l.fail(w, r, "the provider sent no ID token")
		return
	}
	if _, err := l.cfg.OIDC.VerifyLogin(r.Context(), raw, p.nonce, l.cfg.Now()); err != nil {
		l.fail(w, r, err.Error())
		return
	}
	http.Redirect(w, r, "/#"+url.Values{"token": {raw}}.Encode(), http.StatusSeeOther)
}

// fail sends the browser back to the page with the reason, which the
// login form shows.
func (l *Login) fail(w http.ResponseWriter, r *http.Request, msg string) {
	http.Redirect(w, r, "/#"+url.Values{"login_error": {msg}}.Encode(), http.StatusSeeOther)
}
