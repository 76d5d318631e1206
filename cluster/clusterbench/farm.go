package clusterbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/cluster"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/mock"
)

// Identity is what the farm's controller and workers announce: they
// match, so every worker is admitted.
var Identity = cluster.Identity{OS: runtime.GOOS, Arch: runtime.GOARCH, OSVersion: 1402000, Release: "14.2", Tree: "clusterbench"}

// Environment variables of a worker process (WorkerMain).
const (
	envCreds   = "DSYNTH_CLUSTERBENCH_WORKER" // the credentials file; set: run as a worker
	envURL     = "DSYNTH_CLUSTERBENCH_URL"
	envPkgDir  = "DSYNTH_CLUSTERBENCH_PKGDIR"
	envPkgSize = "DSYNTH_CLUSTERBENCH_PKGSIZE"
	envSlots   = "DSYNTH_CLUSTERBENCH_SLOTS"
)

// IsWorker reports whether this process was started as a farm's worker.
func IsWorker() bool { return os.Getenv(envCreds) != "" }

// WorkerMain runs this process as a farm's worker (cluster.RunWorker,
// with slots whose commands Handler runs) until its standard input
// closes; it returns the exit status.
func WorkerMain() int {
	creds, err := cluster.ReadCreds(os.Getenv(envCreds))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	slots, _ := strconv.Atoi(os.Getenv(envSlots))
	size, _ := strconv.Atoi(os.Getenv(envPkgSize))
	pkgDir := os.Getenv(envPkgDir)
	repo := filepath.Join(pkgDir, "All")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	id := Identity
	id.Host, id.Slots = "host-"+creds.Name, slots
	handler := Handler(pkgDir, size)
	err = cluster.RunWorker(ctx, cluster.WorkerOptions{
		URL: os.Getenv(envURL), Creds: creds, CredsPath: os.Getenv(envCreds), Identity: id,
		NewEnv:        func(int) environment.Environment { return &mock.Env{Handler: handler} },
		SlotPlan:      func(int) (environment.Plan, error) { return environment.Plan{}, nil },
		PackagesDir:   pkgDir,
		RepositoryDir: repo,
		Logf:          func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// Farm is a controller with an embedded NATS server on loopback and
// worker processes (this executable again, WorkerMain).
type Farm struct {
	dir  string
	srv  *cluster.Server
	ctrl *cluster.Controller
	// Workers are the workers' names, in start order.
	Workers []string
	procs   []*exec.Cmd
	stdins  []io.Closer
}

// StartFarm starts the controller under dir and n worker processes of
// slots slots each, whose packages are pkgSize bytes, and waits until
// every worker joined. The workers' output goes to dir/NAME.log.
func StartFarm(dir string, n, slots, pkgSize int) (_ *Farm, err error) {
	f := &Farm{dir: dir}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	keys := filepath.Join(dir, "workers.keys")
	for i := range n {
		name := fmt.Sprintf("w%d", i+1)
		if err := cluster.IssueWorkerKey(keys, name, filepath.Join(dir, name+".creds")); err != nil {
			return nil, err
		}
		f.Workers = append(f.Workers, name)
	}
	if f.srv, err = cluster.StartServer(cluster.ServerOptions{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "js"), WorkersFile: keys}); err != nil {
		return nil, err
	}
	nc, err := f.srv.Connect()
	if err != nil {
		return nil, err
	}
	// The controller receives uploads beside the runs' repositories (on
	// the same file system, as its own repository would be).
	incoming := filepath.Join(dir, "incoming")
	if err := os.MkdirAll(incoming, 0o755); err != nil {
		return nil, err
	}
	if f.ctrl, err = cluster.NewController(nc, cluster.ControllerOptions{Self: Identity, Admitted: f.srv.Admitted, RepositoryDir: incoming}); err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	for _, name := range f.Workers {
		log, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(),
			envCreds+"="+filepath.Join(dir, name+".creds"), envURL+"="+f.srv.URL(),
			envPkgDir+"="+filepath.Join(dir, "worker-"+name), envPkgSize+"="+strconv.Itoa(pkgSize), envSlots+"="+strconv.Itoa(slots))
		cmd.Stdout, cmd.Stderr = log, log
		in, err := cmd.StdinPipe()
		if err != nil {
			log.Close()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			log.Close()
			return nil, fmt.Errorf("starting worker %s: %w", name, err)
		}
		log.Close()
		f.procs, f.stdins = append(f.procs, cmd), append(f.stdins, in)
	}
	timeout := time.After(2 * time.Minute)
	for len(f.ctrl.Slots()) < n*slots {
		select {
		case <-f.ctrl.Changed():
		case <-timeout:
			return nil, fmt.Errorf("clusterbench: %d of %d slots joined in 2 minutes (see %s/w*.log)", len(f.ctrl.Slots()), n*slots, dir)
		}
	}
	return f, nil
}

// Controller is the farm's controller.
func (f *Farm) Controller() *cluster.Controller { return f.ctrl }

// Close stops the workers (their standard input closes), the controller
// and the server.
func (f *Farm) Close() {
	for _, in := range f.stdins {
		in.Close()
	}
	for _, p := range f.procs {
		p.Wait()
	}
	if f.ctrl != nil {
		f.ctrl.Close()
	}
	if f.srv != nil {
		f.srv.Close()
	}
}

// Result is one run of the builder.
type Result struct {
	Makespan time.Duration
	Built    int
	Samples  Samples
}

// failures keeps the reasons of the ports that failed.
type failures struct {
	mu   sync.Mutex
	list []string
}

func (f *failures) Handle(e events.Event) {
	if p, ok := e.(events.PortFinished); ok && p.Outcome == events.Failed {
		f.mu.Lock()
		f.list = append(f.list, fmt.Sprintf("%s: %s: %s", p.Origin, p.Phase, p.Reason))
		f.mu.Unlock()
	}
}

// discardLog is a port log that only counts lines.
type discardLog struct {
	mu    sync.Mutex
	lines int64
}

func (l *discardLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.lines += int64(strings.Count(string(p), "\n"))
	l.mu.Unlock()
	return len(p), nil
}
func (l *discardLog) Phase(string) error                           { return nil }
func (l *discardLog) PhaseResult(bool, time.Duration, int64) error { return nil }
func (l *discardLog) Total(time.Duration) error                    { return nil }
func (l *discardLog) Watchdog(string, string, int, int) error      { return nil }
func (l *discardLog) Close() error                                 { return nil }
func (l *discardLog) Lines() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines
}

