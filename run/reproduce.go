package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/pkgdiff"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/reproduce"
)

// ErrNotReproducible is returned by Reproduce when a build cannot be
// replayed: an input is missing (a dependency package, the recorded
// package) or differs in a way the rebuild cannot restore (the ports
// tree, the options, the template). The message names each one.
var ErrNotReproducible = errors.New("cannot reproduce")

// ReproduceOptions configure Reproduce.
type ReproduceOptions struct {
	// Options are the host's wiring (NewEnv, Layout, CleanSlots, Stderr,
	// Owner); the directive is "reproduce".
	Options
	// PackageDirs are searched after the repository for the dependency
	// packages and the recorded package, by SHA-256 (kept repository
	// generations, a directory of old packages).
	PackageDirs []string
	// Force rebuilds even when the ports tree, the options or the
	// template differ from the recorded ones (the verdict says so).
	Force bool
	// Keep leaves the scratch directory (the rebuilt package and its
	// log) in place even when the package is reproducible.
	Keep bool
}

// ReproduceResult is what Reproduce found.
type ReproduceResult struct {
	// Record is the build reproduced (without the new verdict).
	Record *builddb.BuildRecord
	// Verdict is the reproduction stored in the record.
	Verdict builddb.Reproduction
	// Diff compares the recorded package (A) with the rebuilt one (B);
	// nil when the rebuild failed.
	Diff *pkgdiff.Report
	// Dir is the scratch directory: the rebuilt package under
	// packages/All, its log under logs (removed when reproducible unless
	// Keep).
	Dir string
	// Forced lists the inputs that differed and were overridden (Force).
	Forced []string
}

// Reproduce rebuilds build id's port in a fresh slot from its recorded
// inputs — the same dependency packages, found by SHA-256 in the
// repository and o.PackageDirs, and the same make.conf — into a scratch
// repository under the build base, compares the result bit for bit with
// the recorded package and stores the verdict in the build's record. It
// takes the build base like a build. A missing input is refused
// (ErrNotReproducible) before anything is built.
func Reproduce(ctx context.Context, cfg *config.Config, id uuid.UUID, o ReproduceOptions) (*ReproduceResult, error) {
	if o.NewEnv == nil {
		return nil, fmt.Errorf("no build environment backend for this host")
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if err := cfg.CheckDirs(); err != nil {
		return nil, err
	}
	owner := o.Owner
	if owner == nil {
		var err error
		if owner, err = Own(cfg, o.Stderr); err != nil {
			return nil, err
		}
		defer owner.Close()
	}
	done, err := owner.startRun()
	if err != nil {
		return nil, err
	}
	defer done()
	p := &cfg.Profile
	db := owner.DB()
	rec, err := db.Get(id)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", id, err)
	}
	if rec.Status != builddb.StatusSuccess || rec.PkgFile == "" || rec.PkgChecksum == "" {
		return nil, fmt.Errorf("%w build %s of %s: it made no package (status %s)", ErrNotReproducible, id, rec.Origin(), rec.Status)
	}
	dirs := append(append([]string{p.RepositoryDir}, o.PackageDirs...), GenerationPackageDirs(p)...)
	recorded, err := reproduce.Locate(rec, dirs)
	if err != nil {
		return nil, fmt.Errorf("%w build %s of %s: the recorded %w", ErrNotReproducible, id, rec.Origin(), err)
	}
	deps, err := reproduce.LocateDeps(rec, dirs)
	if err != nil {
		return nil, fmt.Errorf("%w build %s of %s: %w", ErrNotReproducible, id, rec.Origin(), err)
	}
	origin, err := ports.ParseOrigin(rec.Origin())
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", id, err)
	}
	cleanSlots(p.BuildBase, o.Options)
	sc, err := scan(ctx, cfg, []ports.Origin{origin}, o.Stderr, !o.NoNice, false)
	if err != nil {
		return nil, err
	}
	if len(sc.Roots) != 1 {
		return nil, fmt.Errorf("%w build %s: %s is not in the ports tree", ErrNotReproducible, id, origin)
	}
	node := sc.Graph.Nodes[sc.Roots[0]]
	res := &ReproduceResult{Record: rec}
	if diffs := unrestorable(rec, node, p.PortsDir, TemplateDir(p), sc); len(diffs) > 0 {
		if !o.Force {
			return nil, fmt.Errorf("%w build %s of %s: inputs differ that a rebuild cannot restore: %s (--force rebuilds anyway)",
				ErrNotReproducible, id, rec.Origin(), strings.Join(diffs, "; "))
		}
		res.Forced = diffs
	}

	// The scratch repository: the dependency packages under their
	// recorded names, nothing else.
	res.Dir = filepath.Join(p.BuildBase, "reproduce", id.String())
	if err := os.RemoveAll(res.Dir); err != nil {
		return nil, fmt.Errorf("reproduce: %w", err)
	}
	pkgDir := filepath.Join(res.Dir, "packages")
	repo := filepath.Join(pkgDir, "All")
	logs := filepath.Join(res.Dir, "logs")
	for _, d := range []string{repo, logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("reproduce: %w", err)
		}
	}
	replay := &builder.Replay{MakeConf: rec.Inputs.MakeConf, Options: rec.Inputs.Options, CheckOptions: !o.Force}
	for _, d := range rec.Inputs.Deps {
		if err := linkOrCopy(deps[d.File], filepath.Join(repo, filepath.Base(d.File))); err != nil {
			return nil, fmt.Errorf("reproduce: %w", err)
		}
		replay.Deps = append(replay.Deps, builddb.DepPackage{Origin: d.Origin, File: filepath.Base(d.File), SHA256: d.SHA256})
	}
	fs := builder.FactsSource{Graph: sc.Graph, PortsDir: p.PortsDir, RepositoryDir: repo}
	plan, err := builder.MakePlan(sc.Graph, []ports.NodeID{node.ID}, fs.Facts, builddb.PolicyFromX(0))
	if err != nil {
		return nil, err
	}
	if it := plan.Items[node.ID]; it == nil || it.Disp != builder.Build {
		return nil, fmt.Errorf("%w build %s of %s: the planner would not build it", ErrNotReproducible, id, rec.Origin())
	}
	o.Options.Directive = Directive{Name: "reproduce"}
	bo := builderOptions(cfg, sc, o.Options)
	bo.Directive = "reproduce"
	bo.MaxWorkers = 1
	bo.Settings.PackagesDir = pkgDir
	bo.RepositoryDir = repo
	bo.OpenLog = portLogOpener(logs)
	bo.Replay = replay
	bo.Slots = owner.Slots()
	bus := &events.Bus{}
	var (
		mu       sync.Mutex
		finished events.PortFinished
	)
	bus.Subscribe(events.Func(func(e events.Event) {
		if f, ok := e.(events.PortFinished); ok && f.Origin == rec.Origin() {
			mu.Lock()
			finished = f
			mu.Unlock()
		}
	}))
	bo.Bus = bus
	_, err = builder.New(plan, bo).Run(ctx)
	bus.Flush()
	bus.Close()
	if err != nil {
		return nil, err
	}
	mu.Lock()
	fin := finished
	mu.Unlock()
	if fin.Outcome == events.Failed && fin.Phase == "options" {
		// The slot's options differ from the recorded ones (the
		// options directory changed): an input the rebuild cannot
		// restore.
		os.RemoveAll(res.Dir)
		return nil, fmt.Errorf("%w build %s of %s: inputs differ that a rebuild cannot restore: %s (--force rebuilds anyway)",
			ErrNotReproducible, id, rec.Origin(), fin.Reason)
	}
	v := builddb.Reproduction{Verdict: builddb.VerdictFailed}
	rebuilt := filepath.Join(repo, rec.PkgFile)
	if fin.Outcome != events.Built {
		v.Detail = fmt.Sprintf("the rebuild failed in %s: %s (log: %s)", fin.Phase, fin.Reason, logs)
	} else {
		a, err := pkgdiff.Open(recorded)
		if err != nil {
			return nil, err
		}
		b, err := pkgdiff.Open(rebuilt)
		if err != nil {
			return nil, fmt.Errorf("the rebuilt package: %w", err)
		}
		d := pkgdiff.Diff(a, b)
		res.Diff = &d
		v.PkgChecksum = b.SHA256
		switch {
		case d.Identical:
			v.Verdict = builddb.VerdictReproducible
		default:
			v.Verdict, v.Files = builddb.VerdictDiffers, d.Files()
			v.Detail = diffSummary(&d)
		}
	}
	if len(res.Forced) > 0 {
		v.Detail = strings.TrimSpace(v.Detail + " (forced over differing inputs: " + strings.Join(res.Forced, "; ") + ")")
	}
	v.Time = time.Now().UTC()
	if err := db.AddReproduction(id, v); err != nil {
		return nil, fmt.Errorf("recording the verdict: %w", err)
	}
	res.Verdict = v
	if v.Verdict == builddb.VerdictReproducible && !o.Keep {
		os.RemoveAll(res.Dir)
		res.Dir = ""
	} else {
		// The dependency packages are the repository's: only the
		// rebuilt package and the log stay.
		for _, d := range replay.Deps {
			if d.File != rec.PkgFile {
				os.Remove(filepath.Join(repo, d.File))
			}
		}
	}
	return res, nil
}

