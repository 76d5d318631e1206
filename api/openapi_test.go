package api

// The OpenAPI harness: every request the api package's tests make goes
// through checkedServe (get does; so do the servers of validating), which
// validates the request and its answer against api/openapi.json, and
// TestOpenAPIRoutes holds the route table and the document to each other.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// spec is api/openapi.json, loaded and checked once.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// specDoc returns the document and its router; a document that does not
// load or is not valid OpenAPI 3.1 fails the test.
func specDoc(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, r, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	return doc, r
}

// loadSpec loads and checks the document, once.
func loadSpec() (*openapi3.T, routers.Router, error) {
	spec.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(OpenAPI)
		if err != nil {
			spec.err = fmt.Errorf("api/openapi.json does not load: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			spec.err = fmt.Errorf("api/openapi.json is not a valid OpenAPI document: %w", err)
			return
		}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			spec.err = fmt.Errorf("api/openapi.json: router: %w", err)
			return
		}
		spec.doc, spec.router = doc, r
	})
	return spec.doc, spec.router, spec.err
}

func init() {
	// The streaming media types have no schema of their own in OpenAPI
	// 3.1: the document describes each as the array of its items, and
	// these decoders make that array of the body.
	openapi3filter.RegisterBodyDecoder("text/event-stream", sseBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", ndjsonBodyDecoder)
}

// sseBodyDecoder decodes an event stream into [{"event", "data"}, …], the
// comments left out; an event's name must be its message's type, when the
// message has one.
func sseBodyDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	r := &sseReader{bufio.NewReader(body)}
	out := []any{}
	for {
		ev, err := r.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if ev.typ == "" && ev.data == "" {
			continue // a comment
		}
		var data any
		if err := json.Unmarshal([]byte(ev.data), &data); err != nil {
			return nil, fmt.Errorf("event %q: data is not JSON: %w", ev.typ, err)
		}
		// A message that names its type (every message of the event
		// stream) names the event's; a log stream's data has no type.
		if m, ok := data.(map[string]any); !ok || m["type"] != nil && m["type"] != ev.typ {
			return nil, fmt.Errorf("event %q: its data's type is not the event's name: %.200s", ev.typ, ev.data)
		}
		out = append(out, map[string]any{"event": ev.typ, "data": data})
	}
}