// remoteSubset is the controller's slots restricted to some workers, each
// slot timed by a recorder.
type remoteSubset struct {
	ctrl    *cluster.Controller
	workers map[string]bool
	rec     *Recorder
}

func (r *remoteSubset) RemoteSlots() []string {
	var out []string
	for _, s := range r.ctrl.RemoteSlots() {
		w, _, _ := strings.Cut(s, "/")
		if r.workers[w] {
			out = append(out, s)
		}
	}
	return out
}

func (r *remoteSubset) RemoteEnv(name string) environment.Environment {
	return r.rec.Wrap(name, r.ctrl.RemoteEnv(name))
}

func (r *remoteSubset) Changed() <-chan struct{} { return r.ctrl.Changed() }

// run builds s with the real builder in a fresh repository under dir:
// local slots (localSlots of them, Handler's in this process) or, when
// workers is not empty, only the remote slots of those workers (the one
// local slot is paused).
func run(ctx context.Context, dir string, s *Synth, localSlots int, f *Farm, workers []string, pkgSize int) (Result, error) {
	plan, durs, err := s.Plan()
	if err != nil {
		return Result{}, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return Result{}, err
	}
	pkgDir := filepath.Join(dir, "packages")
	repo := filepath.Join(pkgDir, "All")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return Result{}, err
	}
	rec := NewRecorder(pkgDir)
	bus := &events.Bus{}
	fails := &failures{}
	bus.Subscribe(fails)
	handler := Handler(pkgDir, pkgSize)
	o := builder.Options{
		RunID: "clusterbench", Profile: "bench", Directive: "build",
		MaxWorkers: localSlots, SlowStart: 0,
		Worker: builder.WorkerConf{OS: "FreeBSD", Release: Identity.Release, Arch: "amd64", PkgSuffix: ".pkg", MaxJobs: 1},
		Settings: environment.Settings{BuildBase: filepath.Join(dir, "build"), PortsDir: filepath.Join(dir, "ports"), OptionsDir: filepath.Join(dir, "options"),
			PackagesDir: pkgDir, DistfilesDir: filepath.Join(dir, "distfiles"), SystemDir: "/", Layout: environment.LayoutLinux},
		RepositoryDir: repo,
		Durations:     durs,
		NumCPU:        max(localSlots, 2),
		Load15:        func() float64 { return 0 },
		FS:            rec.FS(builder.OSFS{}),
		NewEnv: func(slot int) environment.Environment {
			return rec.Wrap(fmt.Sprintf("local/%d", slot), &mock.Env{Handler: handler})
		},
		OpenLog: func(string) (builder.PortLog, error) { return &discardLog{}, nil },
		Bus:     bus,
	}
	if len(workers) > 0 {
		o.MaxWorkers = 1
		o.Slots = builder.NewSlotControl()
		o.Slots.Pause(0)
		sub := &remoteSubset{ctrl: f.ctrl, workers: map[string]bool{}, rec: rec}
		for _, w := range workers {
			sub.workers[w] = true
		}
		o.Remote = sub
	}
	start := time.Now()
	counts, err := builder.New(plan, o).Run(ctx)
	makespan := time.Since(start)
	bus.Flush()
	bus.Close()
	if err != nil {
		return Result{}, err
	}
	if counts.Built != len(s.Deps) {
		fails.mu.Lock()
		defer fails.mu.Unlock()
		return Result{}, fmt.Errorf("clusterbench: %d of %d ports built: %s", counts.Built, len(s.Deps), strings.Join(fails.list[:min(3, len(fails.list))], "; "))
	}
	res := Result{Makespan: makespan, Built: counts.Built, Samples: rec.Samples()}
	return res, os.RemoveAll(dir)
}

// RunLocal builds s over slots local slots in this process.
func RunLocal(ctx context.Context, dir string, s *Synth, slots, pkgSize int) (Result, error) {
	return run(ctx, dir, s, slots, nil, nil, pkgSize)
}

// Run builds s over the remote slots of the farm's first n workers only.
func (f *Farm) Run(ctx context.Context, dir string, s *Synth, n, pkgSize int) (Result, error) {
	if n < 1 || n > len(f.Workers) {
		return Result{}, errors.New("clusterbench: no such workers")
	}
	return run(ctx, dir, s, 0, f, f.Workers[:n], pkgSize)
}
