package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/go-dsynth/go-dsynth/auth"
)

// TestHostCheck is finding 3 of issue 13: with anonymous reading on, a
// page that a DNS rebinding pointed at the API names a foreign Host (and
// its own Origin); it is refused before anything is read, a WebSocket
// included. Loopback names, IP literals, the machine's name and the
// configured names are answered; the owner's socket is not checked.
func TestHostCheck(t *testing.T) {
	s := newTestServer(t, Options{BuildBase: newFixture(t).base, AnonymousRead: true, HostCheck: true,
		Hostname: "builder1.lan", AllowedHosts: []string{"dsynth.example.org", ".farm.example"}})
	do := func(host, origin string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/v1/stats", nil)
		req.Host = host
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	for _, host := range []string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080", "10.1.2.3", "builder1", "builder1.lan:8080",
		"dsynth.example.org", "DSYNTH.example.org.", "a.farm.example:443", "app.localhost"} {
		if w := do(host, ""); w.Code != 200 {
			t.Errorf("Host %q: %d, want 200", host, w.Code)
		}
	}
	for _, tt := range []struct{ host, origin string }{
		{"evil.example:8080", "http://evil.example:8080"}, // the rebinding: Host and Origin agree, both foreign
		{"evil.example", ""},
		{"", ""},
		{"localhost:8080", "http://evil.example"},
		{"localhost:8080", "not a url"},
		{"farm.example", ""},
	} {
		w := do(tt.host, tt.origin, "X-API-Key", adminKey)
		if w.Code != http.StatusMisdirectedRequest && w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), CodeBadHost) {
			t.Errorf("Host %q Origin %q: %d %s", tt.host, tt.origin, w.Code, w.Body)
		}
	}
	if w := do("localhost", "http://localhost:3000"); w.Code != 200 {
		t.Errorf("a page of localhost: %d", w.Code)
	}
	req := httptest.NewRequest("GET", "/api/v1/stats", nil).WithContext(WithPeerRole(context.Background(), auth.RoleAdmin))
	req.Host = "whatever"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Errorf("the owner's socket: %d", w.Code)
	}

	// The same over a real listener, as a WebSocket.
	_, hs, _ := liveServer(t, Options{AnonymousRead: true, HostCheck: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := http.Header{"Origin": {"http://evil.example:" + strings.Split(hs.Addr(), ":")[1]}}
	_, resp, err := websocket.Dial(ctx, "ws://"+hs.Addr()+"/api/v1/events", &websocket.DialOptions{HTTPHeader: h, Host: "evil.example"})
	if err == nil || resp == nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a rebinding WebSocket: %v %v", err, resp)
	}
}

// TestRateLimit: each principal has its own bucket; past it, 429 with
// Retry-After; the owner's socket is not limited. The clock is the
// server's, so nothing here waits.
func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newTestServer(t, Options{BuildBase: newFixture(t).base, AnonymousRead: true, RateLimit: 2, RateBurst: 3, Now: func() time.Time { return now }})
	do := func(ctx context.Context, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/v1/status", nil).WithContext(ctx)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	bg := context.Background()
	for i := 0; i < 3; i++ {
		if w := do(bg, "X-API-Key", readKey); w.Code != 200 {
			t.Fatalf("request %d within the burst: %d", i, w.Code)
		}
	}
	w := do(bg, "X-API-Key", readKey)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), CodeRateLimited) {
		t.Fatalf("past the burst: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	// Another principal, and an anonymous client, have their own buckets.
	if w := do(bg, "X-API-Key", adminKey); w.Code != 200 {
		t.Errorf("another key: %d", w.Code)
	}
	if w := do(bg); w.Code != 200 {
		t.Errorf("an anonymous client: %d", w.Code)
	}
	for i := 0; i < 10; i++ {
		if w := do(WithPeerRole(bg, auth.RoleAdmin)); w.Code != 200 {
			t.Fatalf("the owner's socket, request %d: %d", i, w.Code)
		}
	}
	now = now.Add(500 * time.Millisecond) // one token back at 2/s
	if w := do(bg, "X-API-Key", readKey); w.Code != 200 {
		t.Errorf("after a token came back: %d", w.Code)
	}
	if w := do(bg, "X-API-Key", readKey); w.Code != 429 {
		t.Errorf("and the next: %d", w.Code)
	}
}

// TestBodyLimit: a body over the route's limit is 413 before the handler
// reads it, whether it says its length or not.
func TestBodyLimit(t *testing.T) {
	f := newControlFixture(t, true)
	big := strings.Repeat(" ", defaultMaxBody+1)
	req := httptest.NewRequest("POST", "/api/v1/builds", strings.NewReader(`{"packages":["misc/hello"]}`+big))
	req.Header.Set("X-API-Key", buildKey)
	w := httptest.NewRecorder()
	f.s.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), CodeBodyTooLarge) {
		t.Errorf("declared length: %d %s", w.Code, w.Body)
	}
	req = httptest.NewRequest("POST", "/api/v1/builds", strings.NewReader(`{"packages":["misc/hello"]}`+big))
	req.ContentLength = -1
	req.Header.Set("X-API-Key", buildKey)
	w = httptest.NewRecorder()
	f.s.ServeHTTP(w, req)
	if w.Code < 400 {
		t.Errorf("undeclared length: %d", w.Code)
	}
	if calls := f.ctl.took(); len(calls) != 0 {
		t.Errorf("oversized bodies reached the controller: %q", calls)
	}
}

