//go:build linux

package linux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"golang.org/x/sys/unix"
)

// Options adjust a Sandbox.
type Options struct {
	// Executable is the binary re-executed as the sandbox init; it must
	// call Init when its first argument is environment.InitArg. The
	// default is the running binary (/proc/self/exe).
	Executable string
	// NoUserNamespace forbids the rootless mode: without root, Setup then
	// fails with ErrPrivilege instead of using a user namespace.
	NoUserNamespace bool

	// keepCaps skips the capability drop (tests only).
	keepCaps bool
}

// Slot states.
const (
	stateNew = iota
	stateReady
	stateDead
	stateClosed
)

// Sandbox is one Linux build slot; it implements environment.Environment.
// Its methods may be called from any goroutine; Execute calls are
// serialized.
type Sandbox struct {
	opts Options

	mu           sync.Mutex
	state        int
	plan         environment.Plan
	cmd          *exec.Cmd
	sock         int // controller end of the socket pair, -1 when closed
	done         chan struct{}
	initErr      bytes.Buffer
	createdRoot  bool
	createdState bool
	cgroup       *cgroup
	overlay      bool
	initPid      atomic.Int64 // host pid of a live init, 0 when none
}

var _ environment.Environment = (*Sandbox)(nil)

// New returns an unset slot.
func New(opts Options) *Sandbox {
	return &Sandbox{opts: opts, sock: -1}
}

// LimitsApplied reports whether the plan's resource limits are enforced
// (cgroup v2 with the needed controllers delegated).
func (s *Sandbox) LimitsApplied() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cgroup != nil
}

// TemplateOverlaid reports whether the template was overlaid on the root
// (true) or copied into it (overlayfs unavailable).
func (s *Sandbox) TemplateOverlaid() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overlay
}

// InitPid returns the host pid of the slot's init, 0 when none runs.
func (s *Sandbox) InitPid() int {
	return int(s.initPid.Load())
}

// CheckPrivileges reports, wrapping environment.ErrPrivilege, why this
// process cannot create sandboxes, or nil when it can.
func CheckPrivileges(opts Options) error {
	if os.Geteuid() == 0 {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return fmt.Errorf("environment/linux: capget: %w", err)
		}
		if data[0].Effective&(1<<unix.CAP_SYS_ADMIN) == 0 {
			return fmt.Errorf("environment/linux: running as root without CAP_SYS_ADMIN (a restricted container?): %w", environment.ErrPrivilege)
		}
		return nil
	}
	if opts.NoUserNamespace {
		return fmt.Errorf("environment/linux: not running as root (uid %d) and the rootless mode is disabled: %w", os.Geteuid(), environment.ErrPrivilege)
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return fmt.Errorf("environment/linux: not root, and user namespaces are disabled (user.max_user_namespaces=0): %w", environment.ErrPrivilege)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return fmt.Errorf("environment/linux: not root, and unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0): %w", environment.ErrPrivilege)
	}
	return nil
}

// Setup validates the plan and the host, then starts the slot's init and
// waits until it has built the root. Validation failures happen before
// anything is created.
func (s *Sandbox) Setup(ctx context.Context, plan environment.Plan) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return fmt.Errorf("environment/linux: slot %s: Setup called twice", plan.Name)
	}
	if err := plan.Validate(); err != nil {
		return err
	}
	if err := CheckPrivileges(s.opts); err != nil {
		return err
	}
	s.plan = plan
	st := environment.SlotState{
		Name: plan.Name, Root: plan.Root, Backend: "linux",
		Controller: os.Getpid(), ControllerStart: procStart(os.Getpid()),
		Created: time.Now(),
	}
	if err := environment.CreateState(plan.BuildBase, st); err != nil {
		return err
	}
	s.createdState = true
	defer func() {
		if err != nil {
			s.teardownLocked()
			s.state = stateClosed
		}
	}()
	if _, serr := os.Stat(plan.Root); errors.Is(serr, os.ErrNotExist) {
		if err := os.Mkdir(plan.Root, 0o755); err != nil {
			return fmt.Errorf("environment/linux: slot %s: %w", plan.Name, err)
		}
		s.createdRoot = true
	}
	cg, err := newCgroup(plan.Name, plan.Limits)
	if err != nil {
		return fmt.Errorf("environment/linux: slot %s: %w", plan.Name, err)
	}
	s.cgroup = cg
	if err := s.startInit(); err != nil {
		return fmt.Errorf("environment/linux: slot %s: start init: %w", plan.Name, err)
	}
	st.Helper = s.cmd.Process.Pid
	st.HelperStart = procStart(st.Helper)
	if err := environment.WriteState(plan.BuildBase, st); err != nil {
		return err
	}
	if err := sendFrame(s.sock, initConfig{Plan: plan, KeepCaps: s.opts.keepCaps}, nil); err != nil {
		return fmt.Errorf("environment/linux: slot %s: send plan: %w", plan.Name, err)
	}
	rep, err := s.await(ctx)
	if err != nil {
		return fmt.Errorf("environment/linux: slot %s: set up: %w", plan.Name, err)
	}
	if rep.Err != "" {
		return fmt.Errorf("environment/linux: slot %s: set up: %s", plan.Name, rep.Err)
	}
	s.overlay = rep.Overlay
	s.state = stateReady
	return nil
}

