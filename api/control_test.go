package api

// Tests of the build control endpoints' HTTP layer: builds, the queue and
// a build's ports, over a small fake Controller that keeps its builds in
// the build database the server reads (as the build service does). The
// service itself has its own tests (package service).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
)

// buildKey is the key of role build of controlKeys.
const buildKey = "build-secret-0123456789"

// controlKeys holds a read key, a build key and an admin key.
func controlKeys(t *testing.T) *auth.Keys {
	t.Helper()
	line := func(name, role, key string) string {
		d := sha256.Sum256([]byte(key))
		return name + " " + role + " " + hex.EncodeToString(d[:]) + "\n"
	}
	ks, err := auth.ParseKeys("keys", strings.NewReader(line("reader", "read", readKey)+line("builder", "build", buildKey)+line("boss", "admin", adminKey)))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// fakeController is a Controller that stores what it is asked in the
// build database, and answers fail instead when it is set. calls logs
// the calls that reached it.
type fakeController struct {
	db *builddb.DB

	mu    sync.Mutex
	fail  error
	calls []string
}

func (c *fakeController) called(format string, args ...any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fmt.Sprintf(format, args...))
	return c.fail
}

// took returns the calls so far and forgets them.
func (c *fakeController) took() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *fakeController) failWith(err error) {
	c.mu.Lock()
	c.fail = err
	c.mu.Unlock()
}

func (c *fakeController) Submit(_ context.Context, br BuildRequest, by string) (*builddb.Request, error) {
	if err := c.called("submit %s %s by %s", br.Directive, strings.Join(br.Packages, " "), by); err != nil {
		return nil, err
	}
	directive := br.Directive
	if directive == "" {
		directive = "build"
	}
	r := builddb.NewRequest(directive, br.Packages, "LiveSystem")
	r.By, r.Queued = by, len(br.Packages)
	r.Estimate = builddb.Duration(time.Duration(len(br.Packages)) * time.Minute)
	r.Flags = builddb.RequestFlags{Developer: br.Developer, CheckPlist: br.CheckPlist}
	return r, c.db.PutRequest(r)
}

// end ends an open request as cancelled.
func (c *fakeController) end(id uuid.UUID, why string) (*builddb.Request, error) {
	r, err := c.db.Request(id)
	if errors.Is(err, builddb.ErrNotFound) {
		return nil, Errorf(http.StatusNotFound, CodeBuildNotFound, "no build %s", id)
	}
	if err != nil {
		return nil, err
	}
	r.State, r.Error, r.Ended = builddb.RequestCancelled, why, t0.Add(10*time.Hour)
	return r, c.db.PutRequest(r)
}

func (c *fakeController) Cancel(_ context.Context, id uuid.UUID) (*builddb.Request, error) {
	if err := c.called("cancel %s", id); err != nil {
		return nil, err
	}
	return c.end(id, "cancelled")
}

func (c *fakeController) Remove(_ context.Context, id uuid.UUID) (*builddb.Request, error) {
	if err := c.called("remove %s", id); err != nil {
		return nil, err
	}
	return c.end(id, "removed from the queue")
}

func (c *fakeController) Retry(_ context.Context, id uuid.UUID, by string) (*builddb.Request, error) {
	if err := c.called("retry %s by %s", id, by); err != nil {
		return nil, err
	}
	r := builddb.NewRequest("build", []string{"misc/broken"}, "LiveSystem")
	r.By, r.RetryOf, r.Queued = by, id, 1
	return r, c.db.PutRequest(r)
}

func (c *fakeController) Move(_ context.Context, id uuid.UUID, position int) ([]*builddb.Request, error) {
	if err := c.called("move %s %d", id, position); err != nil {
		return nil, err
	}
	q, err := c.db.MoveRequest(id, position)
	if errors.Is(err, builddb.ErrNotQueued) {
		return nil, Errorf(http.StatusConflict, CodeConflict, "build %s is not queued", id)
	}
	return q, err
}

func (c *fakeController) Running() (uuid.UUID, bool) { return uuid.Nil, false }

// controlFixture is the build database of newFixture (two command line
// runs) with builds of the service: one done in two runs, two queued,
// one running; and a server over the open database.
type controlFixture struct {
	*fixture
	db                              *builddb.DB
	done, queued1, queued2, running *builddb.Request
	doneRun1, doneRun2, runningRun  *builddb.Run
	doneRecords                     []*builddb.BuildRecord // run after run, in start order
	ctl                             *fakeController
	s                               *Server
}

