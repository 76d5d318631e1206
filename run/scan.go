package run

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run/scanenv"
)

// Scanned is a scanned build set.
type Scanned struct {
	Graph *ports.Graph
	Roots []ports.NodeID
	Set   []ports.NodeID
	Setup *scanenv.Setup
}

// Scan scans the roots and their dependencies and checks them as dsynth
// does (with no roots, the set is ports-mgmt/pkg alone, which every set
// has, as dsynth's ParsePackageList): a root that does not exist or whose make fails, or a root whose
// direct dependency failed to scan, stops the run. Problems that only
// affect other ports are reported to warn.
func Scan(ctx context.Context, cfg *config.Config, roots []ports.Origin, warn io.Writer, nice bool) (*Scanned, error) {
	return scan(ctx, cfg, roots, warn, nice, false)
}

// scan is Scan; lenient (Directive.Lenient) turns probe failures of roots
// into warnings: those ports are simply not built.
func scan(ctx context.Context, cfg *config.Config, roots []ports.Origin, warn io.Writer, nice, lenient bool) (*Scanned, error) {
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