// unrestorable lists the recorded inputs that differ from the current
// ones in ways the rebuild cannot set back: the port's version and
// content, Mk/, the template, OSVERSION. (The options are checked in the
// slot, where the options directory applies: builder.Replay.)
func unrestorable(rec *builddb.BuildRecord, n *ports.Node, portsDir, template string, sc *Scanned) []string {
	var out []string
	in := rec.Inputs
	if n.Info == nil {
		return []string{"the port no longer scans"}
	}
	if n.Info.PkgVersion != rec.ID.Version {
		out = append(out, fmt.Sprintf("version %s, recorded %s", n.Info.PkgVersion, rec.ID.Version))
	}
	if rec.ID.Fingerprint != "" && n.Info.Fingerprint != rec.ID.Fingerprint {
		out = append(out, "the port directory's content changed")
	}
	if in.MkFingerprint != "" {
		if mk, err := builder.MkFingerprint(portsDir); err == nil && mk != in.MkFingerprint {
			out = append(out, "Mk/ changed")
		}
	}
	if in.TemplateFingerprint != "" {
		if t, err := builder.TemplateFingerprint(template); err == nil && t != in.TemplateFingerprint {
			out = append(out, "the slot template changed")
		}
	}
	if v := osVersion(sc.Setup.Target.OS, sc.Setup.Target.OSVersion); in.OSVersion != "" && v != in.OSVersion {
		out = append(out, fmt.Sprintf("OSVERSION %s, recorded %s", v, in.OSVersion))
	}
	return out
}

// diffSummary is a one-line account of a package difference.
func diffSummary(d *pkgdiff.Report) string {
	switch {
	case d.ArchiveOnly:
		return "every member is the same; the archives differ in their compression or framing"
	case len(d.Members) == 0 && d.OrderDiffers:
		return "the members are stored in another order"
	}
	return fmt.Sprintf("%d member(s) differ: %s", len(d.Members), strings.Join(d.Files(), ", "))
}

// linkOrCopy hard-links src to dst, or copies it when they are on other
// file systems.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
