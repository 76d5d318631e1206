package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// serve sends one request to h and returns the answer.
func serve(t *testing.T, h http.Handler, method, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, "http://dashboard.test"+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkSecurityHeaders checks the headers every answer carries.
func checkSecurityHeaders(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	if csp != contentSecurityPolicy {
		t.Errorf("%s: Content-Security-Policy %q", what, csp)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, got)
	}
}

// TestPolicyAllowsOnlySelf reads the policy as a browser would: every
// fetch directive allows 'self' and nothing else (or nothing at all), and
// the ones that matter are there.
func TestPolicyAllowsOnlySelf(t *testing.T) {
	dirs := map[string]string{}
	for _, d := range strings.Split(contentSecurityPolicy, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		if _, dup := dirs[f[0]]; dup {
			t.Errorf("directive %s twice", f[0])
		}
		dirs[f[0]] = strings.Join(f[1:], " ")
	}
	for _, name := range []string{"default-src", "script-src", "style-src", "img-src", "font-src", "connect-src", "form-action"} {
		if dirs[name] != "'self'" {
			t.Errorf("%s is %q, want 'self'", name, dirs[name])
		}
	}
	for _, name := range []string{"object-src", "base-uri", "frame-ancestors"} {
		if dirs[name] != "'none'" {
			t.Errorf("%s is %q, want 'none'", name, dirs[name])
		}
	}
	for name, v := range dirs {
		if v != "'self'" && v != "'none'" {
			t.Errorf("%s allows %q", name, v)
		}
	}
}

func TestHandlerServesThePage(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script src="dashboard.js" defer></script>`},
		{"/index.html", "text/html; charset=utf-8", `<link rel="stylesheet" href="dashboard.css">`},
		{"/dashboard.js", "text/javascript; charset=utf-8", "'use strict';"},
		{"/dashboard.css", "text/css; charset=utf-8", ":root {"},
	} {
		resp := serve(t, h, http.MethodGet, tc.path)
		b := body(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", tc.path, resp.StatusCode)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, ct, tc.contentType)
		}
		if !strings.Contains(b, tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		checkSecurityHeaders(t, "GET "+tc.path, resp)
		if resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: ETag %q, Cache-Control %q", tc.path, resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
		}
	}
	if serve(t, h, http.MethodGet, "/").Header.Get("ETag") != serve(t, h, http.MethodGet, "/index.html").Header.Get("ETag") {
		t.Error(`"/" and "/index.html" are not the same file`)
	}
}

func TestHandlerConditionalAndHead(t *testing.T) {
	h := Handler()
	etag := serve(t, h, http.MethodGet, "/dashboard.js").Header.Get("ETag")
	resp := serve(t, h, http.MethodGet, "/dashboard.js", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || body(t, resp) != "" {
		t.Errorf("GET with If-None-Match of the ETag: %d", resp.StatusCode)
	}
	resp = serve(t, h, http.MethodHead, "/")
	if resp.StatusCode != http.StatusOK || body(t, resp) != "" || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD /: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkSecurityHeaders(t, "HEAD /", resp)
}

// TestHandlerRefusesTheRest: unknown files, directories (no listing), the
// embedded directory's own path, /api/ and tricks on the known names are
// 404; other methods 405.
func TestHandlerRefusesTheRest(t *testing.T) {
	h := Handler()
	for _, p := range []string{
		"/nope", "/favicon.ico", "/assets/", "/assets/index.html", "/assets",
		"/api/", "/api/v1/status", "/dashboard.js/", "/./dashboard.js", "//dashboard.js",
		"/DASHBOARD.JS", "/dashboard.js.map", "/index.html/", "/handler.go", "/doc.go",
	} {
		resp := serve(t, h, http.MethodGet, p)
		b := body(t, resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
		if strings.Contains(b, "<a href") || strings.Contains(b, "<pre>") {
			t.Errorf("GET %s looks like a directory listing:\n%s", p, b)
		}
		checkSecurityHeaders(t, "GET "+p, resp)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		resp := serve(t, h, m, "/")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /: %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
		checkSecurityHeaders(t, m+" /", resp)
	}
}

// TestBesideTheAPI mounts the dashboard as the callers do: /api/ reaches
// the API, everything else the dashboard.
func TestBesideTheAPI(t *testing.T) {
	fakeAPI := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","path":"`+r.URL.Path+`"}`)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", fakeAPI)
	mux.Handle("/", Handler())
	for path, want := range map[string]string{
		"/api/v1/status": `"path":"/api/v1/status"`,
		"/api/":          `"path":"/api/"`,
		"/":              "<title>go-dsynth dashboard</title>",
		"/dashboard.css": ":root {",
	} {
		resp := serve(t, mux, http.MethodGet, path)
		if b := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
	if resp := serve(t, mux, http.MethodGet, "/elsewhere"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /elsewhere: %d", resp.StatusCode)
	}
}