// ndjsonBodyDecoder decodes JSON lines into the array of the lines.
func ndjsonBodyDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 64<<20)
	out := []any{}
	for n := 1; sc.Scan(); n++ {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// maxCaptured bounds the part of an answer kept for validation.
const maxCaptured = 256 << 20

// capture is a ResponseWriter that passes everything on and keeps the
// status and a copy of the body. Unwrap lets http.ResponseController
// (flushes, deadlines) and the WebSocket handshake (hijacking) reach the
// writer beneath.
type capture struct {
	http.ResponseWriter
	mu      sync.Mutex
	status  int
	body    bytes.Buffer
	cut     bool // the body outgrew maxCaptured
	written bool
}

func (c *capture) WriteHeader(code int) {
	c.mu.Lock()
	if !c.written || code < 200 {
		c.status = code
	}
	if code >= 200 {
		c.written = true
	}
	c.mu.Unlock()
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	c.mu.Lock()
	if !c.written {
		c.status, c.written = http.StatusOK, true
	}
	if c.body.Len()+len(b) > maxCaptured {
		c.cut = true
	} else {
		c.body.Write(b)
	}
	c.mu.Unlock()
	return c.ResponseWriter.Write(b)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// checkedServe serves r with h into w and returns how the request or its
// answer disagrees with api/openapi.json (nothing when they agree).
//
// A request the document has no operation for must get an error envelope
// (4xx). A request the document refuses (a bad parameter) must get a 4xx
// the operation documents; a request it accepts must get an answer that
// the operation documents, status, headers and body.
func checkedServe(t testing.TB, h http.Handler, w http.ResponseWriter, r *http.Request) []string {
	t.Helper()
	doc, router := specDoc(t)
	var reqBody []byte
	if r.Body != nil {
		reqBody, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	// The validator's copy, taken before the handler sees the request.
	probe := r.Clone(context.Background())
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	if probe.URL.Host == "" {
		probe.URL.Host = r.Host
	}
	if probe.URL.Scheme == "" {
		probe.URL.Scheme = "http"
	}

	c := &capture{ResponseWriter: w}
	h.ServeHTTP(c, r)
	c.mu.Lock()
	status, body, cut := c.status, slices.Clone(c.body.Bytes()), c.cut
	c.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	header := w.Header().Clone()
	what := r.Method + " " + r.URL.RequestURI()
	if cut {
		return []string{what + ": the answer is too long to validate"}
	}
	return checkExchange(doc, router, probe, status, header, body, what)
}

// checkExchange validates one request and its answer.
func checkExchange(doc *openapi3.T, router routers.Router, req *http.Request, status int, header http.Header, body []byte, what string) []string {
	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, what+": "+fmt.Sprintf(format, args...))
	}
	head := req.Method == http.MethodHead
	route, params, err := router.FindRoute(req)
	if err != nil && head {
		// HEAD of an operation documented for GET only: the GET answer
		// without its body.
		get := req.Clone(req.Context())
		get.Method = http.MethodGet
		if route, params, err = router.FindRoute(get); err == nil {
			req = get
		}
	}
	if err != nil {
		// No operation: the answer must be an error envelope.
		if status < 400 || status >= 500 {
			fail("api/openapi.json has no operation for it (%v), yet the server answered %d", err, status)
			return problems
		}
		if head {
			return problems
		}
		if err := validateJSON(doc, "ErrorEnvelope", body); err != nil {
			fail("the %d answer is not an ErrorEnvelope: %v\n%.500s", status, err, body)
		}
		return problems
	}

	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		SkipSettingDefaults:   true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if reqErr != nil && status < 400 {
		fail("the server answered %d to a request that api/openapi.json refuses: %v", status, reqErr)
	}
	respOpts := *opts
	if head || status == http.StatusSwitchingProtocols {
		respOpts.ExcludeResponseBody = true
	}
	exercised.Store(req.Method+" "+route.Path, true)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &respOpts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		fail("the %d answer does not match api/openapi.json: %v\n%.500s", status, err, body)
	}
	return problems
}

// exercised holds the operations ("METHOD /path") that checkExchange
// has seen answered: TestMain wants every one of them.
var exercised sync.Map

