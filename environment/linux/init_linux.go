//go:build linux

package linux

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/go-dsynth/go-dsynth/environment"
	"golang.org/x/sys/unix"
)

// initFD is the descriptor on which the init finds its socket.
const initFD = 3

// oldRoot is where the host root sits between pivot_root and its detach.
const oldRoot = "/.dsynth-oldroot"

// Init is the body of the sandbox init: a program whose first argument is
// environment.InitArg must call it (and exit with its result) before doing
// anything else. It reads the plan from descriptor 3, builds the root,
// reports readiness, then runs one command per request until the
// controller closes the socket.
func Init() int {
	// Capabilities are per thread: the thread that drops them is the one
	// that forks every command, so the goroutine stays locked for good.
	runtime.LockOSThread()
	unix.CloseOnExec(initFD)
	closeInheritedOnExec()
	var cfg initConfig
	if _, err := recvFrame(initFD, &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "dsynth sandbox init: %v\n", err)
		return 1
	}
	overlay, err := buildRoot(cfg.Plan)
	if err == nil && !cfg.KeepCaps {
		err = dropPrivileges()
	}
	if err != nil {
		_ = sendFrame(initFD, reply{Err: err.Error()}, nil)
		return 1
	}
	if err := sendFrame(initFD, reply{Overlay: overlay}, nil); err != nil {
		return 1
	}
	for {
		var req request
		fds, err := recvFrame(initFD, &req)
		if err != nil {
			// The controller is gone or tore the slot down: exiting
			// kills everything left in the pid namespace.
			return 0
		}
		rep := runCommand(req, fds)
		if err := sendFrame(initFD, rep, nil); err != nil {
			return 0
		}
	}
}

// runCommand starts one command, reaps every process until it exits, then
// kills and reaps whatever it left behind.
func runCommand(req request, fds []int) reply {
	defer func() {
		for _, f := range fds {
			unix.Close(f)
		}
	}()
	if len(fds) != 3 {
		return reply{Code: -1, Err: fmt.Sprintf("expected 3 descriptors, got %d", len(fds))}
	}
	if len(req.Args) == 0 {
		return reply{Code: -1, Err: "empty command"}
	}
	prog, err := lookPath(req.Args[0], req.Env)
	if err != nil {
		return reply{Code: 127, NotFound: true, Err: err.Error()}
	}
	dir := req.Dir
	if dir == "" {
		dir = "/"
	}
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   req.Env,
		Files: []uintptr{uintptr(fds[0]), uintptr(fds[1]), uintptr(fds[2])},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	}
	if req.TTY {
		attr.Sys.Setctty = true
		attr.Sys.Ctty = 0
	}
	// The CPU affinity (Numa_setsize) is the forking thread's, which the
	// child inherits from its very start: nothing it runs, however
	// quickly, escapes it. The thread gets its own mask back after.
	restore := pinThread(req.CPUs)
	pid, err := syscall.ForkExec(prog, req.Args, attr)
	if err != nil && req.TTY {
		// The terminal may already be another session's controlling
		// terminal; run without job control then.
		attr.Sys.Setctty = false
		pid, err = syscall.ForkExec(prog, req.Args, attr)
	}
	restore()
	if err != nil {
		return reply{Code: 126, Err: fmt.Sprintf("start %s: %v", req.Args[0], err)}
	}
	if req.Nice != 0 {
		// As dsynth, ignore a failure: the build runs either way. The
		// child has just exec'ed, so what it starts inherits the value.
		_ = unix.Setpriority(unix.PRIO_PROCESS, pid, req.Nice)
	}

	var rep reply
	for {
		var st unix.WaitStatus
		wpid, err := unix.Wait4(-1, &st, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			break // ECHILD: everything is reaped
		}
		if wpid == pid {
			switch {
			case st.Exited():
				rep.Code = st.ExitStatus()
			case st.Signaled():
				rep.Signal = int(st.Signal())
				rep.Code = 128 + rep.Signal
			}
			// As pid 1 of the namespace, kill(-1) reaches every
			// other process in it, daemons included.
			_ = unix.Kill(-1, unix.SIGKILL)
		}
	}
	return rep
}

// lookPath finds a program in the PATH of env, inside the slot.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if err := isExecutable(file); err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
		return file, nil
	}
	pathVar := "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range filepath.SplitList(pathVar) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if isExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", file, environment.ErrNotFound)
}

func isExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("not an executable file")
	}
	return nil
}

