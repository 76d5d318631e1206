package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
)

// maxSubscribedPorts bounds the ports one stream client follows the logs
// of.
const maxSubscribedPorts = 100

// PortLogLineMsg is log.line for a port a client subscribed to with
// GET /api/v1/events?ports=…: one line of the port's build log. It has no
// event id: it is that client's, not the stream's history.
type PortLogLineMsg struct {
	Base
	Package  string `json:"package"`
	Worker   int    `json:"worker"`
	RecordID string `json:"record_id,omitempty"`
	Line     string `json:"line"`
}

// parsePorts reads the ports parameter of the event stream: a comma list
// of origins whose build logs the client gets as log.line messages.
func parsePorts(r *http.Request) (map[string]bool, error) {
	q, err := queryOf(r, "last_event_id", "ports")
	if err != nil {
		return nil, err
	}
	v, err := single(q, "ports")
	if err != nil || v == "" {
		return nil, err
	}
	out := map[string]bool{}
	for _, p := range strings.Split(v, ",") {
		o, err := ports.ParseOrigin(p)
		if err != nil {
			return nil, badParam("ports", "%q: %v", p, err)
		}
		out[o.String()] = true
	}
	if len(out) > maxSubscribedPorts {
		return nil, badParam("ports", "%d ports; at most %d", len(out), maxSubscribedPorts)
	}
	return out, nil
}

// portStarted tells the clients subscribed to a port's log that it
// started. It runs in Handle, under s.mu, and never blocks.
func (s *Server) portStartedLocked(ev events.PortStarted) {
	for c := range s.clients {
		if c.ports[ev.Origin] {
			select {
			case c.started <- ev:
			default: // more ports started at once than it follows: skip
			}
		}
	}
}

// followPorts sends a client the log lines of each port it subscribed to
// while the port builds, until ctx ends.
func (s *Server) followPorts(ctx context.Context, c *client) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-c.started:
			go s.followPort(ctx, c, ev)
		}
	}
}

// followPort sends one building port's log lines to a client until the
// port finishes. A client whose queue is full is dropped, as for every
// other message.
func (s *Server) followPort(ctx context.Context, c *client, ev events.PortStarted) {
	cfg := s.o.Config
	if cfg == nil || cfg.Profile.LogsDir == "" {
		return
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	t := &logTail{origin: ev.Origin, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if s.ext.tails == nil {
		s.ext.tails = map[*logTail]struct{}{}
	}
	s.ext.tails[t] = struct{}{}
	s.streams.Add(1)
	s.mu.Unlock()
	defer s.untail(t)
	record := ""
	if ev.Build != uuid.Nil {
		record = ev.Build.String()
	}
	target := &logTarget{path: report.PortLogPath(cfg.Profile.LogsDir, ev.Origin), origin: ev.Origin, running: true, since: ev.At()}
	lt := &lineTail{path: target.path, target: target, send: func(line string) error {
		m := PortLogLineMsg{Base: Base{Type: TypeLogLine, Timestamp: s.now().UTC()}, Package: ev.Origin, Worker: ev.Slot, RecordID: record, Line: line}
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		select {
		case c.ch <- frame{typ: TypeLogLine, data: data}:
		default:
			s.dropLocked(c)
		}
		return nil
	}}
	defer lt.close()
	// The event stream keeps itself alive, and says the server stops.
	s.follow(ctx, t, lt, follower{keepAlive: func(context.Context) error { return nil }, stopping: func() {},
		end: func(string) { lt.drain(true) }, gone: c.over})
}
