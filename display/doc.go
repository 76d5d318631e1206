// Package display is go-dsynth's terminal front end: dsynth's full-screen
// build display, its plain line output, and the monitor that shows a running
// build's screen from another terminal.
//
// Everything starts from the build's event stream (package
// builder/events); the display never looks inside the engine.
//
//   - State is the model. Apply feeds it one event; Advance moves its clock
//     and recomputes the rates (Pkg/hour, Impulse). It is plain data and
//     serialises to JSON, which is also the monitor's snapshot format.
//   - Render is a pure function from a State and a terminal size to the
//     screen's rows, laid out on dsynth's column grid: two header lines, a
//     rule, the column titles, a rule, one row per slot, a rule, then the
//     newest lines of the results log (log 00), newest first.
//   - Screen drives a terminal with ANSI escape sequences (alternate
//     screen, cursor home, erase to end of line): it subscribes to the bus,
//     redraws on events and once a second, follows SIGWINCH, colours SUCCESS
//     green and FAILURE red, and gives the terminal back on Stop or when its
//     context ends.
//   - Plain prints one line per event in the results log's style, for -S and
//     for output that is not a terminal.
//   - MonitorWriter keeps <Directory_logs>/stats/monitor.json (written
//     atomically about once a second) and dsynth's binary monitor.dat beside
//     it (EncodeDat, rewritten in place), and holds monitor.lk while the run
//     lives, as dsynth does; Monitor reads either file (a dsynth run's
//     monitor.dat too) and draws the same screen until the run ends ("dsynth
//     exited") or its context ends, or says "dsynth is not running".
//
// # Lifecycle
//
// The command line owns the signal context. Open picks the display (the
// Screen on a terminal, Plain with -S or when the output is not a
// terminal); the command line subscribes it to the bus, calls Start with
// that context, runs the build and calls Stop when the build returns.
// Screen, Plain and MonitorWriter are Live subscribers (events.Live): the
// bus runs each on its own goroutine and drops events for it rather than
// let slow output hold up the build. When the context ends first
// (Ctrl-C), the screen restores the terminal at once and prints the rest of
// the run's events as plain lines, so the engine's graceful stop stays
// visible.
//
// # Layout notes
//
// dsynth writes each header value at the column of its label's dash
// (Total at column 7, Built at 21, Ignored at 36, Load at 48, Pkg/hour at
// 64), so the value replaces the dash; Render keeps that grid. Elapsed time
// and "Lim N" sit at column 71 (70 once the hours need three digits). Slot
// rows put the id at column 1, the duration at 5, the phase at 15, the
// origin at 32 and the line count at 72.
package display
