package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
)

// The build model of the API, in three levels:
//
//   - a build is what a client asked for: a directive over some ports
//     (POST /builds, or a command line run). It is queued, running, done,
//     failed or cancelled. A build the service ran is a builddb.Request; a
//     build started from the command line is a run with no request, and
//     its id is the run's.
//   - a run is one execution of a build (GET /runs): a build has one, or
//     more when ports were added with `dsynth add` or the service resumed
//     it after being killed.
//   - a port build is the record of one port in one run (GET /records,
//     GET /builds/{id}/ports).

// Error codes of the build control endpoints.
const (
	CodeUnknownPort    = "UNKNOWN_PORT"  // a requested port is not in the ports tree
	CodeBadProfile     = "BAD_PROFILE"   // the service does not serve that profile
	CodeBadDirective   = "BAD_DIRECTIVE" // not a directive the service runs
	CodeConflict       = "CONFLICT"      // the build's state does not allow it
	CodeNotAService    = "NOT_A_SERVICE" // no build service in this process
	CodeNothingToRetry = "NOTHING_TO_RETRY"
)

// BuildRequest is the body of POST /api/v1/builds and POST /api/v1/queue.
type BuildRequest struct {
	// Packages are the ports to build (category/port[@flavor]).
	Packages []string `json:"packages"`
	// Profile must be the service's profile when given.
	Profile string `json:"profile,omitempty"`
	// Directive is build (the default), just-build, force or test.
	Directive string `json:"directive,omitempty"`
	// Force is the seed's spelling of Directive "force".
	Force bool `json:"force,omitempty"`
	// Developer is -D, CheckPlist -P.
	Developer  bool `json:"developer,omitempty"`
	CheckPlist bool `json:"check_plist,omitempty"`
}

// Controller runs builds: the build service behind the API's write
// endpoints. Its errors that are *Error reach the client as they are;
// others are internal errors.
type Controller interface {
	// Submit validates a request (its ports, profile and directive),
	// plans it for the estimate, and queues it.
	Submit(ctx context.Context, req BuildRequest, by string) (*builddb.Request, error)
	// Cancel cancels a queued or running build.
	Cancel(ctx context.Context, id uuid.UUID) (*builddb.Request, error)
	// Retry queues a new build of a finished build's failed and skipped
	// ports.
	Retry(ctx context.Context, id uuid.UUID, by string) (*builddb.Request, error)
	// Remove takes a queued build out of the queue.
	Remove(ctx context.Context, id uuid.UUID) (*builddb.Request, error)
	// Move moves a queued build to a position in the queue (0: next) and
	// returns the queued builds after the move, first to last.
	Move(ctx context.Context, id uuid.UUID, position int) ([]*builddb.Request, error)
	// Running returns the build being run, if any.
	Running() (uuid.UUID, bool)
}

// Build is a build as the API shows it.
type Build struct {
	ID        uuid.UUID            `json:"id"`
	State     builddb.RequestState `json:"state"`
	Source    string               `json:"source"` // "service" or "cli"
	Directive string               `json:"directive"`
	Packages  []string             `json:"packages"`
	Profile   string               `json:"profile,omitempty"`
	Flags     builddb.RequestFlags `json:"flags,omitzero"`
	By        string               `json:"by,omitempty"`
	RetryOf   uuid.UUID            `json:"retry_of,omitzero"`
	Error     string               `json:"error,omitempty"`
	Queued    int                  `json:"queued_packages"`
	Estimate  builddb.Duration     `json:"estimated_duration"`
	Position  int                  `json:"position,omitempty"` // 1 = next, while queued
	Submitted time.Time            `json:"submitted"`
	Started   time.Time            `json:"started,omitzero"`
	Ended     time.Time            `json:"ended,omitzero"`
	Duration  builddb.Duration     `json:"duration"`
	Runs      []uuid.UUID          `json:"runs"`
	Counts    builddb.Counts       `json:"counts"`
}

