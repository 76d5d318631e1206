//go:build linux

package service_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/internal/testsite"
	"github.com/go-dsynth/go-dsynth/run"
	"github.com/go-dsynth/go-dsynth/service"
)

// TestMain lets the Linux backend run this test binary as a slot's init.
func TestMain(m *testing.M) {
	if code, ok := run.HelperMain(os.Args[1:]); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// started collects the ports the runs started, and signals each start.
type started struct {
	mu    sync.Mutex
	ports map[string]chan struct{}
}

func (s *started) ch(origin string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ports == nil {
		s.ports = map[string]chan struct{}{}
	}
	c, ok := s.ports[origin]
	if !ok {
		c = make(chan struct{})
		s.ports[origin] = c
	}
	return c
}

func (s *started) Handle(e events.Event) {
	if ps, ok := e.(events.PortStarted); ok {
		c := s.ch(ps.Origin)
		select {
		case <-c:
		default:
			close(c)
		}
	}
}

// rig is a service over a test site, running until the test ends.
type rig struct {
	site    *testsite.Site
	owner   *run.Owner
	svc     *service.Service
	started *started
	stop    func()
	picked  func(*builddb.Request)
}

func newRig(t testing.TB) *rig {
	return newRigPicked(t, nil)
}

// newRigPicked is newRig with a hook the service calls between choosing
// the next request and starting it.
func newRigPicked(t testing.TB, picked func(*builddb.Request)) *rig {
	t.Helper()
	site := testsite.New(t, 2)
	r := &rig{site: site, started: &started{}, picked: picked}
	r.start(t)
	return r
}

// start owns the build base and runs the service in the background.
func (r *rig) start(t testing.TB) {
	t.Helper()
	owner, err := run.Own(r.site.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	newEnv, layout := run.HostEnvironment()
	svc := service.New(r.site.Config, owner, service.Options{Run: run.Options{NewEnv: newEnv, Layout: layout, SlowStart: -1,
		Observers: []events.Subscriber{r.started}}})
	if r.picked != nil {
		service.SetPicked(svc, r.picked)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	r.owner, r.svc = owner, svc
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("service: %v", err)
		}
		owner.Close()
	}
	t.Cleanup(r.stop)
}

func (r *rig) submit(t testing.TB, br api.BuildRequest) *builddb.Request {
	t.Helper()
	req, err := r.svc.Submit(context.Background(), br, "test")
	if err != nil {
		t.Fatalf("submit %v: %v", br, err)
	}
	return req
}

func (r *rig) await(t testing.TB, id uuid.UUID) *builddb.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := r.svc.Await(ctx, id)
	if err != nil {
		t.Fatalf("await %s: %v", id, err)
	}
	return req
}

func wantCode(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.HTTPStatus != status || e.Code != code {
		t.Errorf("%s: %v, want %d %s", what, err, status, code)
	}
}

