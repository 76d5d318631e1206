package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
)

// Test keys and their holders.
const (
	readKey  = "read-secret-0123456789"
	adminKey = "admin-secret-0123456789"
)

// testKeys holds a read key and an admin key.
func testKeys(t *testing.T) *auth.Keys {
	t.Helper()
	line := func(name, role, key string) string {
		d := sha256.Sum256([]byte(key))
		return name + " " + role + " " + hex.EncodeToString(d[:]) + "\n"
	}
	ks, err := auth.ParseKeys("keys", strings.NewReader(line("reader", "read", readKey)+line("boss", "admin", adminKey)))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// t0 is the fixture's first start time.
var t0 = time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)

// fixture is a build database with two runs and their records.
type fixture struct {
	base    string // the build base
	path    string // its database
	runs    []*builddb.Run
	records []*builddb.BuildRecord // in start order
}

// rec makes a record of origin starting min minutes after t0.
func rec(origin string, min int, st builddb.Status, worker int, dur time.Duration, run uuid.UUID) *builddb.BuildRecord {
	dir, flavor, _ := strings.Cut(origin, "@")
	r := &builddb.BuildRecord{ID: builddb.NewBuildID(dir, "1.0", flavor), RunID: run, Status: st,
		StartTime: t0.Add(time.Duration(min) * time.Minute)}
	r.ID.WorkerID = worker
	r.EndTime = r.StartTime.Add(dur)
	if st == builddb.StatusSuccess {
		r.PkgFile = strings.ReplaceAll(dir, "/", "-") + "-1.0.pkg"
	}
	if st == builddb.StatusFailed {
		r.Phase, r.ErrorMsg = "build", "compilation error in foo.c"
	}
	return r
}

// newFixture writes the fixture into a fresh database file and closes it.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{base: t.TempDir()}
	f.path = builddb.Path(f.base)
	db, err := builddb.Open(f.path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r1 := &builddb.Run{ID: uuid.Must(uuid.NewV7()), Start: t0, End: t0.Add(50 * time.Minute), Directive: "build", Profile: "LiveSystem",
		Counts: builddb.Counts{Queued: 6, Built: 4, Failed: 1, Ignored: 1}}
	r2 := &builddb.Run{ID: uuid.Must(uuid.NewV7()), Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour), Directive: "just-build", Profile: "LiveSystem",
		Counts: builddb.Counts{Queued: 2, Built: 1, Failed: 1}}
	f.runs = []*builddb.Run{r1, r2}
	f.records = []*builddb.BuildRecord{
		rec("ports-mgmt/pkg", 0, builddb.StatusSuccess, 0, 5*time.Minute, r1.ID),
		rec("misc/hello", 6, builddb.StatusSuccess, 0, 2*time.Minute, r1.ID),
		rec("devel/libargs", 7, builddb.StatusSuccess, 1, 3*time.Minute, r1.ID),
		rec("misc/broken", 10, builddb.StatusFailed, 1, time.Minute, r1.ID),
		rec("misc/ign", 11, builddb.StatusIgnored, -1, 0, r1.ID),
		rec("lang/py@py39", 12, builddb.StatusSuccess, 0, 4*time.Minute, r1.ID),
		rec("misc/hello", 120, builddb.StatusSuccess, 1, 4*time.Minute, r2.ID),
		rec("misc/hello", 150, builddb.StatusFailed, 0, time.Minute, r2.ID),
	}
	for _, r := range f.runs {
		if err := db.PutRun(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range f.records {
		if err := db.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// newTestServer is a Server over the fixture with the test keys.
func newTestServer(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Keys == nil {
		o.Keys = testKeys(t)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// answer is a decoded envelope.
type answer struct {
	code   int
	header http.Header
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data"`
	Error  *ErrorBody      `json:"error"`
	Meta   *Meta           `json:"meta"`
	raw    string
}

// get sends a GET with the read key (unless headers say otherwise) to h.
// The request and its answer are validated against api/openapi.json
// (checkedServe): a disagreement fails the test.
func get(t *testing.T, h http.Handler, path string, headers ...string) answer {
	t.Helper()
	return send(t, h, true, path, headers...)
}

// getOffSpec is get without the validation, for the routes that tests add
// to a server and the document rightly does not describe.
func getOffSpec(t *testing.T, h http.Handler, path string, headers ...string) answer {
	t.Helper()
	return send(t, h, false, path, headers...)
}

// send is get, validated against api/openapi.json when check is set.
func send(t *testing.T, h http.Handler, check bool, path string, headers ...string) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://dsynth.test"+path, nil)
	if len(headers) == 0 {
		headers = []string{"X-API-Key", readKey}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	if check {
		serve(t, h, w, req)
	} else {
		h.ServeHTTP(w, req)
	}
	return decodeAnswer(t, w.Code, w.Header(), w.Body)
}

// serve serves req with h into w, validating the request and its answer
// against api/openapi.json: every test that calls a handler directly goes
// through it (or through get).
func serve(t testing.TB, h http.Handler, w http.ResponseWriter, req *http.Request) {
	t.Helper()
	for _, p := range checkedServe(t, h, w, req) {
		t.Errorf("api/openapi.json: %s", p)
	}
}

func decodeAnswer(t *testing.T, code int, h http.Header, body io.Reader) answer {
	t.Helper()
	b, _ := io.ReadAll(body)
	a := answer{code: code, header: h, raw: string(b)}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", code, err, b)
	}
	return a
}

// data decodes the answer's data into v, failing unless it is a success.
func (a answer) data(t *testing.T, v any) {
	t.Helper()
	if a.code != http.StatusOK || a.Status != "success" {
		t.Fatalf("answer %d %s, want 200 success:\n%s", a.code, a.Status, a.raw)
	}
	if err := json.Unmarshal(a.Data, v); err != nil {
		t.Fatalf("data: %v\n%s", err, a.raw)
	}
}

// wantError checks an error answer's status and code.
func (a answer) wantError(t *testing.T, code int, apiCode string) {
	t.Helper()
	if a.code != code || a.Status != "error" || a.Error == nil || a.Error.Code != apiCode {
		t.Fatalf("got %d, want %d %s:\n%s", a.code, code, apiCode, a.raw)
	}
	if a.Error.Message == "" || a.Error.Details == nil {
		t.Errorf("error without message or details object:\n%s", a.raw)
	}
}