// buildOfRequest shows a service request with the runs that executed it.
func buildOfRequest(r *builddb.Request, runs map[uuid.UUID]*builddb.Run) Build {
	b := Build{ID: r.ID, State: r.State, Source: "service", Directive: r.Directive, Packages: r.Ports, Profile: r.Profile,
		Flags: r.Flags, By: r.By, RetryOf: r.RetryOf, Error: r.Error, Queued: r.Queued, Estimate: r.Estimate,
		Submitted: r.Submitted, Started: r.Started, Ended: r.Ended, Runs: r.Runs}
	for _, id := range r.Runs {
		if run, ok := runs[id]; ok {
			addRunCounts(&b.Counts, run.Counts)
		}
	}
	if b.Runs == nil {
		b.Runs = []uuid.UUID{}
	}
	if !b.Started.IsZero() && !b.Ended.IsZero() {
		b.Duration = builddb.Duration(b.Ended.Sub(b.Started))
	}
	return b
}

// buildOfRun shows a command line run as a build of its own.
func buildOfRun(run *builddb.Run) Build {
	b := Build{ID: run.ID, Source: "cli", Directive: run.Directive, Packages: run.Args, Profile: run.Profile,
		Submitted: run.Start, Started: run.Start, Ended: run.End, Runs: []uuid.UUID{run.ID}, Counts: run.Counts}
	switch {
	case !run.Finished():
		b.State = builddb.RequestRunning
	case run.Aborted:
		b.State = builddb.RequestCancelled
	default:
		b.State = builddb.RequestDone
	}
	if b.Packages == nil {
		b.Packages = []string{}
	}
	if run.Finished() {
		b.Duration = builddb.Duration(run.End.Sub(run.Start))
	}
	return b
}

func addRunCounts(a *builddb.Counts, b builddb.Counts) {
	a.Queued += b.Queued
	a.Built += b.Built
	a.Failed += b.Failed
	a.Ignored += b.Ignored
	a.Skipped += b.Skipped
	a.Meta += b.Meta
	a.Missing += b.Missing
}

// allBuilds returns every build, newest first: the service's requests and
// the command line runs.
func allBuilds(db *builddb.DB) ([]Build, error) {
	reqs, err := db.Requests()
	if err != nil {
		return nil, err
	}
	runs, err := db.Runs(0)
	if err != nil {
		return nil, err
	}
	byID := make(map[uuid.UUID]*builddb.Run, len(runs))
	for _, r := range runs {
		byID[r.ID] = r
	}
	out := make([]Build, 0, len(reqs)+len(runs))
	owned := map[uuid.UUID]bool{}
	var queued []*builddb.Request
	for _, r := range reqs {
		if r.State == builddb.RequestQueued {
			queued = append(queued, r)
		}
	}
	builddb.SortQueue(queued)
	position := make(map[uuid.UUID]int, len(queued))
	for i, r := range queued {
		position[r.ID] = i + 1
	}
	for _, r := range reqs {
		b := buildOfRequest(r, byID)
		b.Position = position[r.ID] // 0 unless queued
		out = append(out, b)
		for _, id := range r.Runs {
			owned[id] = true
		}
	}
	for _, r := range runs {
		if !owned[r.ID] && r.Build == uuid.Nil {
			out = append(out, buildOfRun(r))
		}
	}
	slices.SortFunc(out, func(a, b Build) int { return strings.Compare(b.ID.String(), a.ID.String()) })
	return out, nil
}

// BuildsData is the answer of GET /api/v1/builds and GET /api/v1/queue.
type BuildsData struct {
	Builds []Build `json:"builds"`
	Count  int     `json:"count"`
}

// builds answers GET /api/v1/builds: every build, newest first, filtered
// by state (comma list) and limited.
func (s *Server) buildList(r *http.Request) (any, error) {
	q, err := queryOf(r, "limit", "state")
	if err != nil {
		return nil, err
	}
	limit, err := parseLimit(q, 50)
	if err != nil {
		return nil, err
	}
	states, err := parseStates(q)
	if err != nil {
		return nil, err
	}
	out := BuildsData{Builds: []Build{}}
	err = s.withDB(func(db *builddb.DB) error {
		all, err := allBuilds(db)
		if err != nil {
			return err
		}
		for _, b := range all {
			if len(out.Builds) == limit {
				break
			}
			if len(states) == 0 || slices.Contains(states, b.State) {
				out.Builds = append(out.Builds, b)
			}
		}
		return nil
	})
	out.Count = len(out.Builds)
	return out, err
}

