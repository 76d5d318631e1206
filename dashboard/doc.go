// Package dashboard is go-dsynth's web dashboard: one page, served from
// files embedded in the binary (index.html, dashboard.js, dashboard.css,
// and the views timeline.js, graph.js, trends.js with views.css), that
// shows the build database and the run in progress through the API of
// package api, and controls the build service. There is no build step and no external resource: the page
// works on a machine without internet access.
//
// # Serving
//
// [Handler] serves the page at "/" and its assets beside it, with a
// Content-Security-Policy that allows nothing but the page's own origin,
// X-Content-Type-Options: nosniff, and 404 for every other path. It serves
// no /api/ path: the caller mounts it beside the API on one mux,
//
//	mux.Handle("/api/", apiServer)
//	mux.Handle("/", dashboard.Handler())
//
// so that the page and the API share an origin (the page calls /api/v1/…
// and the policy forbids any other origin).
//
// # The page
//
// The page asks for an API key or a token (the URL fragment #key=… or
// #token=…, which browsers never send to the server and which the page
// removes from the address bar at once, or a form), or logs in through an
// OpenID Connect provider ([Login]: the authorization-code flow with PKCE,
// the code exchanged by the server, which hands the ID token to the page
// in the fragment), and keeps the credential in the tab's sessionStorage
// only; every request carries a token as Authorization: Bearer, a key as
// X-API-Key. It shows the status of the run in
// progress or the last run, the statistics, the recent build records
// (filters, paging with the API's cursor), a port's history and last known
// good build (#port=category/port), and the live event stream, read with
// fetch because EventSource cannot send the key; build ends refresh the
// panels, and a dropped stream is reopened with backoff. Views are chosen
// by the fragment (#view=overview|control|timeline|graph|trends|logs):
// control (start, cancel, retry, reorder and remove builds, pause and
// resume workers) only when GET /api/v1/whoami grants "build"; logs with a
// live tail, search and download; the timeline, graph and trends views are
// files of their own, mounted through window.dsynthViews with the helpers
// of window.dsynthKit (dashboard.js's opening comment). Every string from
// the API is inserted as text, never as markup. docs/DASHBOARD.md is the
// user's description.
//
// # Tests
//
// handler_test.go checks the HTTP side. The browser tests run the page in
// headless Chromium against a real api.Server over a real build database,
// with a keys file and a real event bus (fixture_test.go): page_test.go
// loads it with --dump-dom (the key prompt, a wrong key, the panels against
// builddb), live_test.go drives it through the DevTools protocol
// (internal/cdp) while a run is published: the live feed and the refreshes
// it causes, a click to a port's history, paging, filters, reconnection;
// views_test.go opens every view at desktop and phone widths (layout,
// screenshots, axe-core), checks control by role and the log view;
// cmd/dsynth's TestDashboardDrivesTheService drives the page against
// `dsynth serve` building real ports;
// login_test.go and login_browser_test.go run the single sign-on against
// a real provider (internal/oidctest).
package dashboard
