package run

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Status prints the dry run of a build: every port that would be built, with
// why, then dsynth's total line. The stored rebuild inputs come from the
// build base's owner when one runs (o.Owner in this process, or another
// process over its socket), else from the database file, opened briefly.
func Status(ctx context.Context, cfg *config.Config, roots []ports.Origin, o Options) (*Result, error) {
	sc, err := Scan(ctx, cfg, roots, o.Stderr, !o.NoNice)
	if err != nil {
		return nil, err
	}
	inputs, done, err := storedInputs(ctx, cfg, sc, o.Owner)
	if err != nil {
		return nil, err
	}
	defer done()
	plan, err := makePlan(cfg, sc, inputs, o.Keep, false)
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
// inputs (nil: none stored).
func makePlan(cfg *config.Config, sc *Scanned, inputs builder.InputsReader, keep int, fetchOnly bool) (*builder.Plan, error) {
	fs := builder.FactsSource{Graph: sc.Graph, PortsDir: cfg.Profile.PortsDir, RepositoryDir: cfg.Profile.RepositoryDir, DB: inputs}
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