// parseStates reads the state filter.
func parseStates(q url.Values) ([]builddb.RequestState, error) {
	v, err := single(q, "state")
	if err != nil || v == "" {
		return nil, err
	}
	var out []builddb.RequestState
	for _, w := range strings.Split(v, ",") {
		st := builddb.RequestState(w)
		switch st {
		case builddb.RequestQueued, builddb.RequestRunning, builddb.RequestDone, builddb.RequestFailed, builddb.RequestCancelled:
			out = append(out, st)
		default:
			return nil, badParam("state", "unknown state %q (queued, running, done, failed, cancelled)", w)
		}
	}
	return out, nil
}

// queue answers GET /api/v1/queue: the running build, then the queued
// ones in the order they will run.
func (s *Server) queue(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	out := BuildsData{Builds: []Build{}}
	err := s.withDB(func(db *builddb.DB) error {
		all, err := allBuilds(db)
		if err != nil {
			return err
		}
		for i := len(all) - 1; i >= 0; i-- { // oldest first
			if all[i].Source == "service" && all[i].State.Open() {
				out.Builds = append(out.Builds, all[i])
			}
		}
		slices.SortStableFunc(out.Builds, func(a, b Build) int { return a.Position - b.Position })
		return nil
	})
	out.Count = len(out.Builds)
	return out, err
}

// findBuild returns one build: a request, or a command line run.
func findBuild(db *builddb.DB, id uuid.UUID) (*Build, error) {
	req, err := db.Request(id)
	switch {
	case err == nil:
		runs := map[uuid.UUID]*builddb.Run{}
		for _, rid := range req.Runs {
			run, err := db.Run(rid)
			if err == nil {
				runs[rid] = run
			} else if !errors.Is(err, builddb.ErrNotFound) {
				return nil, err
			}
		}
		b := buildOfRequest(req, runs)
		if req.State == builddb.RequestQueued {
			open, err := db.QueuedRequests()
			if err != nil {
				return nil, err
			}
			for i, o := range open {
				if o.ID == id {
					b.Position = i + 1
				}
			}
		}
		return &b, nil
	case !errors.Is(err, builddb.ErrNotFound):
		return nil, err
	}
	run, err := db.Run(id)
	if errors.Is(err, builddb.ErrNotFound) {
		return nil, errorf(http.StatusNotFound, CodeBuildNotFound, "no build %s", id)
	}
	if err != nil {
		return nil, err
	}
	if run.Build != uuid.Nil && run.Build != id {
		// A later run of a request: the request is the build. (A run
		// whose request is gone — a database restored from an older
		// dump — is shown as a build of its own.)
		if b, err := findBuild(db, run.Build); err == nil {
			return b, nil
		}
	}
	b := buildOfRun(run)
	return &b, nil
}

// BuildData is the answer of GET /api/v1/builds/{id} and of the build
// control endpoints.
type BuildData struct {
	Build Build `json:"build"`
}

// buildOne answers GET /api/v1/builds/{id}.
func (s *Server) buildOne(r *http.Request) (any, error) {
	id, err := buildIDOf(r)
	if err != nil {
		return nil, err
	}
	var out BuildData
	err = s.withDB(func(db *builddb.DB) error {
		b, err := findBuild(db, id)
		if err != nil {
			return err
		}
		out.Build = *b
		return nil
	})
	if err == nil && out.Build.ID == uuid.Nil {
		return nil, errorf(http.StatusNotFound, CodeBuildNotFound, "no build %s", id)
	}
	return out, err
}

// PortsData is the answer of GET /api/v1/builds/{id}/ports: the port
// builds of the build's runs, in start order.
type PortsData struct {
	Build   uuid.UUID              `json:"build"`
	Records []*builddb.BuildRecord `json:"records"`
	Count   int                    `json:"count"`
}

