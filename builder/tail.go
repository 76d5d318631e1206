package builder

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"
)

// outputTap sits between a phase's output and the port log: it remembers
// when output last arrived (for the idle watchdog) and the last lines (for
// the failure reason).
type outputTap struct {
	mu   sync.Mutex
	w    io.Writer
	last time.Time
	now  func() time.Time
	tail [][]byte
	cur  []byte
	keep int
}

func newOutputTap(w io.Writer, now func() time.Time, keep int) *outputTap {
	return &outputTap{w: w, now: now, last: now(), keep: keep}
}

func (t *outputTap) Write(buf []byte) (int, error) {
	n, err := t.w.Write(buf)
	t.mu.Lock()
	t.last = t.now()
	p := buf[:n]
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.cur = append(t.cur, p...)
			break
		}
		t.cur = append(t.cur, p[:i]...)
		t.tail = append(t.tail, t.cur)
		if len(t.tail) > t.keep {
			t.tail = t.tail[1:]
		}
		t.cur = nil
		p = p[i+1:]
	}
	t.mu.Unlock()
	return n, err
}

// idleAt returns how long no output had arrived at a moment (a watchdog
// tick's time).
func (t *outputTap) idleAt(at time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return at.Sub(t.last)
}

// reset restarts the idle clock (at the start of a phase).
func (t *outputTap) reset() {
	t.mu.Lock()
	t.last = t.now()
	t.mu.Unlock()
}

// lastLines returns the last lines seen, joined.
func (t *outputTap) lastLines() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for _, l := range t.tail {
		parts = append(parts, string(l))
	}
	if len(t.cur) > 0 {
		parts = append(parts, string(t.cur))
	}
	return strings.Join(parts, "\n")
}
