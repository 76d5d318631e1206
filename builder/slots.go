package builder

import (
	"slices"
	"sync"
)

// SlotControl pauses and resumes the slots of a run from outside it (the
// API's worker pause and resume). A paused slot finishes the port it
// builds and takes no new one until it is resumed; while every slot is
// paused, the run waits. The zero value is not ready: use NewSlotControl.
// It is safe for concurrent use, and may outlive runs (a service keeps one
// for all of its runs).
type SlotControl struct {
	mu     sync.Mutex
	paused map[int]bool
	// remote are the remote slots paused by name ("worker/slot"): a
	// run numbers remote slots as it first sees them, so a number may
	// name another slot in the next run; the name does not.
	remote map[string]bool
	wake   chan struct{}
}

// NewSlotControl returns a control with no slot paused.
func NewSlotControl() *SlotControl {
	return &SlotControl{paused: map[int]bool{}, remote: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// PauseRemote keeps the remote slot named where ("worker/slot") from
// taking a new port, in this run and the next ones.
func (c *SlotControl) PauseRemote(where string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remote[where] = true
}

// ResumeRemote lets the remote slot named where take ports again, and
// wakes the run.
func (c *SlotControl) ResumeRemote(where string) {
	c.mu.Lock()
	delete(c.remote, where)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// RemotePaused reports whether the remote slot named where is paused.
func (c *SlotControl) RemotePaused(where string) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote[where]
}

// Pause keeps slot from taking a new port.
func (c *SlotControl) Pause(slot int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused[slot] = true
}

// Resume lets slot take ports again, and wakes the run.
func (c *SlotControl) Resume(slot int) {
	c.mu.Lock()
	delete(c.paused, slot)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Paused reports whether slot is paused.
func (c *SlotControl) Paused(slot int) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused[slot]
}

// PausedSlots returns the paused slots in order.
func (c *SlotControl) PausedSlots() []int {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int, 0, len(c.paused))
	for s := range c.paused {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// woken is the channel a run waits on for a resumed slot (nil without a
// control: it never fires).
func (c *SlotControl) woken() <-chan struct{} {
	if c == nil {
		return nil
	}
	return c.wake
}

// anyPaused reports whether some slot is paused.
func (c *SlotControl) anyPaused() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.paused) > 0 || len(c.remote) > 0
}
