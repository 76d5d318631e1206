package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/auth"
)

func TestAuthorize(t *testing.T) {
	for _, tt := range []struct {
		role    auth.Role
		need    auth.Permission
		code    int // 0: allowed
		apiCode string
	}{
		{auth.RoleNone, auth.PermRead, 401, CodeUnauthorized},
		{auth.RoleNone, auth.PermNone, 0, ""},
		{auth.RoleAnonymous, auth.PermRead, 0, ""},
		{auth.RoleRead, auth.PermBuild, 403, CodeForbidden},
		{auth.RoleUser, auth.PermBuild, 0, ""},
		{auth.RoleUser, auth.PermConfig, 403, CodeForbidden},
		{auth.RoleBuilder, auth.PermConfig, 0, ""},
		{auth.RoleBuilder, auth.PermAdmin, 403, CodeForbidden},
		{auth.RoleAdmin, auth.PermAdmin, 0, ""},
	} {
		err := authorize(auth.Principal{Name: "x", Role: tt.role, Method: auth.MethodKey}, tt.need)
		switch {
		case tt.code == 0 && err != nil:
			t.Errorf("%v for %v: refused: %v", tt.role, tt.need, err)
		case tt.code != 0 && (err == nil || err.HTTPStatus != tt.code || err.Code != tt.apiCode):
			t.Errorf("%v for %v: %v, want %d %s", tt.role, tt.need, err, tt.code, tt.apiCode)
		}
	}
	if err := authorize(auth.Principal{Role: auth.RoleAnonymous, Method: auth.MethodAnonymous}, auth.PermBuild); err == nil || err.HTTPStatus != 401 {
		t.Errorf("anonymous asking to build: %v, want 401: it has to authenticate", err)
	}
	err := authorize(auth.Principal{Name: "reader", Role: auth.RoleRead, Method: auth.MethodKey}, auth.PermAdmin)
	if !strings.Contains(err.Message, `api-key "reader" has role read; this endpoint needs the admin permission`) {
		t.Errorf("403 message %q", err.Message)
	}
}

func TestPresentedKey(t *testing.T) {
	for _, tt := range []struct {
		headers []string
		secret  string
		given   bool
	}{
		{nil, "", false},
		{[]string{"X-API-Key", "abc"}, "abc", true},
		{[]string{"x-api-key", " abc "}, "abc", true},
		{[]string{"Authorization", "Bearer abc"}, "abc", true},
		{[]string{"Authorization", "bearer  abc"}, "abc", true},
		{[]string{"Authorization", "Basic YTpi"}, "", true},
		{[]string{"Authorization", ""}, "", true},
		{[]string{"X-API-Key", "abc", "Authorization", "Bearer other"}, "abc", true},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		for i := 0; i < len(tt.headers); i += 2 {
			r.Header.Set(tt.headers[i], tt.headers[i+1])
		}
		if s, g := presentedKey(r); s != tt.secret || g != tt.given {
			t.Errorf("%v: %q %v, want %q %v", tt.headers, s, g, tt.secret, tt.given)
		}
	}
}

// TestAuthHTTP runs the decisions through real routes: every endpoint
// needs a key unless anonymous reading is on; either header works; a
// route that needs admin refuses a read key with 403 and takes an admin
// key.
func TestAuthHTTP(t *testing.T) {
	f := newFixture(t)
	for _, anon := range []bool{false, true} {
		s := newTestServer(t, Options{BuildBase: f.base, AnonymousRead: anon})
		s.handle(s.mux, route{pattern: "GET /api/v1/admin-only", need: auth.PermAdmin, data: func(*http.Request) (any, error) { return "ok", nil }})
		for _, path := range []string{"/api/v1/status", "/api/v1/records", "/api/v1/stats", "/api/v1/runs", "/api/v1/packages/misc/hello",
			"/api/v1/packages/misc/hello/history", "/api/v1/records/" + f.records[0].ID.UUID.String(), "/api/v1/runs/" + f.runs[0].ID.String(), "/api/v1/events"} {
			if anon && path == "/api/v1/events" {
				continue // it would stream: see stream_test.go
			}
			a := get(t, s, path, "Accept", "application/json")
			if !anon {
				a.wantError(t, 401, CodeUnauthorized)
				if a.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", path)
				}
			} else if a.code != 200 {
				t.Errorf("%s with anonymous read: %d\n%s", path, a.code, a.raw)
			}
			get(t, s, path, "X-API-Key", "wrong").wantError(t, 401, CodeUnauthorized)
			get(t, s, path, "Authorization", "Bearer wrong").wantError(t, 401, CodeUnauthorized)
			if path == "/api/v1/events" {
				continue // a stream: see stream_test.go
			}
			if a := get(t, s, path, "X-API-Key", readKey); a.code != 200 {
				t.Errorf("%s with X-API-Key: %d", path, a.code)
			}
			if a := get(t, s, path, "Authorization", "Bearer "+adminKey); a.code != 200 {
				t.Errorf("%s with Bearer: %d", path, a.code)
			}
		}
		getOffSpec(t, s, "/api/v1/admin-only", "X-API-Key", readKey).wantError(t, 403, CodeForbidden)
		getOffSpec(t, s, "/api/v1/admin-only", "Accept", "*/*").wantError(t, 401, CodeUnauthorized)
		var ok string
		getOffSpec(t, s, "/api/v1/admin-only", "Authorization", "Bearer "+adminKey).data(t, &ok)
	}
}

