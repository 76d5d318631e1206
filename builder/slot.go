package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/dsynthfmt"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/ports"
)

// NiceValue is the niceness of every phase, dsynth's NiceOpt (-N: 0).
const NiceValue = 10

// errWatchdog marks a phase killed by its idle-output watchdog.
var errWatchdog = errors.New("watchdog timeout")

// errBuildTimeout marks a phase killed because the port's whole build
// reached Build_timeout.
var errBuildTimeout = errors.New("build timeout")

// shimTarget is where the make shims are mounted in a slot.
const shimTarget = "/dsynth/mk"

// SlotPlan is a slot's mount plan: the profile's (environment.BuildPlan)
// and, when makeShims is set, that host directory of make shims bound
// read-only where the phases' MAKESYSPATH expects it. A cluster worker
// builds its slots with it too.
func SlotPlan(s environment.Settings, makeShims string) (environment.Plan, error) {
	plan, err := environment.BuildPlan(s)
	if err == nil && makeShims != "" {
		plan.Mounts = append(plan.Mounts, environment.Mount{Type: environment.MountBind, Source: makeShims, Target: shimTarget, ReadOnly: true})
	}
	return plan, err
}

// slotRun is one port's build in one slot.
type slotRun struct {
	b      *Builder
	slot   int
	origin ports.Origin
	env    environment.Environment
	log    PortLog
	tap    *outputTap
	penv   []string
	// inPhases sums the time spent in make phases.
	inPhases time.Duration
	// step is the make phase running, from 1 to steps (0 during set-up).
	step, steps int
	// start is when the port's build started (Build_timeout counts from
	// it).
	start time.Time
	// remote is the slot's environment when it is on a cluster worker.
	remote environment.Remote

	lostMu sync.Mutex
	lost   string // why the remote environment was lost
}

// note remembers an error that says the remote environment was lost, and
// returns err.
func (r *slotRun) note(err error) error {
	if err != nil && errors.Is(err, environment.ErrLost) {
		r.lostMu.Lock()
		if r.lost == "" {
			r.lost = err.Error()
		}
		r.lostMu.Unlock()
	}
	return err
}

func (r *slotRun) lostReason() string {
	r.lostMu.Lock()
	defer r.lostMu.Unlock()
	return r.lost
}

// lossWatch passes every call to the slot's environment and notes the
// errors that say it was lost.
type lossWatch struct {
	environment.Environment
	r *slotRun
}

func (l *lossWatch) Setup(ctx context.Context, p environment.Plan) error {
	return l.r.note(l.Environment.Setup(ctx, p))
}

func (l *lossWatch) Execute(ctx context.Context, c environment.Command) (environment.Result, error) {
	res, err := l.Environment.Execute(ctx, c)
	return res, l.r.note(err)
}

// WorkUse passes the slot's work area use through when its environment
// measures it (environment.WorkUsage).
func (l *lossWatch) WorkUse() (int64, error) {
	if wu, ok := l.Environment.(environment.WorkUsage); ok {
		return wu.WorkUse()
	}
	return 0, errors.ErrUnsupported
}