// TestServiceBuildsRetriesAndRefuses: a build submitted, estimated, run to
// its end with its records; a build with a failing port retried (its
// failed and skipped ports only); and every bad request refused with its
// code, nothing queued.
func TestServiceBuildsRetriesAndRefuses(t *testing.T) {
	r := newRig(t)
	req := r.submit(t, api.BuildRequest{Packages: []string{"misc/hello"}})
	if req.State != builddb.RequestQueued || req.Queued != 2 || req.Estimate <= 0 {
		t.Errorf("submitted %+v: want queued, 2 ports (pkg and hello), an estimate", req)
	}
	done := r.await(t, req.ID)
	if done.State != builddb.RequestDone || len(done.Runs) != 1 || done.Runs[0] != req.ID {
		t.Fatalf("ended %+v: want done, its one run with the build's id", done)
	}
	run, err := r.owner.DB().Run(req.ID)
	if err != nil || run.Build != req.ID || run.Counts.Built != 2 || run.Aborted {
		t.Fatalf("run %+v, %v: want 2 built, its build's id", run, err)
	}
	if _, err := os.Stat(filepath.Join(r.site.Config.Profile.RepositoryDir, "hello-1.0.pkg")); err != nil {
		t.Errorf("package: %v", err)
	}
	if _, err := r.svc.Retry(context.Background(), req.ID, "test"); err == nil {
		t.Error("retry of a successful build was accepted")
	} else {
		wantCode(t, "retry of a successful build", err, http.StatusConflict, api.CodeNothingToRetry)
	}
	_, err = r.svc.Cancel(context.Background(), req.ID)
	wantCode(t, "cancel of a finished build", err, http.StatusConflict, api.CodeConflict)

	failing := r.submit(t, api.BuildRequest{Packages: []string{"devel/needs-broken"}, Directive: "just-build"})
	if got := r.await(t, failing.ID); got.State != builddb.RequestDone {
		t.Fatalf("failing build ended %s (%s)", got.State, got.Error)
	}
	retry, err := r.svc.Retry(context.Background(), failing.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(retry.Ports)
	if !slices.Equal(retry.Ports, []string{"devel/broken", "devel/needs-broken"}) || retry.RetryOf != failing.ID || retry.Directive != "just-build" {
		t.Errorf("retry %+v: want devel/broken and devel/needs-broken, just-build, retry_of the failing build", retry)
	}
	r.await(t, retry.ID)

	before, _ := r.owner.DB().Requests()
	for _, c := range []struct {
		br     api.BuildRequest
		status int
		code   string
	}{
		{api.BuildRequest{Packages: []string{"misc/nothere"}}, 400, api.CodeUnknownPort},
		{api.BuildRequest{Packages: []string{"misc/hello@noflavor"}}, 400, api.CodeUnknownPort},
		{api.BuildRequest{Packages: []string{"../etc/passwd"}}, 400, api.CodeInvalidOrigin},
		{api.BuildRequest{Packages: []string{"/etc/passwd"}}, 400, api.CodeInvalidOrigin},
		{api.BuildRequest{Packages: nil}, 400, api.CodeBadRequest},
		{api.BuildRequest{Packages: []string{"misc/hello"}, Profile: "Other"}, 400, api.CodeBadProfile},
		{api.BuildRequest{Packages: []string{"misc/hello"}, Directive: "everything"}, 400, api.CodeBadDirective},
		{api.BuildRequest{Packages: []string{"misc/hello"}, Directive: "build", Force: true}, 400, api.CodeBadDirective},
	} {
		_, err := r.svc.Submit(context.Background(), c.br, "test")
		wantCode(t, strings.Join(c.br.Packages, ","), err, c.status, c.code)
	}
	_, err = r.svc.Cancel(context.Background(), uuid.New())
	wantCode(t, "cancel of an unknown build", err, http.StatusNotFound, api.CodeBuildNotFound)
	if after, _ := r.owner.DB().Requests(); len(after) != len(before) {
		t.Errorf("bad requests queued something: %d requests, %d before", len(after), len(before))
	}
}

// TestServiceCancelsARunningBuild cancels a build whose port hangs: the
// call returns once the run has stopped, the run is recorded as aborted,
// the build as cancelled, and the next queued build runs.
func TestServiceCancelsARunningBuild(t *testing.T) {
	r := newRig(t)
	hang := r.submit(t, api.BuildRequest{Packages: []string{"misc/hang"}, Directive: "just-build"})
	next := r.submit(t, api.BuildRequest{Packages: []string{"misc/hello"}, Directive: "just-build"})
	queued := r.submit(t, api.BuildRequest{Packages: []string{"games/riddle"}, Directive: "just-build"})
	jumper := r.submit(t, api.BuildRequest{Packages: []string{"misc/hello"}, Directive: "just-build"})
	if _, err := r.svc.Remove(context.Background(), queued.ID); err != nil {
		t.Fatalf("remove from the queue: %v", err)
	}
	// The last one submitted moves to the head of the queue: it runs
	// before next.
	q, err := r.svc.Move(context.Background(), jumper.ID, 0)
	if err != nil || len(q) != 2 || q[0].ID != jumper.ID || q[1].ID != next.ID {
		t.Fatalf("move to the head: %v, %v; want jumper then next", q, err)
	}
	_, err = r.svc.Move(context.Background(), queued.ID, 0)
	wantCode(t, "move of a removed build", err, http.StatusConflict, api.CodeConflict)
	select {
	case <-r.started.ch("misc/hang"):
	case <-time.After(5 * time.Minute):
		t.Fatal("misc/hang never started")
	}
	_, err = r.svc.Remove(context.Background(), hang.ID)
	wantCode(t, "remove of the running build", err, http.StatusConflict, api.CodeConflict)
	_, err = r.svc.Move(context.Background(), hang.ID, 1)
	wantCode(t, "move of the running build", err, http.StatusConflict, api.CodeConflict)
	got, err := r.svc.Cancel(context.Background(), hang.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != builddb.RequestCancelled || got.Ended.IsZero() {
		t.Errorf("cancelled build %+v", got)
	}
	run, err := r.owner.DB().Run(hang.ID)
	if err != nil || !run.Aborted || !run.Finished() {
		t.Errorf("run %+v, %v: want aborted and ended", run, err)
	}
	if id, ok := r.svc.Running(); ok && id == hang.ID {
		t.Error("the cancelled build still runs")
	}
	gotNext := r.await(t, next.ID)
	if gotNext.State != builddb.RequestDone {
		t.Errorf("the next build ended %s (%s)", gotNext.State, gotNext.Error)
	}
	if got := r.await(t, jumper.ID); got.State != builddb.RequestDone || !got.Ended.After(time.Time{}) || got.Started.After(gotNext.Started) {
		t.Errorf("the build moved to the head: %s, started %v; the one it jumped started %v", got.State, got.Started, gotNext.Started)
	}
	if got := r.await(t, queued.ID); got.State != builddb.RequestCancelled || len(got.Runs) != 0 {
		t.Errorf("the removed build %+v ran", got)
	}
	slots, _ := filepath.Glob(filepath.Join(r.site.BuildBase, "SL*"))
	for _, s := range slots {
		if entries, _ := os.ReadDir(s); len(entries) > 0 {
			t.Errorf("slot %s left with %d entries", s, len(entries))
		}
	}
}

// TestServiceResumesAnInterruptedBuild: a build that was running when the
// service stopped runs again at the next start, in a run of its own.
// TestServiceRunsNoBuildRemovedAsItStarts: a build removed after the
// service chose it to run next, before it started, is not run (nor its
// state overwritten): the service chooses again.
func TestServiceRunsNoBuildRemovedAsItStarts(t *testing.T) {
	var svc *service.Service
	var removed *builddb.Request
	picks := make(chan uuid.UUID, 8)
	first := true
	r := newRigPicked(t, func(req *builddb.Request) {
		if first {
			first = false
			var err error
			if removed, err = svc.Remove(context.Background(), req.ID); err != nil {
				t.Errorf("remove the chosen build: %v", err)
			}
		}
		picks <- req.ID
	})
	svc = r.svc
	gone := r.submit(t, api.BuildRequest{Packages: []string{"misc/hello"}, Directive: "just-build"})
	if id := <-picks; id != gone.ID {
		t.Fatalf("first pick %s, want %s", id, gone.ID)
	}
	after := r.submit(t, api.BuildRequest{Packages: []string{"misc/hello"}, Directive: "just-build"})
	if got := r.await(t, after.ID); got.State != builddb.RequestDone {
		t.Fatalf("the build after: %s %s", got.State, got.Error)
	}
	got, err := r.owner.DB().Request(gone.ID)
	if err != nil {
		t.Fatal(err)
	}
	if removed == nil || got.State != builddb.RequestCancelled || got.Error != "removed from the queue" || !got.Started.IsZero() || len(got.Runs) != 0 {
		t.Fatalf("the removed build: %s %q started %v runs %v; want cancelled, never started", got.State, got.Error, got.Started, got.Runs)
	}
}

func TestServiceResumesAnInterruptedBuild(t *testing.T) {
	r := newRig(t)
	hang := r.submit(t, api.BuildRequest{Packages: []string{"misc/hang", "misc/hello"}, Directive: "just-build"})
	select {
	case <-r.started.ch("misc/hang"):
	case <-time.After(5 * time.Minute):
		t.Fatal("misc/hang never started")
	}
	r.stop()
	req, err := func() (*builddb.Request, error) {
		db, err := builddb.OpenReader(r.site.BuildBase, builddb.Options{})
		if err != nil {
			return nil, err
		}
		defer db.Close()
		return db.Request(hang.ID)
	}()
	if err != nil || req.State != builddb.RequestRunning {
		t.Fatalf("after the stop: %+v, %v; want still running", req, err)
	}
	r.started = &started{}
	r.start(t)
	select {
	case <-r.started.ch("misc/hang"):
	case <-time.After(5 * time.Minute):
		t.Fatal("the resumed build never started misc/hang")
	}
	got, err := r.svc.Cancel(context.Background(), hang.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Runs) != 2 || got.Runs[0] != hang.ID || got.Runs[1] == hang.ID {
		t.Errorf("runs %v: want the first and a resumed one", got.Runs)
	}
}
