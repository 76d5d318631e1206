// Package api is go-dsynth's REST API, version 1, with the live event
// stream over Server-Sent Events and WebSocket. docs/API.md is the
// reference for clients; this comment is the map of the code.
//
// # Shape
//
// A [Server] is two things at once. It is an http.Handler serving
// /api/v1/…: read endpoints over the build database (builds, runs,
// packages, statistics) and the status of the run in progress. And it is
// one more events.Subscriber of the build's event bus: Handle keeps the
// live status up to date and hands every event, translated once into its
// JSON message, to each connected stream client's bounded queue. Handle
// never blocks: a client whose queue is full is dropped with a visible
// "stream.overflow" marker, so a slow or stuck client can never hold up
// the bus or the build. [Listen] serves a Server on an address until its
// Close, which ends the streams first.
//
// Every answer is an envelope: {"status":"success","data":…,"meta":…} or
// {"status":"error","error":{"code","message","details"},"meta":…}, where
// meta carries the time, the API version and the request id (the client's
// X-Request-ID when it sent a sane one, a fresh one otherwise; always
// echoed back in the X-Request-ID header).
//
// api/openapi.json is the OpenAPI 3.1 description of every route, built
// in ([OpenAPI]) and served at /api/v1/openapi.json. The tests hold the
// server to it: every request they make goes through a validator
// (kin-openapi, a test-only dependency), and the route table and the
// document must list the same operations.
//
// # The build database
//
// A running build writes the database through a transient handle (the
// file is open only during each transaction). The API never keeps the file
// open between requests: each request opens it read-only and transient
// with a bounded timeout (builddb.OpenReader, which first migrates a file
// an older go-dsynth wrote; Options.OpenDB can replace it), so readers and
// the build take turns at the file lock.
//
// # Beyond the database
//
// With Options.Config (the owner's configuration) the Server also reads
// the ports tree from the build base's scan cache (packages.go: kept
// while the file is unchanged; a port's rebuild verdict is
// builder.MakePlan's own), the port logs and the repository (logs.go: a
// build is named by its record's UUID, which events.PortStarted announces
// while it runs; a log stream is woken by the port's events), and
// dsynth.ini (config.go: validated with config's file:line rules, written
// atomically).
//
// # Authentication
//
// Clients present an API key in X-API-Key or Authorization: Bearer. The
// keys file (ParseKeys, LoadKeys) holds one "NAME ROLE SHA256HEX" line per
// key, never the key itself; a presented key is hashed and compared in
// constant time with every stored digest. Roles are ordered read < build <
// admin; each route names the role it needs. Anonymous clients get the
// read role when Options.AnonymousRead is set, nothing otherwise. NewKey
// and AppendKey make a key and record its hash.
//
// # Pure parts
//
// The event translation (Translator), the live status model (live), the
// query-parameter parsing and the keys-file parser are pure and tested on
// their own; the handlers only glue them to HTTP and to builddb.
package api