// TestMain runs the tests, then fails a complete run (no -run, -skip or
// -short) in which some documented operation was never asked through the
// harness: every operation needs a test, and its answers are validated.
func TestMain(m *testing.M) {
	code := m.Run()
	partial := false
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			partial = true
		}
	}
	if code == 0 && !testing.Short() && !partial {
		doc, _, err := loadSpec()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, op := range operations(doc) {
			if _, ok := exercised.Load(op); !ok {
				fmt.Fprintf(os.Stderr, "FAIL: api/openapi.json documents %s, and no test of the api package asks it through the OpenAPI harness (get, serve or validating)\n", op)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// validateJSON validates a JSON text against a schema of the document's
// components.
func validateJSON(doc *openapi3.T, schema string, text []byte) error {
	var v any
	if err := json.Unmarshal(text, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return validateValue(doc, schema, v)
}

// validateValue validates a decoded JSON value (maps, float64s, …)
// against a schema of the document's components.
func validateValue(doc *openapi3.T, schema string, v any) error {
	ref := doc.Components.Schemas[schema]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("api/openapi.json has no schema %s", schema)
	}
	return doc.ValidateSchemaJSON(ref.Value, v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
}

// checkMessage fails the test unless v, a stream message decoded from
// JSON, matches the document's StreamMessage.
func checkMessage(t testing.TB, v any) {
	t.Helper()
	doc, _ := specDoc(t)
	if err := validateValue(doc, "StreamMessage", v); err != nil {
		t.Errorf("stream message %v does not match api/openapi.json's StreamMessage: %v", v, err)
	}
}

// validating wraps h so that every request it serves, and its answer, is
// checked against api/openapi.json, for tests that need a real server
// (streams, raw paths). What disagrees fails t; the check waits, at the
// end of the test, for the requests still being served.
func validating(t testing.TB, h http.Handler) http.Handler {
	var (
		mu       sync.Mutex
		problems []string
		busy     sync.WaitGroup
	)
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { busy.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("api/openapi.json: requests still being served at the end of the test; their answers were not validated")
		}
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("api/openapi.json: %s", p)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		busy.Add(1)
		defer busy.Done()
		ps := checkedServe(t, h, w, r)
		mu.Lock()
		problems = append(problems, ps...)
		mu.Unlock()
	})
}

// operations returns the document's operations as "METHOD /path".
func operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// routeOperation turns a route pattern ("GET /api/v1/builds/{id}") into
// the operation that documents it: OpenAPI has no {name...} wildcard
// (the parameter simply holds slashes) and no {$}.
func routeOperation(pattern string) (string, error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("route %q has no method or is not a path: the OpenAPI check needs \"METHOD /path\"", pattern)
	}
	path = strings.ReplaceAll(path, "...}", "}")
	path = strings.TrimSuffix(path, "{$}")
	return method + " " + path, nil
}

// TestOpenAPIRoutes holds the route table (api/server.go, routes) and
// api/openapi.json to each other: every route has its operation, every
// operation its route (a HEAD operation the GET route of its path).
func TestOpenAPIRoutes(t *testing.T) {
	doc, _ := specDoc(t)
	s := newTestServer(t, Options{BuildBase: t.TempDir()})
	if len(s.patterns) == 0 {
		t.Fatal("the server registered no route")
	}
	routes := map[string]bool{}
	for _, p := range s.patterns {
		op, err := routeOperation(p)
		if err != nil {
			t.Error(err)
			continue
		}
		routes[op] = true
	}
	documented := map[string]bool{}
	for _, op := range operations(doc) {
		documented[op] = true
	}
	for _, p := range s.patterns {
		op, err := routeOperation(p)
		if err != nil || documented[op] {
			continue
		}
		method, path, _ := strings.Cut(op, " ")
		t.Errorf("route %q (api/server.go, routes) has no operation in api/openapi.json: document it as paths[%q].%s, with its parameters, its answers and their schemas (docs/API.md, \"Adding an endpoint\")",
			p, path, strings.ToLower(method))
	}
	for _, op := range operations(doc) {
		method, path, _ := strings.Cut(op, " ")
		if method == http.MethodHead {
			if !routes["GET "+path] {
				t.Errorf("api/openapi.json documents %s, and no GET route of the table serves %s", op, path)
			}
			continue
		}
		if !routes[op] {
			t.Errorf("api/openapi.json documents %s, which no route of the table (api/server.go, routes) serves", op)
		}
	}
}

// TestOpenAPIDocument: the document is OpenAPI 3.1.0 of this API version,
// and it names every error code and every stream message type the code
// defines (the Code… and Type… constants).
func TestOpenAPIDocument(t *testing.T) {
	doc, _ := specDoc(t)
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if doc.Info.Version != Version {
		t.Errorf("info.version %q, want the API's %s", doc.Info.Version, Version)
	}
	// The JSON Schema 2020-12 forms the document uses, as the validator
	// reads them: a type array with "null", anyOf with {"type": "null"},
	// const.
	for _, tt := range []struct {
		schema, value string
		ok            bool
	}{
		{"WorkersSummary", `{"total":0,"busy":0,"limit":0,"slots":null}`, true},
		{"WorkersSummary", `{"total":0,"busy":0,"limit":0,"slots":"none"}`, false},
		{"IdleStatus", `{"active":false}`, true},
		{"IdleStatus", `{"active":true}`, false},
		{"PackageData", `{"package":"misc/x","last_build":null,"last_good":null,"average_duration":"0s","successful_builds":0}`, false},
	} {
		if err := validateJSON(doc, tt.schema, []byte(tt.value)); (err == nil) != tt.ok {
			t.Errorf("%s %s: %v, want valid %v", tt.schema, tt.value, err, tt.ok)
		}
	}
	consts := packageStringConsts(t)
	codes := doc.Components.Schemas["ErrorCode"].Value.Enum
	types := map[string]bool{}
	for _, ref := range doc.Components.Schemas["StreamMessage"].Value.OneOf {
		ts := ref.Value.Properties["type"].Value
		if ts.Const != nil {
			types[fmt.Sprint(ts.Const)] = true
		}
		for _, e := range ts.Enum {
			types[fmt.Sprint(e)] = true
		}
	}
	for name, value := range consts {
		switch {
		case strings.HasPrefix(name, "Code") && !slices.Contains(codes, any(value)):
			t.Errorf("error code %s = %q is not in api/openapi.json's ErrorCode", name, value)
		case strings.HasPrefix(name, "Type") && !types[value]:
			t.Errorf("message type %s = %q has no schema in api/openapi.json's StreamMessage", name, value)
		}
	}
	for _, c := range codes {
		found := false
		for name, value := range consts {
			found = found || strings.HasPrefix(name, "Code") && value == c
		}
		if !found {
			t.Errorf("api/openapi.json's ErrorCode has %v, which no Code… constant defines", c)
		}
	}
}

// packageStringConsts returns the string constants of the package's
// non-test files, by name.
func packageStringConsts(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if v, err := strconv.Unquote(lit.Value); err == nil {
							out[id.Name] = v
						}
					}
				}
			}
		}
	}
	return out
}