// TestAuthenticationBeforeRouting: without valid credentials every path
// but the health probes is 401 — unknown paths, wrong methods, paths that
// climb — so routes cannot be enumerated; the connection is closed after
// the 401. With credentials the same requests get their 404, 405 or 400.
func TestAuthenticationBeforeRouting(t *testing.T) {
	s := newTestServer(t, Options{BuildBase: newFixture(t).base})
	for _, tt := range []struct {
		method, path string
		authed       int
	}{
		{"GET", "/api/v1/no-such-thing", 404},
		{"GET", "/nowhere", 404},
		{"DELETE", "/api/v1/stats", 405},
		{"PATCH", "/api/v1/builds", 405},
		{"GET", "/api/v1/records/%2e%2e/x", 400},
	} {
		for _, hdr := range [][]string{nil, {"X-API-Key", "wrong"}, {"Authorization", "Basic YTpi"}} {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if hdr != nil {
				req.Header.Set(hdr[0], hdr[1])
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != 401 || w.Header().Get("Allow") != "" || w.Header().Get("Connection") != "close" {
				t.Errorf("%s %s with %v: %d (Allow %q, Connection %q), want 401 and a closed connection", tt.method, tt.path, hdr, w.Code, w.Header().Get("Allow"), w.Header().Get("Connection"))
			}
		}
		req := httptest.NewRequest(tt.method, tt.path, nil)
		req.Header.Set("X-API-Key", readKey)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != tt.authed {
			t.Errorf("%s %s with a key: %d, want %d", tt.method, tt.path, w.Code, tt.authed)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code == 401 {
			t.Errorf("%s asks for credentials", p)
		}
	}
}

// TestRoleMatrix runs every route of the table with every role through
// every authentication method (API key, JWT, the owner's socket,
// anonymous with and without anonymous reading) and asserts the seed's
// matrix: a role that lacks the route's permission gets 401 (no role) or
// 403, one that has it gets neither.
func TestRoleMatrix(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hs.key"), []byte(strings.Repeat("k", 40)), 0o600)
	os.WriteFile(filepath.Join(dir, "token.keys"), []byte("t1 HS256 hs.key\n"), 0o600)
	tk, err := auth.LoadTokenKeys(filepath.Join(dir, "token.keys"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	keysText, secrets := "", map[auth.Role]string{}
	for _, r := range []auth.Role{auth.RoleRead, auth.RoleUser, auth.RoleBuilder, auth.RoleAdmin} {
		key, line, err := auth.NewKey(nil, "k-"+r.String(), r, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		keysText += line
		secrets[r] = key
	}
	ks, err := auth.ParseKeys("keys", strings.NewReader(keysText))
	if err != nil {
		t.Fatal(err)
	}
	type principal struct {
		name string
		role auth.Role
		prep func(*http.Request) *http.Request
	}
	var principals []principal
	for r, key := range secrets {
		principals = append(principals, principal{"key " + r.String(), r, func(q *http.Request) *http.Request {
			q.Header.Set("X-API-Key", key)
			return q
		}})
		tok, err := tk.Mint("t-"+r.String(), r, time.Hour, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		principals = append(principals, principal{"jwt " + r.String(), r, func(q *http.Request) *http.Request {
			q.Header.Set("Authorization", "Bearer "+tok)
			return q
		}}, principal{"peer " + r.String(), r, func(q *http.Request) *http.Request {
			return q.WithContext(WithPeerRole(q.Context(), r))
		}})
	}
	param := regexp.MustCompile(`\{[a-z]+\}`)
	for _, anon := range []bool{false, true} {
		s := newTestServer(t, Options{BuildBase: f.base, Keys: ks, Tokens: []auth.TokenVerifier{tk}, AnonymousRead: anon})
		anonRole := map[bool]auth.Role{false: auth.RoleNone, true: auth.RoleAnonymous}[anon]
		all := append(principals, principal{"anonymous", anonRole, func(q *http.Request) *http.Request { return q }})
		if len(s.patterns) < 40 {
			t.Fatalf("only %d routes", len(s.patterns))
		}
		for _, pattern := range s.patterns {
			method, path, _ := strings.Cut(pattern, " ")
			path = param.ReplaceAllString(path, "x")
			need := s.needs[pattern]
			for _, p := range all {
				ctx, cancel := context.WithCancel(context.Background())
				if strings.HasSuffix(path, "/events") || strings.HasSuffix(path, "/stream") || strings.HasSuffix(path, "/log") {
					cancel() // a stream that is allowed ends at once
				}
				req := p.prep(httptest.NewRequest(method, path, strings.NewReader("{}")).WithContext(ctx))
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				cancel()
				denied := w.Code == 401 || w.Code == 403
				switch {
				case p.role.Allows(need) && denied:
					t.Errorf("anon=%v %s as %s (%v needs %v): refused %d: %s", anon, pattern, p.name, p.role, need, w.Code, w.Body)
				case !p.role.Allows(need) && p.role <= auth.RoleAnonymous && w.Code != 401:
					t.Errorf("anon=%v %s as %s: %d, want 401", anon, pattern, p.name, w.Code)
				case !p.role.Allows(need) && p.role > auth.RoleAnonymous && w.Code != 403:
					t.Errorf("anon=%v %s as %s (%v needs %v): %d, want 403", anon, pattern, p.name, p.role, need, w.Code)
				}
			}
		}
	}
}

func TestNewRefusesUselessServer(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, ErrNobodyCanUse) {
		t.Errorf("no keys, no anonymous: %v", err)
	}
	if _, err := New(Options{Keys: &auth.Keys{File: "/etc/dsynth/api.keys"}}); !errors.Is(err, ErrNobodyCanUse) || !strings.Contains(err.Error(), "/etc/dsynth/api.keys holds no key") {
		t.Errorf("empty keys file: %v", err)
	}
	if _, err := New(Options{AnonymousRead: true}); err != nil {
		t.Errorf("anonymous read without keys: %v", err)
	}
}

// TestLocalOnlyServer: a server for the owner's socket needs no keys, and
// authorizes by the peer's role; a request without one is refused.
func TestLocalOnlyServer(t *testing.T) {
	s, err := New(Options{BuildBase: t.TempDir(), LocalOnly: true})
	if err != nil {
		t.Fatalf("a local-only server needs no keys: %v", err)
	}
	get := func(ctx context.Context) int {
		req := httptest.NewRequest("GET", "/api/v1/stats", nil).WithContext(ctx)
		w := httptest.NewRecorder()
		serve(t, s, w, req)
		return w.Code
	}
	if code := get(context.Background()); code != http.StatusUnauthorized {
		t.Errorf("no peer role: %d, want 401", code)
	}
	if code := get(WithPeerRole(context.Background(), auth.RoleAdmin)); code != http.StatusOK {
		t.Errorf("admin peer: %d, want 200", code)
	}
	if code := get(WithPeerRole(context.Background(), auth.RoleNone)); code != http.StatusUnauthorized {
		t.Errorf("peer without a role: %d, want 401", code)
	}
}

// TestLocalOnlyServerTakesKeys: on the owner's socket, a peer without a
// role (another local user) may still present a key from Api_keys.
func TestLocalOnlyServerTakesKeys(t *testing.T) {
	ks := testKeys(t)
	s, err := New(Options{BuildBase: t.TempDir(), LocalOnly: true, Keys: ks})
	if err != nil {
		t.Fatal(err)
	}
	if a := get(t, s, "/api/v1/stats", "X-API-Key", readKey); a.code != http.StatusOK {
		t.Fatalf("a key on the local server: %d", a.code)
	}
	if a := get(t, s, "/api/v1/stats", "Accept", "*/*"); a.code != http.StatusUnauthorized {
		t.Fatalf("no key, no role: %d", a.code)
	}
}

// TestKeysFileFollowed: a server following its keys file takes a key
// added after it started, refuses one revoked meanwhile and an expired
// one, and keeps the keys it had while the file is malformed.
func TestKeysFileFollowed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.keys")
	first, err := auth.AppendKey(path, "first", auth.RoleRead, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	kf, err := auth.OpenKeysFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	s := newTestServer(t, Options{BuildBase: newFixture(t).base, KeysFile: kf, Logf: func(f string, a ...any) { logged = append(logged, f) }})
	code := func(key string) int {
		req := httptest.NewRequest("GET", "/api/v1/stats", nil)
		req.Header.Set("X-API-Key", key)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code
	}
	if c := code(first); c != 200 {
		t.Fatalf("first key: %d", c)
	}
	second, _ := auth.AppendKey(path, "second", auth.RoleRead, time.Time{})
	expired, _ := auth.AppendKey(path, "old", auth.RoleRead, time.Now().Add(-time.Hour))
	if c := code(second); c != 200 {
		t.Errorf("a key added while serving: %d", c)
	}
	if c := code(expired); c != 401 {
		t.Errorf("an expired key: %d", c)
	}
	if _, err := auth.RevokeKeys(path, "first"); err != nil {
		t.Fatal(err)
	}
	if c := code(first); c != 401 {
		t.Errorf("a revoked key: %d", c)
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append(b, "broken line\n"...), 0o600)
	if c := code(second); c != 200 || len(logged) == 0 {
		t.Errorf("while the file is malformed: %d, logged %v", c, logged)
	}
}
