package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAuthorize(t *testing.T) {
	ks := testKeys(t)
	for _, tt := range []struct {
		name    string
		anon    bool
		secret  string
		given   bool
		need    Role
		code    int // 0: allowed
		apiCode string
	}{
		{"no key", false, "", false, RoleRead, 401, CodeUnauthorized},
		{"no key, anonymous read", true, "", false, RoleRead, 0, ""},
		{"no key, anonymous read, build endpoint", true, "", false, RoleBuild, 401, CodeUnauthorized},
		{"wrong key", false, "nope", true, RoleRead, 401, CodeUnauthorized},
		{"wrong key, anonymous read", true, "nope", true, RoleRead, 401, CodeUnauthorized},
		{"empty key", true, "", true, RoleRead, 401, CodeUnauthorized},
		{"read key, read endpoint", false, readKey, true, RoleRead, 0, ""},
		{"read key, build endpoint", false, readKey, true, RoleBuild, 403, CodeForbidden},
		{"read key, admin endpoint", true, readKey, true, RoleAdmin, 403, CodeForbidden},
		{"admin key, admin endpoint", false, adminKey, true, RoleAdmin, 0, ""},
		{"admin key, read endpoint", false, adminKey, true, RoleRead, 0, ""},
	} {
		err := authorize(ks, tt.anon, tt.secret, tt.given, tt.need)
		switch {
		case tt.code == 0 && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.code != 0 && (err == nil || err.HTTPStatus != tt.code || err.Code != tt.apiCode):
			t.Errorf("%s: %v, want %d %s", tt.name, err, tt.code, tt.apiCode)
		}
	}
	if err := authorize(ks, false, readKey, true, RoleAdmin); !strings.Contains(err.Message, `key "reader" has role read; this endpoint needs admin`) {
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
		s.handle(s.mux, route{pattern: "GET /api/v1/admin-only", need: RoleAdmin, data: func(*http.Request) (any, error) { return "ok", nil }})
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
		get(t, s, "/api/v1/admin-only", "X-API-Key", readKey).wantError(t, 403, CodeForbidden)
		get(t, s, "/api/v1/admin-only", "Accept", "*/*").wantError(t, 401, CodeUnauthorized)
		var ok string
		getOffSpec(t, s, "/api/v1/admin-only", "Authorization", "Bearer "+adminKey).data(t, &ok)
	}
}

func TestNewRefusesUselessServer(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, ErrNobodyCanUse) {
		t.Errorf("no keys, no anonymous: %v", err)
	}
	if _, err := New(Options{Keys: &Keys{File: "/etc/dsynth/api.keys"}}); !errors.Is(err, ErrNobodyCanUse) || !strings.Contains(err.Error(), "/etc/dsynth/api.keys holds no key") {
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
	if code := get(WithPeerRole(context.Background(), RoleAdmin)); code != http.StatusOK {
		t.Errorf("admin peer: %d, want 200", code)
	}
	if code := get(WithPeerRole(context.Background(), RoleNone)); code != http.StatusForbidden {
		t.Errorf("peer without a role: %d, want 403", code)
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
