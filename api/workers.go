package api

import (
	"net/http"
	"strconv"
	"time"
)

// WorkerControl pauses and resumes workers (builder.SlotControl): a
// paused worker finishes its port and takes no new one.
type WorkerControl interface {
	Pause(slot int)
	Resume(slot int)
	Paused(slot int) bool
	// PauseRemote, ResumeRemote and RemotePaused act on a remote slot by
	// its name ("worker/slot"), which, unlike its number, stays the same
	// from run to run.
	PauseRemote(where string)
	ResumeRemote(where string)
	RemotePaused(where string) bool
}

// Worker is one worker (build slot) as GET /api/v1/workers shows it, in
// the seed's shape.
type Worker struct {
	ID int `json:"id"`
	// Status is idle, busy, FROZEN (kept by debug) or FAILED.
	Status         string    `json:"status"`
	Paused         bool      `json:"paused"`
	CurrentPackage string    `json:"current_package,omitempty"`
	Phase          string    `json:"phase,omitempty"`
	StartedAt      time.Time `json:"started_at,omitzero"`
	// RecordID is the record the port being built will have (its log:
	// GET /api/v1/logs/{record_id}, or this worker's log stream).
	RecordID string `json:"record_id,omitempty"`
	// Where names a remote slot ("worker/slot" on a cluster worker).
	Where string `json:"where,omitempty"`
}

// WorkersData is the answer of GET /api/v1/workers.
type WorkersData struct {
	Workers []Worker `json:"workers"`
	Total   int      `json:"total"`
	Busy    int      `json:"busy"`
	Idle    int      `json:"idle"`
	Paused  int      `json:"paused"`
	// Active says a run is in progress (outside one every worker is idle).
	Active bool `json:"active"`
	// Hosts are the cluster's worker hosts (absent without a cluster).
	Hosts []RemoteHost `json:"hosts,omitempty"`
}

// RemoteHost is a cluster worker host: its name, host name, slots (and how
// many hold a port), state ("ready", "lost"), when it joined and last beat.
type RemoteHost struct {
	Name     string    `json:"name"`
	Host     string    `json:"host"`
	Slots    int       `json:"slots"`
	Busy     int       `json:"busy"`
	State    string    `json:"state"`
	Joined   time.Time `json:"joined"`
	LastBeat time.Time `json:"last_beat"`
	// Paused is how many of its slots are paused (by name: POST
	// /api/v1/hosts/{name}/pause pauses them all, before they ever took
	// a port too).
	Paused int `json:"paused"`
}

// HostData is the answer of POST /api/v1/hosts/{name}/pause and resume.
type HostData struct {
	Host RemoteHost `json:"host"`
}

// WorkerData is the answer of GET /api/v1/workers/{id} and of pause and
// resume.
type WorkerData struct {
	Worker Worker `json:"worker"`
}

// workerList is the workers now: the run's slots during a run, else the
// configured number of builders, all idle.
func (s *Server) workerList() WorkersData {
	s.mu.Lock()
	ls, active := s.live.snapshot()
	s.mu.Unlock()
	out := WorkersData{Active: active, Workers: []Worker{}}
	if active {
		for _, w := range ls.Workers.Slots {
			wk := Worker{ID: w.Worker, Status: w.Status, CurrentPackage: w.Package, Phase: w.Phase, RecordID: w.RecordID, Where: w.Where}
			if w.Status == "busy" {
				wk.StartedAt = w.Since
			}
			out.Workers = append(out.Workers, wk)
		}
	} else {
		for i := range s.o.Workers {
			out.Workers = append(out.Workers, Worker{ID: i, Status: "idle"})
		}
	}
	for i := range out.Workers {
		w := &out.Workers[i]
		w.Paused = s.o.WorkerControl != nil && (s.o.WorkerControl.Paused(w.ID) || (w.Where != "" && s.o.WorkerControl.RemotePaused(w.Where)))
		switch {
		case w.Status == "busy":
			out.Busy++
		case w.Status == "idle":
			out.Idle++
		}
		if w.Paused {
			out.Paused++
		}
	}
	out.Total = len(out.Workers)
	out.Hosts = s.remoteHosts()
	return out
}

// remoteHosts are the cluster's worker hosts, each with its paused slots
// counted (nil without a cluster).
func (s *Server) remoteHosts() []RemoteHost {
	if s.o.RemoteHosts == nil {
		return nil
	}
	hosts := s.o.RemoteHosts()
	for i := range hosts {
		h := &hosts[i]
		h.Paused = 0
		for n := range h.Slots {
			if s.o.WorkerControl != nil && s.o.WorkerControl.RemotePaused(remoteSlotName(h.Name, n)) {
				h.Paused++
			}
		}
	}
	return hosts
}

