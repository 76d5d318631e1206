package display_test

import (
	"context"
	"os"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/display"
)

// The command line's side of a build: the display and the monitor file
// subscribe to the bus; ctx is the signal context (Ctrl-C).
func Example() {
	ctx := context.Background()
	var bus events.Bus
	logsDir, err := os.MkdirTemp("", "logs") // the profile's Directory_logs
	if err != nil {
		return
	}
	defer os.RemoveAll(logsDir)

	d := display.Open(os.Stdout, 2) // -SS: plain lines without colour
	bus.Subscribe(d)
	mon := display.NewMonitorWriter(logsDir)
	bus.Subscribe(mon)
	if err := mon.Start(ctx); err != nil {
		return
	}
	if err := d.Start(ctx); err != nil {
		return
	}

	// … the engine runs and publishes; here, one port:
	bus.Publish(events.PortFinished{Slot: 0, Origin: "devel/gmake", Outcome: events.Built})

	bus.Close() // every event handled, before the display stops
	_ = d.Stop()
	_ = mon.Stop()
	// Output:
	// [000] SUCCESS devel/gmake                                              00:00:00
}