// startInit starts the init in its new namespaces.
func (s *Sandbox) startInit() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	s.sock = fds[0]
	child := os.NewFile(uintptr(fds[1]), "init-socket")
	defer child.Close()

	exe := s.opts.Executable
	if exe == "" {
		exe = "/proc/self/exe"
	}
	cmd := exec.Command(exe, environment.InitArg)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GOMAXPROCS=1"}
	cmd.ExtraFiles = []*os.File{child}
	cmd.Stderr = &s.initErr
	attr := &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET,
		// The controller dies -> the init dies -> the kernel kills
		// every process of the pid namespace.
		Pdeathsig: syscall.SIGKILL,
		Setpgid:   true,
	}
	if os.Geteuid() != 0 {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	if s.cgroup != nil {
		attr.UseCgroupFD = true
		attr.CgroupFD = s.cgroup.fd
	}
	cmd.SysProcAttr = attr
	// Pdeathsig fires when the forking thread exits; start from a fresh,
	// unlocked goroutine so that thread is an ordinary runtime thread.
	errc := make(chan error, 1)
	go func() { errc <- cmd.Start() }()
	if err := <-errc; err != nil {
		return err
	}
	s.cmd = cmd
	s.initPid.Store(int64(cmd.Process.Pid))
	done := make(chan struct{})
	s.done = done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	return nil
}

// await waits for the init's next reply, the end of ctx or the init's
// death; on the last two the init is killed and the slot is dead.
func (s *Sandbox) await(ctx context.Context) (reply, error) {
	type result struct {
		rep reply
		err error
	}
	rc := make(chan result, 1)
	sock := s.sock
	go func() {
		var rep reply
		fds, err := recvFrame(sock, &rep)
		for _, f := range fds {
			unix.Close(f)
		}
		rc <- result{rep, err}
	}()
	select {
	case r := <-rc:
		if r.err != nil {
			s.kill()
			return reply{}, fmt.Errorf("init: %w%s", r.err, s.initStderr())
		}
		return r.rep, nil
	case <-ctx.Done():
		s.kill()
		<-rc
		return reply{}, ctx.Err()
	}
}

// kill SIGKILLs the init (and with it the whole pid namespace) and waits
// until it is gone.
func (s *Sandbox) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.initPid.Store(0)
	s.state = stateDead
}

func (s *Sandbox) initStderr() string {
	if s.done != nil {
		select {
		case <-s.done:
		case <-time.After(time.Second):
		}
	}
	if msg := strings.TrimSpace(s.initErr.String()); msg != "" {
		return " (init: " + msg + ")"
	}
	return ""
}

