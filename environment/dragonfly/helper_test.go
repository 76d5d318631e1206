package dragonfly

import (
	"fmt"
	"io"
	"reflect"
	"sync"
	"syscall"
	"testing"
)

// fakeHelper is the recording fake of the helper's system calls: a
// process table of the reaper's descendants (alive, or zombies until
// reaped), the cancel channel, and one call that can be made to fail.
type fakeHelper struct {
	mu        sync.Mutex
	cond      *sync.Cond
	cancelled chan struct{}
	log       []string
	order     []int        // descendants, in the reaper's list order
	alive     map[int]bool // false: zombie
	code      map[int]int
	// exit is the command's own exit code (-1: it runs until killed);
	// the command always leaves a daemon, pid 101, behind.
	exit int
	// cancelAtStart closes cancelled once the command has started.
	cancelAtStart bool
	fail          string // the call that fails: "reap_acquire", "nice", "lookpath", "start"
}

func newHelper(exit int) *fakeHelper {
	h := &fakeHelper{cancelled: make(chan struct{}), alive: map[int]bool{}, code: map[int]int{}, exit: exit}
	h.cond = sync.NewCond(&h.mu)
	return h
}

func (h *fakeHelper) record(call string) error {
	if call == h.fail || len(call) > len(h.fail) && h.fail != "" && call[:len(h.fail)] == h.fail {
		h.log = append(h.log, "!fail "+call)
		return syscall.EIO
	}
	h.log = append(h.log, call)
	return nil
}

func (h *fakeHelper) Cancelled() <-chan struct{} { return h.cancelled }

func (h *fakeHelper) ReapAcquire() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.record("reap_acquire")
}

func (h *fakeHelper) Nice(prio int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.record(fmt.Sprint("nice ", prio))
}

func (h *fakeHelper) LookPath(root, file string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.record("lookpath " + file); err != nil {
		return "", err
	}
	return "/bin/" + file, nil
}

func (h *fakeHelper) Start(root, dir, prog string, args []string, tty bool) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.record(fmt.Sprintf("start %s %s %s tty=%v", root, dir, prog, tty)); err != nil {
		return 0, err
	}
	h.order = []int{100, 101}
	h.alive[100], h.alive[101] = true, true
	if h.exit >= 0 {
		h.alive[100], h.code[100] = false, h.exit
	}
	if h.cancelAtStart {
		close(h.cancelled)
	}
	h.cond.Broadcast()
	return 100, nil
}

func (h *fakeHelper) Wait4(block bool) (int, int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if len(h.order) == 0 {
			return 0, 0, syscall.ECHILD
		}
		for i, pid := range h.order {
			if !h.alive[pid] {
				h.order = append(h.order[:i:i], h.order[i+1:]...)
				return pid, h.code[pid], nil
			}
		}
		if !block {
			return 0, 0, nil
		}
		h.cond.Wait()
	}
}

func (h *fakeHelper) ReapHead() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.order) == 0 {
		return 0
	}
	return h.order[0]
}

func (h *fakeHelper) Kill(pid int, sig syscall.Signal) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, fmt.Sprintf("kill %d %d", pid, int(sig)))
	if h.alive[pid] {
		h.alive[pid], h.code[pid] = false, 128+int(sig)
		h.cond.Broadcast()
	}
	return nil
}

func (h *fakeHelper) Yield() {}

func (h *fakeHelper) calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.log...)
}

func helperArgs(nice int) []string {
	return HelperArgs(HelperSpec{Root: "/b/SL00", Dir: "/xports/x/y", Nice: nice, Args: []string{"make", "build"}})[1:]
}

func TestHelper(t *testing.T) {
	kill := func(pid int) string { return fmt.Sprintf("kill %d %d", pid, int(syscall.SIGKILL)) }
	start := "start /b/SL00 /xports/x/y /bin/make tty=false"
	for _, tc := range []struct {
		name          string
		exit          int
		nice          int
		cancelBefore  bool
		cancelAtStart bool
		fail          string
		code          int
		log           []string
	}{
		{name: "exits, its daemon is killed", exit: 3, nice: 10, code: 3,
			log: []string{"reap_acquire", "nice 10", "lookpath make", start, kill(101)}},
		{name: "not niced with -N", exit: 0, code: 0,
			log: []string{"reap_acquire", "lookpath make", start, kill(101)}},
		{name: "cancelled midway: everything killed", exit: -1, cancelAtStart: true, code: 128 + 9,
			log: []string{"reap_acquire", "lookpath make", start, kill(100), kill(101)}},
		{name: "cancelled before the start: nothing started", exit: 0, cancelBefore: true, code: 128 + 9,
			log: []string{"reap_acquire"}},
		{name: "reaper refused", fail: "reap_acquire", code: helperFailed,
			log: []string{"!fail reap_acquire"}},
		{name: "nice refused: builds anyway", exit: 0, nice: 10, fail: "nice", code: 0,
			log: []string{"reap_acquire", "!fail nice 10", "lookpath make", start, kill(101)}},
		{name: "no such program", fail: "lookpath", code: helperNotFound,
			log: []string{"reap_acquire", "!fail lookpath make"}},
		{name: "start fails", fail: "start", code: helperFailed,
			log: []string{"reap_acquire", "lookpath make", "!fail " + start}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHelper(tc.exit)
			h.fail, h.cancelAtStart = tc.fail, tc.cancelAtStart
			if tc.cancelBefore {
				close(h.cancelled)
			}
			code := RunHelper(h, helperArgs(tc.nice), io.Discard)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if got := h.calls(); !reflect.DeepEqual(got, tc.log) {
				t.Errorf("did\n%q\nwant\n%q", got, tc.log)
			}
			if tc.exit != 0 || tc.fail == "" {
				if n := h.ReapHead(); n != 0 {
					t.Errorf("descendant %d left", n)
				}
			}
		})
	}
	if code := RunHelper(newHelper(0), []string{"reap"}, io.Discard); code != helperFailed {
		t.Errorf("bad arguments: exit %d", code)
	}
}