// buildPort builds one port in a fresh slot (newEnv's; where names it when
// it is remote) and reports how it went.
func (b *Builder) buildPort(ctx context.Context, slot, schedIdx int, id ports.NodeID, depSize int64, newEnv func() environment.Environment, where string) (res portResult) {
	start := b.now()
	n := b.plan.Graph.Nodes[id]
	it := b.plan.Items[id]
	res = portResult{node: schedIdx, slot: slot}
	defer func() { res.duration = b.now().Sub(start) }()

	build, err := uuid.NewV7()
	if err != nil {
		build = uuid.New()
	}
	res.build = build
	b.bus.Publish(events.PortStarted{Time: b.t(), Slot: slot, Origin: it.Origin, Build: build, IDep: len(b.plan.Graph.Closure(id)) - 1,
		DepI: len(n.RDeps), DepIDepth: b.depth(id), DepSizeGB: float64(depSize) / (1 << 30), Where: where})

	plog, err := b.o.OpenLog(it.Origin)
	if err != nil {
		res.phase, res.reason = "log", err.Error()
		return res
	}
	defer plog.Close()
	r := &slotRun{b: b, slot: slot, origin: n.Origin, log: plog, start: start}
	defer func() {
		// A remote worker lost on the way: the attempt is lost, not
		// failed (unless the run itself was aborted).
		if why := r.lostReason(); why != "" && ctx.Err() == nil {
			res.ok, res.aborted, res.lost = false, false, why
			fmt.Fprintf(plog, "attempt lost: %s\n", why)
		}
	}()
	r.tap = newOutputTap(plog, b.now, 8)
	defer func() { res.lines, res.phaseTime = int(plog.Lines()), r.inPhases }()

	// Line counts for the displays, about once a second.
	stopLines := make(chan struct{})
	var linesWG sync.WaitGroup
	linesWG.Add(1)
	linesTick := b.o.NewTicker(TickLines, time.Second)
	go func() {
		defer linesWG.Done()
		defer linesTick.Stop()
		last := int64(-1)
		for {
			select {
			case <-stopLines:
				return
			case <-linesTick.C:
				if l := plog.Lines(); l != last {
					last = l
					b.bus.Publish(events.PortLines{Time: b.t(), Slot: slot, Origin: it.Origin, Lines: int(l)})
				}
			}
		}
	}()
	defer func() { close(stopLines); linesWG.Wait() }()

	shims := ""
	if b.o.MakeShims != "" {
		shims = shimTarget
	}
	r.penv = b.o.Worker.PhaseEnv(n.Origin.Flavor, shims)
	// The generated make.conf (or the recorded one, when replaying).
	makeConf := b.o.Worker.MakeConf()
	if b.o.Replay != nil && b.o.Replay.MakeConf != "" {
		makeConf = b.o.Replay.MakeConf
	}
	// Dependencies, from the repository.
	// (fetch-only builds no packages, so there are none to install.)
	var deps []builddb.DepPackage
	var depFiles, hostDeps []string // names in the repository, host paths
	if d := b.installDeps(id); len(d) > 0 && n.Origin.Dir != ports.PkgOrigin && !b.o.Phases.FetchOnly {
		deps = d
		for _, d := range deps {
			depFiles = append(depFiles, d.File)
			hostDeps = append(hostDeps, filepath.Join(b.o.RepositoryDir, d.File))
		}
	}
	dir := "/xports/" + n.Origin.Dir
	phases := Phases(n.Origin.Dir, b.o.Phases)

	settings := b.o.Settings
	settings.Slot = slot
	plan, err := SlotPlan(settings, b.o.MakeShims)
	var env environment.Environment
	if err == nil {
		env = newEnv()
		r.remote, _ = env.(environment.Remote)
		r.env = &lossWatch{Environment: env, r: r}
		if remote := r.remote; remote != nil {
			rp := environment.RemotePort{PortDir: n.Origin.Dir, PkgTool: b.pkgToolPath(), Deps: hostDeps,
				Script: r.script(n, makeConf, depFiles, phases)}
			if n.Info != nil {
				rp.Fingerprint = n.Info.Fingerprint
			}
			remote.Prepare(rp)
		}
		err = r.env.Setup(ctx, plan)
	}
	if err != nil {
		if r.env != nil {
			r.env.Teardown()
		}
		res.aborted = ctx.Err() != nil
		res.phase, res.reason = "slot", fmt.Sprintf("slot setup: %v", err)
		fmt.Fprintf(plog, "slot setup failed: %v\n", err)
		return res
	}
	defer func() {
		if b.o.Freeze[it.Origin] && !res.aborted {
			// debug: keep the slot as the build left it.
			res.frozen = &Frozen{Origin: it.Origin, Slot: slot, Env: env}
			b.log(slot, "FROZEN(DEBUG) %s", it.Origin)
			b.bus.Publish(events.SlotState{Time: b.t(), Slot: slot, State: "FROZEN"})
			return
		}
		if err := r.env.Teardown(); err != nil {
			b.log(slot, "%s teardown: %v", it.Origin, err)
		}
	}()
	in := &builddb.BuildInputs{MakeConf: makeConf, Options: portOptions(n.Info), OSVersion: b.o.OSVersion,
		MkFingerprint: b.inputs.mkFingerprint(b.o.Settings.PortsDir), TemplateFingerprint: b.inputs.templateFingerprint(b.o.TemplateDir)}
	res.inputs, res.env, res.portsCommit = in, envMap(r.penv), b.inputs.portsCommit(b.o.Settings.PortsDir)
	if err := r.writeFile(ctx, "/etc/make.conf", makeConf); err != nil {
		res.aborted = ctx.Err() != nil
		res.phase, res.reason = "make.conf", err.Error()
		return res
	}
	if len(deps) > 0 {
		for _, d := range deps {
			if d.SHA256 == "" {
				if sum, err := b.inputs.digest(filepath.Join(b.o.RepositoryDir, d.File)); err == nil {
					d.SHA256 = sum
				}
			}
			in.Deps = append(in.Deps, d)
		}
		if remote := r.remote; remote != nil {
			if err := r.note(remote.Provide(ctx, hostDeps)); err != nil {
				res.aborted = ctx.Err() != nil
				res.phase, res.reason = SetupPhase.Name, fmt.Sprintf("dependency packages: %v", err)
				fmt.Fprintf(plog, "handing the dependency packages to %s failed: %v\n", where, err)
				return res
			}
		}
		if err := r.writeFile(ctx, installScriptPath, InstallScript(depFiles)); err != nil {
			res.aborted = ctx.Err() != nil
			res.phase, res.reason = "setup", err.Error()
			return res
		}
		if ok, reason, err := r.phase(ctx, SetupPhase, installArgs); !ok {
			res.aborted = errors.Is(err, context.Canceled) && ctx.Err() != nil
			res.phase, res.reason = SetupPhase.Name, reason
			return res
		}
	}
	if !b.o.Phases.FetchOnly {
		// (fetch-only makes no package: nothing to record the tools of)
		in.Toolchain = r.probeToolchain(ctx)
	}
	if b.probesOptions(n) {
		// The options the build really uses (the slot's options
		// directory included): one make call, for ports with options.
		if opts := r.probeOptions(ctx, dir); opts != nil {
			in.Options = opts
		}
	}
	if ctx.Err() != nil {
		// Cancelled while asking for the tools or the options.
		res.aborted = true
		res.phase, res.reason = "setup", ctx.Err().Error()
		return res
	}
	if rp := b.o.Replay; rp != nil && rp.CheckOptions && !slices.Equal(in.Options, rp.Options) {
		res.phase = "options"
		res.reason = fmt.Sprintf("the port's options are %q, recorded %q", strings.Join(in.Options, " "), strings.Join(rp.Options, " "))
		fmt.Fprintln(plog, res.reason)
		return res
	}
	for _, ph := range phases {
		res.makeArgs = append(res.makeArgs, strings.Join(PhaseCommand(ph, b.o.Make, dir), " "))
	}
	for i, ph := range phases {
		r.step, r.steps = i+1, len(phases)
		ok, reason, err := r.phase(ctx, ph, PhaseCommand(ph, b.o.Make, dir))
		if !ok && ph.Dump && ctx.Err() == nil && !errors.Is(err, errWatchdog) && !errors.Is(err, errBuildTimeout) {
			continue // an informational -D phase does not fail the port
		}
		if !ok {
			res.aborted = ctx.Err() != nil && !errors.Is(err, errWatchdog) && !errors.Is(err, errBuildTimeout)
			res.phase, res.reason = ph.Name, reason
			return res
		}
	}
	if b.o.Phases.FetchOnly {
		res.ok = true
		return res
	}
	plog.Total(b.now().Sub(start))
	pkg, err := r.copyPackage(ctx, n)
	if err != nil {
		res.aborted = ctx.Err() != nil
		res.phase, res.reason = "package", err.Error()
		fmt.Fprintf(plog, "copying the package failed: %v\n", err)
		return res
	}
	res.ok, res.pkgFile = true, pkg
	return res
}

