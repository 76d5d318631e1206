package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// replay keeps the last messages of the stream with their event ids, so a
// client that lost its connection resumes where it stopped (SSE's
// Last-Event-ID). Ids grow by one per message from the microsecond the
// server started, so they also grow across a restart of the service: an
// id from before a restart is older than everything kept, and the client
// is told what it missed (stream.gap) rather than given a wrong history.
type replay struct {
	next  uint64
	buf   []frame
	start int // index of the oldest kept frame
	n     int // frames kept
}

func newReplay(size int, now time.Time) replay {
	return replay{next: uint64(now.UnixMicro()), buf: make([]frame, size)}
}

// add numbers a message, keeps it and returns its frame. The JSON object
// gets the id as its first member, so WebSocket clients see it too.
func (r *replay) add(typ string, data []byte) frame {
	r.next++
	id := r.next
	withID := make([]byte, 0, len(data)+24)
	withID = append(withID, `{"id":`...)
	withID = strconv.AppendUint(withID, id, 10)
	if len(data) > 2 {
		withID = append(withID, ',')
	}
	withID = append(withID, data[1:]...)
	f := frame{id: id, typ: typ, data: withID}
	if len(r.buf) == 0 {
		return f
	}
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = f
		r.n++
	} else {
		r.buf[r.start] = f
		r.start = (r.start + 1) % len(r.buf)
	}
	return f
}

// gap says which messages a resuming client missed.
type gap struct{ from, to uint64 }

// since returns the kept frames after id, at most limit of the newest,
// and the gap before them when messages after id were not kept.
func (r *replay) since(id uint64, limit int) ([]frame, *gap) {
	var out []frame
	for i := 0; i < r.n; i++ {
		f := r.buf[(r.start+i)%len(r.buf)]
		if f.id > id {
			out = append(out, f)
		}
	}
	if limit > 1 && len(out) > limit-1 {
		out = out[len(out)-(limit-1):] // one place left for the marker
	}
	first := r.next + 1
	if len(out) > 0 {
		first = out[0].id
	}
	if id < r.next && first > id+1 {
		return out, &gap{from: id + 1, to: first - 1}
	}
	return out, nil
}

// lastEventID is where a client resumes (ok false: it does not).
type lastEventID struct {
	id uint64
	ok bool
}

// parseLastEventID reads the Last-Event-ID header (an EventSource that
// reconnects sends it) or the last_event_id parameter (for WebSocket
// clients, which cannot set headers).
func parseLastEventID(r *http.Request) (lastEventID, error) {
	v := r.Header.Get("Last-Event-ID")
	q, err := queryOf(r, "last_event_id", "ports")
	if err != nil {
		return lastEventID{}, err
	}
	if p, err := single(q, "last_event_id"); err != nil {
		return lastEventID{}, err
	} else if p != "" {
		v = p
	}
	if v == "" {
		return lastEventID{}, nil
	}
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return lastEventID{}, badParam("last_event_id", "Last-Event-ID %q is not an event id of this stream", v)
	}
	return lastEventID{id: id, ok: true}, nil
}

// GapMsg is stream.gap: the messages from From to To were no longer kept
// when the client resumed; what follows comes after them.
type GapMsg struct {
	Base
	From    uint64 `json:"from"`
	To      uint64 `json:"to"`
	Message string `json:"message"`
}

// gapFrame is the marker of a gap.
func (s *Server) gapFrame(g gap) frame {
	m := GapMsg{Base: Base{Type: TypeGap, Timestamp: s.now().UTC()}, From: g.from, To: g.to,
		Message: "events after the given id were no longer kept: read the status and the builds to catch up"}
	data, _ := json.Marshal(m)
	return frame{typ: TypeGap, data: data}
}