// buildPorts answers GET /api/v1/builds/{id}/ports.
func (s *Server) buildPorts(r *http.Request) (any, error) {
	id, err := buildIDOf(r)
	if err != nil {
		return nil, err
	}
	out := PortsData{Build: id, Records: []*builddb.BuildRecord{}}
	found := false
	err = s.withDB(func(db *builddb.DB) error {
		b, err := findBuild(db, id)
		if err != nil {
			return err
		}
		found = true
		for _, run := range b.Runs {
			recs, err := db.RunRecords(run)
			if err != nil && !errors.Is(err, builddb.ErrNotFound) {
				return err
			}
			out.Records = append(out.Records, recs...)
		}
		return nil
	})
	if err == nil && !found {
		return nil, errorf(http.StatusNotFound, CodeBuildNotFound, "no build %s", id)
	}
	out.Count = len(out.Records)
	return out, err
}

// SubmitData is the answer of POST /api/v1/builds: the seed's fields and
// the whole build.
type SubmitData struct {
	BuildID  uuid.UUID        `json:"build_id"`
	Queued   int              `json:"queued_packages"`
	Estimate builddb.Duration `json:"estimated_duration"`
	Position int              `json:"position"`
	Build    Build            `json:"build"`
}

// maxBody bounds a control request's body.
const maxBody = 1 << 20

// controller returns the build service, or the error that says there is
// none in this process.
func (s *Server) controller() (Controller, error) {
	s.mu.Lock()
	c := s.control
	s.mu.Unlock()
	if c == nil {
		return nil, errorf(http.StatusConflict, CodeNotAService,
			"this process only watches its build: start builds through `dsynth serve`, which runs a queue of them")
	}
	return c, nil
}

// SetController makes c the build service behind the write endpoints
// (Options.Control, for a service created after its server).
func (s *Server) SetController(c Controller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.control = c
}

// submit answers POST /api/v1/builds and POST /api/v1/queue (201).
func (s *Server) submit(w http.ResponseWriter, r *http.Request, id string) {
	s.queueBuild(w, r, id, func(c Controller) (*builddb.Request, error) {
		var req BuildRequest
		if err := decodeBody(r, &req); err != nil {
			return nil, err
		}
		return c.Submit(r.Context(), req, s.principal(r))
	})
}

// queueBuild answers a request that queues a build through the
// controller (submit, retry): 201 with the build, or the error.
func (s *Server) queueBuild(w http.ResponseWriter, r *http.Request, id string, call func(Controller) (*builddb.Request, error)) {
	if _, err := queryOf(r); err != nil {
		s.writeError(w, id, err)
		return
	}
	c, err := s.controller()
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	got, err := call(c)
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	s.created(w, id, got)
}

// created answers 201 with a build the controller queued, as the database
// shows it now (its position in the queue).
func (s *Server) created(w http.ResponseWriter, id string, got *builddb.Request) {
	b := s.buildNow(got)
	w.Header().Set("Location", "/api/v1/builds/"+got.ID.String())
	s.writeDataStatus(w, id, http.StatusCreated, SubmitData{BuildID: got.ID, Queued: got.Queued, Estimate: got.Estimate, Position: b.Position, Build: b})
}

// buildNow is a build the controller answered, as the database shows it
// (or as the controller answered it, when the database cannot say).
func (s *Server) buildNow(got *builddb.Request) Build {
	var b *Build
	err := s.withDB(func(db *builddb.DB) error {
		var err error
		b, err = findBuild(db, got.ID)
		return err
	})
	if err != nil || b == nil {
		return buildOfRequest(got, nil)
	}
	return *b
}

// cancel answers DELETE /api/v1/builds/{id}.
func (s *Server) cancel(r *http.Request) (any, error) {
	return s.controlCall(r, func(c Controller, id uuid.UUID) (*builddb.Request, error) { return c.Cancel(r.Context(), id) })
}

// remove answers DELETE /api/v1/queue/{id}.
func (s *Server) remove(r *http.Request) (any, error) {
	return s.controlCall(r, func(c Controller, id uuid.UUID) (*builddb.Request, error) { return c.Remove(r.Context(), id) })
}

// controlTarget checks a control request's query and returns the
// controller and the build named in the path.
func (s *Server) controlTarget(r *http.Request) (Controller, uuid.UUID, error) {
	if _, err := queryOf(r); err != nil {
		return nil, uuid.Nil, err
	}
	c, err := s.controller()
	if err != nil {
		return nil, uuid.Nil, err
	}
	id, err := parseUUID(r.PathValue("id"), "build")
	return c, id, err
}