// buildRoot makes the slot root described by the plan and pivots into it.
// It reports whether the template was overlaid (rather than copied).
func buildRoot(plan environment.Plan) (overlay bool, err error) {
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return false, fmt.Errorf("make mounts private: %w", err)
	}
	root := plan.Root
	rm := plan.Mounts[0]
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpfsData(0o755, rm.Size)); err != nil {
		return false, fmt.Errorf("mount tmpfs root on %s: %w", root, err)
	}
	if plan.Template != "" {
		overlay, err = applyTemplate(root, plan.Template)
		if err != nil {
			return false, err
		}
	}
	// Resolve every bind source in the host's view before leaving it.
	sources := make([]string, len(plan.Mounts))
	links := make([]string, len(plan.Mounts))
	for i, m := range plan.Mounts {
		if m.Type != environment.MountBind {
			continue
		}
		fi, err := os.Lstat(m.Source)
		if err != nil {
			if m.Optional && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return false, fmt.Errorf("mount source %s for %s: %w", m.Source, m.Target, err)
		}
		real, err := filepath.EvalSymlinks(m.Source)
		if err != nil {
			if m.Optional && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return false, fmt.Errorf("mount source %s for %s: %w", m.Source, m.Target, err)
		}
		sources[i] = real
		if fi.Mode()&os.ModeSymlink != 0 {
			// A merged-/usr link such as /bin -> usr/bin becomes a
			// link to the bound target inside the slot.
			for _, o := range plan.Mounts {
				if o.Type == environment.MountBind && filepath.Clean(o.Source) == real {
					links[i] = o.Target
				}
			}
		}
	}
	tmplReal := ""
	if plan.Template != "" {
		if tmplReal, err = filepath.EvalSymlinks(plan.Template); err != nil {
			return false, fmt.Errorf("template: %w", err)
		}
	}
	if err := os.Mkdir(root+oldRoot, 0o700); err != nil {
		return false, fmt.Errorf("create %s: %w", oldRoot, err)
	}
	if err := unix.PivotRoot(root, root+oldRoot); err != nil {
		return false, fmt.Errorf("pivot_root to %s: %w", root, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return false, fmt.Errorf("chdir /: %w", err)
	}
	template := ""
	if tmplReal != "" {
		template = oldRoot + tmplReal
	}
	for i, m := range plan.Mounts[1:] {
		if err := mountOne(m, sources[i+1], links[i+1], template); err != nil {
			return false, err
		}
	}
	if err := unix.Unmount(oldRoot, unix.MNT_DETACH); err != nil {
		return false, fmt.Errorf("detach the host root: %w", err)
	}
	if err := os.Remove(oldRoot); err != nil {
		return false, fmt.Errorf("remove %s: %w", oldRoot, err)
	}
	if err := unix.Sethostname([]byte(plan.Name)); err != nil {
		return false, fmt.Errorf("set hostname: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return false, err
	}
	return overlay, nil
}

// applyTemplate overlays the template on the tmpfs root (writes go to the
// tmpfs), or copies it when overlayfs is unavailable.
func applyTemplate(root, template string) (bool, error) {
	upper, work := root+"/.dsynth/upper", root+"/.dsynth/work"
	if err := os.MkdirAll(upper, 0o755); err != nil {
		return false, fmt.Errorf("template: %w", err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return false, fmt.Errorf("template: %w", err)
	}
	data := "lowerdir=" + template + ",upperdir=" + upper + ",workdir=" + work
	if !strings.ContainsAny(template+root, ",:\\") {
		if err := unix.Mount("overlay", root, "overlay", unix.MS_NOSUID|unix.MS_NODEV, data); err == nil {
			return true, nil
		}
	}
	if err := os.RemoveAll(root + "/.dsynth"); err != nil {
		return false, fmt.Errorf("template: %w", err)
	}
	if err := environment.CopyTree(template, root); err != nil {
		return false, fmt.Errorf("template: copy %s: %w", template, err)
	}
	return false, nil
}

// mountOne makes one mount of the plan, after pivot_root: the host is at
// oldRoot, and template (under oldRoot) is the template directory or "".
func mountOne(m environment.Mount, source, link, template string) error {
	t := m.Target
	switch m.Type {
	case environment.MountBind:
		if source == "" {
			return nil // optional and absent
		}
		if link != "" {
			if _, err := os.Lstat(t); err == nil {
				return nil
			}
			if err := os.MkdirAll(path.Dir(t), 0o755); err != nil {
				return fmt.Errorf("mount %s: %w", t, err)
			}
			if err := os.Symlink(link, t); err != nil {
				return fmt.Errorf("link %s -> %s: %w", t, link, err)
			}
			return nil
		}
		if err := os.MkdirAll(t, 0o755); err != nil {
			return fmt.Errorf("mount %s: %w", t, err)
		}
		return bindMount(oldRoot+source, t, m.ReadOnly)
	case environment.MountTmpfs:
		if err := os.MkdirAll(t, 0o755); err != nil {
			return fmt.Errorf("mount %s: %w", t, err)
		}
		if err := unix.Mount("tmpfs", t, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpfsData(0o755, m.Size)); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", t, err)
		}
		if template != "" {
			// The template's part under a tmpfs (the /usr/local
			// skeleton) is hidden by it: copy it in.
			src := template + t
			if st, err := os.Stat(src); err == nil && st.IsDir() {
				if err := environment.CopyTree(src, t); err != nil {
					return fmt.Errorf("template %s: %w", t, err)
				}
			}
		}
		return nil
	case environment.MountProc:
		if err := os.MkdirAll(t, 0o555); err != nil {
			return fmt.Errorf("mount %s: %w", t, err)
		}
		flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
		if m.ReadOnly {
			flags |= unix.MS_RDONLY
		}
		if err := unix.Mount("proc", t, "proc", flags, ""); err != nil {
			return fmt.Errorf("mount proc on %s: %w", t, err)
		}
		return nil
	case environment.MountDev:
		return makeDev(t)
	}
	return fmt.Errorf("mount %s: unknown type %q", t, m.Type)
}

// bindMount binds src onto dst, read-only when ro. Read-only takes two
// calls: a bind ignores MS_RDONLY, only a remount applies it.
func bindMount(src, dst string, ro bool) error {
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", strings.TrimPrefix(src, oldRoot), dst, err)
	}
	if !ro {
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dst, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dst, err)
	}
	flags := unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | remountFlags(int64(st.Flags))
	if err := unix.Mount("", dst, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", dst, err)
	}
	return nil
}

