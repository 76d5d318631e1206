package display

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// ErrNotTerminal is returned by Screen.Start (and Monitor) when the file is
// not a terminal; callers fall back to Plain.
var ErrNotTerminal = errors.New("display: not a terminal")

// Terminal control sequences (ECMA-48 / xterm).
const (
	seqEnter     = "\x1b[?1049h\x1b[?25l\x1b[2J" // alternate screen, hide cursor, clear
	seqLeave     = "\x1b[0m\x1b[?25h\x1b[?1049l" // plain attributes, show cursor, main screen
	seqHome      = "\x1b[H"
	seqClear     = "\x1b[2J"
	seqEraseLine = "\x1b[K"
	seqEraseDown = "\x1b[J"
)

// ScreenOptions tune a Screen. The zero value gives dsynth's behaviour.
type ScreenOptions struct {
	// NoColour turns off the green SUCCESS and red FAILURE lines (-SS).
	NoColour bool
	// Interval is the periodic redraw that keeps the clocks moving; 0
	// means one second.
	Interval time.Duration
	// MinGap is the shortest time between two redraws caused by events; 0
	// means 100 ms.
	MinGap time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Screen is dsynth's full-screen display on a terminal, drawn with ANSI
// escape sequences. It is an events.Subscriber: Handle updates the model
// and asks for a redraw. Start takes over the terminal and Stop gives it
// back; when Start's context ends first (Ctrl-C), the terminal is given
// back at once and later events are printed as plain lines. Screen is safe
// for concurrent use.
type Screen struct {
	f    *os.File
	fd   int
	opts ScreenOptions
	// live screens advance the model's clock on every redraw; the monitor's
	// screen shows snapshots as they were written.
	live bool
	// summary prints the run summary when the screen is given back after
	// the run finished.
	summary bool

	mu       sync.Mutex
	ctx      context.Context // Start's; its end gives the terminal back
	st       State
	runTime  time.Duration // RunFinished's duration
	fallback *Plain        // set once the screen was given up early
	started  bool
	stopped  bool
	onScreen bool
	restore  func() error
	lastW    int
	lastH    int
	lastDraw time.Time
	err      error

	poke chan struct{}
	quit chan struct{}
	done chan struct{}
}

// NewScreen returns a Screen that will draw on tty.
func NewScreen(tty *os.File, opts ScreenOptions) *Screen {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.MinGap <= 0 {
		opts.MinGap = 100 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Screen{
		f:       tty,
		fd:      int(tty.Fd()),
		opts:    opts,
		live:    true,
		summary: true,
		poke:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// Delivery implements events.Declarer: the screen is Live, so a stalled
// terminal never holds up the build; the bus drops events instead.
func (s *Screen) Delivery() events.Delivery { return events.Live }

// Handle applies one event to the screen's model and asks for a redraw.
func (s *Screen) Handle(e events.Event) {
	s.mu.Lock()
	if s.onScreen && s.ctx.Err() != nil {
		// The context ended and the drawing loop has not noticed yet: give
		// the terminal back now, so this event already prints plainly.
		s.giveUpLocked()
	}
	if s.fallback != nil {
		fb := s.fallback
		s.mu.Unlock()
		fb.Handle(e)
		return
	}
	s.st.Apply(e)
	if f, ok := e.(events.RunFinished); ok {
		s.runTime = f.Duration
	}
	s.mu.Unlock()
	s.wake()
}

// show replaces the model with a snapshot (the monitor's feed).
func (s *Screen) show(st *State) {
	s.mu.Lock()
	s.st = *st.Clone()
	s.mu.Unlock()
	s.wake()
}

func (s *Screen) wake() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// Start takes over the terminal (alternate screen, hidden cursor, no echo)
// and draws until Stop, or until ctx ends: then the terminal is restored
// at once and the rest of the run is printed as plain lines. Start returns
// ErrNotTerminal when the file is not a terminal.
func (s *Screen) Start(ctx context.Context) error {
	if !term.IsTerminal(s.fd) {
		return ErrNotTerminal
	}
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("display: screen already started")
	}
	s.started = true
	restore, err := noEcho(s.fd)
	if err != nil {
		restore = func() error { return nil } // drawing still works; typing shows
	}
	s.restore = restore
	if _, err := s.f.WriteString(seqEnter); err != nil {
		_ = restore()
		s.mu.Unlock()
		return fmt.Errorf("display: taking over the terminal: %w", err)
	}
	s.onScreen = true
	s.ctx = ctx
	s.mu.Unlock()
	go s.loop(ctx)
	return nil
}

// loop redraws once per Interval, after events (at most once per MinGap)
// and at once after a resize.
func (s *Screen) loop(ctx context.Context) {
	defer close(s.done)
	tick := time.NewTicker(s.opts.Interval)
	defer tick.Stop()
	winch, unwatch := watchResize()
	defer unwatch()
	var later <-chan time.Time
	s.draw(true)
	for {
		select {
		case <-ctx.Done():
			s.giveUp()
			return
		case <-s.quit:
			return
		case <-tick.C:
			s.draw(false)
		case <-winch:
			s.draw(true)
		case <-later:
			later = nil
			s.draw(false)
		case <-s.poke:
			if later != nil {
				continue
			}
			s.mu.Lock()
			gap := s.opts.MinGap - s.opts.Now().Sub(s.lastDraw)
			s.mu.Unlock()
			if gap <= 0 {
				s.draw(false)
			} else {
				later = time.After(gap)
			}
		}
	}
}

// size returns the terminal size, falling back to the last known one (or
// 80×24).
func (s *Screen) size() (int, int) {
	w, h, err := term.GetSize(s.fd)
	if err != nil || w <= 0 || h <= 0 {
		if s.lastW > 0 {
			return s.lastW, s.lastH
		}
		return 80, 24
	}
	return w, h
}

// draw renders the model and writes it; clear repaints the whole screen
// (after a resize).
func (s *Screen) draw(clear bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.onScreen {
		return
	}
	w, h := s.size()
	if w != s.lastW || h != s.lastH {
		clear = true
		s.lastW, s.lastH = w, h
	}
	now := s.opts.Now()
	if s.live {
		s.st.Advance(now)
	}
	s.lastDraw = now
	out := frame(&s.st, w, h, clear, !s.opts.NoColour)
	if _, err := s.f.WriteString(out); err != nil && s.err == nil {
		s.err = fmt.Errorf("display: drawing: %w", err)
	}
}

// frame is the byte stream that paints one screen of st.
func frame(st *State, w, h int, clear, colour bool) string {
	rows := Render(st, w, h)
	logStart := LogStartRow(st)
	var b strings.Builder
	if clear {
		b.WriteString(seqClear)
	}
	b.WriteString(seqHome)
	for i, r := range rows {
		if i > 0 {
			b.WriteString("\r\n")
		}
		c := ""
		if colour && i >= logStart {
			c = lineColour(r)
		}
		b.WriteString(c)
		b.WriteString(r)
		if c != "" {
			b.WriteString(ansiReset)
		}
		// A full-width row leaves the cursor waiting to wrap; erasing
		// there would eat its last character.
		if len([]rune(r)) < w {
			b.WriteString(seqEraseLine)
		}
	}
	if len(rows) < h {
		b.WriteString("\r\n")
		b.WriteString(seqEraseDown)
	}
	return b.String()
}

// leave gives the terminal back: attributes, cursor, main screen, echo.
// s.mu must be held.
func (s *Screen) leave() {
	if !s.onScreen {
		return
	}
	s.onScreen = false
	if _, err := s.f.WriteString(seqLeave); err != nil && s.err == nil {
		s.err = fmt.Errorf("display: restoring the terminal: %w", err)
	}
	if err := s.restore(); err != nil && s.err == nil {
		s.err = fmt.Errorf("display: restoring the terminal modes: %w", err)
	}
}

// giveUp restores the terminal when the context ends before Stop and
// switches to plain lines for whatever the run still reports.
func (s *Screen) giveUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.giveUpLocked()
}

// giveUpLocked is giveUp with s.mu held.
func (s *Screen) giveUpLocked() {
	if !s.onScreen {
		return // already given back
	}
	s.leave()
	if s.st.Finished {
		if s.summary {
			if err := writeSummary(s.f, &s.st, s.runTime); err != nil && s.err == nil {
				s.err = err
			}
		}
		return
	}
	p := NewPlain(s.f, !s.opts.NoColour)
	p.state = *s.st.Clone()
	s.fallback = p
}

// Stop ends the display and restores the terminal; after a finished run it
// prints dsynth's summary block. Stop may be called more than once, and
// whether or not Start was.
func (s *Screen) Stop() error {
	s.mu.Lock()
	if s.stopped {
		err := s.err
		s.mu.Unlock()
		return err
	}
	s.stopped = true
	started := s.started
	s.mu.Unlock()
	if started {
		close(s.quit)
		<-s.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onScreen {
		s.leave()
		if s.summary && s.st.Finished {
			if err := writeSummary(s.f, &s.st, s.runTime); err != nil && s.err == nil {
				s.err = err
			}
		}
	}
	if s.fallback != nil && s.err == nil {
		s.err = s.fallback.Err()
	}
	return s.err
}

// Snapshot returns a copy of the screen's model (for tests and the API).
func (s *Screen) Snapshot() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Clone()
}
