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

// Runner is the hook subscriber. Handle runs run hooks to completion and
// starts package hooks in the background (at most Parallel at once);
// run_end waits for every package hook first. Because Handle waits for
// hooks, subscribe the Runner through events.NewBuffered, never directly:
// the bus must not wait on a script. Wait waits for the package hooks.
type Runner struct {
	hooks   map[string]string
	base    []string
	pkgFile func(origin string) string
	publish func(events.Event)
	timeout time.Duration

	pkgWG sync.WaitGroup
	sem   chan struct{}
}

// Options configure a Runner.
type Options struct {
	// PkgFile returns the package file name of an origin (dsynth passes it
	// as PKGNAME).
	PkgFile func(origin string) string
	// Publish receives the log lines hooks produce (usually Bus.Publish).
	Publish func(events.Event)
	// Parallel bounds concurrent package hooks (default 4).
	Parallel int
	// Timeout bounds one hook's run (default 10 minutes).
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
		pkgFile: o.PkgFile, publish: o.Publish, timeout: o.Timeout,
	}
	if r.timeout <= 0 {
		r.timeout = 10 * time.Minute
	}
	n := o.Parallel
	if n <= 0 {
		n = 4
	}
	r.sem = make(chan struct{}, n)
	return r
}

// Handle implements events.Subscriber.
func (r *Runner) Handle(e events.Event) {
	switch ev := e.(type) {
	case events.RunStarted:
		env := append(r.env(), fmt.Sprintf("PORTS_QUEUED=%d", ev.Queued))
		r.run(config.HookRunStart, "", env)
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
		r.pkgWG.Add(1)
		r.sem <- struct{}{}
		go func() {
			defer r.pkgWG.Done()
			defer func() { <-r.sem }()
			r.run(name, ev.Origin, env)
		}()
	case events.RunFinished:
		c := ev.Counts
		env := append(r.env(), fmt.Sprintf("PORTS_BUILT=%d", c.Built), fmt.Sprintf("PORTS_FAILED=%d", c.Failed),
			fmt.Sprintf("PORTS_IGNORED=%d", c.Ignored), fmt.Sprintf("PORTS_SKIPPED=%d", c.Skipped))
		r.pkgWG.Wait()
		r.run(config.HookRunEnd, "", env)
	}
}

func (r *Runner) env() []string { return append([]string(nil), r.base...) }

// Wait waits for the package hooks still running.
func (r *Runner) Wait() { r.pkgWG.Wait() }

// run executes one hook, if configured, and logs its stderr and failure.
func (r *Runner) run(name, origin string, env []string) {
	path := r.hooks[name]
	if path == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		r.log(fmt.Sprintf("%s: %s", name, sc.Text()), true)
	}
	if err != nil {
		who := origin
		if who == "" {
			who = "-"
		}
		r.log(fmt.Sprintf("%s SCRIPT %s (%s): %v", who, name, path, err), false)
	}
}

func (r *Runner) log(text string, bare bool) {
	if r.publish != nil {
		r.publish(events.Log{Time: events.Time{T: time.Now()}, Slot: -1, Text: text, Bare: bare})
	}
}
