package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/run"
)

// FollowOptions configure Follow.
type FollowOptions struct {
	// Observers get the build's events as if it ran in this process (the
	// terminal display, dsynth's plain lines).
	Observers []events.Subscriber
	// Out gets Follow's own lines (the build queued, cancelled).
	Out io.Writer
	// Reconnects bounds how many times a lost stream is opened again
	// (the service restarting); 0 means 30.
	Reconnects int
}

// Follow submits a build to the service c reaches and follows it to its
// end: its events go to the observers as they happen. When ctx ends (the
// user pressed Ctrl-C) it cancels the build and keeps following until the
// service says it has stopped. It returns the build as it ended.
func Follow(ctx context.Context, c *run.Client, req api.BuildRequest, o FollowOptions) (*api.Build, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Reconnects <= 0 {
		o.Reconnects = 30
	}
	bus := &events.Bus{}
	for _, ob := range o.Observers {
		bus.Subscribe(ob)
	}
	defer bus.Close()

	// The stream outlives ctx: after an interrupt, the build's end is
	// still to be seen.
	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	f := &follower{bus: bus, ended: make(chan string, 1)}
	opened := make(chan struct{})
	streamErr := make(chan error, 1)
	go func() { streamErr <- f.stream(streamCtx, c, opened, o.Reconnects) }()
	select {
	case <-opened:
	case err := <-streamErr:
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	sub, err := c.Submit(ctx, req)
	if err != nil {
		return nil, err
	}
	f.setID(sub.BuildID)
	fmt.Fprintf(o.Out, "Build %s queued with the service: %d port(s) to build, estimated %v", sub.BuildID, sub.Queued, time.Duration(sub.Estimate).Round(time.Second))
	if sub.Position > 1 {
		fmt.Fprintf(o.Out, ", %d build(s) ahead of it", sub.Position-1)
	}
	fmt.Fprintln(o.Out)

	interrupted := ctx.Done()
	for {
		select {
		case <-f.ended:
			bus.Flush()
			return c.Build(context.Background(), sub.BuildID)
		case err := <-streamErr:
			if err == nil {
				err = errors.New("the event stream ended")
			}
			// The stream is lost for good: say how the build stands.
			if b, berr := c.Build(context.Background(), sub.BuildID); berr == nil && !b.State.Open() {
				bus.Flush()
				return b, nil
			}
			return nil, fmt.Errorf("following build %s: %w", sub.BuildID, err)
		case <-interrupted:
			interrupted = nil
			fmt.Fprintf(o.Out, "Interrupted: cancelling build %s\n", sub.BuildID)
			go func() {
				cctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				if _, err := c.Cancel(cctx, sub.BuildID); err != nil {
					fmt.Fprintf(o.Out, "cancel: %v\n", err)
				}
			}()
		}
	}
}

// follower filters the stream down to one build's events. Messages that
// come before the submission has answered (the service may start the
// build first) wait until the build's id is known.
type follower struct {
	bus    *events.Bus
	ended  chan string
	lastID string // read and written by the stream goroutine only

	mu      sync.Mutex
	id      string
	over    bool
	pending []run.StreamMessage
}

// maxPending bounds the messages kept while the id is not known.
const maxPending = 100000

func (f *follower) setID(id uuid.UUID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.id = id.String()
	for _, m := range f.pending {
		if f.handleLocked(m) {
			break
		}
	}
	f.pending = nil
}

// stream reads the event stream, reopening it from the last id seen when
// it breaks, until ctx ends or the build does.
func (f *follower) stream(ctx context.Context, c *run.Client, opened chan struct{}, reconnects int) error {
	first := true
	var err error
	for try := 0; try <= reconnects; try++ {
		var onOpen func()
		if first {
			onOpen = func() { first = false; close(opened) }
		}
		done := false
		err = c.Events(ctx, f.lastID, onOpen, func(m run.StreamMessage) bool {
			f.lastID = m.ID
			done = f.handle(m)
			return !done
		})
		if done || ctx.Err() != nil {
			return nil
		}
		if first {
			return err // never opened: the service is not there
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	return err
}

// handle publishes one message of the build; it returns true at the
// build's end.
func (f *follower) handle(m run.StreamMessage) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.id == "" {
		if len(f.pending) < maxPending {
			f.pending = append(f.pending, m)
		}
		return false
	}
	return f.handleLocked(m)
}

func (f *follower) handleLocked(m run.StreamMessage) bool {
	if f.over {
		return true
	}
	var base api.Base
	if json.Unmarshal(m.Data, &base) != nil || base.BuildID != f.id {
		return false
	}
	if m.Type == api.TypeBuildState {
		var st api.BuildStateMsg
		if json.Unmarshal(m.Data, &st) == nil && !builddb.RequestState(st.State).Open() {
			f.over = true
			f.ended <- st.State
			return true
		}
		return false
	}
	ev, err := api.DecodeEvent(m.Type, m.Data)
	if err == nil && ev != nil {
		f.bus.Publish(ev)
	}
	return false
}