// TestAPIMarkdownMentionsEveryOperation: docs/API.md names every
// documented operation as "METHOD /path" (HEAD ones aside).
func TestAPIMarkdownMentionsEveryOperation(t *testing.T) {
	doc, _ := specDoc(t)
	md, err := os.ReadFile("../docs/API.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range operations(doc) {
		if strings.HasPrefix(op, http.MethodHead+" ") {
			continue
		}
		if !bytes.Contains(md, []byte(op)) {
			t.Errorf("docs/API.md does not mention %s, which api/openapi.json documents", op)
		}
	}
}

// TestOpenAPIServed: GET /api/v1/openapi.json answers the embedded
// document itself (not an envelope), with the read role like the rest.
func TestOpenAPIServed(t *testing.T) {
	s := newTestServer(t, Options{BuildBase: t.TempDir()})
	req, _ := http.NewRequest(http.MethodGet, "http://dsynth.test/api/v1/openapi.json", nil)
	req.Header.Set("X-API-Key", readKey)
	w := httptest.NewRecorder()
	for _, p := range checkedServe(t, s, w, req) {
		t.Error(p)
	}
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), OpenAPI) || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("openapi.json: %d %q, %d bytes", w.Code, w.Header().Get("Content-Type"), w.Body.Len())
	}
	get(t, s, "/api/v1/openapi.json", "X-Other", "x").wantError(t, http.StatusUnauthorized, CodeUnauthorized)
	anon := newTestServer(t, Options{BuildBase: t.TempDir(), AnonymousRead: true})
	req, _ = http.NewRequest(http.MethodGet, "http://dsynth.test/api/v1/openapi.json", nil)
	w = httptest.NewRecorder()
	for _, p := range checkedServe(t, anon, w, req) {
		t.Error(p)
	}
	if w.Code != http.StatusOK {
		t.Errorf("anonymous reading: %d", w.Code)
	}
}

