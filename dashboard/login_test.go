package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/oidctest"
)

// oidcSite is the dashboard's site with the API accepting the mock
// provider's tokens and the login mounted; clock is the login's clock.
type oidcSite struct {
	*site
	provider *oidctest.Provider
	verifier *auth.OIDC
	clock    *atomic.Int64 // unix nanoseconds
}

func newOIDCSite(t *testing.T) *oidcSite {
	t.Helper()
	p := oidctest.Start(t)
	rm, err := auth.NewRoleMap(config.RoleMapping{File: "dsynth.ini", Line: 1, Key: "Api_oidc_roles", Text: "dsynth-readers=read,dsynth-ops=user"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewOIDC(auth.OIDCConfig{Issuer: p.Issuer(), ClientID: p.ClientID(), RoleClaim: "groups", Roles: rm})
	if err != nil {
		t.Fatal(err)
	}
	s := newSite(t, func(o *api.Options) { o.Tokens = append(o.Tokens, v) })
	clock := &atomic.Int64{}
	clock.Store(time.Now().UnixNano())
	l, err := NewLogin(LoginConfig{OIDC: v, RedirectURL: s.srv.URL + CallbackPath, ClientSecret: p.ClientSecret(),
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	s.login.Store(l)
	return &oidcSite{site: s, provider: p, verifier: v, clock: clock}
}

// browserClient is a client with a cookie jar that follows no redirect.
func browserClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// step GETs u and returns the redirect's target.
func step(t *testing.T, c *http.Client, u string) *url.URL {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("GET %s: %s, no redirect: %v", u, resp.Status, err)
	}
	return loc
}

// fragment reads the page fragment the login ends at.
func fragment(t *testing.T, loc *url.URL) url.Values {
	t.Helper()
	if loc.Path != "/" || loc.RawQuery != "" {
		t.Fatalf("the login ends at %s, want /#…", loc)
	}
	v, err := url.ParseQuery(loc.Fragment)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOIDCLoginFlow runs the authorization-code flow with PKCE against
// the mock provider at the HTTP level: the page gets an ID token in the
// fragment, the API accepts it with the mapped role; a replayed, foreign
// or late callback and an unmapped user are refused with a message.
func TestOIDCLoginFlow(t *testing.T) {
	s := newOIDCSite(t)
	c := browserClient(t)

	var info map[string]string
	resp, err := http.Get(s.srv.URL + LoginInfoPath)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if info["login"] != LoginPath || info["issuer"] != s.provider.Issuer() {
		t.Fatalf("GET %s = %v", LoginInfoPath, info)
	}

	s.provider.QueueUser(oidctest.User{Subject: "u-42", Extra: oidctest.Claims{"preferred_username": "jane", "groups": []string{"staff", "dsynth-ops"}}})
	authz := step(t, c, s.srv.URL+LoginPath)
	q := authz.Query()
	if !strings.HasPrefix(authz.String(), s.provider.Issuer()) || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("nonce") == "" || q.Get("state") == "" || q.Get("redirect_uri") != s.srv.URL+CallbackPath || !strings.Contains(q.Get("scope"), "groups") {
		t.Fatalf("the login sent the browser to %s", authz)
	}
	callback := step(t, c, authz.String())
	if callback.Path != CallbackPath {
		t.Fatalf("the provider sent the browser to %s", callback)
	}
	end := fragment(t, step(t, c, callback.String()))
	token := end.Get("token")
	if token == "" {
		t.Fatalf("the login ended without a token: %v", end)
	}
	p, err := s.verifier.Verify(context.Background(), token, time.Now())
	if err != nil || p.Name != "jane" || p.Role != auth.RoleUser {
		t.Fatalf("the login's token: %+v, %v; want jane with role user", p, err)
	}
	for _, c := range []struct {
		bearer string
		want   int
	}{{token, http.StatusOK}, {"", http.StatusUnauthorized}} {
		req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/v1/status", nil)
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("GET /api/v1/status with a token: %v: %s, want %d", c.bearer != "", resp.Status, c.want)
		}
	}

	// The callback again: the state was used.
	if msg := fragment(t, step(t, c, callback.String())).Get("login_error"); !strings.Contains(msg, "state mismatch") {
		t.Fatalf("a replayed callback: %q (the cookie went with the first)", msg)
	}

	// A callback this browser did not start (login CSRF): no cookie.
	jane := oidctest.User{Subject: "u-42", Extra: oidctest.Claims{"preferred_username": "jane", "groups": []string{"dsynth-readers"}}}
	s.provider.QueueUser(jane)
	authz = step(t, c, s.srv.URL+LoginPath)
	callback = step(t, c, authz.String())
	if msg := fragment(t, step(t, browserClient(t), callback.String())).Get("login_error"); !strings.Contains(msg, "not started by this browser") {
		t.Fatalf("a foreign callback: %q", msg)
	}
	// The foreign try consumed nothing: the browser that started the
	// login completes it.
	if end := fragment(t, step(t, c, callback.String())); end.Get("token") == "" {
		t.Fatalf("the login after a foreign try: %v", end)
	}

	// Too late: ten minutes at the provider.
	authz = step(t, c, s.srv.URL+LoginPath)
	callback = step(t, c, authz.String())
	s.clock.Add(int64(11 * time.Minute))
	if msg := fragment(t, step(t, c, callback.String())).Get("login_error"); !strings.Contains(msg, "expired or was already used") {
		t.Fatalf("a late callback: %q", msg)
	}
	s.clock.Store(time.Now().UnixNano())

	// A user none of whose groups has a role.
	s.provider.QueueUser(oidctest.User{Subject: "u-7", Extra: oidctest.Claims{"email": "eve@example.org", "groups": []string{"staff"}}})
	authz = step(t, c, s.srv.URL+LoginPath)
	if msg := fragment(t, step(t, c, step(t, c, authz.String()).String())).Get("login_error"); !strings.Contains(msg, `eve@example.org: no value of the "groups" claim (staff) is mapped`) {
		t.Fatalf("an unmapped user: %q", msg)
	}

	// The provider's refusal.
	authz = step(t, c, s.srv.URL+LoginPath)
	st := authz.Query().Get("state")
	deny := s.srv.URL + CallbackPath + "?" + url.Values{"state": {st}, "error": {"access_denied"}, "error_description": {"the user said no"}}.Encode()
	if msg := fragment(t, step(t, c, deny)).Get("login_error"); msg != "the provider refused the login: access_denied: the user said no" {
		t.Fatalf("a refused login: %q", msg)
	}
}

func TestNewLoginChecks(t *testing.T) {
	if _, err := NewLogin(LoginConfig{}); err == nil {
		t.Error("a login without a provider")
	}
	p := oidctest.Start(t)
	rm, _ := auth.NewRoleMap(config.RoleMapping{Text: "g=read"}, nil)
	v, _ := auth.NewOIDC(auth.OIDCConfig{Issuer: p.Issuer(), ClientID: p.ClientID(), Roles: rm})
	if _, err := NewLogin(LoginConfig{OIDC: v, RedirectURL: "https://dsynth.example/callback"}); err == nil || !strings.Contains(err.Error(), CallbackPath) {
		t.Errorf("a redirect URL elsewhere: %v", err)
	}
}

// TestLoginPendingBounded: at most loginPending logins are kept, the
// oldest dropped first; expired ones go first.
func TestLoginPendingBounded(t *testing.T) {
	s := newOIDCSite(t)
	l := s.login.Load()
	for i := range loginPending + 1 {
		l.put(strings.Repeat("s", i+1), pendingLogin{expires: time.Unix(0, s.clock.Load()).Add(time.Duration(i) * time.Second)})
	}
	if len(l.pending) != loginPending {
		t.Fatalf("%d logins kept, want %d", len(l.pending), loginPending)
	}
	if _, ok := l.pending["s"]; ok {
		t.Fatal("the oldest login was kept")
	}
	if _, ok := l.take(strings.Repeat("s", loginPending+1)); !ok {
		t.Fatal("the newest login was dropped")
	}
	s.clock.Add(int64(loginTTL + 2*loginPending*time.Second))
	l.put("new", pendingLogin{expires: time.Unix(0, s.clock.Load()).Add(loginTTL)})
	if len(l.pending) != 1 {
		t.Fatalf("%d logins kept after all expired, want the new one", len(l.pending))
	}
}

// TestLoginMethodsAndCookie: the login answers GET only (a HEAD must not
// open a login); its state cookie is HttpOnly, bound to /auth/oidc/, and
// Secure when the browser comes back over HTTPS.
func TestLoginMethodsAndCookie(t *testing.T) {
	s := newOIDCSite(t)
	for _, m := range []string{http.MethodHead, http.MethodPost} {
		req, _ := http.NewRequest(m, s.srv.URL+LoginPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
			t.Errorf("%s %s: %s, Allow %q", m, LoginPath, resp.Status, resp.Header.Get("Allow"))
		}
	}
	if n := len(s.login.Load().pending); n != 0 {
		t.Fatalf("%d logins pending after HEAD and POST", n)
	}
	l, err := NewLogin(LoginConfig{OIDC: s.verifier, RedirectURL: "https://dsynth.example" + CallbackPath})
	if err != nil {
		t.Fatal(err)
	}
	s.login.Store(l)
	resp, err := browserClient(t).Get(s.srv.URL + LoginPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cs := resp.Cookies()
	if len(cs) != 1 || cs[0].Name != stateCookie || !cs[0].HttpOnly || !cs[0].Secure || cs[0].Path != "/auth/oidc/" || cs[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("state cookie %+v", cs)
	}
}
