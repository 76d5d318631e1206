// Package hooks runs dsynth's hook scripts as a subscriber of the build's
// event stream: hook_run_start and hook_run_end around a run, and
// hook_pkg_success, hook_pkg_failure, hook_pkg_ignored and hook_pkg_skipped
// for each port, with exactly dsynth's environment (and nothing else: no
// PATH). A hook's stdout is discarded, its stderr lines and a failure go to
// the results log; a failing hook never stops the build.
package hooks

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/config"
)

// Runner is the hook subscriber, an ordinary Lossless subscriber of the
// bus: subscribe it directly. Handle runs run hooks to completion and queues
// package hooks, which run in the background (at most Parallel at once);
// run_end waits for every package hook first. The bus gives the Runner a
// goroutine and a queue of its own, so a hook does not hold up the build's
// Publish; only a run hook outlasting the Runner's whole queue would.
//
// Log lines (a hook's stderr, its failure) are published from Handle,
// where the bus never makes Publish wait (see events.Bus): run hooks'
// lines at once, package hooks' lines when Handle next runs (the build
// publishes a SystemLoad about every second) and at the latest at
// RunFinished, before run_end; Wait publishes any left over. A package
// hook's goroutine never publishes, so Handle, which waits for those
// goroutines at RunFinished, cannot wait for a publish that waits for
// Handle.
//
// Wiring: New with Options{Publish: bus.Publish, Context: the run's
// context}, then bus.Subscribe(runner); once the run has published its
// last event: bus.Flush(), runner.Wait(), bus.Close().
type Runner struct {
	hooks   map[string]string
	base    []string
	pkgFile func(origin string) string
	publish func(events.Event)
	ctx     context.Context
	timeout time.Duration

	parallel int

	pkgWG sync.WaitGroup // package hooks queued or running

	mu          sync.Mutex
	jobs        []job          // package hooks waiting for a worker
	workers     int            // package hook workers running, at most parallel
	pending     []events.Event // package hooks' log lines, for Handle to publish
	interrupted bool           // the run's context ended; said so once
}

// Options configure a Runner.
type Options struct {
	// PkgFile returns the package file name of an origin (dsynth passes it
	// as PKGNAME).
	PkgFile func(origin string) string
	// Publish receives the log lines hooks produce (usually Bus.Publish).
	// It is called from Handle, and from Wait for lines left over, never
	// from a package hook's goroutine.
	Publish func(events.Event)
	// Context is the run's context: when it ends (an interrupt), running
	// hook scripts and the processes they started are killed, and no more
	// hooks run. Nil means context.Background().
	Context context.Context
	// Parallel bounds concurrent package hooks (default 4).
	Parallel int
	// Timeout, when set, bounds one hook's run. dsynth sets none, nor does
	// go-dsynth by default: a hook runs until it ends or the run is
	// interrupted.
	Timeout time.Duration
}

// New returns a Runner for the configuration's hooks.
func New(cfg *config.Config, o Options) *Runner {
	p := &cfg.Profile
	r := &Runner{
		hooks: cfg.Hooks,
		base: []string{"PROFILE=" + cfg.ProfileName, "DIR_PACKAGES=" + p.PackagesDir, "DIR_REPOSITORY=" + p.RepositoryDir,
			"DIR_PORTS=" + p.PortsDir, "DIR_OPTIONS=" + p.OptionsDir, "DIR_DISTFILES=" + p.DistfilesDir,
			"DIR_LOGS=" + p.LogsDir, "DIR_BUILDBASE=" + p.BuildBase},
		pkgFile: o.PkgFile, publish: o.Publish, ctx: o.Context, timeout: o.Timeout,
	}
	if r.ctx == nil {
		r.ctx = context.Background()
	}
	r.parallel = o.Parallel
	if r.parallel <= 0 {
		r.parallel = 4
	}
	return r
}

// Handle implements events.Subscriber. It waits for run hooks and, at
// RunFinished, for the package hooks; it never waits for a free package
// hook slot (package hooks queue up inside the Runner).
func (r *Runner) Handle(e events.Event) {
	r.publishPending()
	switch ev := e.(type) {
	case events.RunStarted:
		env := append(r.env(), fmt.Sprintf("PORTS_QUEUED=%d", ev.Queued))
		r.emit(r.run(config.HookRunStart, "", env))
	case events.PortFinished:
		var name string
		result := ""
		switch ev.Outcome {
		case events.Built:
			name, result = config.HookPkgSuccess, "success"
		case events.Failed:
			name, result = config.HookPkgFailure, "failure"
		case events.Ignored:
			name, result = config.HookPkgIgnored, "ignored"
		case events.Skipped:
			name, result = config.HookPkgSkipped, "skipped"
		default:
			return
		}
		if r.hooks[name] == "" {
			return
		}
		dir, flavor, _ := strings.Cut(ev.Origin, "@")
		if flavor == "" {
			flavor = ev.Origin // dsynth passes the whole origin when unflavored
		}
		pkg := ev.PkgFile
		if pkg == "" && r.pkgFile != nil {
			pkg = r.pkgFile(ev.Origin)
		}
		env := append(r.env(), "RESULT="+result, "ORIGIN="+dir, "FLAVOR="+flavor, "PKGNAME="+pkg)
		r.enqueue(job{name: name, origin: ev.Origin, env: env})
	case events.RunFinished:
		c := ev.Counts
		env := append(r.env(), fmt.Sprintf("PORTS_BUILT=%d", c.Built), fmt.Sprintf("PORTS_FAILED=%d", c.Failed),
			fmt.Sprintf("PORTS_IGNORED=%d", c.Ignored), fmt.Sprintf("PORTS_SKIPPED=%d", c.Skipped))
		r.pkgWG.Wait()
		r.publishPending()
		r.emit(r.run(config.HookRunEnd, "", env))
	}
}

