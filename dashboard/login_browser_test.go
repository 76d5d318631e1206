package dashboard

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/oidctest"
)

// TestOIDCLoginPage logs in through the mock provider in Chromium: the
// page offers the single sign-on link, the flow ends on the page with the
// token moved to sessionStorage and gone from the address bar, no cookie
// readable, and the panels loaded with it; a user without a role sees
// the login's error in the prompt.
func TestOIDCLoginPage(t *testing.T) {
	path := findChromium(t)
	s := newOIDCSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	b := startBrowser(t, path)

	b.Navigate(s.srv.URL + "/")
	b.WaitFor(ctx, "the single sign-on link", `!document.getElementById('sso').hidden`)
	var href string
	b.MustEval(`document.getElementById('sso-link').getAttribute('href')`, &href)
	if href != LoginPath {
		t.Fatalf("the single sign-on link goes to %q, want %s", href, LoginPath)
	}

	s.provider.QueueUser(oidctest.User{Subject: "u-1", Extra: oidctest.Claims{"preferred_username": "jane", "groups": []string{"dsynth-readers"}}})
	b.Navigate(s.srv.URL + href)
	b.WaitFor(ctx, "the panels, read with the login's token",
		`document.body.dataset.state === 'ready' && document.querySelector('[data-field="stats-total"]')`)
	var got struct {
		Stored, Hash, Cookie, Path string
		Forget                     bool
	}
	b.MustEval(`({stored: sessionStorage.getItem('go-dsynth.api-key') || '', hash: location.hash, cookie: document.cookie,
		path: location.pathname, forget: !document.getElementById('forget').hidden})`, &got)
	if strings.Count(got.Stored, ".") != 2 {
		t.Errorf("sessionStorage holds %q, want the ID token", got.Stored)
	} else if p, err := s.verifier.Verify(ctx, got.Stored, time.Now()); err != nil || p.Name != "jane" {
		t.Errorf("the stored token: %+v, %v", p, err)
	}
	if got.Hash != "" || got.Path != "/" || got.Cookie != "" || !got.Forget {
		t.Errorf("after the login: hash %q, path %q, cookie %q, log out offered %v; want no fragment, /, no cookie, true", got.Hash, got.Path, got.Cookie, got.Forget)
	}
	if dom := b.DOM(); strings.Contains(dom, got.Stored) {
		t.Error("the token is in the page")
	}

	// Log out, then a user whose groups map to no role.
	b.MustEval(`document.getElementById('forget').click()`, nil)
	b.WaitFor(ctx, "the prompt after logging out", `document.body.dataset.state === 'no-key' && sessionStorage.length === 0`)
	s.provider.QueueUser(oidctest.User{Subject: "u-2", Extra: oidctest.Claims{"preferred_username": "eve", "groups": []string{"staff"}}})
	b.Navigate(s.srv.URL + LoginPath)
	b.WaitFor(ctx, "the login's error", `document.body.dataset.state === 'auth-failed'`)
	var msg, hash string
	b.MustEval(`document.getElementById('auth-message').textContent`, &msg)
	b.MustEval(`location.hash`, &hash)
	if !strings.Contains(msg, `The login failed: oidc: eve: no value of the "groups" claim (staff) is mapped`) || hash != "" {
		t.Errorf("an unmapped user: the prompt says %q, the fragment is %q", msg, hash)
	}
	b.CheckProblems()
}
