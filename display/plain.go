package display

import (
	"io"
	"strings"
	"sync"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// ANSI colours of the SUCCESS and FAILURE lines, as dsynth writes them.
const (
	ansiGreen = "\x1b[0;32m"
	ansiRed   = "\x1b[0;31m"
	ansiReset = "\x1b[0;39m"
)

// lineColour returns the colour dsynth gives a results-log line: green for
// a SUCCESS line, red for a FAILURE line, none otherwise.
func lineColour(line string) string {
	switch {
	case strings.Contains(line, "] SUCCESS "):
		return ansiGreen
	case strings.Contains(line, "] FAILURE "):
		return ansiRed
	}
	return ""
}

// Plain is the display without curses (-S, or output that is not a
// terminal): it prints each results-log line an event produces, as dsynth
// prints its log lines to stdout, and the run summary at RunFinished.
// Already-built notes and worker-limit adjustments stay off the output, as
// in dsynth. Plain is an events.Subscriber and is safe for concurrent use.
type Plain struct {
	mu     sync.Mutex
	w      io.Writer
	colour bool
	state  State
	err    error
}

// NewPlain returns a Plain writing to w; colour turns on green SUCCESS and
// red FAILURE lines (dsynth's -S; -SS turns it off).
func NewPlain(w io.Writer, colour bool) *Plain {
	return &Plain{w: w, colour: colour}
}

// Delivery implements events.Declarer: the plain display is Lossless.
// Scripts read dsynth's -S lines from stdout, so none may be missing; a
// reader that stops reading holds the build up, as it holds dsynth up.
func (p *Plain) Delivery() events.Delivery { return events.Lossless }

// Handle prints the lines of one event.
func (p *Plain) Handle(e events.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.Apply(e)
	var b strings.Builder
	for _, l := range eventLines(e) {
		if l.quiet {
			continue
		}
		c := ""
		if p.colour {
			c = lineColour(l.text)
		}
		b.WriteString(c)
		b.WriteString(l.text)
		if c != "" {
			b.WriteString(ansiReset)
		}
		b.WriteByte('\n')
	}
	if b.Len() > 0 {
		if _, err := io.WriteString(p.w, b.String()); err != nil && p.err == nil {
			p.err = err
		}
	}
	if f, ok := e.(events.RunFinished); ok {
		if err := writeSummary(p.w, &p.state, f.Duration); err != nil && p.err == nil {
			p.err = err
		}
	}
}

// Err returns the first write error, if any.
func (p *Plain) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
