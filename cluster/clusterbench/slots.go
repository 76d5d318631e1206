package clusterbench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/environment"
)

// startMark starts the line the first make phase prints: the wall-clock
// time (Unix nanoseconds) at which it began, on the slot's host.
const startMark = "clusterbench-start "

// firstPhase is the first make phase of a port's build.
const firstPhase = "check-sanity"

// Handler runs a slot's commands as timed no-ops: the build phase sleeps
// the port's duration (PortDuration of its directory), the first phase
// prints when it began, cp writes a package of pkgSize bytes (its content
// unique to the port and the moment) where a slot's /packages is on the
// host, pkgDir; every other command returns at once with status 0.
func Handler(pkgDir string, pkgSize int) func(ctx context.Context, cmd environment.Command) (environment.Result, error) {
	return func(ctx context.Context, cmd environment.Command) (environment.Result, error) {
		args := cmd.Args
		if len(args) == 0 {
			return environment.Result{ExitCode: 127}, environment.ErrNotFound
		}
		switch {
		case args[0] == "cp" && len(args) == 3:
			rel, ok := strings.CutPrefix(args[2], "/packages/")
			if !ok {
				return environment.Result{ExitCode: 1}, nil
			}
			if err := writePackage(filepath.Join(pkgDir, filepath.FromSlash(rel)), args[1], pkgSize); err != nil {
				if cmd.Stderr != nil {
					fmt.Fprintln(cmd.Stderr, err)
				}
				return environment.Result{ExitCode: 1}, nil
			}
			return environment.Result{}, nil
		case len(args) >= 3 && args[1] == "-C":
			phase := args[len(args)-1]
			switch phase {
			case firstPhase:
				if cmd.Stdout != nil {
					fmt.Fprintf(cmd.Stdout, "%s%d\n", startMark, time.Now().UnixNano())
				}
			case "build":
				if d, ok := PortDuration(args[2]); ok && d > 0 {
					t := time.NewTimer(d)
					defer t.Stop()
					select {
					case <-t.C:
					case <-ctx.Done():
						return environment.Result{ExitCode: -1}, ctx.Err()
					}
				}
			}
		}
		return environment.Result{}, nil
	}
}

// writePackage writes a package file of size bytes whose first line names
// its source and the time, so that no two are alike.
func writePackage(dst, src string, size int) error {
	head := fmt.Sprintf("clusterbench package %s %d %d\n", src, time.Now().UnixNano(), os.Getpid())
	buf := bytes.Repeat([]byte{'.'}, max(size, len(head)))
	copy(buf, head)
	if err := os.WriteFile(dst, buf, 0o644); err != nil {
		return fmt.Errorf("clusterbench: %w", err)
	}
	return nil
}

// Samples are the dispatch times of one run.
type Samples struct {
	// Setup is each slot's Setup call (for a remote slot: lease taken,
	// call published, the worker's fresh slot built, its answer back).
	Setup []time.Duration
	// ToStart runs from the Setup call to the moment the first make
	// phase began on the slot's host: set-up, make.conf, the dependency
	// packages handed over and installed.
	ToStart []time.Duration
	// ToRecord runs from the package copy out of the slot (Retrieve for
	// a remote slot, cp for a local one) to its rename into the
	// repository.
	ToRecord []time.Duration
	// The parts: each command but the build phase (Exec), each hand-over
	// of dependency packages (Provide), each Teardown, and the Gap
	// between a slot's Teardown and its next Setup (the builder's
	// dispatch).
	Exec, Provide, Teardown, Gap []time.Duration
}

// add appends o's samples to s.
func (s *Samples) add(o Samples) {
	s.Setup = append(s.Setup, o.Setup...)
	s.ToStart = append(s.ToStart, o.ToStart...)
	s.ToRecord = append(s.ToRecord, o.ToRecord...)
	s.Exec = append(s.Exec, o.Exec...)
	s.Provide = append(s.Provide, o.Provide...)
	s.Teardown = append(s.Teardown, o.Teardown...)
	s.Gap = append(s.Gap, o.Gap...)
}

// Recorder takes dispatch samples from the slots it wraps (Wrap) and from
// the repository's renames (FS).
type Recorder struct {
	mu      sync.Mutex
	s       Samples
	pending map[string]time.Time // package being copied, by host path → start
	freed   map[string]time.Time // slot → end of its last Teardown
	// pkgDir is where a local slot's /packages is on the host.
	pkgDir string
}

// NewRecorder returns a recorder for a run whose slots see pkgDir as
// /packages.
func NewRecorder(pkgDir string) *Recorder {
	return &Recorder{pending: map[string]time.Time{}, freed: map[string]time.Time{}, pkgDir: pkgDir}
}