// Execute runs one command in the slot; see environment.Environment.
func (s *Sandbox) Execute(ctx context.Context, c environment.Command) (environment.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := environment.Result{ExitCode: -1}
	if s.state != stateReady {
		return res, fmt.Errorf("environment/linux: slot %s: %w", s.plan.Name, environment.ErrNotReady)
	}
	if len(c.Args) == 0 {
		return res, fmt.Errorf("environment/linux: slot %s: empty command", s.plan.Name)
	}
	var st stdio
	defer st.close()
	if err := st.setup(c); err != nil {
		return res, fmt.Errorf("environment/linux: slot %s: %w", s.plan.Name, err)
	}
	start := time.Now()
	req := request{Args: c.Args, Env: c.Env, Dir: c.Dir, TTY: c.TTY, Nice: c.Nice, CPUs: c.CPUs}
	if err := sendFrame(s.sock, req, st.fds()); err != nil {
		s.kill()
		return res, fmt.Errorf("environment/linux: slot %s: send command: %w", s.plan.Name, err)
	}
	st.closeChildEnds()
	rep, err := s.await(ctx)
	res.Duration = time.Since(start)
	st.wait()
	if err != nil {
		return res, fmt.Errorf("environment/linux: slot %s: %s: %w", s.plan.Name, c.Args[0], err)
	}
	res.ExitCode, res.Signal = rep.Code, rep.Signal
	if rep.NotFound {
		return res, fmt.Errorf("environment/linux: slot %s: %s: %w", s.plan.Name, c.Args[0], environment.ErrNotFound)
	}
	if rep.Err != "" {
		return res, fmt.Errorf("environment/linux: slot %s: %s", s.plan.Name, rep.Err)
	}
	return res, nil
}

// stdio prepares the three descriptors a command gets: *os.File values are
// passed as they are, other readers and writers through pipes.
type stdio struct {
	files   [3]*os.File // what the init receives
	owned   []*os.File  // our copies to close after sending
	copiers sync.WaitGroup
}

func (st *stdio) setup(c environment.Command) error {
	devnull := func() (*os.File, error) {
		f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err == nil {
			st.owned = append(st.owned, f)
		}
		return f, err
	}
	// stdin
	switch in := c.Stdin.(type) {
	case nil:
		f, err := devnull()
		if err != nil {
			return err
		}
		st.files[0] = f
	case *os.File:
		st.files[0] = in
	default:
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		st.owned = append(st.owned, r)
		st.files[0] = r
		go func() {
			_, _ = io.Copy(w, in)
			w.Close()
		}()
	}
	for i, out := range []io.Writer{c.Stdout, c.Stderr} {
		if i == 1 && c.Stderr != nil && sameWriter(c.Stdout, c.Stderr) {
			// One pipe for both, as os/exec does, so that a writer
			// that is not safe for concurrent use gets one copier.
			st.files[2] = st.files[1]
			break
		}
		switch o := out.(type) {
		case nil:
			f, err := devnull()
			if err != nil {
				return err
			}
			st.files[i+1] = f
		case *os.File:
			st.files[i+1] = o
		default:
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			st.owned = append(st.owned, w)
			st.files[i+1] = w
			st.copiers.Add(1)
			go func() {
				defer st.copiers.Done()
				_, _ = io.Copy(o, r)
				r.Close()
			}()
		}
	}
	return nil
}

// sameWriter reports whether a and b are the same writer, without
// panicking on uncomparable dynamic types.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

func (st *stdio) fds() []int {
	return []int{int(st.files[0].Fd()), int(st.files[1].Fd()), int(st.files[2].Fd())}
}

// closeChildEnds closes our copies once the init holds its own.
func (st *stdio) closeChildEnds() {
	for _, f := range st.owned {
		f.Close()
	}
	st.owned = nil
}

// wait waits until the output copiers have drained their pipes.
func (st *stdio) wait() { st.copiers.Wait() }

func (st *stdio) close() { st.closeChildEnds() }

// Teardown kills the init (and so every process of the slot), which drops
// the mount namespace with all its mounts, then removes the cgroup, the
// empty slot directory and the state file. It is idempotent.
func (s *Sandbox) Teardown() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosed {
		return nil
	}
	err := s.teardownLocked()
	s.state = stateClosed
	return err
}

func (s *Sandbox) teardownLocked() error {
	var errs []error
	if s.sock >= 0 {
		unix.Close(s.sock)
		s.sock = -1
	}
	s.kill()
	if s.cgroup != nil {
		if err := s.cgroup.remove(); err != nil {
			errs = append(errs, err)
		}
		s.cgroup = nil
	}
	if s.createdRoot || s.state != stateNew {
		if err := os.Remove(s.plan.Root); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("environment/linux: slot %s: remove root: %w", s.plan.Name, err))
		}
	}
	if s.createdState {
		if err := environment.RemoveState(s.plan.BuildBase, s.plan.Name); err != nil {
			errs = append(errs, err)
		}
		s.createdState = false
	}
	return errors.Join(errs...)
}

// procStart returns the kernel start time of a process (field 22 of
// /proc/pid/stat), "" when it does not exist.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}