// TestAssetsAreSelfContained: the page names only files the handler
// serves, nothing refers to another origin (the machine may be offline
// and the policy would refuse it anyway), and no inline script or style
// would be blocked by the policy.
func TestAssetsAreSelfContained(t *testing.T) {
	h := Handler()
	index := body(t, serve(t, h, http.MethodGet, "/"))
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(index, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html names %d files, want the script and the stylesheet", len(refs))
	}
	for _, m := range refs {
		if strings.HasPrefix(m[1], "#") {
			continue // a place in the page (the views' navigation)
		}
		if resp := serve(t, h, http.MethodGet, "/"+m[1]); resp.StatusCode != http.StatusOK {
			t.Errorf("index.html names %q, which is %d", m[1], resp.StatusCode)
		}
	}
	if regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`).MatchString(index) || strings.Contains(index, "<style") || strings.Contains(index, " style=") {
		t.Error("index.html has inline script or style, which the policy blocks")
	}
	if regexp.MustCompile(`\son[a-z]+=`).MatchString(index) {
		t.Error("index.html has an inline event handler, which the policy blocks")
	}
	table, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	for p, a := range table {
		// The SVG namespace is a name, not a resource (createElementNS).
		text := strings.ReplaceAll(string(a.body), "http://www.w3.org/2000/svg", "")
		if strings.Contains(text, "://") || strings.Contains(text, "url(") || strings.Contains(text, "@import") {
			t.Errorf("%s refers to another resource or origin", p)
		}
	}
}

// TestScriptBuildsNoMarkup is a static guard beside the browser test of
// hostile strings: no script of the page (dashboard.js and the view files)
// has an API that parses HTML or code.
func TestScriptBuildsNoMarkup(t *testing.T) {
	table, err := loadAssets(files, assetsDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for p, a := range table {
		if !strings.HasSuffix(p, ".js") {
			continue
		}
		n++
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "createContextualFragment", "DOMParser", "srcdoc"} {
			if strings.Contains(string(a.body), bad) {
				t.Errorf("%s uses %s", p, bad)
			}
		}
	}
	if n == 0 {
		t.Error("no script checked")
	}
}

func TestLoadAssetsRefusesMistakes(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no index":     {"a/app.js": {Data: []byte("x")}},
		"unknown kind": {"a/index.html": {Data: []byte("x")}, "a/logo.png": {Data: []byte("x")}},
		"no directory": {},
	} {
		if _, err := loadAssets(fsys, "a"); err == nil || !strings.HasPrefix(err.Error(), "dashboard: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	table, err := loadAssets(fstest.MapFS{"a/index.html": {Data: []byte("<p>")}, "a/sub/x.js": {Data: []byte("x")}}, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(table) != 2 || table["/"] != table["/index.html"] || table["/sub/x.js"] != nil {
		t.Errorf("table %v: want / and /index.html only", table)
	}
}
