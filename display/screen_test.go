package display

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// helperEnv makes the test binary run screenHelper instead of the tests.
const helperEnv = "GO_DSYNTH_DISPLAY_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "screen" {
		os.Exit(screenHelper())
	}
	os.Exit(m.Run())
}

// screenHelper is a stand-in for dsynth build in its own terminal: it owns
// the signal context as the command line does, shows the sample run, and
// after Ctrl-C lets "the engine" finish one more port and end the run. The
// periodic redraw is an hour, so only SIGWINCH can make it follow a resize.
func screenHelper() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	end := t0.Add(3723 * time.Second)
	scr := NewScreen(os.Stdout, ScreenOptions{Interval: time.Hour, Now: func() time.Time { return end }})
	var bus events.Bus
	bus.Subscribe(scr)
	if err := scr.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	for _, e := range sampleRun() {
		bus.Publish(e)
	}
	<-ctx.Done()
	bus.Publish(events.PortFinished{Time: at(3730), Slot: 0, Origin: "devel/gmake", Outcome: events.Built, Duration: 730 * time.Second})
	bus.Publish(events.RunFinished{Time: at(3731), Aborted: true, Duration: 3731 * time.Second})
	bus.Close() // the screen has every event before it stops
	if err := scr.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	return 0
}

// openPty returns a pty of the given size and an emulator reading it.
func openPty(t *testing.T, w, h int) (master, tty *os.File, v *vt) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close(); master.Close() })
	if err := pty.Setsize(master, &pty.Winsize{Cols: uint16(w), Rows: uint16(h)}); err != nil {
		t.Fatal(err)
	}
	v = newVT(w, h)
	go v.pump(master)
	return master, tty, v
}

// resize changes the pty and the emulator together.
func resize(t *testing.T, master *os.File, v *vt, w, h int) {
	t.Helper()
	v.resize(w, h)
	if err := pty.Setsize(master, &pty.Winsize{Cols: uint16(w), Rows: uint16(h)}); err != nil {
		t.Fatal(err)
	}
}