// TestStreamsPerPrincipal is finding 2 of issue 13: one key cannot hold
// all the event stream places; another principal still gets one; a
// WebSocket client that sends one message and leaves frees its place at
// once.
func TestStreamsPerPrincipal(t *testing.T) {
	s, hs, _ := liveServer(t, Options{MaxStreams: 4, MaxStreamsPerClient: 2})
	ended := make(chan struct{}, 16)
	s.unsubscribed = func() { ended <- struct{}{} }
	open := func(key string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, "http://"+hs.Addr()+"/api/v1/events", nil)
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var held []*http.Response
	for i := 0; i < 2; i++ {
		r := open(readKey)
		if r.StatusCode != 200 {
			t.Fatalf("stream %d: %d", i, r.StatusCode)
		}
		held = append(held, r)
	}
	r := open(readKey)
	if r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third stream of one key: %d", r.StatusCode)
	}
	r.Body.Close()
	r = open(adminKey)
	if r.StatusCode != 200 {
		t.Errorf("another key while the first holds its share: %d", r.StatusCode)
	}
	held = append(held, r)
	if n := s.streamCount(); n != 3 {
		t.Errorf("%d streams, want 3", n)
	}
	held[0].Body.Close()
	<-ended
	if r := open(readKey); r.StatusCode != 200 {
		t.Errorf("after one of its streams closed: %d", r.StatusCode)
	} else {
		held = append(held, r)
	}
	for _, h := range held[1:] {
		h.Body.Close()
	}
	for range held[1:] {
		<-ended
	}

	// The WebSocket that says something and leaves.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+hs.Addr()+"/api/v1/events", &websocket.DialOptions{HTTPHeader: http.Header{"X-API-Key": {readKey}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.streamCount(); n != 1 {
		t.Fatalf("%d streams after the WebSocket connected", n)
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	conn.CloseNow()
	<-ended // freed without a closing handshake's wait
	if n := s.streamCount(); n != 0 {
		t.Errorf("%d streams after the WebSocket left", n)
	}
}

// TestGuardHost: a handler served beside the API (the dashboard's login)
// gets the same Host and Origin check, and only when the server makes it.
func TestGuardHost(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, check := range []bool{true, false} {
		s := newTestServer(t, Options{BuildBase: newFixture(t).base, HostCheck: check})
		h := s.GuardHost(inner)
		for host, want := range map[string]int{"127.0.0.1:8080": http.StatusTeapot, "evil.example": http.StatusMisdirectedRequest} {
			if !check {
				want = http.StatusTeapot
			}
			req := httptest.NewRequest("GET", "/auth/oidc/login", nil)
			req.Host = host
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != want {
				t.Errorf("check=%v, Host %s: %d, want %d", check, host, w.Code, want)
			}
		}
	}
}
