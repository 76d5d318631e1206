package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestReplayKeepsTheLastFramesAndSaysWhatWasLost(t *testing.T) {
	r := newReplay(3, time.UnixMicro(1000))
	var ids []uint64
	for i := 0; i < 5; i++ {
		f := r.add("log.line", []byte(`{"type":"log.line"}`))
		ids = append(ids, f.id)
		var m map[string]any
		if err := json.Unmarshal(f.data, &m); err != nil || m["id"] != float64(f.id) || m["type"] != "log.line" {
			t.Fatalf("frame %s: %v", f.data, err)
		}
	}
	if ids[0] != 1001 || ids[4] != 1005 {
		t.Fatalf("ids %v: want 1001…1005, from the start time in µs", ids)
	}
	got, g := r.since(1003, 100)
	if len(got) != 2 || got[0].id != 1004 || g != nil {
		t.Errorf("since 1003: %d frames from %d, gap %v; want 1004 and 1005, no gap", len(got), got[0].id, g)
	}
	got, g = r.since(1001, 100) // 1002 is gone: 1003…1005 kept
	if len(got) != 3 || g == nil || g.from != 1002 || g.to != 1002 {
		t.Errorf("since 1001: %d frames, gap %+v; want 3 and the gap 1002–1002", len(got), g)
	}
	got, g = r.since(1005, 100)
	if len(got) != 0 || g != nil {
		t.Errorf("since the last: %d frames, gap %+v; want none", len(got), g)
	}
	got, g = r.since(7, 2) // an id of a previous process: everything kept is after it
	if len(got) != 1 || got[0].id != 1005 || g == nil || g.from != 8 || g.to != 1004 {
		t.Errorf("since an old id with room for 2: %d frames, gap %+v; want the newest and the gap 8–1004", len(got), g)
	}
}

// TestSSEResumesFromLastEventID: a client that reconnects with the id of
// the last event it saw gets the events after it, and nothing twice.
func TestSSEResumesFromLastEventID(t *testing.T) {
	_, hs, bus := liveServer(t, Options{KeepAlive: time.Hour})
	run := aRun()
	for _, e := range run[:4] {
		bus.Publish(e)
	}
	bus.Flush()
	// The id of the third message (build.started), from a fresh stream
	// that resumes from 0: every kept message is replayed.
	req, _ := http.NewRequest(http.MethodGet, "http://"+hs.Addr()+"/api/v1/events?last_event_id=0", nil)
	req.Header.Set("X-API-Key", readKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sse := &sseReader{bufio.NewReader(resp.Body)}
	var seen []sseEvent
	for len(seen) < 5 { // gap marker (ids before the server started) and 4 messages
		ev, err := sse.next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.typ != "" {
			seen = append(seen, ev)
		}
	}
	resp.Body.Close()
	if seen[0].typ != TypeGap || seen[1].typ != TypeRunStarted || seen[4].typ != TypeBuildPhase {
		t.Fatalf("replay: %v", seen)
	}
	third := seen[3].id

	for _, e := range run[4:] {
		bus.Publish(e)
	}
	bus.Flush()
	req, _ = http.NewRequest(http.MethodGet, "http://"+hs.Addr()+"/api/v1/events", nil)
	req.Header.Set("X-API-Key", readKey)
	req.Header.Set("Last-Event-ID", third)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sse = &sseReader{bufio.NewReader(resp.Body)}
	var types []string
	last, _ := strconv.ParseUint(third, 10, 64)
	for len(types) < len(aRunTypes)-3 {
		ev, err := sse.next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.typ == "" {
			continue
		}
		id, err := strconv.ParseUint(ev.id, 10, 64)
		if err != nil || id != last+1 {
			t.Fatalf("event %s has id %q after %d", ev.typ, ev.id, last)
		}
		last = id
		types = append(types, ev.typ)
	}
	for i, typ := range aRunTypes[3:] {
		if types[i] != typ {
			t.Fatalf("resumed with %v, want %v", types, aRunTypes[3:])
		}
	}

	bad, _ := http.NewRequest(http.MethodGet, "http://"+hs.Addr()+"/api/v1/events?last_event_id=x", nil)
	bad.Header.Set("X-API-Key", readKey)
	if resp, err := http.DefaultClient.Do(bad); err != nil || resp.StatusCode != 400 {
		t.Errorf("a malformed last_event_id: %v %v, want 400", resp.Status, err)
	}
}