// Samples returns what was recorded.
func (r *Recorder) Samples() Samples {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := func(xs []time.Duration) []time.Duration { return append([]time.Duration(nil), xs...) }
	return Samples{Setup: c(r.s.Setup), ToStart: c(r.s.ToStart), ToRecord: c(r.s.ToRecord),
		Exec: c(r.s.Exec), Provide: c(r.s.Provide), Teardown: c(r.s.Teardown), Gap: c(r.s.Gap)}
}

func (r *Recorder) add(to *[]time.Duration, d time.Duration) {
	r.mu.Lock()
	*to = append(*to, d)
	r.mu.Unlock()
}

func (r *Recorder) copying(hostPath string) {
	r.mu.Lock()
	r.pending[hostPath] = time.Now()
	r.mu.Unlock()
}

// Wrap returns env, slot name, with its calls timed: a remote
// environment stays an environment.Remote.
func (r *Recorder) Wrap(name string, env environment.Environment) environment.Environment {
	t := &timed{Environment: env, r: r, name: name}
	if rem, ok := env.(environment.Remote); ok {
		return &timedRemote{timed: t, rem: rem}
	}
	return t
}

// FS is the builder's host file system with each package's rename into
// the repository closing a ToRecord sample.
func (r *Recorder) FS(fs builder.HostFS) builder.HostFS { return &timedFS{HostFS: fs, r: r} }

type timed struct {
	environment.Environment
	r     *Recorder
	name  string
	setup time.Time
}

func (t *timed) Setup(ctx context.Context, p environment.Plan) error {
	t.setup = time.Now()
	t.r.mu.Lock()
	if freed, ok := t.r.freed[t.name]; ok {
		t.r.s.Gap = append(t.r.s.Gap, t.setup.Sub(freed))
	}
	t.r.mu.Unlock()
	err := t.Environment.Setup(ctx, p)
	if err == nil {
		t.r.add(&t.r.s.Setup, time.Since(t.setup))
	}
	return err
}

func (t *timed) Teardown() error {
	start := time.Now()
	err := t.Environment.Teardown()
	end := time.Now()
	t.r.mu.Lock()
	t.r.s.Teardown = append(t.r.s.Teardown, end.Sub(start))
	t.r.freed[t.name] = end
	t.r.mu.Unlock()
	return err
}

func (t *timed) Execute(ctx context.Context, cmd environment.Command) (environment.Result, error) {
	args := cmd.Args
	if len(args) == 0 || args[len(args)-1] != "build" {
		start := time.Now()
		defer func() { t.r.add(&t.r.s.Exec, time.Since(start)) }()
	}
	switch {
	case len(args) >= 3 && args[1] == "-C" && args[len(args)-1] == firstPhase && cmd.Stdout != nil:
		sn := &startSniffer{w: cmd.Stdout}
		cmd.Stdout = sn
		res, err := t.Environment.Execute(ctx, cmd)
		if sn.at > 0 {
			t.r.add(&t.r.s.ToStart, time.Unix(0, sn.at).Sub(t.setup))
		}
		return res, err
	case len(args) == 3 && args[0] == "cp":
		if rel, ok := strings.CutPrefix(args[2], "/packages/"); ok {
			t.r.copying(filepath.Join(t.r.pkgDir, filepath.FromSlash(rel)))
		}
	}
	return t.Environment.Execute(ctx, cmd)
}

type timedRemote struct {
	*timed
	rem environment.Remote
}

func (t *timedRemote) Prepare(p environment.RemotePort) { t.rem.Prepare(p) }

func (t *timedRemote) Provide(ctx context.Context, files []string) error {
	start := time.Now()
	defer func() { t.r.add(&t.r.s.Provide, time.Since(start)) }()
	return t.rem.Provide(ctx, files)
}

func (t *timedRemote) Retrieve(ctx context.Context, path, dst string, env []string) error {
	t.r.copying(dst)
	return t.rem.Retrieve(ctx, path, dst, env)
}

func (t *timedRemote) Where() string { return t.rem.Where() }

// startSniffer passes output through and picks the start mark out of it.
type startSniffer struct {
	w   io.Writer
	buf []byte
	at  int64
}

func (s *startSniffer) Write(p []byte) (int, error) {
	if s.at == 0 {
		s.buf = append(s.buf, p...)
		sc := bufio.NewScanner(bytes.NewReader(s.buf))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), startMark); ok {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					s.at = n
					s.buf = nil
				}
			}
		}
	}
	return s.w.Write(p)
}

type timedFS struct {
	builder.HostFS
	r *Recorder
}

func (f *timedFS) Rename(oldpath, newpath string) error {
	err := f.HostFS.Rename(oldpath, newpath)
	f.r.mu.Lock()
	start, ok := f.r.pending[oldpath]
	delete(f.r.pending, oldpath)
	if ok && err == nil {
		f.r.s.ToRecord = append(f.r.s.ToRecord, time.Since(start))
	}
	f.r.mu.Unlock()
	return err
}
