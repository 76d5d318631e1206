package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// Health check statuses.
const (
	HealthOK   = "ok"
	HealthFail = "fail"
)

// readyTimeout bounds the extra checks of GET /readyz.
const readyTimeout = 5 * time.Second

// ReadyCheck is a check of GET /readyz beside the database and workers
// checks (the owner's socket, a build queue): Check returns nil when that
// part is ready, else why not.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// HealthCheck is one check's result.
type HealthCheck struct {
	Status  string `json:"status"` // HealthOK or HealthFail
	Message string `json:"message,omitempty"`
}

// HealthData is the body of GET /healthz and GET /readyz (plain JSON, not
// an envelope: probes read the status code and, at most, this).
type HealthData struct {
	// Status is "ok" (healthz), "ready" or "not_ready" (readyz).
	Status    string                 `json:"status"`
	Checks    map[string]HealthCheck `json:"checks,omitempty"`
	Timestamp time.Time              `json:"timestamp"`
	Version   string                 `json:"version"`
}

// writeHealth writes a health answer.
func (s *Server) writeHealth(w http.ResponseWriter, code int, d HealthData) {
	d.Timestamp, d.Version = s.now().UTC(), Version
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(d) // the client may be gone; nothing to do about it
}

// healthz answers GET /healthz, the liveness probe: the process is up and
// answers HTTP. It needs no key and reads nothing.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request, _ string) {
	s.writeHealth(w, http.StatusOK, HealthData{Status: HealthOK})
}

// readyz answers GET /readyz, the readiness probe (the seed's
// HealthChecker): the build database answers a read transaction, the
// workers of the run in progress (information: all busy is not a
// failure) and every Options.ReadyChecks. 200 when every check passes,
// 503 otherwise. It needs no key: it tells whether each part works, never
// what the database holds, and its failure messages name no path.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ string) {
	checks := map[string]HealthCheck{}
	ready := true
	set := func(name string, err error, okMsg string) {
		if err != nil {
			ready = false
			checks[name] = HealthCheck{Status: HealthFail, Message: err.Error()}
			return
		}
		checks[name] = HealthCheck{Status: HealthOK, Message: okMsg}
	}
	s.mu.Lock()
	stopped := s.stopped
	ls, active := s.live.snapshot()
	s.mu.Unlock()
	if stopped {
		set("server", fmt.Errorf("shutting down"), "")
	}
	set("database", s.pingDB(), "")
	if active {
		busy := 0
		for _, w := range ls.Workers.Slots {
			if w.Status == "busy" {
				busy++
			}
		}
		checks["workers"] = HealthCheck{Status: HealthOK, Message: fmt.Sprintf("%d/%d busy (run %s)", busy, len(ls.Workers.Slots), ls.Run.RunID)}
	} else {
		checks["workers"] = HealthCheck{Status: HealthOK, Message: "no build running"}
	}
	s.mu.Lock()
	extra := append(append([]ReadyCheck(nil), s.o.ReadyChecks...), s.readyChecks...)
	s.mu.Unlock()
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	if len(extra) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		for _, c := range extra {
			set(c.Name, c.Check(ctx), "")
		}
	}
	if ready {
		s.writeHealth(w, http.StatusOK, HealthData{Status: "ready", Checks: checks})
		return
	}
	s.writeHealth(w, http.StatusServiceUnavailable, HealthData{Status: "not_ready", Checks: checks})
}

// pingDB reads the build database in one read transaction: the owner's
// handle directly (not counted among the readers, so a crowd of requests
// does not make the probe fail), else the file. A build base without a
// database yet is ready. The error says what is wrong without a path.
func (s *Server) pingDB() error {
	var err error
	if s.o.DB != nil {
		_, err = s.o.DB.Version()
	} else {
		err = s.withDB(func(db *builddb.DB) error {
			_, err := db.Version()
			return err
		})
	}
	if err == nil {
		return nil
	}
	s.logf("api: readyz: %v", err)
	if e := asError(s.dbError(err)); e.Code != CodeInternal {
		return fmt.Errorf("%s", e.Message)
	}
	return fmt.Errorf("the build database cannot be read")
}

// AddReadyCheck adds a check to GET /readyz (a build service adds its
// queue's once it runs).
func (s *Server) AddReadyCheck(c ReadyCheck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readyChecks = append(s.readyChecks, c)
}