// phase runs one phase with its banner, watchdog and result line.
func (r *slotRun) phase(ctx context.Context, ph Phase, args []string) (ok bool, reason string, err error) {
	b := r.b
	b.bus.Publish(events.PhaseStarted{Time: b.t(), Slot: r.slot, Origin: r.origin.String(), Phase: ph.Name, Step: r.step, Steps: r.steps})
	r.log.Phase(ph.Name)
	start := b.now()
	limit := max(WatchdogLimit(ph.Watchdog, b.o.Load15(), b.o.NumCPU, b.o.WatchdogScale), b.o.WatchdogFloor)
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.tap.reset()
	stop := make(chan struct{})
	watch := b.o.NewTicker(TickWatchdog, watchdogTick(limit))
	go func() {
		defer watch.Stop()
		for {
			select {
			case <-stop:
				return
			case at := <-watch.C:
				if r.tap.idleAt(at) >= limit {
					cancel(errWatchdog)
					return
				}
				if b.o.BuildTimeout > 0 && at.Sub(r.start) >= b.o.BuildTimeout {
					cancel(errBuildTimeout)
					return
				}
			}
		}
	}()
	cmd := r.phaseCommand(ph, args)
	cmd.Stdout, cmd.Stderr = r.tap, r.tap
	result, err := r.env.Execute(pctx, cmd)
	close(stop)
	elapsed := b.now().Sub(start)
	if ph.Name != SetupPhase.Name && !ph.Dump {
		r.inPhases += elapsed
	}
	if cause := context.Cause(pctx); errors.Is(cause, errWatchdog) {
		mins := int(limit / time.Minute)
		r.log.Watchdog(r.origin.String(), ph.Name, mins, 0)
		b.logQuiet(r.slot, "%s", dsynthfmt.WatchdogText(r.origin.String(), ph.Name, int(ph.Watchdog/time.Minute), int((limit+time.Minute-1)/time.Minute)))
		r.log.PhaseResult(false, elapsed, 0)
		return false, fmt.Sprintf("watchdog timeout after %v without output", limit.Round(time.Second)), errWatchdog
	}
	if cause := context.Cause(pctx); errors.Is(cause, errBuildTimeout) {
		r.log.PhaseResult(false, elapsed, 0)
		reason := fmt.Sprintf("build timeout: the port's build reached Build_timeout (%v) in phase %s", b.o.BuildTimeout, ph.Name)
		b.log(r.slot, "%s %s", r.origin.String(), reason)
		return false, reason, errBuildTimeout
	}
	if err != nil {
		// The command could not run (or its slot was lost): say why in
		// the port's log, where the phase's output would be.
		fmt.Fprintf(r.log, "%v\n", err)
		r.log.PhaseResult(false, elapsed, 0)
		return false, err.Error(), err
	}
	if result.ExitCode != 0 {
		r.log.PhaseResult(false, elapsed, 0)
		b.logQuiet(r.slot, "%s", dsynthfmt.PhaseFailedText(r.origin.String(), ph.Name, result.ExitCode))
		reason := fmt.Sprintf("exit %d", result.ExitCode)
		if tail := r.tap.lastLines(); tail != "" {
			reason += ": " + tail
		}
		return false, reason, nil
	}
	var memUse int64
	if ph.Name == "extract" {
		memUse = b.measureWork(r.env, r.slot, r.origin.String())
	}
	r.log.PhaseResult(true, elapsed, memUse)
	return true, "", nil
}