func (r *Runner) env() []string { return append([]string(nil), r.base...) }

// Wait waits for the package hooks still queued or running and publishes
// the log lines Handle has not published yet. Call it once the bus has
// delivered the run's events (after Bus.Flush) and before Bus.Close, which
// would drop those lines.
func (r *Runner) Wait() {
	r.pkgWG.Wait()
	r.publishPending()
}

// job is one package hook to run.
type job struct {
	name, origin string
	env          []string
}

// enqueue queues a package hook and starts a worker if fewer than
// Parallel are running.
func (r *Runner) enqueue(j job) {
	r.pkgWG.Add(1)
	r.mu.Lock()
	r.jobs = append(r.jobs, j)
	start := r.workers < r.parallel
	if start {
		r.workers++
	}
	r.mu.Unlock()
	if start {
		go r.work()
	}
}

// work runs queued package hooks until there are none, keeping their log
// lines for Handle to publish.
func (r *Runner) work() {
	for {
		r.mu.Lock()
		if len(r.jobs) == 0 {
			r.jobs = nil
			r.workers--
			r.mu.Unlock()
			return
		}
		j := r.jobs[0]
		r.jobs = r.jobs[1:]
		r.mu.Unlock()
		lines := r.run(j.name, j.origin, j.env)
		r.mu.Lock()
		r.pending = append(r.pending, lines...)
		r.mu.Unlock()
		r.pkgWG.Done()
	}
}

// publishPending publishes the package hooks' log lines kept so far.
func (r *Runner) publishPending() {
	r.mu.Lock()
	p := r.pending
	r.pending = nil
	r.mu.Unlock()
	r.emit(p)
}

// emit publishes log lines.
func (r *Runner) emit(lines []events.Event) {
	if r.publish == nil {
		return
	}
	for _, l := range lines {
		r.publish(l)
	}
}

// waitDelay bounds how long a hook's stderr is read after the hook exited
// or was killed: a process it left behind holding stderr open (a daemon
// it started) must not hold up the Runner.
const waitDelay = 5 * time.Second

// run executes one hook, if configured, and returns the log lines for its
// stderr and its failure. Once the run's context has ended it runs
// nothing, and says so once.
func (r *Runner) run(name, origin string, env []string) []events.Event {
	path := r.hooks[name]
	if path == "" {
		return nil
	}
	if err := r.ctx.Err(); err != nil {
		r.mu.Lock()
		first := !r.interrupted
		r.interrupted = true
		r.mu.Unlock()
		if first {
			return []events.Event{logLine(fmt.Sprintf("hooks: the run was interrupted (%v): %s and later hooks are not run", err, name), false)}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(r.ctx)
	if r.timeout > 0 {
		ctx, cancel = context.WithTimeout(r.ctx, r.timeout)
	}
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = env
	cmd.WaitDelay = waitDelay
	killGroupOnCancel(cmd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return hookLines(name, origin, path, stderr.String(), err != nil)
}

// hookLines are the log lines of one hook's run, as dsynth writes them
// (build.c childHookRun, subs.c's stderr thread): each stderr line bare,
// after the port ("origin: line") for a package hook and alone for a run
// hook; and when the script failed, "[XXX] <origin> SCRIPT <hook>
// (<path>)" with no more detail. A run hook has no port: dsynth prints
// the null string as the BSD libc does, "(null)".
func hookLines(name, origin, path, stderr string, failed bool) []events.Event {
	var lines []events.Event
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		text := sc.Text()
		if origin != "" {
			text = origin + ": " + text
		}
		lines = append(lines, logLine(text, true))
	}
	if failed {
		who := origin
		if who == "" {
			who = "(null)"
		}
		lines = append(lines, logLine(fmt.Sprintf("%s SCRIPT %s (%s)", who, name, path), false))
	}
	return lines
}

// logLine is a results-log line from the hooks.
func logLine(text string, bare bool) events.Event {
	return events.Log{Time: events.Time{T: time.Now()}, Slot: -1, Text: text, Bare: bare}
}

// Published describes a generation just published, for hook_publish.
type Published struct {
	Generation int
	Path       string // the generation's directory
	Manifest   string // its MANIFEST.sha256
	Live       string // the live path (Directory_packages) now serving it
}

// RunPublish runs hook_publish, when configured, after a generation was
// published (Repository_publish=atomic), with dsynth's hook environment
// plus GENERATION, GENERATION_PATH, MANIFEST and SIGNATURE (empty when
// unsigned). It returns the lines for the output: the hook's stderr and
// its failure; a failing hook does not undo the publish.
func RunPublish(ctx context.Context, cfg *config.Config, p Published, signature string) []string {
	r := New(cfg, Options{Context: ctx})
	if r.hooks[config.HookPublish] == "" {
		return nil
	}
	env := append(r.env(), fmt.Sprintf("GENERATION=%d", p.Generation), "GENERATION_PATH="+p.Path,
		"MANIFEST="+p.Manifest, "SIGNATURE="+signature)
	var out []string
	for _, e := range r.run(config.HookPublish, "", env) {
		if l, ok := e.(events.Log); ok {
			out = append(out, l.Text)
		}
	}
	return out
}