// controlCall runs one control call on the build named in the path and
// answers with the build after it.
func (s *Server) controlCall(r *http.Request, call func(Controller, uuid.UUID) (*builddb.Request, error)) (any, error) {
	c, id, err := s.controlTarget(r)
	if err != nil {
		return nil, err
	}
	got, err := call(c, id)
	if err != nil {
		return nil, err
	}
	return BuildData{Build: s.buildNow(got)}, nil
}

// retry answers POST /api/v1/builds/{id}/retry (201, the new build).
func (s *Server) retry(w http.ResponseWriter, r *http.Request, id string) {
	s.queueBuild(w, r, id, func(c Controller) (*builddb.Request, error) {
		bid, err := parseUUID(r.PathValue("id"), "build")
		if err != nil {
			return nil, err
		}
		return c.Retry(r.Context(), bid, s.principal(r))
	})
}

// decodeBody reads a JSON body strictly: one object, no unknown field.
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, CodeBadRequest, "the body must be application/json, not %s", ct)
		}
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "malformed body: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, CodeBadRequest, "malformed body: more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, CodeBadRequest, "malformed body: trailing data after the JSON object")
	}
	return nil
}

// principal names who sent a request, for the build's requester:
// "local" on the owner's socket, "key NAME", "jwt NAME" and so on,
// "anonymous" otherwise.
func (s *Server) principal(r *http.Request) string {
	p := principalOf(r)
	switch p.Method {
	case auth.MethodPeer:
		return "local"
	case auth.MethodAnonymous, "":
		return "anonymous"
	case auth.MethodKey:
		return "key " + p.Name
	}
	return string(p.Method) + " " + p.Name
}

// Errorf returns an API error with an HTTP status and a code, for a
// Controller to refuse a request with.
func Errorf(status int, code, format string, args ...any) error {
	return errorf(status, code, format, args...)
}

// buildIDOf reads the build a path names ({id}); the request may have no
// query parameter.
func buildIDOf(r *http.Request) (uuid.UUID, error) {
	if _, err := queryOf(r); err != nil {
		return uuid.Nil, err
	}
	return parseUUID(r.PathValue("id"), "build")
}

// MoveRequest is the body of POST /api/v1/queue/{id}/move.
type MoveRequest struct {
	// Position is the build's new place: 0 runs it next; a position past
	// the end puts it last.
	Position *int `json:"position"`
}

// move answers POST /api/v1/queue/{id}/move: the queue after the move,
// as GET /api/v1/queue lists it.
func (s *Server) move(r *http.Request) (any, error) {
	c, id, err := s.controlTarget(r)
	if err != nil {
		return nil, err
	}
	var body MoveRequest
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	if body.Position == nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "position: missing; give the build's new place in the queue, 0 for next")
	}
	if _, err := c.Move(r.Context(), id, *body.Position); err != nil {
		return nil, err
	}
	return s.queue(r)
}

// WhoAmIData is the answer of GET /api/v1/whoami: the caller as the API
// authenticated it, and what its role allows.
type WhoAmIData struct {
	Name string `json:"name"`
	// Role is the principal's role (read, user, builder, admin, or
	// anonymous when the API lets keyless callers read).
	Role string `json:"role"`
	// Method is how it authenticated: api-key, jwt, oidc, mtls, peer or
	// anonymous.
	Method string `json:"method"`
	// Permissions are the permissions the role holds: read, build,
	// config, admin.
	Permissions []string `json:"permissions"`
	// Expires is when the credential expires, when it does.
	Expires time.Time `json:"expires,omitzero"`
}

// whoami answers GET /api/v1/whoami.
func (s *Server) whoami(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	p := principalOf(r)
	out := WhoAmIData{Name: p.Name, Role: p.Role.String(), Method: string(p.Method), Permissions: []string{}, Expires: p.Expires}
	if out.Method == "" {
		out.Method = string(auth.MethodAnonymous)
	}
	for _, perm := range []auth.Permission{auth.PermRead, auth.PermBuild, auth.PermConfig, auth.PermAdmin} {
		if p.Role.Allows(perm) {
			out.Permissions = append(out.Permissions, perm.String())
		}
	}
	return out, nil
}