func watchdogTick(limit time.Duration) time.Duration {
	t := limit / 20
	switch {
	case t < 50*time.Millisecond:
		return 50 * time.Millisecond
	case t > 5*time.Second:
		return 5 * time.Second
	}
	return t
}

// writeFile writes a file inside the slot (slots live in their own mount
// namespace, so the host cannot write there directly).
func (r *slotRun) writeFile(ctx context.Context, path, content string) error {
	var errb bytes.Buffer
	cmd := r.writeCommand(path)
	cmd.Stdin, cmd.Stderr = strings.NewReader(content), &errb
	res, err := r.env.Execute(ctx, cmd)
	if err != nil {
		return fmt.Errorf("writing %s in the slot: %w", path, err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("writing %s in the slot: exit %d: %s", path, res.ExitCode, strings.TrimSpace(errb.String()))
	}
	return nil
}

// copyPackage copies the package the port produced into the repository:
// inside the slot to <pkgfile>.new under /packages, then renamed into place
// on the host, so a reader never sees a partial package.
func (r *slotRun) copyPackage(ctx context.Context, n *ports.Node) (string, error) {
	b := r.b
	var out, errb bytes.Buffer
	cmd := r.pkgFileCommand("/xports/" + n.Origin.Dir)
	cmd.Stdout, cmd.Stderr = &out, &errb
	res, err := r.env.Execute(ctx, cmd)
	if err != nil || res.ExitCode != 0 {
		return "", fmt.Errorf("asking make for WRKDIR_PKGFILE: %v %s", err, strings.TrimSpace(errb.String()))
	}
	src := strings.TrimSpace(out.String())
	if src == "" {
		src = "/construction/" + n.Origin.Dir + "/pkg/" + n.Info.PkgFile
	}
	rel, err := filepath.Rel(b.o.Settings.PackagesDir, b.o.RepositoryDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("repository %s is not under the packages directory %s", b.o.RepositoryDir, b.o.Settings.PackagesDir)
	}
	name := n.Info.PkgFile
	if name == "" {
		name = filepath.Base(src)
	}
	tmp := filepath.Join(b.o.RepositoryDir, name+".new")
	if r.remote != nil {
		// The worker's slot does not see this repository: the package
		// comes back through the cluster, checked by its SHA-256.
		if err := r.note(r.remote.Retrieve(ctx, src, tmp, r.penv)); err != nil {
			return "", fmt.Errorf("package from %s: %w", r.remote.Where(), err)
		}
	} else {
		tmpIn := filepath.Join("/packages", rel, name+".new")
		errb.Reset()
		res, err = r.env.Execute(ctx, environment.Command{Args: []string{"cp", src, tmpIn}, Env: r.penv, Stderr: &errb})
		if err != nil || res.ExitCode != 0 {
			return "", fmt.Errorf("cp %s: %v %s", src, err, strings.TrimSpace(errb.String()))
		}
	}
	if err := b.o.FS.Sync(tmp); err != nil {
		return "", fmt.Errorf("package: %w", err)
	}
	if err := b.o.FS.Rename(tmp, filepath.Join(b.o.RepositoryDir, name)); err != nil {
		return "", fmt.Errorf("package: %w", err)
	}
	crashPoint("after-package-copy")
	return name, nil
}

// installDeps are the packages to install in the slot before building
// node id: the install set's package files from the repository, or the
// recorded ones when replaying (with their recorded digests).
func (b *Builder) installDeps(id ports.NodeID) []builddb.DepPackage {
	if b.o.Replay != nil {
		return slices.Clone(b.o.Replay.Deps)
	}
	var out []builddb.DepPackage
	for _, d := range InstallSet(b.plan.Graph, id) {
		if dn := b.plan.Graph.Nodes[d]; dn.Info != nil && dn.Info.PkgFile != "" {
			out = append(out, builddb.DepPackage{Origin: dn.Origin.String(), File: dn.Info.PkgFile})
		}
	}
	return out
}

// The install script's path in the slot, and the command that runs it.
const installScriptPath = "/tmp/dsynth_install_pkgs"

var installArgs = []string{"/bin/sh", installScriptPath}

// The commands of a port's build, one constructor each, so that the
// script a remote slot is told (script) is what the build then runs.

// writeCommand writes its input to path inside the slot (slots live in
// their own mount namespace, so the host cannot write there directly).
func (r *slotRun) writeCommand(path string) environment.Command {
	return environment.Command{Args: []string{"/bin/sh", "-c", `cat > "$1"`, "sh", path}, Env: r.penv}
}

// phaseCommand runs one phase's args at the phases' niceness.
func (r *slotRun) phaseCommand(ph Phase, args []string) environment.Command {
	b := r.b
	nice := NiceValue
	if b.o.NoNice {
		nice = 0
	}
	return environment.Command{Args: args, Env: r.penv, Network: ph.Network, Nice: nice,
		CPUs: NumaCPUs(r.slot, b.o.NumaSetSize, b.o.NumCPU)}
}

// pkgFileCommand asks make for the package file the port produced.
func (r *slotRun) pkgFileCommand(dir string) environment.Command {
	return environment.Command{Args: []string{r.b.o.Make, "-C", dir, "-V", "WRKDIR_PKGFILE"}, Env: r.penv}
}

// probesOptions says whether the build asks make for the port's options
// (ports with options, when a package is made).
func (b *Builder) probesOptions(n *ports.Node) bool {
	return n.Info != nil && (n.Info.SelectedOptions != "" || n.Info.DeselectedOptions != "") && !b.o.Phases.FetchOnly
}

// script lists the commands buildPort runs after the slot's set-up, in
// order, for a remote slot to run ahead (environment.RemotePort.Script):
// the make.conf, the dependencies' installation, the probes, the phases
// and the package's name. A failure ends the build there, except for the
// probes and the informational -D phases, which the build goes past.
// When replaying with the options checked, the script stops before the
// phases: the build may end on the probe's answer.
func (r *slotRun) script(n *ports.Node, makeConf string, depFiles []string, phases []Phase) []environment.Step {
	b := r.b
	dir := "/xports/" + n.Origin.Dir
	steps := []environment.Step{environment.StepOf(r.writeCommand("/etc/make.conf"), []byte(makeConf), false)}
	if len(depFiles) > 0 {
		steps = append(steps,
			environment.StepOf(r.writeCommand(installScriptPath), []byte(InstallScript(depFiles)), false),
			environment.StepOf(r.phaseCommand(SetupPhase, installArgs), nil, false))
	}
	if !b.o.Phases.FetchOnly {
		steps = append(steps, environment.StepOf(r.toolchainCommand(), nil, true))
	}
	if b.probesOptions(n) {
		steps = append(steps, environment.StepOf(r.optionsCommand(dir), nil, true))
	}
	if rp := b.o.Replay; rp != nil && rp.CheckOptions {
		return steps
	}
	for _, ph := range phases {
		steps = append(steps, environment.StepOf(r.phaseCommand(ph, PhaseCommand(ph, b.o.Make, dir)), nil, ph.Dump))
	}
	if !b.o.Phases.FetchOnly {
		steps = append(steps, environment.StepOf(r.pkgFileCommand(dir), nil, false))
	}
	return steps
}
