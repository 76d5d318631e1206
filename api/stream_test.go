package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// sseEvent is one parsed Server-Sent Event, or a comment.
type sseEvent struct {
	id, typ, data, comment string
}

// sseReader parses an event stream.
type sseReader struct{ r *bufio.Reader }

// next returns the next event or comment.
func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev != (sseEvent{}) {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
			ev.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "id: "):
			ev.id = line[len("id: "):]
		case strings.HasPrefix(line, "event: "):
			ev.typ = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			if ev.data != "" {
				return ev, errors.New("two data lines in one event")
			}
			ev.data = line[len("data: "):]
		default:
			return ev, errors.New("unexpected line " + line)
		}
	}
}

// rest returns the events (not the comments) up to the end of the stream.
func (s *sseReader) rest(t *testing.T) []sseEvent {
	t.Helper()
	var out []sseEvent
	for {
		ev, err := s.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.typ != "" {
			out = append(out, ev)
		}
	}
}

// liveServer is a Server on a real address, subscribed to a real bus.
func liveServer(t *testing.T, o Options) (*Server, *HTTPServer, *events.Bus) {
	t.Helper()
	if o.BuildBase == "" {
		o.BuildBase = newFixture(t).base
	}
	s := newTestServer(t, o)
	bus := &events.Bus{}
	t.Cleanup(bus.Close)
	bus.Subscribe(s)
	hs, err := Listen("127.0.0.1:0", s, validating(t, s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Close(ctx)
	})
	return s, hs, bus
}

// waitStreams waits until n stream clients are connected.
func waitStreams(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.streamCount() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d stream clients, want %d", s.streamCount(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openSSE connects to the event stream with the read key.
func openSSE(t *testing.T, addr string) (*http.Response, *sseReader) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/events", nil)
	req.Header.Set("X-API-Key", readKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("event stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp, &sseReader{bufio.NewReader(resp.Body)}
}

// aRun is the events of a small run, in order.
func aRun() []events.Event {
	at := events.Time{T: t0}
	return []events.Event{
		events.RunStarted{Time: at, RunID: "run-1", Profile: "LiveSystem", Directive: "just-build", Queued: 2, MaxWorkers: 2},
		events.PortQueued{Time: at, Origin: "misc/hello", Reason: "no package"},
		events.PortStarted{Time: at, Slot: 1, Origin: "misc/hello"},
		events.PhaseStarted{Time: at, Slot: 1, Origin: "misc/hello", Phase: "build"},
		events.PortFinished{Time: at, Slot: 1, Origin: "misc/hello", Outcome: events.Built, Duration: 3 * time.Second, PkgFile: "hello-1.0.pkg"},
		events.SystemLoad{Time: at, Load1: 0.5, SwapPercent: -1, Running: 0, Limit: 2, MaxWorkers: 2},
		events.Log{Time: at, Slot: -1, Text: "a log line"},
		events.RunFinished{Time: at, RunID: "run-1", Counts: events.Counts{Queued: 2, Built: 1}},
	}
}

// aRunTypes is what aRun becomes on the stream.
var aRunTypes = []string{TypeRunStarted, TypeBuildQueued, TypeBuildStarted, TypeBuildPhase, TypeBuildCompleted, TypeWorkerIdle, TypeSystemLoad, TypeLogLine, TypeRunFinished}

// TestSSE: an idle stream sends keep-alive comments only; a run's events
// arrive in order, named by type, with the JSON of their message; when
// the server stops right after the run, the last events still arrive,
// then the stream ends.
func TestSSE(t *testing.T) {
	s, hs, bus := liveServer(t, Options{KeepAlive: 20 * time.Millisecond})
	_, sse := openSSE(t, hs.Addr())
	waitStreams(t, s, 1)
	for i := 0; i < 3; i++ {
		ev, err := sse.next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.typ != "" || ev.data != "" || ev.comment == "" {
			t.Fatalf("idle stream sent %+v", ev)
		}
	}
	for _, e := range aRun() {
		bus.Publish(e)
	}
	bus.Flush() // the server has queued the run to its stream clients
	hs.Close(context.Background())
	var types []string
	for _, ev := range sse.rest(t) {
		types = append(types, ev.typ)
		var m map[string]any
		if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
			t.Fatalf("data %q: %v", ev.data, err)
		}
		if m["type"] != ev.typ || m["timestamp"] != "2025-01-15T10:00:00Z" {
			t.Errorf("event %s: data %v", ev.typ, m)
		}
		if ev.typ == TypeBuildCompleted {
			if m["package"] != "misc/hello" || m["worker"] != 1.0 || m["status"] != "success" || m["duration"] != "3s" || m["pkg_file"] != "hello-1.0.pkg" || m["run_id"] != "run-1" {
				t.Errorf("build.completed: %v", m)
			}
		}
	}
	if !slices.Equal(types, aRunTypes) {
		t.Errorf("events %v, want %v", types, aRunTypes)
	}
}

// TestWebSocket: the same stream as WebSocket text messages, with the key
// in Authorization; no key is 401 before any upgrade, and a page of
// another site (Origin) is refused.
func TestWebSocket(t *testing.T) {
	s, hs, bus := liveServer(t, Options{KeepAlive: 20 * time.Millisecond})
	url := "ws://" + hs.Addr() + "/api/v1/events"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, resp, err := websocket.Dial(ctx, url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("dial without a key: %v %v", err, resp)
	}
	h := http.Header{"Authorization": {"Bearer " + readKey}, "Origin": {"http://evil.example"}}
	_, resp, err = websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("dial from another origin: %v %v", err, resp)
	}
	waitStreams(t, s, 0)

	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + readKey}}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	waitStreams(t, s, 1)
	time.Sleep(60 * time.Millisecond) // a few pings go by, answered by Read below
	for _, e := range aRun() {
		bus.Publish(e)
	}
	var types []string
	for len(types) < len(aRunTypes) {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", types, err)
		}
		var m map[string]any
		if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
			t.Fatalf("message %v %q", typ, data)
		}
		checkMessage(t, m)
		types = append(types, m["type"].(string))
		if m["type"] == TypeBuildStarted && (m["package"] != "misc/hello" || m["worker"] != 1.0 || m["run_id"] != "run-1") {
			t.Errorf("build.started: %v", m)
		}
	}
	if !slices.Equal(types, aRunTypes) {
		t.Errorf("messages %v, want %v", types, aRunTypes)
	}
	closed := make(chan error, 1)
	go func() { _, _, err := conn.Read(ctx); closed <- err }()
	start := time.Now()
	hs.Close(context.Background())
	if err := <-closed; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("after Close: %v, want going away", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with a client that answers", d)
	}
}

