package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/audit"
)

// TestAuditLog runs a scripted session and reads the audit log back: a
// line per write request (allowed or refused) and per failed
// authentication, none for reads; never a key; admins read it over the
// API, others are refused.
func TestAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	al, err := audit.Open(path, 1<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	f := newControlFixture(t, true)
	f.s.o.Audit = al
	ask(t, f.s, http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello"]}`, "X-API-Key", buildKey).created(t)
	ask(t, f.s, http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello"]}`, "X-API-Key", readKey).wantError(t, 403, CodeForbidden)
	get(t, f.s, "/api/v1/stats", "X-API-Key", "wrong-key-abcdef").wantError(t, 401, CodeUnauthorized)
	get(t, f.s, "/api/v1/stats", "X-API-Key", readKey)                                   // a read: not logged
	get(t, f.s, "/api/v1/audit", "X-API-Key", buildKey).wantError(t, 403, CodeForbidden) // a read refused by role: not a write, not an authentication failure

	var ad AuditData
	get(t, f.s, "/api/v1/audit?limit=10", "X-API-Key", adminKey).data(t, &ad)
	if ad.File != path || len(ad.Entries) != 3 {
		t.Fatalf("audit: %s, %d entries: %+v", ad.File, len(ad.Entries), ad.Entries)
	}
	want := []struct {
		principal, auth, route, result string
		status                         int
	}{
		{"builder", "api-key", "/api/v1/builds", "ok", 201},
		{"reader", "api-key", "/api/v1/builds", "denied", 403},
		{"", "", "/api/v1/stats", "denied", 401},
	}
	for i, w := range want {
		e := ad.Entries[i]
		if e.Principal != w.principal || e.AuthMethod != w.auth || e.Route != w.route || e.Result != w.result || e.Status != w.status || e.RequestID == "" || e.Address == "" {
			t.Errorf("entry %d: %+v, want %+v", i, e, w)
		}
	}
	b, _ := os.ReadFile(path)
	for _, secret := range []string{buildKey, readKey, adminKey, "wrong-key-abcdef"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the audit log holds a key: %s", b)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("line %q: %v", line, err)
		}
	}
	// Without an audit log: 404 NOT_CONFIGURED.
	s := newTestServer(t, Options{BuildBase: newFixture(t).base})
	get(t, s, "/api/v1/audit", "X-API-Key", adminKey).wantError(t, 404, CodeNotConfigured)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/audit?limit=0", nil))
	if w.Code != 401 {
		t.Errorf("no key: %d", w.Code)
	}
}
