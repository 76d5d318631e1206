package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Status prints the dry run of a build as dsynth's status does
// (status.c): after the scan's lines (Options.Progress), "  N => origin"
// for every port that would be built — a literal N, dsynth's mark for a
// new build — in the order of dsynth's passes (a port after all the ports
// it waits for), then "Total packages that would be built: B/T", where T
// leaves out dummy nodes and the ports already built. With
// Options.StatusReasons each line also says why. The stored rebuild
// inputs come from the build base's owner when one runs (o.Owner in this
// process, or another process over its socket), else from the database
// file, opened briefly.
func Status(ctx context.Context, cfg *config.Config, roots []ports.Origin, o Options) (*Result, error) {
	o.Directive = Directive{Name: "status", DryRun: true, Origins: o.Directive.Origins}
	_, plan, err := planDirective(ctx, cfg, roots, o)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	n, total := statusLines(&b, plan, o.StatusReasons)
	fmt.Fprintf(&b, "Total packages that would be built: %d/%d\n", n, total)
	if _, err := io.WriteString(o.Stdout, b.String()); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return &Result{Plan: plan}, nil
}

// statusLines writes dsynth's "  N => origin" line for each port plan
// builds, pass by pass: first the ports none of whose dependencies is
// built, then those that waited only for them, and so on (within a pass
// ports-mgmt/pkg first, as it heads dsynth's list, then plan order). It returns how many and dsynth's total: the ports of the
// plan less the dummy nodes and the ports already built. It is pure.
func statusLines(w io.Writer, plan *builder.Plan, reasons bool) (built, total int) {
	pass := map[ports.NodeID]int{}
	last := 0
	for _, id := range plan.Order { // dependencies first
		it := plan.Items[id]
		switch it.Disp {
		case builder.Dummy, builder.UpToDate:
			continue
		case builder.Build:
			p := 1
			for _, d := range it.Deps {
				if q, ok := pass[d]; ok && q+1 > p {
					p = q + 1
				}
			}
			pass[id] = p
			last = max(last, p)
		}
		total++
	}
	order := plan.Order
	if n, ok := plan.Graph.Resolve(ports.Origin{Dir: ports.PkgOrigin}); ok {
		if _, built := pass[n.ID]; built {
			order = append([]ports.NodeID{n.ID}, slices.DeleteFunc(slices.Clone(order), func(id ports.NodeID) bool { return id == n.ID })...)
		}
	}
	for p := 1; p <= last; p++ {
		for _, id := range order {
			if pass[id] != p {
				continue
			}
			built++
			it := plan.Items[id]
			if reasons {
				fmt.Fprintf(w, "  N => %s (%s)\n", it.Origin, it.Reason)
			} else {
				fmt.Fprintf(w, "  N => %s\n", it.Origin)
			}
		}
	}
	return built, total
}

// storedInputs finds the stored rebuild inputs of a scanned set: through
// the owner when there is one, else from the file (nil when there is no
// database yet). done releases what was opened.
func storedInputs(ctx context.Context, cfg *config.Config, sc *Scanned, owner *Owner) (builder.InputsReader, func(), error) {
	nothing := func() {}
	if owner != nil {
		return owner.DB(), nothing, nil
	}
	c, err := Dial(cfg.Profile.BuildBase)
	switch {
	case err == nil:
		defer c.Close()
		origins := make([]string, 0, len(sc.Set))
		for _, id := range sc.Set {
			origins = append(origins, sc.Graph.Nodes[id].Origin.String())
		}
		in, err := c.Inputs(ctx, origins)
		if err != nil {
			return nil, nil, err
		}
		return in, nothing, nil
	case !errors.Is(err, ErrNoOwner):
		return nil, nil, err
	}
	path := builddb.Path(cfg.Profile.BuildBase)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nothing, nil
	}
	db, err := builddb.OpenReader(cfg.Profile.BuildBase, builddb.Options{})
	if err != nil {
		return nil, nil, err
	}
	return db, func() { db.Close() }, nil
}

// makePlan plans a scanned set against the repository and the stored
// inputs (nil: none stored). The packages of the deleted ports count as
// gone (a preview of a directive that deletes them first).
func makePlan(cfg *config.Config, sc *Scanned, inputs builder.InputsReader, keep int, fetchOnly bool, deleted ...ports.NodeID) (*builder.Plan, error) {
	fs := builder.FactsSource{Graph: sc.Graph, PortsDir: cfg.Profile.PortsDir, RepositoryDir: cfg.Profile.RepositoryDir, DB: inputs}
	facts := fs.Facts
	if fetchOnly || len(deleted) > 0 {
		gone := map[ports.NodeID]bool{}
		for _, id := range deleted {
			gone[id] = true
		}
		// fetch-only fetches for every port: existing packages do not count.
		facts = func(n *ports.Node) builder.Facts {
			f := fs.Facts(n)
			if fetchOnly || gone[n.ID] {
				f.PackageExists, f.Current.PackageExists = false, false
			}
			return f
		}
	}
	return builder.MakePlan(sc.Graph, sc.Set, facts, builddb.PolicyFromX(keep))
}

// Preview is what a build directive would do over a set of ports, planned
// without building: the plan, how many ports it builds, and how long the
// scheduler expects them to take on the profile's slots.
type Preview struct {
	Plan     *builder.Plan
	ToBuild  int
	Estimate time.Duration
}

// PreviewBuild scans and plans a building directive the way Build would
// (the ports a directive deletes first count as having no package) and
// estimates its duration from the recorded durations (builder's
// EstimateDuration). It writes nothing. The stored inputs come from
// o.Owner, as for Status.
func PreviewBuild(ctx context.Context, cfg *config.Config, roots []ports.Origin, o Options) (*Preview, error) {
	sc, plan, err := planDirective(ctx, cfg, roots, o)
	if err != nil {
		return nil, err
	}
	pv := &Preview{Plan: plan}
	for _, id := range plan.Order {
		if plan.Items[id].Disp == builder.Build {
			pv.ToBuild++
		}
	}
	var durations map[string]time.Duration
	if o.Owner != nil {
		if durations, err = o.Owner.DB().AverageDurations(); err != nil {
			return nil, err
		}
	}
	bo := builderOptions(cfg, sc, o)
	bo.Durations = durations
	if pv.Estimate, err = builder.EstimateDuration(plan, bo); err != nil {
		return nil, err
	}
	return pv, nil
}

// planDirective scans roots and plans them as o.Directive would, without
// building or deleting anything (the packages it deletes first count as
// gone), against the stored inputs of the owner or the file.
func planDirective(ctx context.Context, cfg *config.Config, roots []ports.Origin, o Options) (*Scanned, *builder.Plan, error) {
	d := o.Directive
	sc, err := scan(ctx, cfg, roots, o.Stderr, !o.NoNice, d.Lenient)
	if err != nil {
		return nil, nil, err
	}
	scanReport(o.Progress, d.Origins == WholeTree, roots, sc, cfg.Profile.RepositoryDir, cfg.Profile.PackageSuffix)
	inputs, done, err := storedInputs(ctx, cfg, sc, o.Owner)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	var deleted []ports.NodeID
	if d.DeleteRoots {
		deleted = sc.Roots
	}
	plan, err := makePlan(cfg, sc, inputs, o.Keep, d.FetchOnly, deleted...)
	return sc, plan, err
}