// newControlFixture makes the fixture; the server has the fake
// controller when withControl is set.
func newControlFixture(t *testing.T, withControl bool) *controlFixture {
	t.Helper()
	f := &controlFixture{fixture: newFixture(t)}
	db, err := builddb.Open(f.path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }

	// Ids in this order (time-ordered UUIDs): done, its second run,
	// queued1, queued2, running.
	f.done = builddb.NewRequest("build", []string{"misc/hello", "misc/broken"}, "LiveSystem")
	f.doneRun2 = &builddb.Run{ID: uuid.Must(uuid.NewV7()), Start: h(4.5), End: h(5), Directive: "build", Profile: "LiveSystem",
		Counts: builddb.Counts{Queued: 1, Built: 1}, Build: f.done.ID}
	f.queued1 = builddb.NewRequest("just-build", []string{"misc/a"}, "LiveSystem")
	f.queued2 = builddb.NewRequest("build", []string{"misc/b"}, "LiveSystem")
	f.running = builddb.NewRequest("force", []string{"misc/c"}, "LiveSystem")

	f.doneRun1 = &builddb.Run{ID: f.done.ID, Start: h(4), End: h(4.4), Directive: "build", Profile: "LiveSystem",
		Counts: builddb.Counts{Queued: 3, Built: 1, Failed: 1, Skipped: 1}, Build: f.done.ID}
	f.done.Submitted, f.done.Started, f.done.Ended = h(4), h(4), h(5)
	f.done.State, f.done.By, f.done.Queued = builddb.RequestDone, "key builder", 3
	f.done.Estimate = builddb.Duration(45 * time.Minute)
	f.done.Runs = []uuid.UUID{f.doneRun1.ID, f.doneRun2.ID}
	f.queued1.Submitted = h(6)
	f.queued2.Submitted = h(6.1)
	f.running.Submitted, f.running.Started, f.running.State = h(5.9), h(6.2), builddb.RequestRunning
	f.running.Runs = []uuid.UUID{f.running.ID}
	f.runningRun = &builddb.Run{ID: f.running.ID, Start: h(6.2), Directive: "force", Profile: "LiveSystem", Build: f.running.ID}

	f.doneRecords = []*builddb.BuildRecord{
		rec("misc/hello", 240, builddb.StatusSuccess, 0, 2*time.Minute, f.doneRun1.ID),
		rec("misc/broken", 242, builddb.StatusFailed, 1, time.Minute, f.doneRun1.ID),
		rec("misc/broken", 272, builddb.StatusSuccess, 0, 3*time.Minute, f.doneRun2.ID),
	}
	for _, r := range []*builddb.Request{f.done, f.queued1, f.queued2, f.running} {
		if err := db.PutRequest(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*builddb.Run{f.doneRun1, f.doneRun2, f.runningRun} {
		if err := db.PutRun(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range f.doneRecords {
		if err := db.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	f.ctl = &fakeController{db: db}
	o := Options{DB: db, Keys: controlKeys(t), AnonymousRead: true}
	if withControl {
		o.Control = f.ctl
	}
	f.s = newTestServer(t, o)
	return f
}

// ask sends a request with the admin key (unless headers name others) and
// the body as JSON (unless headers set another Content-Type) through the
// OpenAPI harness.
func ask(t *testing.T, h http.Handler, method, path, body string, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://dsynth.test"+path, rd)
	if len(headers) == 0 {
		headers = []string{"X-API-Key", adminKey}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	serve(t, h, w, req)
	return decodeAnswer(t, w.Code, w.Header(), w.Body)
}

// created decodes a 201 answer, checking its Location.
func (a answer) created(t *testing.T) SubmitData {
	t.Helper()
	if a.code != http.StatusCreated || a.Status != "success" {
		t.Fatalf("answer %d %s, want 201 success:\n%s", a.code, a.Status, a.raw)
	}
	var sd SubmitData
	if err := json.Unmarshal(a.Data, &sd); err != nil {
		t.Fatalf("data: %v\n%s", err, a.raw)
	}
	if sd.BuildID == uuid.Nil || sd.Build.ID != sd.BuildID {
		t.Errorf("build_id %s, build.id %s", sd.BuildID, sd.Build.ID)
	}
	if loc := a.header.Get("Location"); loc != "/api/v1/builds/"+sd.BuildID.String() {
		t.Errorf("Location %q, want /api/v1/builds/%s", loc, sd.BuildID)
	}
	return sd
}

// buildIDs lists the builds' ids.
func buildIDs(bs []Build) []uuid.UUID {
	var out []uuid.UUID
	for _, b := range bs {
		out = append(out, b.ID)
	}
	return out
}

// writeOps are the build control operations, on ids of f.
func writeOps(f *controlFixture) []struct{ method, path, body string } {
	return []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello"]}`},
		{http.MethodPost, "/api/v1/queue", `{"packages":["misc/hello"]}`},
		{http.MethodDelete, "/api/v1/builds/" + f.queued1.ID.String(), ""},
		{http.MethodPost, "/api/v1/builds/" + f.done.ID.String() + "/retry", ""},
		{http.MethodDelete, "/api/v1/queue/" + f.queued2.ID.String(), ""},
	}
}

// TestBuildWritesNeedAService: a process without a build service (a
// command line build serving the API) answers every write 409
// NOT_A_SERVICE — before reading the body — and still lists the builds.
func TestBuildWritesNeedAService(t *testing.T) {
	f := newControlFixture(t, false)
	for _, op := range writeOps(f) {
		ask(t, f.s, op.method, op.path, op.body).wantError(t, http.StatusConflict, CodeNotAService)
	}
	ask(t, f.s, http.MethodPost, "/api/v1/builds", `{"packages":`).wantError(t, http.StatusConflict, CodeNotAService)
	var bs BuildsData
	get(t, f.s, "/api/v1/builds").data(t, &bs)
	if bs.Count != 6 {
		t.Errorf("%d builds without a service, want 6", bs.Count)
	}
}

// TestBuildWritesNeedRoleBuild: the write endpoints want the build role:
// 401 without a key (even with anonymous reading), 403 for a read key;
// the controller is never asked. The build and admin keys may.
func TestBuildWritesNeedRoleBuild(t *testing.T) {
	f := newControlFixture(t, true)
	for _, op := range writeOps(f) {
		ask(t, f.s, op.method, op.path, op.body, "X-Other", "x").wantError(t, http.StatusUnauthorized, CodeUnauthorized)
		a := ask(t, f.s, op.method, op.path, op.body, "X-API-Key", readKey)
		a.wantError(t, http.StatusForbidden, CodeForbidden)
		if a.Error.Details["required"] != "build" {
			t.Errorf("%s %s: details %v, want required build", op.method, op.path, a.Error.Details)
		}
	}
	if calls := f.ctl.took(); len(calls) != 0 {
		t.Errorf("refused requests reached the controller: %q", calls)
	}
	ask(t, f.s, http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello"]}`, "X-API-Key", buildKey).created(t)
	ask(t, f.s, http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello"]}`, "Authorization", "Bearer "+adminKey).created(t)
	if calls := f.ctl.took(); !slices.Equal(calls, []string{"submit  misc/hello by key builder", "submit  misc/hello by key boss"}) {
		t.Errorf("calls %q: want two submits, each by its key's name", calls)
	}
}

// TestSubmitBuild: POST /builds and POST /queue queue a build: 201, its
// Location, the seed's fields, and the build as GET /builds/{id} shows it,
// behind the two queued builds.
func TestSubmitBuild(t *testing.T) {
	f := newControlFixture(t, true)
	sd := ask(t, f.s, http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello","misc/x"],"directive":"just-build","developer":true}`,
		"X-API-Key", buildKey).created(t)
	b := sd.Build
	if b.State != builddb.RequestQueued || b.Source != "service" || b.Directive != "just-build" || !slices.Equal(b.Packages, []string{"misc/hello", "misc/x"}) ||
		b.By != "key builder" || !b.Flags.Developer || b.Flags.CheckPlist || len(b.Runs) != 0 {
		t.Errorf("submitted build: %+v", b)
	}
	if sd.Queued != 2 || sd.Estimate != builddb.Duration(2*time.Minute) || b.Queued != 2 {
		t.Errorf("queued_packages %d, estimated_duration %v: want the controller's 2 and 2m", sd.Queued, sd.Estimate)
	}
	if sd.Position != 3 || b.Position != 3 {
		t.Errorf("position %d (build %d), want 3: behind the two queued builds", sd.Position, b.Position)
	}
	var one BuildData
	get(t, f.s, "/api/v1/builds/"+sd.BuildID.String()).data(t, &one)
	if one.Build.ID != sd.BuildID || one.Build.Position != 3 || one.Build.State != builddb.RequestQueued {
		t.Errorf("GET of the Location: %+v", one.Build)
	}

	sd2 := ask(t, f.s, http.MethodPost, "/api/v1/queue", `{"packages":["misc/y"]}`).created(t)
	if sd2.Position != 4 || sd2.Build.Directive != "build" || sd2.Build.By != "key boss" {
		t.Errorf("POST /queue: position %d, build %+v; want 4, build, by key boss", sd2.Position, sd2.Build)
	}
	var q BuildsData
	get(t, f.s, "/api/v1/queue").data(t, &q)
	if got := buildIDs(q.Builds); !slices.Equal(got, []uuid.UUID{f.running.ID, f.queued1.ID, f.queued2.ID, sd.BuildID, sd2.BuildID}) {
		t.Errorf("queue after two submits: %v", got)
	}
}

// TestSubmitRefusesBadBodies: a body that is not one JSON object of the
// known fields is 400 BAD_REQUEST, another Content-Type 415; none reaches
// the controller.
func TestSubmitRefusesBadBodies(t *testing.T) {
	f := newControlFixture(t, true)
	for _, path := range []string{"/api/v1/builds", "/api/v1/queue"} {
		for name, body := range map[string]string{
			"malformed":     `{"packages":`,
			"unknown field": `{"packages":["misc/hello"],"priority":1}`,
			"two objects":   `{"packages":["misc/hello"]} {"packages":["misc/x"]}`,
			"trailing data": `{"packages":["misc/hello"]}]`,
			"not an object": `["misc/hello"]`,
			"wrong type":    `{"packages":"misc/hello"}`,
		} {
			a := ask(t, f.s, http.MethodPost, path, body)
			a.wantError(t, http.StatusBadRequest, CodeBadRequest)
			if !strings.Contains(a.Error.Message, "malformed body") {
				t.Errorf("%s, %s: message %q", path, name, a.Error.Message)
			}
		}
		ask(t, f.s, http.MethodPost, path, `packages=misc/hello`, "X-API-Key", adminKey, "Content-Type", "application/x-www-form-urlencoded").
			wantError(t, http.StatusUnsupportedMediaType, CodeBadRequest)
		ask(t, f.s, http.MethodPost, path, `{"packages":["misc/hello"]}`, "X-API-Key", adminKey, "Content-Type", "text/plain").
			wantError(t, http.StatusUnsupportedMediaType, CodeBadRequest)
	}
	if calls := f.ctl.took(); len(calls) != 0 {
		t.Errorf("bad bodies reached the controller: %q", calls)
	}
	// The body is read to the end: a request that is well formed but
	// for whitespace after the object is one.
	ask(t, f.s, http.MethodPost, "/api/v1/builds", "{\"packages\":[\"misc/hello\"]}\n\t ").created(t)
}

// TestControllerErrorsPassThrough: the controller's *Error reaches the
// client with its status, code and message; any other error is a 500 that
// does not tell the cause.
func TestControllerErrorsPassThrough(t *testing.T) {
	f := newControlFixture(t, true)
	done, queued := f.done.ID.String(), f.queued1.ID.String()
	for _, tt := range []struct {
		err                error
		method, path, body string
		status             int
		code               string
	}{
		{Errorf(http.StatusBadRequest, CodeUnknownPort, "packages: misc/nothere is not a port"), http.MethodPost, "/api/v1/builds", `{"packages":["misc/nothere"]}`, 400, CodeUnknownPort},
		{Errorf(http.StatusBadRequest, CodeBadProfile, "profile Other: this service builds LiveSystem"), http.MethodPost, "/api/v1/queue", `{"packages":["misc/hello"],"profile":"Other"}`, 400, CodeBadProfile},
		{Errorf(http.StatusBadRequest, CodeBadDirective, "force is true but directive is build"), http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello"],"directive":"build","force":true}`, 400, CodeBadDirective},
		{Errorf(http.StatusConflict, CodeConflict, "build is done: there is nothing to cancel"), http.MethodDelete, "/api/v1/builds/" + done, "", 409, CodeConflict},
		{Errorf(http.StatusNotFound, CodeBuildNotFound, "no build"), http.MethodDelete, "/api/v1/builds/" + uuid.Must(uuid.NewV7()).String(), "", 404, CodeBuildNotFound},
		{Errorf(http.StatusConflict, CodeConflict, "build is running, not queued"), http.MethodDelete, "/api/v1/queue/" + queued, "", 409, CodeConflict},
		{Errorf(http.StatusNotFound, CodeBuildNotFound, "no build"), http.MethodDelete, "/api/v1/queue/" + queued, "", 404, CodeBuildNotFound},
		{Errorf(http.StatusConflict, CodeNothingToRetry, "no failed or skipped port"), http.MethodPost, "/api/v1/builds/" + done + "/retry", "", 409, CodeNothingToRetry},
		{Errorf(http.StatusConflict, CodeConflict, "retry it once it has ended"), http.MethodPost, "/api/v1/builds/" + queued + "/retry", "", 409, CodeConflict},
		{Errorf(http.StatusNotFound, CodeBuildNotFound, "no build"), http.MethodPost, "/api/v1/builds/" + uuid.Must(uuid.NewV7()).String() + "/retry", "", 404, CodeBuildNotFound},
		{errors.New("disk on fire"), http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello"]}`, 500, CodeInternal},
		{errors.New("disk on fire"), http.MethodDelete, "/api/v1/builds/" + queued, "", 500, CodeInternal},
		{errors.New("disk on fire"), http.MethodPost, "/api/v1/builds/" + done + "/retry", "", 500, CodeInternal},
	} {
		f.ctl.failWith(tt.err)
		a := ask(t, f.s, tt.method, tt.path, tt.body)
		a.wantError(t, tt.status, tt.code)
		var e *Error
		if errors.As(tt.err, &e) && a.Error.Message != e.Message {
			t.Errorf("%s %s: message %q, want the controller's %q", tt.method, tt.path, a.Error.Message, e.Message)
		}
		if strings.Contains(a.raw, "disk") {
			t.Errorf("%s %s: a 500 tells its cause: %s", tt.method, tt.path, a.raw)
		}
		if calls := f.ctl.took(); len(calls) != 1 {
			t.Errorf("%s %s: controller calls %q, want one", tt.method, tt.path, calls)
		}
	}
}

// TestCancelAndRemove: DELETE /builds/{id} and DELETE /queue/{id} ask the
// controller and answer the build as it is after; a malformed id is 400
// without asking it.
func TestCancelAndRemove(t *testing.T) {
	f := newControlFixture(t, true)
	var bd BuildData
	ask(t, f.s, http.MethodDelete, "/api/v1/builds/"+f.queued1.ID.String(), "").data(t, &bd)
	if bd.Build.ID != f.queued1.ID || bd.Build.State != builddb.RequestCancelled || bd.Build.Error != "cancelled" || bd.Build.Position != 0 {
		t.Errorf("cancelled build: %+v", bd.Build)
	}
	bd = BuildData{}
	ask(t, f.s, http.MethodDelete, "/api/v1/queue/"+f.queued2.ID.String(), "", "X-API-Key", buildKey).data(t, &bd)
	if bd.Build.ID != f.queued2.ID || bd.Build.State != builddb.RequestCancelled || bd.Build.Error != "removed from the queue" {
		t.Errorf("removed build: %+v", bd.Build)
	}
	if calls := f.ctl.took(); !slices.Equal(calls, []string{"cancel " + f.queued1.ID.String(), "remove " + f.queued2.ID.String()}) {
		t.Errorf("calls %q", calls)
	}
	var q BuildsData
	get(t, f.s, "/api/v1/queue").data(t, &q)
	if got := buildIDs(q.Builds); !slices.Equal(got, []uuid.UUID{f.running.ID}) {
		t.Errorf("queue after cancelling both queued builds: %v", got)
	}
	// The fake's own 404 for a build it does not have.
	ask(t, f.s, http.MethodDelete, "/api/v1/builds/"+uuid.Must(uuid.NewV7()).String(), "").wantError(t, http.StatusNotFound, CodeBuildNotFound)
	f.ctl.took()
	for _, path := range []string{"/api/v1/builds/not-a-uuid", "/api/v1/queue/1234", "/api/v1/builds/" + strings.ToUpper(f.done.ID.String()) + "0"} {
		ask(t, f.s, http.MethodDelete, path, "").wantError(t, http.StatusBadRequest, CodeInvalidID)
	}
	ask(t, f.s, http.MethodPost, "/api/v1/builds/nope/retry", "").wantError(t, http.StatusBadRequest, CodeInvalidID)
	if calls := f.ctl.took(); len(calls) != 0 {
		t.Errorf("malformed ids reached the controller: %q", calls)
	}
}

// TestRetryBuild: POST /builds/{id}/retry answers 201 with the new build
// and its Location; the new build names the one it retries.
func TestRetryBuild(t *testing.T) {
	f := newControlFixture(t, true)
	sd := ask(t, f.s, http.MethodPost, "/api/v1/builds/"+f.done.ID.String()+"/retry", "", "X-API-Key", buildKey).created(t)
	if sd.Build.RetryOf != f.done.ID || sd.Build.State != builddb.RequestQueued || sd.Build.By != "key builder" ||
		!slices.Equal(sd.Build.Packages, []string{"misc/broken"}) || sd.Queued != 1 {
		t.Errorf("retry: %+v", sd)
	}
	if calls := f.ctl.took(); !slices.Equal(calls, []string{"retry " + f.done.ID.String() + " by key builder"}) {
		t.Errorf("calls %q", calls)
	}
	var one BuildData
	get(t, f.s, "/api/v1/builds/"+sd.BuildID.String()).data(t, &one)
	if one.Build.RetryOf != f.done.ID || one.Build.Position != 3 {
		t.Errorf("the retry as GET shows it: %+v; want retry_of %s at position 3", one.Build, f.done.ID)
	}
}

// TestSetController: a server made before its service gets it later.
func TestSetController(t *testing.T) {
	f := newControlFixture(t, false)
	ask(t, f.s, http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello"]}`).wantError(t, http.StatusConflict, CodeNotAService)
	f.s.SetController(f.ctl)
	ask(t, f.s, http.MethodPost, "/api/v1/builds", `{"packages":["misc/hello"]}`).created(t)
}

// TestBuildList: GET /builds lists the service's builds and the command
// line runs (source cli), newest first; a build's counts sum its runs';
// state filters, limit counts what passes it.
func TestBuildList(t *testing.T) {
	f := newControlFixture(t, false)
	var bs BuildsData
	get(t, f.s, "/api/v1/builds").data(t, &bs)
	want := []uuid.UUID{f.running.ID, f.queued2.ID, f.queued1.ID, f.done.ID, f.runs[1].ID, f.runs[0].ID}
	if got := buildIDs(bs.Builds); !slices.Equal(got, want) || bs.Count != len(want) {
		t.Fatalf("builds %v (count %d), want %v: the runs of a request are not builds of their own", got, bs.Count, want)
	}
	cli := bs.Builds[5]
	r1 := f.runs[0]
	if cli.Source != "cli" || cli.State != builddb.RequestDone || cli.Directive != "build" || cli.Profile != "LiveSystem" ||
		!slices.Equal(cli.Runs, []uuid.UUID{r1.ID}) || cli.Counts != r1.Counts || !cli.Started.Equal(r1.Start) || !cli.Ended.Equal(r1.End) ||
		time.Duration(cli.Duration) != 50*time.Minute || cli.Packages == nil || cli.Position != 0 {
		t.Errorf("command line run as a build: %+v", cli)
	}
	done := bs.Builds[3]
	sum := builddb.Counts{Queued: 4, Built: 2, Failed: 1, Skipped: 1}
	if done.Source != "service" || done.State != builddb.RequestDone || done.Counts != sum ||
		!slices.Equal(done.Runs, []uuid.UUID{f.doneRun1.ID, f.doneRun2.ID}) || time.Duration(done.Duration) != time.Hour || done.By != "key builder" {
		t.Errorf("request with two runs: %+v; want counts %+v, its two runs, 1h", done, sum)
	}
	if bs.Builds[0].State != builddb.RequestRunning || bs.Builds[0].Position != 0 || bs.Builds[1].Position != 2 || bs.Builds[2].Position != 1 {
		t.Errorf("positions: running %d, queued2 %d, queued1 %d; want 0, 2, 1", bs.Builds[0].Position, bs.Builds[1].Position, bs.Builds[2].Position)
	}

	for q, want := range map[string][]uuid.UUID{
		"state=queued":               {f.queued2.ID, f.queued1.ID},
		"state=running,queued":       {f.running.ID, f.queued2.ID, f.queued1.ID},
		"state=done":                 {f.done.ID, f.runs[1].ID, f.runs[0].ID},
		"state=cancelled":            nil,
		"state=failed,cancelled":     nil,
		"limit=2":                    {f.running.ID, f.queued2.ID},
		"state=done&limit=2":         {f.done.ID, f.runs[1].ID},
		"state=queued,done&limit=10": {f.queued2.ID, f.queued1.ID, f.done.ID, f.runs[1].ID, f.runs[0].ID},
	} {
		var bs BuildsData
		get(t, f.s, "/api/v1/builds?"+q).data(t, &bs)
		if got := buildIDs(bs.Builds); !slices.Equal(got, want) || bs.Count != len(want) || bs.Builds == nil {
			t.Errorf("%s: %v (count %d), want %v", q, got, bs.Count, want)
		}
	}
	for _, q := range []string{"state=queud", "state=queued,", "limit=0", "limit=x", "status=queued", "order=oldest"} {
		get(t, f.s, "/api/v1/builds?"+q).wantError(t, http.StatusBadRequest, CodeBadRequest)
	}
}

// TestBuildOne: a request (also by the id of its second run), a command
// line run, 404 and 400.
func TestBuildOne(t *testing.T) {
	f := newControlFixture(t, false)
	for _, id := range []uuid.UUID{f.done.ID, f.doneRun2.ID} {
		var bd BuildData
		get(t, f.s, "/api/v1/builds/"+id.String()).data(t, &bd)
		if bd.Build.ID != f.done.ID || bd.Build.Counts.Queued != 4 || len(bd.Build.Runs) != 2 {
			t.Errorf("build by %s: %+v", id, bd.Build)
		}
	}
	var bd BuildData
	get(t, f.s, "/api/v1/builds/"+f.queued2.ID.String()).data(t, &bd)
	if bd.Build.Position != 2 || bd.Build.State != builddb.RequestQueued {
		t.Errorf("second queued build: %+v", bd.Build)
	}
	bd = BuildData{}
	get(t, f.s, "/api/v1/builds/"+f.runs[1].ID.String()).data(t, &bd)
	if bd.Build.Source != "cli" || bd.Build.Directive != "just-build" || bd.Build.Counts != f.runs[1].Counts {
		t.Errorf("command line run: %+v", bd.Build)
	}
	get(t, f.s, "/api/v1/builds/"+f.records[0].ID.UUID.String()).wantError(t, http.StatusNotFound, CodeBuildNotFound)
	get(t, f.s, "/api/v1/builds/0190a6c4-0000-7000-8000-000000000000").wantError(t, http.StatusNotFound, CodeBuildNotFound)
	get(t, f.s, "/api/v1/builds/0190a6c4").wantError(t, http.StatusBadRequest, CodeInvalidID)
}

// TestBuildPorts: GET /builds/{id}/ports answers the records of the
// build's runs, run after run.
func TestBuildPorts(t *testing.T) {
	f := newControlFixture(t, false)
	recIDs := func(rs []*builddb.BuildRecord) []uuid.UUID {
		var out []uuid.UUID
		for _, r := range rs {
			out = append(out, r.ID.UUID)
		}
		return out
	}
	var pd PortsData
	get(t, f.s, "/api/v1/builds/"+f.done.ID.String()+"/ports").data(t, &pd)
	if got, want := recIDs(pd.Records), recIDs(f.doneRecords); pd.Build != f.done.ID || !slices.Equal(got, want) || pd.Count != 3 {
		t.Errorf("ports of a request with two runs: build %s, %v (count %d), want %v", pd.Build, got, pd.Count, want)
	}
	pd = PortsData{}
	get(t, f.s, "/api/v1/builds/"+f.runs[0].ID.String()+"/ports").data(t, &pd)
	if got, want := recIDs(pd.Records), recIDs(f.records[:6]); !slices.Equal(got, want) {
		t.Errorf("ports of a command line run: %v, want %v", got, want)
	}
	pd = PortsData{}
	get(t, f.s, "/api/v1/builds/"+f.queued1.ID.String()+"/ports").data(t, &pd)
	if pd.Records == nil || pd.Count != 0 {
		t.Errorf("ports of a queued build: %+v, want an empty list", pd)
	}
	get(t, f.s, "/api/v1/builds/0190a6c4-0000-7000-8000-000000000000/ports").wantError(t, http.StatusNotFound, CodeBuildNotFound)
	get(t, f.s, "/api/v1/builds/x/ports").wantError(t, http.StatusBadRequest, CodeInvalidID)
}

// TestQueue: GET /queue is the running build, then the queued ones in the
// order they run; command line runs and ended builds are not in it.
// TestMoveInQueue: POST /queue/{id}/move reorders the queue (the answer
// and GET /queue agree, positions follow), needs role build and a
// position, and a build that is not queued is a conflict.
func TestMoveInQueue(t *testing.T) {
	f := newControlFixture(t, true)
	var q BuildsData
	ask(t, f.s, http.MethodPost, "/api/v1/queue/"+f.queued2.ID.String()+"/move", `{"position":0}`, "X-API-Key", buildKey).data(t, &q)
	want := []uuid.UUID{f.running.ID, f.queued2.ID, f.queued1.ID}
	if got := buildIDs(q.Builds); !slices.Equal(got, want) {
		t.Fatalf("queue after moving queued2 first: %v, want %v", got, want)
	}
	q = BuildsData{}
	get(t, f.s, "/api/v1/queue").data(t, &q)
	if got := buildIDs(q.Builds); !slices.Equal(got, want) {
		t.Fatalf("GET /queue after the move: %v, want %v", got, want)
	}
	if q.Builds[1].Position != 1 || q.Builds[2].Position != 2 {
		t.Errorf("positions %d, %d after the move", q.Builds[1].Position, q.Builds[2].Position)
	}
	var bd BuildData
	get(t, f.s, "/api/v1/builds/"+f.queued2.ID.String()).data(t, &bd)
	if bd.Build.Position != 1 {
		t.Errorf("GET /builds/{id} of the moved build: position %d, want 1", bd.Build.Position)
	}
	ask(t, f.s, http.MethodPost, "/api/v1/queue/"+f.queued2.ID.String()+"/move", `{"position":99}`, "X-API-Key", buildKey).data(t, &q)
	if got := buildIDs(q.Builds); !slices.Equal(got, []uuid.UUID{f.running.ID, f.queued1.ID, f.queued2.ID}) {
		t.Errorf("queue after moving queued2 past the end: %v", got)
	}
	f.ctl.took()

	ask(t, f.s, http.MethodPost, "/api/v1/queue/"+f.queued1.ID.String()+"/move", `{"position":1}`, "X-API-Key", readKey).wantError(t, http.StatusForbidden, CodeForbidden)
	ask(t, f.s, http.MethodPost, "/api/v1/queue/"+f.queued1.ID.String()+"/move", `{}`, "X-API-Key", buildKey).wantError(t, http.StatusBadRequest, CodeBadRequest)
	ask(t, f.s, http.MethodPost, "/api/v1/queue/"+f.queued1.ID.String()+"/move", `{"position":"top"}`, "X-API-Key", buildKey).wantError(t, http.StatusBadRequest, CodeBadRequest)
	ask(t, f.s, http.MethodPost, "/api/v1/queue/nope/move", `{"position":0}`, "X-API-Key", buildKey).wantError(t, http.StatusBadRequest, CodeInvalidID)
	if calls := f.ctl.took(); len(calls) != 0 {
		t.Errorf("refused moves reached the controller: %q", calls)
	}
	ask(t, f.s, http.MethodPost, "/api/v1/queue/"+f.done.ID.String()+"/move", `{"position":0}`, "X-API-Key", buildKey).wantError(t, http.StatusConflict, CodeConflict)
}

// TestWhoAmI: each key's principal, role and permissions.
func TestWhoAmI(t *testing.T) {
	f := newControlFixture(t, true)
	for _, c := range []struct {
		key, name, role string
		perms           []string
	}{
		{readKey, "reader", "read", []string{"read"}},
		{buildKey, "builder", "user", []string{"read", "build"}},
		{adminKey, "boss", "admin", []string{"read", "build", "config", "admin"}},
	} {
		var w WhoAmIData
		ask(t, f.s, http.MethodGet, "/api/v1/whoami", "", "X-API-Key", c.key).data(t, &w)
		if w.Name != c.name || w.Role != c.role || w.Method != "api-key" || !slices.Equal(w.Permissions, c.perms) {
			t.Errorf("whoami with %s's key: %+v, want %s, %s, %v", c.name, w, c.name, c.role, c.perms)
		}
	}
	ask(t, f.s, http.MethodGet, "/api/v1/whoami", "", "X-API-Key", "wrong").wantError(t, http.StatusUnauthorized, CodeUnauthorized)
}

func TestQueue(t *testing.T) {
	f := newControlFixture(t, false)
	var q BuildsData
	get(t, f.s, "/api/v1/queue").data(t, &q)
	if got := buildIDs(q.Builds); !slices.Equal(got, []uuid.UUID{f.running.ID, f.queued1.ID, f.queued2.ID}) || q.Count != 3 {
		t.Fatalf("queue %v (count %d)", got, q.Count)
	}
	for i, want := range []int{0, 1, 2} {
		if q.Builds[i].Position != want {
			t.Errorf("queue[%d] at position %d, want %d", i, q.Builds[i].Position, want)
		}
	}
	get(t, f.s, "/api/v1/queue?limit=5").wantError(t, http.StatusBadRequest, CodeBadRequest)

	empty := newTestServer(t, Options{BuildBase: t.TempDir()})
	q = BuildsData{}
	get(t, empty, "/api/v1/queue").data(t, &q)
	if q.Builds == nil || q.Count != 0 {
		t.Errorf("queue without a database: %+v", q)
	}
}