// devNodes are the host devices bound into the minimal /dev.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

// makeDev builds a minimal /dev: a tmpfs with bind-mounted host nodes (mknod
// is impossible in a user namespace, binding works everywhere), a private
// devpts instance, the usual links and a tmpfs /dev/shm.
func makeDev(dev string) error {
	if err := os.MkdirAll(dev, 0o755); err != nil {
		return fmt.Errorf("mount %s: %w", dev, err)
	}
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=65536"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dev, err)
	}
	for _, n := range devNodes {
		p := dev + "/" + n
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return fmt.Errorf("create %s: %w", p, err)
		}
		f.Close()
		if err := unix.Mount(oldRoot+"/dev/"+n, p, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", n, err)
		}
	}
	if err := os.Mkdir(dev+"/pts", 0o755); err != nil {
		return fmt.Errorf("mkdir %s/pts: %w", dev, err)
	}
	if err := unix.Mount("devpts", dev+"/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return fmt.Errorf("mount devpts: %w", err)
	}
	if err := os.Mkdir(dev+"/shm", 0o755); err != nil {
		return fmt.Errorf("mkdir %s/shm: %w", dev, err)
	}
	if err := unix.Mount("tmpfs", dev+"/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=01777"); err != nil {
		return fmt.Errorf("mount %s/shm: %w", dev, err)
	}
	for name, target := range map[string]string{
		"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		if err := os.Symlink(target, dev+"/"+name); err != nil {
			return fmt.Errorf("link %s/%s: %w", dev, name, err)
		}
	}
	return nil
}

// loopbackUp brings up lo, the only interface of the new net namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: set flags: %w", err)
	}
	return nil
}

// closeInheritedOnExec marks every descriptor above 2 close-on-exec, so
// that descriptors the controller's own parent leaked into it never reach
// a build.
func closeInheritedOnExec() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		var fd int
		if _, err := fmt.Sscan(e.Name(), &fd); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// pinThread restricts the calling goroutine's OS thread to cpus (none:
// nothing is done) and returns what undoes it: the thread's old mask back
// and the goroutine unlocked. As dsynth, a failure only leaves the command
// unpinned; CPUs past the machine's are ignored by the kernel.
func pinThread(cpus []int) (restore func()) {
	if len(cpus) == 0 {
		return func() {}
	}
	runtime.LockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		return func() {}
	}
	for _, c := range cpus {
		if c >= 0 && c < 1024 {
			set.Set(c)
		}
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return func() {}
	}
	return func() {
		_ = unix.SchedSetaffinity(0, &old)
		runtime.UnlockOSThread()
	}
}
