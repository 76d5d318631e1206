// Package service is go-dsynth's build service: the owner of a build base
// (run.Owner) running a queue of build requests one at a time, the way
// `dsynth serve` does. Requests come from the API (POST /api/v1/builds,
// from the dashboard, CI or a `dsynth build` typed in a shell while the
// service runs) and are kept in the build database (builddb.Request), so a
// restart keeps the queue, and a run the service was killed in the middle
// of runs again: its built ports are up to date by then, so it continues
// where it stopped.
//
// A Service is the api.Controller of its owner's API server. It decides
// nothing about building itself: each request runs through run.Build with
// the owner, like a command line build.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/display"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run"
)

// Directives returns the directives a request may ask for.
func Directives() []string { return []string{"build", "just-build", "force", "test"} }

// MaxPorts bounds the ports of one request.
const MaxPorts = 10000

// errCancelled is the cause of a run stopped by Cancel.
var errCancelled = errors.New("cancelled through the API")

// errStopping is the cause of a run stopped because the service stops: the
// request stays open and runs again at the next start.
var errStopping = errors.New("the service is stopping")

// Options configure a Service.
type Options struct {
	// Run is the template of each request's run options: the host's
	// environment (NewEnv, Layout), Stderr, observers. Directive, Args,
	// Owner, the flags and the run ids are set per request.
	Run run.Options
	// Log receives the service's own lines (a request starting, ending).
	Log io.Writer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service runs the build requests of one build base. Create it with New,
// then call Run.
type Service struct {
	cfg   *config.Config
	owner *run.Owner
	db    *builddb.DB
	o     Options

	// wake tells Run that a request was queued.
	wake chan struct{}
	// mu guards what follows and every change of a request's state.
	mu      sync.Mutex
	current *active
	// changed is closed (and replaced) whenever a request's state is
	// stored.
	changed chan struct{}
	// looping is true while Run serves the queue.
	looping atomic.Bool
	// picked, when set (by tests), is called between choosing the next
	// request and starting it.
	picked func(*builddb.Request)
}

// active is the request being run.
type active struct {
	id     uuid.UUID
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when its run has ended and its state is stored
}

// New returns the service of an owner and makes it its API's controller.
func New(cfg *config.Config, owner *run.Owner, o Options) *Service {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Run.Stderr == nil {
		o.Run.Stderr = o.Log
	}
	if o.Run.Stdout == nil {
		o.Run.Stdout = io.Discard
	}
	s := &Service{cfg: cfg, owner: owner, db: owner.DB(), o: o, wake: make(chan struct{}, 1), changed: make(chan struct{})}
	owner.API().SetController(s)
	owner.API().AddReadyCheck(api.ReadyCheck{Name: "queue", Check: s.ready})
	return s
}

// ready is the queue's readiness: the service runs it, and it reads.
func (s *Service) ready(context.Context) error {
	if !s.looping.Load() {
		return errors.New("the build service is not running its queue")
	}
	if _, err := s.db.Requests(builddb.RequestQueued, builddb.RequestRunning); err != nil {
		return fmt.Errorf("reading the queue: %w", err)
	}
	return nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

func (s *Service) logf(format string, args ...any) {
	fmt.Fprintf(s.o.Log, format+"\n", args...)
}

// Run runs the queue until ctx ends: first the request a killed service
// was running, then the queued ones in submission order. When ctx ends
// during a run, the run stops and its request stays open for the next
// start.
func (s *Service) Run(ctx context.Context) error {
	s.looping.Store(true)
	defer s.looping.Store(false)
	for {
		next, err := s.next()
		if err != nil {
			return err
		}
		if next == nil {
			select {
			case <-ctx.Done():
				return nil
			case <-s.wake:
				continue
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if s.picked != nil {
			s.picked(next)
		}
		s.execute(ctx, next)
	}
}

// next returns the request to run now: an interrupted one first, then the
// oldest queued; nil when there is none.
func (s *Service) next() (*builddb.Request, error) {
	open, err := s.db.Requests(builddb.RequestRunning, builddb.RequestQueued)
	if err != nil {
		return nil, fmt.Errorf("service: reading the queue: %w", err)
	}
	for _, r := range open {
		if r.State == builddb.RequestRunning {
			return r, nil
		}
	}
	if len(open) == 0 {
		return nil, nil
	}
	builddb.SortQueue(open)
	return open[0], nil
}

// execute runs one request to its end and stores how it ended.
func (s *Service) execute(ctx context.Context, req *builddb.Request) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	a := &active{id: req.ID, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	// The request was chosen without the lock: a remove, cancel or move
	// since then decides again (Run chooses anew).
	head, err := s.next()
	if err != nil || head == nil || head.ID != req.ID || head.State != req.State {
		s.mu.Unlock()
		if err != nil {
			s.logf("service: build %s: %v", req.ID, err)
			<-ctx.Done()
		}
		return
	}
	*req = *head
	resumed := req.State == builddb.RequestRunning
	req.State = builddb.RequestRunning
	if req.Started.IsZero() {
		req.Started = s.now()
	}
	err = s.putLocked(req)
	if err == nil {
		s.current = a
	}
	s.mu.Unlock()
	if err != nil {
		s.logf("service: build %s: cannot mark it running: %v", req.ID, err)
		// The database refuses writes: stop here rather than spin.
		<-ctx.Done()
		return
	}
	if resumed {
		s.logf("Resuming build %s (%s %s), interrupted when the service stopped", req.ID, req.Directive, strings.Join(req.Ports, " "))
	} else {
		s.logf("Starting build %s: %s %s", req.ID, req.Directive, strings.Join(req.Ports, " "))
	}
	res, runErr := s.runRequest(runCtx, req)

	s.mu.Lock()
	defer s.mu.Unlock()
	defer close(a.done)
	s.current = nil
	cause := context.Cause(runCtx)
	switch {
	case errors.Is(cause, errCancelled):
		req.State = builddb.RequestCancelled
		req.Error = "cancelled"
	case ctx.Err() != nil:
		// The service stops: the request runs again at the next start.
		if err := s.putLocked(req); err != nil {
			s.logf("service: build %s: %v", req.ID, err)
		}
		s.logf("Build %s stopped with the service; it resumes at the next start", req.ID)
		return
	case runErr != nil:
		req.State = builddb.RequestFailed
		req.Error = runErr.Error()
	default:
		req.State = builddb.RequestDone
	}
	req.Ended = s.now()
	if err := s.putLocked(req); err != nil {
		s.logf("service: build %s: recording its end: %v", req.ID, err)
	}
	if res != nil {
		c := res.Counts
		s.logf("Build %s %s: %d built, %d failed, %d ignored, %d skipped", req.ID, req.State, c.Built, c.Failed, c.Ignored, c.Skipped)
	} else {
		s.logf("Build %s %s: %s", req.ID, req.State, req.Error)
	}
}

// runRequest builds a request through the run library, then runs its
// repository step (the service answers dsynth's question with yes, as -y).
func (s *Service) runRequest(ctx context.Context, req *builddb.Request) (*run.Result, error) {
	d, ok := run.Lookup(req.Directive)
	if !ok {
		return nil, fmt.Errorf("unknown directive %q", req.Directive)
	}
	roots, err := parsePorts(req.Ports)
	if err != nil {
		return nil, err
	}
	o := s.o.Run
	o.Directive, o.Args, o.Owner = d, req.Ports, s.owner
	o.Developer, o.CheckPlist, o.Keep, o.Yes = req.Flags.Developer, req.Flags.CheckPlist, req.Flags.Keep, true
	o.Echo = false
	o.BuildID = req.ID
	if len(req.Runs) == 0 {
		o.RunID = req.ID
	}
	o.OnRun = func(id uuid.UUID) {
		s.mu.Lock()
		defer s.mu.Unlock()
		req.Runs = append(req.Runs, id)
		if err := s.putLocked(req); err != nil {
			s.logf("service: build %s: %v", req.ID, err)
		}
	}
	// dsynth's monitor file, as a command line build writes it, so that
	// `dsynth monitor` watches the service's builds too.
	mon := display.NewMonitorWriter(s.cfg.Profile.LogsDir)
	if err := mon.Start(ctx); err != nil {
		s.logf("service: build %s: monitor file: %v", req.ID, err)
	} else {
		o.Observers = append(o.Observers[:len(o.Observers):len(o.Observers)], mon)
		defer mon.Stop()
	}
	// Repository_publish=atomic: build into a staging copy, published
	// after the repository step.
	cfg := s.cfg
	var pub *run.Publication
	if !d.FetchOnly {
		if cfg, pub, err = run.BeginPublish(s.cfg, o.Stderr); err != nil {
			return nil, err
		}
		defer pub.Close()
	}
	res, err := run.Build(ctx, cfg, roots, o)
	if err != nil {
		return res, err
	}
	yes := func() bool { return true }
	if err := run.RepositoryStepFor(ctx, cfg, d, yes, o.Stderr, run.RepoOptions{Held: true, Publication: pub}); err != nil {
		return res, fmt.Errorf("repository: %w", err)
	}
	return res, nil
}

// parsePorts reads a request's ports: origins only (never a file name, as
// the command line would allow).
func parsePorts(list []string) ([]ports.Origin, error) {
	out := make([]ports.Origin, 0, len(list))
	for _, p := range list {
		o, err := ports.ParseOrigin(p)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// Submit validates a request, previews it (the ports it builds and the
// scheduler's estimate over recorded durations) and queues it.
func (s *Service) Submit(ctx context.Context, br api.BuildRequest, by string) (*builddb.Request, error) {
	directive := br.Directive
	switch {
	case directive == "" && br.Force:
		directive = "force"
	case directive == "":
		directive = "build"
	case br.Force && directive != "force":
		return nil, api.Errorf(http.StatusBadRequest, api.CodeBadDirective, "force is true but directive is %q", directive)
	}
	if !slices.Contains(Directives(), directive) {
		return nil, api.Errorf(http.StatusBadRequest, api.CodeBadDirective, "directive %q: the service runs %s", directive, strings.Join(Directives(), ", "))
	}
	if br.Profile != "" && br.Profile != s.cfg.ProfileName {
		return nil, api.Errorf(http.StatusBadRequest, api.CodeBadProfile, "profile %q: this service builds profile %q of %s", br.Profile, s.cfg.ProfileName, s.cfg.File)
	}
	req := builddb.NewRequest(directive, br.Packages, s.cfg.ProfileName)
	req.Submitted = s.now()
	req.By = by
	req.Flags = builddb.RequestFlags{Developer: br.Developer, CheckPlist: br.CheckPlist}
	return s.queue(ctx, req)
}

// queue checks a request's ports, previews it and stores it queued.
func (s *Service) queue(ctx context.Context, req *builddb.Request) (*builddb.Request, error) {
	if len(req.Ports) == 0 {
		return nil, api.Errorf(http.StatusBadRequest, api.CodeBadRequest, "packages: name at least one port (category/port[@flavor])")
	}
	if len(req.Ports) > MaxPorts {
		return nil, api.Errorf(http.StatusBadRequest, api.CodeBadRequest, "packages: %d ports; at most %d per build", len(req.Ports), MaxPorts)
	}
	roots, err := parsePorts(req.Ports)
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, api.CodeInvalidOrigin, "packages: %v", err)
	}
	for _, o := range roots {
		if _, err := os.Stat(filepath.Join(s.cfg.Profile.PortsDir, o.Dir, "Makefile")); err != nil {
			return nil, api.Errorf(http.StatusBadRequest, api.CodeUnknownPort, "packages: %s is not a port of %s", o.Dir, s.cfg.Profile.PortsDir)
		}
	}
	d, _ := run.Lookup(req.Directive)
	o := s.o.Run
	o.Directive, o.Owner, o.Keep = d, s.owner, req.Flags.Keep
	var warn strings.Builder
	o.Stderr = &warn
	pv, err := run.PreviewBuild(ctx, s.cfg, roots, o)
	if err != nil {
		if errors.Is(err, run.ErrProbe) {
			msg := strings.TrimSpace(warn.String())
			return nil, api.Errorf(http.StatusBadRequest, api.CodeUnknownPort, "packages: %v: %s", err, msg)
		}
		return nil, fmt.Errorf("planning the build: %w", err)
	}
	req.Queued = pv.ToBuild
	req.Estimate = builddb.Duration(pv.Estimate)
	s.mu.Lock()
	err = s.putLocked(req)
	s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("queueing the build: %w", err)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return req, nil
}

// Cancel cancels a build: a queued one is taken out of the queue; a
// running one is stopped (its running ports are killed and their slots
// torn down, the run recorded as aborted), and Cancel returns once it has.
func (s *Service) Cancel(ctx context.Context, id uuid.UUID) (*builddb.Request, error) {
	s.mu.Lock()
	req, err := s.request(id)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	switch {
	case req.State == builddb.RequestQueued:
		req.State, req.Error, req.Ended = builddb.RequestCancelled, "cancelled before it ran", s.now()
		err := s.putLocked(req)
		s.mu.Unlock()
		return req, err
	case s.current != nil && s.current.id == id:
		a := s.current
		s.mu.Unlock()
		a.cancel(errCancelled)
		select {
		case <-a.done:
		case <-ctx.Done():
			// The caller left; the build stops all the same (still
			// "running" until it has).
		}
		return s.db.Request(id)
	default:
		s.mu.Unlock()
		return nil, api.Errorf(http.StatusConflict, api.CodeConflict, "build %s is %s: there is nothing to cancel", id, req.State)
	}
}

// Remove takes a queued build out of the queue (it stays listed,
// cancelled). A running build is refused: cancel it with Cancel.
func (s *Service) Remove(ctx context.Context, id uuid.UUID) (*builddb.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, err := s.request(id)
	if err != nil {
		return nil, err
	}
	if req.State != builddb.RequestQueued {
		return nil, api.Errorf(http.StatusConflict, api.CodeConflict, "build %s is %s, not queued; cancel a running build with DELETE /api/v1/builds/%s", id, req.State, id)
	}
	req.State, req.Error, req.Ended = builddb.RequestCancelled, "removed from the queue", s.now()
	return req, s.putLocked(req)
}

// Move moves a queued build to position in the queue (0: it runs next)
// and returns the queue after the move, first to last.
func (s *Service) Move(ctx context.Context, id uuid.UUID, position int) ([]*builddb.Request, error) {
	if position < 0 {
		return nil, api.Errorf(http.StatusBadRequest, api.CodeBadRequest, "position: %d is negative; 0 is the head of the queue", position)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req, err := s.request(id)
	if err != nil {
		return nil, err
	}
	if req.State != builddb.RequestQueued {
		return nil, api.Errorf(http.StatusConflict, api.CodeConflict, "build %s is %s, not queued: only a queued build moves", id, req.State)
	}
	queue, err := s.db.MoveRequest(id, position)
	if errors.Is(err, builddb.ErrNotQueued) {
		return nil, api.Errorf(http.StatusConflict, api.CodeConflict, "build %s is no longer queued", id)
	}
	if err != nil {
		return nil, fmt.Errorf("service: moving build %s: %w", id, err)
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return queue, nil
}

// Retry queues a new build of the failed and skipped ports of a finished
// build (a service request or a command line run), with its directive
// and flags.
func (s *Service) Retry(ctx context.Context, id uuid.UUID, by string) (*builddb.Request, error) {
	var directive, profile string
	var flags builddb.RequestFlags
	var runs []uuid.UUID
	req, err := s.db.Request(id)
	switch {
	case err == nil:
		if req.State.Open() {
			return nil, api.Errorf(http.StatusConflict, api.CodeConflict, "build %s is %s: retry it once it has ended", id, req.State)
		}
		directive, profile, flags, runs = req.Directive, req.Profile, req.Flags, req.Runs
	case errors.Is(err, builddb.ErrNotFound):
		r, err := s.db.Run(id)
		if errors.Is(err, builddb.ErrNotFound) {
			return nil, api.Errorf(http.StatusNotFound, api.CodeBuildNotFound, "no build %s", id)
		}
		if err != nil {
			return nil, err
		}
		if !r.Finished() {
			return nil, api.Errorf(http.StatusConflict, api.CodeConflict, "build %s is running: retry it once it has ended", id)
		}
		directive, profile, runs = r.Directive, r.Profile, []uuid.UUID{r.ID}
		if !slices.Contains(Directives(), directive) {
			directive = "build"
		}
	default:
		return nil, err
	}
	var again []string
	seen := map[string]bool{}
	for _, run := range runs {
		recs, err := s.db.RunRecords(run)
		if err != nil && !errors.Is(err, builddb.ErrNotFound) {
			return nil, err
		}
		for _, rec := range recs {
			if rec.Status != builddb.StatusFailed && rec.Status != builddb.StatusSkipped {
				continue
			}
			if o := rec.Origin(); !seen[o] {
				seen[o] = true
				again = append(again, o)
			}
		}
	}
	if len(again) == 0 {
		return nil, api.Errorf(http.StatusConflict, api.CodeNothingToRetry, "build %s has no failed or skipped port to retry", id)
	}
	retry := builddb.NewRequest(directive, again, profile)
	retry.Submitted, retry.By, retry.Flags, retry.RetryOf = s.now(), by, flags, id
	return s.queue(ctx, retry)
}

// Running returns the build being run, if any.
func (s *Service) Running() (uuid.UUID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil {
		return uuid.Nil, false
	}
	return s.current.id, true
}

// request reads one request; an unknown one is BUILD_NOT_FOUND (a command
// line run cannot be controlled from the service).
func (s *Service) request(id uuid.UUID) (*builddb.Request, error) {
	req, err := s.db.Request(id)
	if errors.Is(err, builddb.ErrNotFound) {
		if _, rerr := s.db.Run(id); rerr == nil {
			return nil, api.Errorf(http.StatusConflict, api.CodeConflict, "build %s was run from the command line, not by this service", id)
		}
		return nil, api.Errorf(http.StatusNotFound, api.CodeBuildNotFound, "no build %s", id)
	}
	return req, err
}

var _ api.Controller = (*Service)(nil)

// putLocked stores a request's state and wakes whoever waits for a
// change. The caller holds s.mu.
func (s *Service) putLocked(r *builddb.Request) error {
	err := s.db.PutRequest(r)
	close(s.changed)
	s.changed = make(chan struct{})
	if err == nil {
		s.owner.API().Handle(events.BuildState{Time: events.Time{T: s.now()}, BuildID: r.ID.String(), State: string(r.State), Error: r.Error})
	}
	return err
}

// Await waits until a build has ended and returns it (or ctx's error).
func (s *Service) Await(ctx context.Context, id uuid.UUID) (*builddb.Request, error) {
	for {
		s.mu.Lock()
		changed := s.changed
		req, err := s.request(id)
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if !req.State.Open() {
			return req, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return req, ctx.Err()
		}
	}
}
