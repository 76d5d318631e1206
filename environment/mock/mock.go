// Package mock is an in-memory environment.Environment for unit tests of
// code that drives build slots: it records the plan and every command, and
// lets the test decide each command's outcome. It runs nothing.
package mock

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-dsynth/go-dsynth/environment"
)

// Call is one recorded Execute.
type Call struct {
	Args []string
	Env  []string
	Dir  string
}

// Env is a mock build slot. The zero value is ready to use: every command
// succeeds with exit status 0.
type Env struct {
	// SetupErr, when set, is returned by Setup (after recording the plan).
	SetupErr error
	// Validate makes Setup run Plan.Validate first, as real backends do.
	Validate bool
	// Handler decides a command's outcome; it may write to the command's
	// Stdout and Stderr. Nil means exit status 0 and no output.
	Handler func(ctx context.Context, cmd environment.Command) (environment.Result, error)
	// WorkBytes is what WorkUse reports as the work area's use (the
	// zero value: nothing measured).
	WorkBytes int64

	mu        sync.Mutex
	plan      environment.Plan
	setUp     bool
	tornDown  int
	calls     []Call
	setupRuns int
}

var (
	_ environment.Environment = (*Env)(nil)
	_ environment.WorkUsage   = (*Env)(nil)
)

// WorkUse reports WorkBytes.
func (e *Env) WorkUse() (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.WorkBytes, nil
}

// Setup records the plan.
func (e *Env) Setup(ctx context.Context, plan environment.Plan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setupRuns++
	e.plan = plan
	if e.Validate {
		if err := plan.Validate(); err != nil {
			return err
		}
	}
	if e.SetupErr != nil {
		return e.SetupErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mock: set up %s: %w", plan.Name, err)
	}
	e.setUp = true
	return nil
}

// Execute records the command and asks Handler for its outcome. It fails
// with environment.ErrNotReady outside Setup…Teardown.
func (e *Env) Execute(ctx context.Context, cmd environment.Command) (environment.Result, error) {
	e.mu.Lock()
	if !e.setUp {
		e.mu.Unlock()
		return environment.Result{ExitCode: -1}, fmt.Errorf("mock: %w", environment.ErrNotReady)
	}
	e.calls = append(e.calls, Call{
		Args: append([]string(nil), cmd.Args...),
		Env:  append([]string(nil), cmd.Env...),
		Dir:  cmd.Dir,
	})
	h := e.Handler
	e.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return environment.Result{ExitCode: -1}, fmt.Errorf("mock: %w", err)
	}
	if h == nil {
		return environment.Result{}, nil
	}
	return h(ctx, cmd)
}

// Teardown ends the slot; it is idempotent.
func (e *Env) Teardown() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setUp = false
	e.tornDown++
	return nil
}

// Plan returns the plan of the last Setup.
func (e *Env) Plan() environment.Plan {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.plan
}

// Calls returns the commands executed so far, in order.
func (e *Env) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

// SetUp reports whether the slot is between Setup and Teardown.
func (e *Env) SetUp() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.setUp
}

// Teardowns counts Teardown calls.
func (e *Env) Teardowns() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tornDown
}
