package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/go-dsynth/go-dsynth/internal/scanenv"
	"github.com/go-dsynth/go-dsynth/ports"
)

// runGraph prints the build closure of ports: `dsynth graph [--format
// list|dot|json] ports…`.
func runGraph(ctx context.Context, r *runner, args []string) error {
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "list", "list, dot or json")
	if err := fs.Parse(args); err != nil {
		return &usageError{err.Error()}
	}
	switch *format {
	case "list", "dot", "json":
	default:
		return &usageError{fmt.Sprintf("unknown --format %q (want list, dot or json)", *format)}
	}
	if fs.NArg() == 0 {
		return &usageError{"no ports given"}
	}
	g, order, err := scanClosure(ctx, r, fs.Args())
	if err != nil {
		return err
	}
	switch *format {
	case "dot":
		return g.WriteDot(r.stdout, order)
	case "json":
		return g.WriteJSON(r.stdout, order)
	}
	return g.WriteList(r.stdout, order)
}

// scanClosure scans the named ports and their dependencies and returns the
// graph and the build set in build order. Problems that do not stop a build
// are printed as warnings; a root that does not exist or failed to scan, and
// a dependency cycle, are errors.
func scanClosure(ctx context.Context, r *runner, args []string) (*ports.Graph, []ports.NodeID, error) {
	roots, err := ports.ParseArgs(args)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := r.config()
	if err != nil {
		return nil, nil, err
	}
	setup, err := scanenv.New(ctx, cfg, scanenv.Options{Log: r.stderr, Nice: !r.opts.noNice})
	if err != nil {
		return nil, nil, err
	}
	res, err := setup.Scanner.Scan(ctx, roots)
	if err != nil {
		return nil, nil, err
	}
	g, problems := ports.NewGraph(res.Infos, cfg.Profile.PortsDir)
	for _, p := range problems {
		fmt.Fprintf(r.stderr, "warning: %v\n", p)
	}
	var ids []ports.NodeID
	var bad []error
	for _, o := range roots {
		n, ok := g.Lookup(o.String())
		switch {
		case !ok || n.Status() == ports.StatusNotFound:
			bad = append(bad, fmt.Errorf("%s: no such port in %s", o, cfg.Profile.PortsDir))
		case n.Status() == ports.StatusCorrupt:
			bad = append(bad, fmt.Errorf("%s: make failed (CORRUPT): %s", o, n.Info.Stderr))
		default:
			ids = append(ids, n.ID)
		}
	}
	if len(bad) > 0 {
		return nil, nil, errors.Join(bad...)
	}
	order, err := g.Order(g.BuildSet(ids...))
	if err != nil {
		return nil, nil, err
	}
	return g, order, nil
}
