// Package bsdfake is a recording fake of the BSD backends' system-call
// layer (bsdslot.System and the calls each backend adds), for tests on any
// OS: it keeps a pretend mount table and process list, records every call
// in order, and fails the call a test picks (failure injection).
//
// It is test support: only tests import it.
package bsdfake

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot"
)

// Sys is the fake of bsdslot.System. The zero value is not usable; see New.
type Sys struct {
	mu sync.Mutex
	// Euid is what Geteuid returns (0: root).
	Euid int
	// Log records every effectful call, in order: "mount T", "unmount T"
	// ("unmount! T" when forced), "pause 5s", "kill PID SIG",
	// "setpriority PID N", plus the backends' own.
	Log []string
	// Table is the mount table, in mount order.
	Table []string
	// Busy makes unmounting a target fail with EBUSY that many more times
	// (-1: always) unless forced; Stuck ones fail even when forced.
	Busy  map[string]int
	Stuck map[string]bool
	// Procs maps live pids to their start times.
	Procs map[int]string
	// FailAt makes the FailAt-th effectful call (1-based, counted in Log
	// order) fail with FailErr (EIO when nil), recorded with a "!fail "
	// prefix. 0: no failure.
	FailAt  int
	FailErr error
	// Used maps file system paths to what UsedBytes returns.
	Used  map[string]int64
	calls int
}

// New returns a fake host where the controller is root and nothing is
// mounted.
func New() *Sys {
	return &Sys{Busy: map[string]int{}, Stuck: map[string]bool{}, Procs: map[int]string{}}
}

// Call records an effectful call and reports the error injected there, if
// any. Backends' fakes record their own calls through it.
func (f *Sys) Call(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.callLocked(format, args...)
}

func (f *Sys) callLocked(format string, args ...any) error {
	f.calls++
	entry := fmt.Sprintf(format, args...)
	if f.FailAt > 0 && f.calls == f.FailAt {
		f.Log = append(f.Log, "!fail "+entry)
		if f.FailErr != nil {
			return f.FailErr
		}
		return syscall.EIO
	}
	f.Log = append(f.Log, entry)
	return nil
}

// Calls returns the log so far and clears it.
func (f *Sys) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.Log
	f.Log = nil
	return l
}

// Mount records a mount of target (made by the backend's own call).
func (f *Sys) Mount(target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Table = append(f.Table, target)
}

// Mounted lists what is mounted, in mount order.
func (f *Sys) Mounted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Table...)
}

func (f *Sys) isMounted(t string) int {
	for i, m := range f.Table {
		if m == t {
			return i
		}
	}
	return -1
}

// Geteuid returns Euid.
func (f *Sys) Geteuid() int { return f.Euid }

// Unmount removes target from the table and empties its directory, as a
// tmpfs or a null mount going away would. A target not mounted fails with
// EINVAL; a busy one, or one with a mount below it, with EBUSY; neither
// is recorded.
func (f *Sys) Unmount(target string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.isMounted(target)
	if i < 0 {
		return syscall.EINVAL
	}
	if f.Stuck[target] {
		return syscall.EBUSY
	}
	for _, m := range f.Table {
		if strings.HasPrefix(m, target+"/") {
			return syscall.EBUSY // a mount sits on it
		}
	}
	if n := f.Busy[target]; n != 0 && !force {
		if n > 0 {
			f.Busy[target] = n - 1
		}
		return syscall.EBUSY
	}
	verb := "unmount"
	if force {
		verb = "unmount!"
	}
	if err := f.callLocked("%s %s", verb, target); err != nil {
		return err
	}
	f.Table = append(f.Table[:i:i], f.Table[i+1:]...)
	entries, _ := os.ReadDir(target)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(target, e.Name()))
	}
	return nil
}

// MountsUnder reads the table.
func (f *Sys) MountsUnder(root string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bsdslot.Under(f.Table, root), nil
}

// ProcStart returns the recorded start time of pid, "" when it is gone;
// the controller (this process) is always alive.
func (f *Sys) ProcStart(pid int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pid == os.Getpid() {
		return "controller-start"
	}
	return f.Procs[pid]
}

// Kill records the signal; a killed process is gone.
func (f *Sys) Kill(pid int, sig syscall.Signal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.callLocked("kill %d %d", pid, int(sig)); err != nil {
		return err
	}
	if _, ok := f.Procs[pid]; !ok {
		return syscall.ESRCH
	}
	delete(f.Procs, pid)
	return nil
}

// Setpriority records the call.
func (f *Sys) Setpriority(pid, prio int) error {
	return f.Call("setpriority %d %d", pid, prio)
}

// UsedBytes records the call and returns Used[path] (0 when unset).
func (f *Sys) UsedBytes(path string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.callLocked("statfs %s", path); err != nil {
		return 0, err
	}
	return f.Used[path], nil
}

// Pause records the wait without waiting.
func (f *Sys) Pause(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Log = append(f.Log, "pause "+d.String())
}

// Proc is a fake process: it runs until Exit is called or it is killed.
type Proc struct {
	pid  int
	once sync.Once
	done chan struct{}
	code int
	sig  int
	// OnCancel runs when the backend calls Cancel (nil: nothing).
	OnCancel func()
	// OnWait runs when the backend starts waiting (nil: nothing): the
	// backend has done what it does after the start.
	OnWait func()
}

// NewProc returns a running fake process.
func NewProc(pid int) *Proc { return &Proc{pid: pid, done: make(chan struct{})} }

// Pid returns its pid.
func (p *Proc) Pid() int { return p.pid }

// Exit ends it with code (128+sig when sig is not 0); later calls do
// nothing.
func (p *Proc) Exit(code, sig int) {
	p.once.Do(func() {
		p.code, p.sig = code, sig
		if sig != 0 {
			p.code = 128 + sig
		}
		close(p.done)
	})
}

// Wait runs OnWait, then waits for the end.
func (p *Proc) Wait() (int, int, error) {
	if p.OnWait != nil {
		p.OnWait()
	}
	<-p.done
	return p.code, p.sig, nil
}

// Cancel runs OnCancel.
func (p *Proc) Cancel() {
	if p.OnCancel != nil {
		p.OnCancel()
	}
}
