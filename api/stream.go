package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// frame is one encoded stream message and its event id (0 for a marker
// that is not part of the stream's history).
type frame struct {
	id   uint64
	typ  string
	data []byte
}

// client is one connected stream: its bounded queue, and over, closed
// when the queue overflowed and the server dropped it.
type client struct {
	ch       chan frame
	over     chan struct{}
	overOnce sync.Once
	// ports are the ports whose build logs the client follows (the
	// ports parameter); started gets each of them that starts.
	ports   map[string]bool
	started chan events.PortStarted
	// key is the principal's share it counts against (streamKey).
	key string
}

// sink is where a pump writes: an SSE response or a WebSocket.
type sink interface {
	// send writes one message.
	send(ctx context.Context, f frame) error
	// keepAlive tells the client (and the server) that the stream lives.
	keepAlive(ctx context.Context) error
	// overflowed writes the overflow marker and ends the stream.
	overflowed(ctx context.Context, f frame)
	// stopping ends the stream because the server stops.
	stopping()
}

// subscribe adds a stream client, or returns an error when the server
// stops or has MaxStreams clients. A client that resumes (resume.ok) first
// gets the kept messages after resume.id, behind a stream.gap marker when
// some were no longer kept.
//
// key is whose share the stream counts against (streamKey): one principal
// may hold at most MaxStreamsPerClient streams, so no single key or
// address can take all MaxStreams places.
func (s *Server) subscribe(key string, resume lastEventID, follow map[string]bool) (*client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, errorf(http.StatusServiceUnavailable, CodeShuttingDown, "the server is stopping")
	}
	if len(s.clients) >= s.o.MaxStreams {
		return nil, errorf(http.StatusServiceUnavailable, CodeTooManyStreams, "%d event streams are open already; try again later", len(s.clients))
	}
	if key != "" && s.o.MaxStreamsPerClient > 0 && s.perKey[key] >= s.o.MaxStreamsPerClient {
		return nil, errorf(http.StatusTooManyRequests, CodeTooManyStreams, "this client has %d event streams open already (Api_max_streams_per_client); close one first", s.perKey[key])
	}
	c := &client{ch: make(chan frame, s.o.QueueSize), over: make(chan struct{}), ports: follow, key: key}
	if key != "" {
		s.perKey[key]++
	}
	if len(follow) > 0 {
		c.started = make(chan events.PortStarted, 16)
	}
	if resume.ok {
		missed, gap := s.recent.since(resume.id, s.o.QueueSize)
		if gap != nil {
			c.ch <- s.gapFrame(*gap)
		}
		for _, f := range missed {
			c.ch <- f
		}
	}
	s.clients[c] = struct{}{}
	s.streams.Add(1)
	return c, nil
}

// unsubscribe removes a client whose stream ended.
func (s *Server) unsubscribe(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	if c.key != "" {
		if s.perKey[c.key]--; s.perKey[c.key] <= 0 {
			delete(s.perKey, c.key)
		}
	}
	s.mu.Unlock()
	s.streams.Done()
	if s.unsubscribed != nil {
		s.unsubscribed()
	}
}

// dropLocked removes a client whose queue is full and tells its pump (which
// logs it: nothing here may wait on I/O, it runs in Publish).
func (s *Server) dropLocked(c *client) {
	delete(s.clients, c)
	c.overOnce.Do(func() { close(c.over) })
}

// streamCount returns the connected stream clients.
func (s *Server) streamCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// overflowFrame is the marker a dropped client gets last.
func (s *Server) overflowFrame() frame {
	m := OverflowMsg{Base: Base{Type: TypeOverflow, Timestamp: s.now().UTC()}, Queue: s.o.QueueSize,
		Message: fmt.Sprintf("this client fell %d messages behind and is disconnected; reconnect to follow the events again", s.o.QueueSize)}
	data, _ := json.Marshal(m)
	return frame{typ: TypeOverflow, data: data}
}

