package run

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/dashboard"
)

// TestSiteHandler sends requests through the handler the API's listener
// serves (the real API beside the real dashboard): paths that climb get the
// API's 400, not a redirect; the page is served without a key; the API
// still wants one.
func TestSiteHandler(t *testing.T) {
	key, line, err := auth.NewKey(strings.NewReader(strings.Repeat("k", 64)), "ci", auth.RoleRead, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.ParseKeys("api.keys", strings.NewReader(line+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Options{BuildBase: t.TempDir(), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(siteHandler(s, dashboard.Handler(), nil))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, withKey bool) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = path // send the path as written, dots and all
		if withKey {
			req.Header.Set("X-API-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{"/api/v1/packages/../x/history", "/api/v1/packages/misc/..%2F..%2Fetc", "/api//v1/status"} {
		if code, body := get(p, true); code != http.StatusBadRequest || !strings.Contains(body, `"code":"BAD_REQUEST"`) {
			t.Errorf("%s: %d %.120s, want the API's 400", p, code, body)
		}
	}
	if code, body := get("/", false); code != http.StatusOK || !strings.Contains(body, "<title>go-dsynth dashboard</title>") {
		t.Errorf("/: %d %.120s", code, body)
	}
	if code, _ := get("/api/v1/status", false); code != http.StatusUnauthorized {
		t.Errorf("/api/v1/status without a key: %d", code)
	}
	if code, body := get("/api/v1/status", true); code != http.StatusOK || !strings.Contains(body, `"status":"success"`) {
		t.Errorf("/api/v1/status with the key: %d %.120s", code, body)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(p, false); code != http.StatusOK || !strings.Contains(body, `"status":`) {
			t.Errorf("%s without a key: %d %.120s, want the API's probe", p, code, body)
		}
	}
	if code, _ := get("/x/../api/v1/status", false); code == http.StatusOK {
		t.Error("a climbing path outside /api/ reached the API")
	}
}
