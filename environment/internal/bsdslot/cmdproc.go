package bsdslot

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// WaitDelay bounds how long Wait keeps reading a command's output after
// the command itself exited: a descendant that survives it (and is about
// to be killed with the slot's other processes) must not hold the slot.
const WaitDelay = 10 * time.Second

// StartCmd starts cmd and returns it as a Proc whose Wait is bounded by
// WaitDelay and whose Cancel runs cancel (nil: nothing).
func StartCmd(cmd *exec.Cmd, cancel func()) (Proc, error) {
	cmd.WaitDelay = WaitDelay
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &cmdProc{cmd: cmd, cancel: cancel}, nil
}

type cmdProc struct {
	cmd    *exec.Cmd
	cancel func()
}

func (p *cmdProc) Pid() int { return p.cmd.Process.Pid }

func (p *cmdProc) Cancel() {
	if p.cancel != nil {
		p.cancel()
	}
}

// Wait returns the command's status; output abandoned after WaitDelay
// (exec.ErrWaitDelay) is not an error, the command did exit.
func (p *cmdProc) Wait() (code, signal int, err error) {
	werr := p.cmd.Wait()
	ps := p.cmd.ProcessState
	if ps == nil {
		return -1, 0, werr
	}
	var ee *exec.ExitError
	if werr != nil && !errors.Is(werr, exec.ErrWaitDelay) && !errors.As(werr, &ee) {
		return -1, 0, werr
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return ps.ExitCode(), 0, nil
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), int(ws.Signal()), nil
	}
	return ws.ExitStatus(), 0, nil
}