// pump writes c's messages to out until ctx ends, the client overflows,
// the server stops or a write fails. When the server stops it first
// writes what is queued (the run's last events).
func (s *Server) pump(ctx context.Context, c *client, out sink) {
	tick := time.NewTicker(s.o.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-c.over:
			s.logf("api: dropped an event stream client: its queue of %d messages is full", s.o.QueueSize)
			out.overflowed(ctx, s.overflowFrame())
			return
		default:
		}
		select {
		case <-ctx.Done():
			return
		case <-c.over:
		case <-s.quit:
			for {
				select {
				case f := <-c.ch:
					if out.send(ctx, f) != nil {
						return
					}
				default:
					out.stopping()
					return
				}
			}
		case f := <-c.ch:
			if out.send(ctx, f) != nil {
				return
			}
		case <-tick.C:
			if out.keepAlive(ctx) != nil {
				return
			}
		}
	}
}

// events serves GET /api/v1/events: a WebSocket when the client asks for
// one, Server-Sent Events otherwise.
func (s *Server) events(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method == http.MethodHead {
		// The headers a stream would have, and no stream: a HEAD must
		// not hold one of the MaxStreams places.
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	resume, err := parseLastEventID(r)
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	follow, err := parsePorts(r)
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	c, err := s.subscribe(streamKey(principalOf(r)), resume, follow)
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	defer s.unsubscribe(c)
	if len(follow) > 0 {
		ctx, stop := context.WithCancel(r.Context())
		defer stop()
		go s.followPorts(ctx, c)
	}
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		s.serveWebSocket(w, r, c)
		return
	}
	s.serveSSE(w, r, c)
}

// sseSink writes Server-Sent Events.
type sseSink struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (o *sseSink) write(text string) error {
	o.rc.SetWriteDeadline(time.Now().Add(o.timeout))
	if _, err := fmt.Fprint(o.w, text); err != nil {
		return err
	}
	return o.rc.Flush()
}

func (o *sseSink) send(_ context.Context, f frame) error {
	// The JSON has no newline: one data line per message.
	id := ""
	if f.id != 0 {
		id = "id: " + strconv.FormatUint(f.id, 10) + "\n"
	}
	return o.write(id + "event: " + f.typ + "\ndata: " + string(f.data) + "\n\n")
}

func (o *sseSink) keepAlive(context.Context) error { return o.write(": keep-alive\n\n") }

func (o *sseSink) overflowed(ctx context.Context, f frame) { o.send(ctx, f) }

func (o *sseSink) stopping() { o.write(": the server is stopping\n\n") }

// serveSSE streams to an EventSource client.
func (s *Server) serveSSE(w http.ResponseWriter, r *http.Request, c *client) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // no buffering in a reverse proxy
	w.WriteHeader(http.StatusOK)
	out := &sseSink{w: w, rc: http.NewResponseController(w), timeout: s.o.WriteTimeout}
	// The connection may serve further requests after the stream: do not
	// leave the last write's deadline on it.
	defer out.rc.SetWriteDeadline(time.Time{})
	if out.write(": go-dsynth event stream\n\n") != nil {
		return
	}
	s.pump(r.Context(), c, out)
}

// wsSink writes WebSocket text messages.
type wsSink struct {
	conn    *websocket.Conn
	timeout time.Duration
}

func (o *wsSink) send(ctx context.Context, f frame) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	return o.conn.Write(ctx, websocket.MessageText, f.data)
}

func (o *wsSink) keepAlive(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	return o.conn.Ping(ctx)
}

func (o *wsSink) overflowed(ctx context.Context, f frame) {
	if o.send(ctx, f) == nil {
		o.conn.Close(websocket.StatusPolicyViolation, "stream.overflow: client too slow")
	}
}

func (o *wsSink) stopping() { o.conn.Close(websocket.StatusGoingAway, "the server is stopping") }

// serveWebSocket streams to a WebSocket client. Messages from the client
// are not expected: the first one ends the stream.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, c *client) {
	// Accept checks the Origin header against the Host: a web page from
	// another site cannot open the stream with the browser's credentials.
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	defer conn.CloseNow()
	// The stream's place is freed the moment the client sends anything or
	// goes away: no closing handshake is waited for, so a client that
	// sends one message and leaves holds no place.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		conn.Read(ctx)
		cancel()
		conn.CloseNow()
	}()
	s.pump(ctx, c, &wsSink{conn: conn, timeout: s.o.WriteTimeout})
}

// Stop ends every event stream (after writing what is queued for it) and
// refuses new ones; it waits for the streams to end or ctx. Close of a
// Listen server calls it.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.quit)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.streams.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("api: event streams still open: %w", ctx.Err())
	}
}