// TestOpenAPIHarness: the harness catches what it is there for — an
// answer the document does not describe, and a request it refuses that the
// server served.
func TestOpenAPIHarness(t *testing.T) {
	reply := func(code int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set(requestIDHeader, "req-1")
			w.WriteHeader(code)
			io.WriteString(w, body)
		})
	}
	meta := `"meta":{"timestamp":"2025-01-15T10:00:00Z","version":"1.0.0","request_id":"req-1"}`
	for _, tt := range []struct {
		name, path string
		h          http.Handler
		want       string // in the problem; "" for none
	}{
		{"good", "/api/v1/runs", reply(200, `{"status":"success","data":{"runs":[],"count":0},`+meta+`}`), ""},
		{"undocumented field", "/api/v1/runs", reply(200, `{"status":"success","data":{"runs":[],"count":0,"extra":1},`+meta+`}`), "does not match"},
		{"undocumented status", "/api/v1/runs", reply(418, `{}`), "does not match"},
		{"refused request served", "/api/v1/runs?limit=0", reply(200, `{"status":"success","data":{"runs":[],"count":0},`+meta+`}`), "refuses"},
		{"refused request answered 400", "/api/v1/runs?limit=0", reply(400, `{"status":"error","error":{"code":"BAD_REQUEST","message":"m","details":{}},`+meta+`}`), ""},
		{"no operation", "/api/v1/nothing", reply(200, `{}`), "no operation"},
		{"no operation, 404", "/api/v1/nothing", reply(404, `{"status":"error","error":{"code":"NOT_FOUND","message":"m","details":{}},`+meta+`}`), ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://dsynth.test"+tt.path, nil)
		got := strings.Join(checkedServe(t, tt.h, httptest.NewRecorder(), req), "\n")
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestInputsAndExport asks the endpoints that no other test asks through
// the harness: POST /api/v1/inputs (found, left out, refused bodies), a
// small export, and the HEAD operations.
func TestInputsAndExport(t *testing.T) {
	f := newFixture(t)
	db, err := builddb.Open(f.path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	in := builddb.Inputs{Origin: "misc/hello", Fingerprint: "fp", CRC: 42, HasCRC: true, Version: "1.0",
		DepVersions: map[string]string{"devel/libargs": "1.0"}, Build: f.records[6].ID.UUID, Updated: t0}
	if err := db.PutInputs(in); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := newTestServer(t, Options{BuildBase: f.base})
	call := func(method, path, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, "http://dsynth.test"+path, strings.NewReader(body))
		req.Header.Set("X-API-Key", readKey)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		serve(t, s, w, req)
		return w
	}

	w := call(http.MethodPost, "/api/v1/inputs", `{"origins":["misc/hello","misc/none"]}`)
	var got InputsData
	decodeAnswer(t, w.Code, w.Header(), w.Body).data(t, &got)
	if len(got.Inputs) != 1 || got.Inputs["misc/hello"] == nil || got.Inputs["misc/hello"].CRC != 42 {
		t.Errorf("inputs: %+v", got)
	}
	for _, body := range []string{`{"origins":["misc/hello"],"extra":1}`, `{"origins":`} {
		w := call(http.MethodPost, "/api/v1/inputs", body)
		decodeAnswer(t, w.Code, w.Header(), w.Body).wantError(t, http.StatusBadRequest, CodeBadRequest)
	}

	w = call(http.MethodGet, "/api/v1/export", "")
	if n := strings.Count(w.Body.String(), "\n"); w.Code != http.StatusOK || n != len(f.records) ||
		w.Result().Trailer.Get(ExportCountTrailer) != strconv.Itoa(n) {
		t.Errorf("export: %d, %d lines, trailer %q", w.Code, n, w.Result().Trailer.Get(ExportCountTrailer))
	}
	// (The recorder keeps what a handler writes for HEAD; net/http would
	// drop it. These handlers write none.)
	for _, path := range []string{"/api/v1/export", "/api/v1/events", "/api/v1/openapi.json"} {
		if w := call(http.MethodHead, path, ""); w.Code != http.StatusOK || w.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d, %d bytes", path, w.Code, w.Body.Len())
		}
	}
	if w := call(http.MethodHead, "/api/v1/runs", ""); w.Code != http.StatusOK {
		t.Errorf("HEAD /api/v1/runs: %d", w.Code)
	}
}