// remoteSlotName names slot n of cluster worker host ("host/n").
func remoteSlotName(host string, n int) string { return host + "/" + strconv.Itoa(n) }

// pauseHost answers POST /api/v1/hosts/{name}/pause.
func (s *Server) pauseHost(r *http.Request) (any, error) { return s.setHostPaused(r, true) }

// resumeHost answers POST /api/v1/hosts/{name}/resume.
func (s *Server) resumeHost(r *http.Request) (any, error) { return s.setHostPaused(r, false) }

// setHostPaused pauses or resumes every slot of a cluster worker host by
// name: each finishes its port and takes no new one, whether or not the
// run has seen it yet.
func (s *Server) setHostPaused(r *http.Request, pause bool) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	if s.o.WorkerControl == nil || s.o.RemoteHosts == nil {
		return nil, errorf(http.StatusConflict, CodeNotAService, "this process has no cluster workers to pause")
	}
	name := r.PathValue("name")
	for _, h := range s.o.RemoteHosts() {
		if h.Name != name {
			continue
		}
		for n := range h.Slots {
			if pause {
				s.o.WorkerControl.PauseRemote(remoteSlotName(h.Name, n))
			} else {
				s.o.WorkerControl.ResumeRemote(remoteSlotName(h.Name, n))
			}
		}
		for _, got := range s.remoteHosts() {
			if got.Name == name {
				return HostData{Host: got}, nil
			}
		}
		return HostData{Host: h}, nil
	}
	return nil, errorf(http.StatusNotFound, CodeHostNotFound, "no cluster worker %q", name)
}

// workers answers GET /api/v1/workers.
func (s *Server) workers(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	return s.workerList(), nil
}

// workerOf returns one worker by the path's id.
func (s *Server) workerOf(r *http.Request) (Worker, error) {
	v := r.PathValue("id")
	id, err := strconv.Atoi(v)
	if err != nil || id < 0 || strconv.Itoa(id) != v {
		return Worker{}, errorf(http.StatusBadRequest, CodeInvalidID, "worker %q: want a worker number (0, 1, …)", v)
	}
	for _, w := range s.workerList().Workers {
		if w.ID == id {
			return w, nil
		}
	}
	return Worker{}, errorf(http.StatusNotFound, CodeWorkerNotFound, "no worker %d", id)
}

// worker answers GET /api/v1/workers/{id}.
func (s *Server) worker(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	w, err := s.workerOf(r)
	return WorkerData{Worker: w}, err
}

// pauseWorker answers POST /api/v1/workers/{id}/pause.
func (s *Server) pauseWorker(r *http.Request) (any, error) { return s.setPaused(r, true) }

// resumeWorker answers POST /api/v1/workers/{id}/resume.
func (s *Server) resumeWorker(r *http.Request) (any, error) { return s.setPaused(r, false) }

func (s *Server) setPaused(r *http.Request, pause bool) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	if s.o.WorkerControl == nil {
		return nil, errorf(http.StatusConflict, CodeNotAService, "this process cannot pause workers")
	}
	w, err := s.workerOf(r)
	if err != nil {
		return nil, err
	}
	switch {
	case w.Where != "" && pause:
		// A remote slot is paused by name: its number may mean
		// another slot in the next run.
		s.o.WorkerControl.PauseRemote(w.Where)
	case w.Where != "":
		s.o.WorkerControl.ResumeRemote(w.Where)
		s.o.WorkerControl.Resume(w.ID)
	case pause:
		s.o.WorkerControl.Pause(w.ID)
	default:
		s.o.WorkerControl.Resume(w.ID)
	}
	w.Paused = pause
	return WorkerData{Worker: w}, nil
}

// workerLog serves GET /api/v1/workers/{id}/log: the live log of the port
// the worker builds, as GET /api/v1/logs/{record_id}/stream serves it
// (log.line messages, then log.end when the port ends). An idle worker
// has no log: 409 CONFLICT.
func (s *Server) workerLog(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := queryOf(r); err != nil {
		s.writeError(w, id, err)
		return
	}
	wk, err := s.workerOf(r)
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	if wk.Status != "busy" || wk.RecordID == "" {
		s.writeError(w, id, errorf(http.StatusConflict, CodeConflict, "worker %d is %s: it builds no port whose log could be followed", wk.ID, wk.Status))
		return
	}
	r.SetPathValue("id", wk.RecordID)
	s.streamLog(w, r, id)
}