func TestScreenInPty(t *testing.T) {
	master, tty, v := openPty(t, 80, 24)
	clock := testenv.NewClock(t0)
	scr := NewScreen(tty, ScreenOptions{Interval: 30 * time.Millisecond, Now: clock.Now})
	var bus events.Bus
	defer bus.Close()
	bus.Subscribe(scr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := scr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	v.waitRaw(t, "\x1b[?1049h")
	for _, e := range sampleRun() {
		bus.Publish(e)
	}
	bus.Flush()
	clock.Set(t0.Add(3723 * time.Second))

	want := Render(sampleState(), 80, 24)
	lines := v.waitFor(t, "the sample run", func(l []string) bool { return l[1] == want[1] })
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("row %d:\n got %q\nwant %q", i, lines[i], w)
		}
	}
	if lines[0] != " Total 123     Built 2      Ignored 1      Load   7.9  Pkg/hour 2      Lim 3" {
		t.Errorf("counts row = %q", lines[0])
	}
	if !hasLine(lines, " 00  00:12:03  build            devel/gmake                                1200") {
		t.Errorf("no row for slot 00")
	}
	if c := v.rowColour("[001] SUCCESS devel/elsewhere"); c != 32 {
		t.Errorf("SUCCESS line colour %d, want green (32)", c)
	}
	if c := v.rowColour("[003] FAILURE x11/libX11"); c != 31 {
		t.Errorf("FAILURE line colour %d, want red (31)", c)
	}
	if c := v.rowColour("[000] START   devel/gmake"); c != 0 {
		t.Errorf("START line colour %d, want none", c)
	}
	if l := lineWith(lines, "[002] START"); !strings.HasSuffix(l, "idep=00 d") {
		t.Errorf("long line at 80 columns: %q", l)
	}

	// A resize (picked up by the periodic redraw here: the pty is not this
	// process's controlling terminal, so no SIGWINCH) changes the layout.
	resize(t, master, v, 100, 12)
	lines = v.waitFor(t, "the 100x12 layout", func(l []string) bool {
		return strings.HasSuffix(lineWith(l, "[002] START"), "dep=0.00G")
	})
	if len(lines) != 12 || !strings.HasPrefix(lines[10], "[001] SUCCESS") || lineWith(lines, "[000] START") != "" {
		t.Errorf("12-row screen:\n%s", strings.Join(lines, "\n"))
	}

	// Events move the numbers and free the slot.
	bus.Publish(events.PortFinished{Time: at(3723), Slot: 0, Origin: "devel/gmake", Outcome: events.Built, Duration: 723 * time.Second})
	lines = v.waitFor(t, "Built 3", func(l []string) bool { return strings.Contains(l[0], "Built 3 ") })
	if lines[5] != " 00  --:--:--  Idle" || !strings.HasPrefix(lines[1], "  Left 117") {
		t.Errorf("after a build:\n%s", strings.Join(lines, "\n"))
	}

	if err := scr.Stop(); err != nil {
		t.Fatal(err)
	}
	v.waitRaw(t, seqLeave)
	if on, err := echoOn(int(tty.Fd())); err != nil {
		t.Fatal(err)
	} else if !on {
		t.Errorf("echo not restored")
	}
	if err := scr.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestScreenNoColour(t *testing.T) {
	_, tty, v := openPty(t, 80, 24)
	scr := NewScreen(tty, ScreenOptions{NoColour: true, Interval: 30 * time.Millisecond})
	scr.show(sampleState())
	scr.live = false
	if err := scr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	v.waitFor(t, "the log pane", func(l []string) bool { return hasLine(l, "[001] SUCCESS devel/elsewhere") })
	if c := v.rowColour("[001] SUCCESS devel/elsewhere"); c != 0 {
		t.Errorf("colour %d with colour off", c)
	}
	if err := scr.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestScreenNotTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scr := NewScreen(f, ScreenOptions{})
	if err := scr.Start(context.Background()); err != ErrNotTerminal {
		t.Errorf("Start on a file: %v", err)
	}
	if err := scr.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// TestScreenResizeAndInterrupt runs the screen in a child process whose
// controlling terminal is the pty: a resize arrives as SIGWINCH, and Ctrl-C
// typed on the terminal reaches the child as SIGINT. The screen must give
// the terminal back at once and print the rest of the run as plain lines.
func TestScreenResizeAndInterrupt(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=screen")
	master, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 80, Rows: 24})
	if err != nil {
		t.Skipf("cannot start a process on a pty: %v", err)
	}
	defer master.Close()
	v := newVT(80, 24)
	go v.pump(master)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	}()

	want := Render(sampleState(), 80, 24)
	lines := v.waitFor(t, "the child's screen", func(l []string) bool { return l[0] == want[0] && hasLine(l, "[001] SUCCESS") })
	if l := lineWith(lines, "[002] START"); !strings.HasSuffix(l, "idep=00 d") {
		t.Errorf("long line at 80 columns: %q", l)
	}

	resize(t, master, v, 100, 14)
	lines = v.waitFor(t, "the 100x14 layout after SIGWINCH", func(l []string) bool {
		return strings.HasSuffix(lineWith(l, "[002] START"), "dep=0.00G")
	})
	if lines[13] == "" || !strings.HasPrefix(lines[13], "[000] START") {
		t.Errorf("bottom row of 14: %q", lines[13])
	}

	if _, err := master.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	v.waitRaw(t, "Duration: 01:02:11")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("child: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the child did not exit after Ctrl-C")
	}
	out := v.transcript()
	leave := strings.LastIndex(out, seqLeave)
	if leave < 0 {
		t.Fatal("the terminal was not restored")
	}
	after := out[leave:]
	for _, s := range []string{ansiGreen + "[000] SUCCESS devel/gmake", "Initial queue size: 123", "    packages built: 3"} {
		if !strings.Contains(after, s) {
			t.Errorf("after Ctrl-C, no %q in %q", s, after)
		}
	}
}

// TestOpenChoosesTheDisplay: the screen on a terminal without -S, plain
// lines otherwise; as dsynth's ColorOpt (set by default, cleared by the
// second -S, never looking at the terminal), one -S colours the lines
// even into a file.
func TestOpenChoosesTheDisplay(t *testing.T) {
	_, tty, _ := openPty(t, 80, 24)
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases := []struct {
		out      *os.File
		s        int
		screen   bool
		coloured bool
	}{
		{tty, 0, true, false},
		{tty, 1, false, true},
		{tty, 2, false, false},
		{f, 0, false, false},
		{f, 1, false, true},
		{f, 2, false, false},
	}
	for i, c := range cases {
		d := Open(c.out, c.s)
		switch d := d.(type) {
		case *Screen:
			if !c.screen {
				t.Errorf("case %d: got the screen", i)
			}
		case *Plain:
			if c.screen || d.colour != c.coloured {
				t.Errorf("case %d: plain, colour %v", i, d.colour)
			}
		}
	}
}
