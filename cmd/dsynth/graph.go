package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run"
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

// scanClosure scans the named ports and their dependencies (run.Scan's
// checks: missing and CORRUPT roots and cycles are errors) and returns the
// graph and the build set in build order.
func scanClosure(ctx context.Context, r *runner, args []string) (*ports.Graph, []ports.NodeID, error) {
	roots, err := ports.ParseArgs(args)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := r.config()
	if err != nil {
		return nil, nil, err
	}
	sc, err := run.Scan(ctx, cfg, roots, r.stderr, !r.opts.noNice)
	if err != nil {
		return nil, nil, err
	}
	order, err := sc.Graph.Order(sc.Set)
	if err != nil {
		return nil, nil, err
	}
	return sc.Graph, order, nil
}
