// Package bulk runs a dsynth directive end to end: it scans the requested
// ports and their dependencies, plans what must be (re)built against the
// repository and the build database, and either prints the plan (status) or
// builds it with every observer wired to the engine's event stream (the
// database recorder, dsynth's logs and web report, the terminal output).
// It is the glue between the library packages; cmd/dsynth only parses flags.
package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/scanenv"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
)

// ErrProbe is returned when a requested port, or a direct dependency of
// one, could not be scanned (dsynth's "N packages failed to probe").
var ErrProbe = errors.New("packages failed to probe")

// Options are a directive's flags.
type Options struct {
	Directive string
	Args      []string
	// Keep is -x counted; Yes is -y; Developer -D; CheckPlist -P; NoNice -N.
	Keep       int
	Yes        bool
	Developer  bool
	CheckPlist bool
	NoNice     bool
	// SlowStart is -s (-1 = default); Scale is -M; MemTargetGB is -m.
	SlowStart   int
	Scale       float64
	MemTargetGB float64
	// Echo prints dsynth's plain line output (-S) to Stdout through the
	// logs writer; Color colours its SUCCESS and FAILURE lines. Leave it
	// off when a display.Display is among the Observers.
	Echo   bool
	Color  bool
	Stdout io.Writer
	Stderr io.Writer
	// NewEnv makes a build slot (the host's environment backend).
	NewEnv func(slot int) environment.Environment
	// Layout is the host's system directory layout for slots.
	Layout environment.Layout
	// Observers are extra subscribers (the terminal display, …).
	Observers []events.Subscriber
	// ObserveDB, when set, is told the duration of each build database
	// write of the run (the Recorder's Observe).
	ObserveDB func(op string, d time.Duration)
	// OnFrozen is called with the slots the debug directive kept.
	OnFrozen func(ctx context.Context, slots []builder.Frozen)
}

// Scanned is a scanned build set.
type Scanned struct {
	Graph *ports.Graph
	Roots []ports.NodeID
	Set   []ports.NodeID
	Setup *scanenv.Setup
}

// Scan scans the roots and their dependencies and checks them as dsynth
// does: a root that does not exist or whose make fails, or a root whose
// direct dependency failed to scan, stops the run. Problems that only
// affect other ports are reported to warn.
func Scan(ctx context.Context, cfg *config.Config, roots []ports.Origin, warn io.Writer, nice bool) (*Scanned, error) {
	return scan(ctx, cfg, roots, warn, nice, false)
}

// scan is Scan; lenient (everything) turns probe failures of roots into
// warnings: those ports are simply not built.
func scan(ctx context.Context, cfg *config.Config, roots []ports.Origin, warn io.Writer, nice, lenient bool) (*Scanned, error) {
	if len(roots) == 0 {
		return nil, errors.New("no ports given")
	}
	setup, err := scanenv.New(ctx, cfg, scanenv.Options{Log: warn, Nice: nice})
	if err != nil {
		return nil, err
	}
	res, err := setup.Scanner.Scan(ctx, roots)
	if err != nil {
		return nil, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(warn, "warning: %s\n", w)
	}
	g, problems := ports.NewGraph(res.Infos, cfg.Profile.PortsDir)
	for _, p := range problems {
		fmt.Fprintf(warn, "warning: %v\n", p)
	}
	var ids []ports.NodeID
	var bad []error
	for _, o := range roots {
		n, ok := g.Lookup(o.String())
		switch {
		case !ok || n.Status() == ports.StatusNotFound:
			bad = append(bad, fmt.Errorf("%s: no such port in %s", o, cfg.Profile.PortsDir))
			continue
		case n.Status() == ports.StatusCorrupt:
			bad = append(bad, fmt.Errorf("%s: make failed (CORRUPT): %s", o, n.Info.Stderr))
			continue
		}
		for _, e := range n.Deps {
			if d := g.Nodes[e.To]; d.Status() == ports.StatusCorrupt {
				bad = append(bad, fmt.Errorf("%s: its dependency %s failed to scan (CORRUPT): %s", o, d.Origin, d.Info.Stderr))
			}
		}
		ids = append(ids, n.ID)
	}
	if len(bad) > 0 && !lenient {
		return nil, fmt.Errorf("%d %w:\n%w", len(bad), ErrProbe, errors.Join(bad...))
	}
	for _, e := range bad {
		fmt.Fprintf(warn, "warning: %v\n", e)
	}
	set := g.BuildSet(ids...)
	if _, err := g.Order(set); err != nil {
		return nil, err
	}
	return &Scanned{Graph: g, Roots: ids, Set: set, Setup: setup}, nil
}