// TestSlowClient: a client that stops reading fills its socket and its
// queue; Publish never waits for it, the server drops it, and when it
// reads again its stream ends with the overflow marker. A client that
// connects afterwards gets the events.
func TestSlowClient(t *testing.T) {
	s, hs, bus := liveServer(t, Options{QueueSize: 8, WriteTimeout: 30 * time.Second})
	_, slow := openSSE(t, hs.Addr())
	waitStreams(t, s, 1)
	big := strings.Repeat("x", 64<<10)
	done := make(chan struct{})
	go func() {
		// 500 × 64 KiB: far more than the socket buffers and the queue.
		for i := 0; i < 500; i++ {
			bus.Publish(events.Log{Time: events.Time{T: t0}, Slot: -1, Text: big})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Publish blocked on a client that does not read")
	}
	bus.Flush() // the server has handled every event
	if n := s.streamCount(); n != 0 {
		t.Fatalf("%d stream clients after the overflow, want 0", n)
	}

	evs := slow.rest(t)
	n := len(evs)
	var last sseEvent
	if n > 0 {
		last = evs[n-1]
	}
	if last.typ != TypeOverflow || !strings.Contains(last.data, "disconnected") || n >= 500 {
		t.Errorf("slow client: %d events, the last %s %.100s", n, last.typ, last.data)
	}

	_, fresh := openSSE(t, hs.Addr())
	waitStreams(t, s, 1)
	bus.Publish(events.Log{Time: events.Time{T: t0}, Slot: -1, Text: "still flowing"})
	for {
		ev, err := fresh.next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.typ == TypeLogLine {
			if !strings.Contains(ev.data, "still flowing") {
				t.Errorf("fresh client got %s", ev.data)
			}
			break
		}
	}
}

// TestMaxStreams: one client more than MaxStreams is refused with 503.
func TestMaxStreams(t *testing.T) {
	s, hs, _ := liveServer(t, Options{MaxStreams: 1})
	openSSE(t, hs.Addr())
	waitStreams(t, s, 1)
	req, _ := http.NewRequest(http.MethodGet, "http://"+hs.Addr()+"/api/v1/events", nil)
	req.Header.Set("X-API-Key", readKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	a := decodeAnswer(t, resp.StatusCode, resp.Header, resp.Body)
	resp.Body.Close()
	a.wantError(t, http.StatusServiceUnavailable, CodeTooManyStreams)
}
