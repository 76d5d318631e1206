package dashboard

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// contentSecurityPolicy is the policy of every answer: scripts, styles,
// images, fonts and connections from the page's own origin only (no inline
// script or style, no eval), no plugins, no <base>, forms only to the page
// itself, and no framing by other pages.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// loaded is the table of the embedded files, read once.
var loaded = sync.OnceValues(func() (map[string]*asset, error) { return loadAssets(files, assetsDir) })

// Handler returns the dashboard: index.html at "/" (and "/index.html"),
// dashboard.js and dashboard.css beside it, for GET and HEAD; 404 for any
// other path, /api/… included, and 405 for other methods. Every answer
// carries the Content-Security-Policy and nosniff headers. Mount it at "/"
// beside the API (see the package comment).
func Handler() http.Handler {
	table, err := loaded()
	if err != nil {
		// The files are compiled in: this is a build mistake, which the
		// package's tests catch.
		panic(err)
	}
	return &handler{assets: table}
}

// handler serves a fixed table of files; nothing is looked up on disk or
// listed.
type handler struct {
	assets map[string]*asset
}

// ServeHTTP serves one file of the table.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	a := h.assets[r.URL.Path]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed: the dashboard only answers GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	hdr.Set("Content-Type", a.contentType)
	// Revalidate every time: a new binary may bring new files, and the
	// ETag makes the check cheap.
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", a.etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