// Result is what a build directive did.
type Result struct {
	Plan   *builder.Plan
	Counts events.Counts
}

// Status prints the dry run of a build: every port that would be built, with
// why, then dsynth's total line.
func Status(ctx context.Context, cfg *config.Config, roots []ports.Origin, o Options) (*Result, error) {
	sc, err := Scan(ctx, cfg, roots, o.Stderr, !o.NoNice)
	if err != nil {
		return nil, err
	}
	db, err := openDB(cfg, true)
	if err != nil {
		return nil, err
	}
	if db != nil {
		defer db.Close()
	}
	plan, err := makePlan(cfg, sc, db, o.Keep, false)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, id := range plan.Order {
		it := plan.Items[id]
		if it.Disp != builder.Build {
			continue
		}
		n++
		fmt.Fprintf(o.Stdout, "  %d => %s (%s)\n", n, it.Origin, it.Reason)
	}
	fmt.Fprintf(o.Stdout, "Total packages that would be built: %d/%d\n", n, len(plan.Order))
	return &Result{Plan: plan}, nil
}

func openDB(cfg *config.Config, readOnly bool) (*builddb.DB, error) {
	path := builddb.Path(cfg.Profile.BuildBase)
	if readOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return builddb.OpenReader(cfg.Profile.BuildBase, builddb.Options{})
	}
	return builddb.Open(path, builddb.Options{Transient: true})
}

func makePlan(cfg *config.Config, sc *Scanned, db *builddb.DB, keep int, fetchOnly bool) (*builder.Plan, error) {
	fs := builder.FactsSource{Graph: sc.Graph, PortsDir: cfg.Profile.PortsDir, RepositoryDir: cfg.Profile.RepositoryDir, DB: db}
	facts := fs.Facts
	if fetchOnly {
		// fetch-only fetches for every port: existing packages do not count.
		facts = func(n *ports.Node) builder.Facts {
			f := fs.Facts(n)
			f.PackageExists, f.Current.PackageExists = false, false
			return f
		}
	}
	return builder.MakePlan(sc.Graph, sc.Set, facts, builddb.PolicyFromX(keep))
}

// DeletePackages removes the packages of the given nodes, recursing through
// dummy and meta nodes into their dependencies (force, test, debug).
func DeletePackages(g *ports.Graph, roots []ports.NodeID, repo string, log func(string)) {
	seen := map[ports.NodeID]bool{}
	var del func(id ports.NodeID)
	del = func(id ports.NodeID) {
		if seen[id] {
			return
		}
		seen[id] = true
		n := g.Nodes[id]
		if n.Info != nil && n.Info.PkgFile != "" && !n.Dummy {
			path := filepath.Join(repo, n.Info.PkgFile)
			if err := os.Remove(path); err == nil {
				log(fmt.Sprintf("%s DELETE-PACKAGE %s (forced)", n.Origin, path))
			}
		}
		if n.Dummy || (n.Info != nil && (n.Info.IsMeta() || n.Info.PkgFile == "")) {
			for _, e := range n.Deps {
				del(e.To)
			}
		}
	}
	for _, r := range roots {
		del(r)
	}
}

// RepositoryPrompt asks the question dsynth asks after a build.
func RepositoryPrompt(in io.Reader, out io.Writer) bool {
	fmt.Fprint(out, "Rebuild the repository? [Y/n] ")
	var answer string
	fmt.Fscanln(in, &answer)
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "" || answer == "y" || answer == "yes"
}

// logFunc publishes a free-form 00 log line.
func logFunc(bus *events.Bus) func(string) {
	return func(s string) { bus.Publish(events.Log{Time: events.Time{T: time.Now()}, Slot: -1, Text: s}) }
}

// portLogOpener opens dsynth's per-port logs in the logs directory.
func portLogOpener(dir string) builder.OpenPortLog {
	return func(origin string) (builder.PortLog, error) {
		l, err := report.CreatePortLog(dir, origin)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
}
