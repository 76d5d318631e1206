package display

import (
	"context"
	"os"

	"golang.org/x/term"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// Display is the part of a build's front end the command line drives: a
// Screen or a Plain. Subscribe it to the bus, Start it with the signal
// context before the run and Stop it after.
type Display interface {
	events.Subscriber
	// Start begins showing the run.
	Start(ctx context.Context) error
	// Stop ends the display and gives the terminal back.
	Stop() error
}

// Open returns dsynth's display for out and the count of -S flags: the
// full screen when out is a terminal and -S was not given, plain lines
// otherwise. As dsynth's ColorOpt, the plain lines of one -S are coloured
// (SUCCESS green, FAILURE red) whether out is a terminal or not, and -SS
// turns the colour off; output that is not a terminal without -S (where
// dsynth would draw its curses screen anyway) gets no colour.
func Open(out *os.File, noCurses int) Display {
	if UsesScreen(out, noCurses) {
		return NewScreen(out, ScreenOptions{})
	}
	return NewPlain(out, noCurses == 1)
}

// UsesScreen reports whether Open gives out the full screen: out is a
// terminal and no -S was given.
func UsesScreen(out *os.File, noCurses int) bool {
	return noCurses == 0 && term.IsTerminal(int(out.Fd()))
}

// Start does nothing: plain lines need no set-up.
func (p *Plain) Start(context.Context) error { return nil }

// Stop returns the first write error, if any.
func (p *Plain) Stop() error { return p.Err() }
