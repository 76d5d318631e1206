package api

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// TestEventStreamFollowsSubscribedPortLogs: a client of the event stream
// that names ports gets their build logs as log.line messages while they
// build, beside the other messages; a port it did not name sends none.
// Each step blocks on the stream, not on a clock.
func TestEventStreamFollowsSubscribedPortLogs(t *testing.T) {
	ls := newLogSite(t)
	s := ls.server(t, Options{KeepAlive: time.Hour})
	hs := httptest.NewServer(s)
	defer hs.Close()
	defer s.Stop(t.Context())

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, hs.URL+"/api/v1/events?ports=www/web", nil)
	req.Header.Set("X-API-Key", readKey)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	r := bufio.NewReader(resp.Body)
	waitStreams(t, s, 1)

	build := uuid.Must(uuid.NewV7())
	at := events.Time{T: t0}
	s.Handle(events.RunStarted{Time: at, RunID: "r", MaxWorkers: 2})
	if m := readSSE(t, r); m.typ != TypeRunStarted {
		t.Fatalf("got %+v", m)
	}
	started := time.Now()
	ls.writeLog(t, "first\n", started)
	s.Handle(events.PortStarted{Time: events.Time{T: started}, Slot: 1, Origin: "www/web", Build: build})
	if m := readSSE(t, r); m.typ != TypeBuildStarted {
		t.Fatalf("got %+v", m)
	}
	wantPortLine := func(want string) {
		t.Helper()
		m := readSSE(t, r)
		var l PortLogLineMsg
		if m.typ != TypeLogLine || json.Unmarshal([]byte(m.data), &l) != nil || l.Line != want || l.Package != "www/web" || l.Worker != 1 || l.RecordID != build.String() {
			t.Fatalf("got %+v, want the log line %q of www/web", m, want)
		}
	}
	wantPortLine("first")
	f, err := os.OpenFile(ls.log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	io.WriteString(f, "second\n")
	s.Handle(events.PortLines{Time: at, Slot: 1, Origin: "www/web", Lines: 2})
	// build.output and the line "second", in either order: the follower
	// may read the line before the wake-up event reaches the stream.
	sawOutput, sawSecond := false, false
	for i := 0; i < 2; i++ {
		m := readSSE(t, r)
		switch m.typ {
		case TypeBuildOutput:
			sawOutput = true
		case TypeLogLine:
			var l PortLogLineMsg
			if json.Unmarshal([]byte(m.data), &l) != nil || l.Line != "second" || l.Package != "www/web" || l.Worker != 1 || l.RecordID != build.String() {
				t.Fatalf("got %+v, want the log line \"second\" of www/web", m)
			}
			sawSecond = true
		default:
			t.Fatalf("got %+v", m)
		}
	}
	if !sawOutput || !sawSecond {
		t.Fatalf("build.output %v, line \"second\" %v: want both", sawOutput, sawSecond)
	}
	io.WriteString(f, "last")
	s.Handle(events.PortStarted{Time: at, Slot: 0, Origin: "misc/other", Build: uuid.Must(uuid.NewV7())})
	s.Handle(events.PortFinished{Time: at, Slot: 1, Origin: "www/web", Outcome: events.Built})
	// build.started of misc/other, www/web's end and worker.idle, and
	// www/web's last line (sent when it ended), in some order.
	last := false
	for i := 0; i < 4; i++ {
		m := readSSE(t, r)
		if m.typ == TypeLogLine {
			var l PortLogLineMsg
			json.Unmarshal([]byte(m.data), &l)
			if l.Package != "www/web" || l.Line != "last" {
				t.Errorf("log line %+v: only www/web's, its last line", l)
			}
			last = true
		}
	}
	if !last {
		t.Error("www/web's last line never came")
	}
	get(t, s, "/api/v1/events?ports=../x").wantError(t, http.StatusBadRequest, CodeBadRequest)
}
