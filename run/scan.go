package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
	ids, rootBad, depBad := probeFailures(g, roots, cfg.Profile.PortsDir)
	bad := append(rootBad, depBad...)
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

// probeFailures checks the roots as dsynth's processPackageListBulk checks
// the ports named or installed: a root that was not found or failed to
// scan (rootBad), and a root whose direct dependency failed to scan
// (depBad, one error per such dependency; indirect ones are not checked).
// ids are the roots that were found and scanned (a root whose dependency
// failed is among them: under a lenient directive it is built, or skipped,
// like any port whose dependency failed).
func probeFailures(g *ports.Graph, roots []ports.Origin, portsDir string) (ids []ports.NodeID, rootBad, depBad []error) {
	for _, o := range roots {
		n, ok := g.Lookup(o.String())
		switch {
		case !ok || n.Status() == ports.StatusNotFound:
			rootBad = append(rootBad, fmt.Errorf("%s: no such port in %s", o, portsDir))
			continue
		case n.Status() == ports.StatusCorrupt:
			rootBad = append(rootBad, fmt.Errorf("%s: make failed (CORRUPT): %s", o, n.Info.Stderr))
			continue
		}
		for _, e := range n.Deps {
			if d := g.Nodes[e.To]; d.Status() == ports.StatusCorrupt {
				depBad = append(depBad, fmt.Errorf("%s: its dependency %s failed to scan (CORRUPT): %s", o, d.Origin, d.Info.Stderr))
			}
		}
		ids = append(ids, n.ID)
	}
	return ids, rootBad, depBad
}

// scanReport writes what dsynth prints on stdout while it reads the ports
// (pkglist.c processPackageListBulk): "Processing N ports" for the ports
// named or installed, or "Scanning N ports" for the whole tree; a progress
// figure every 256 answers; "Total", "Resolving dependencies...done",
// "Total Returned" (the ports read, their dependencies included, less
// those that failed to read); then the repository's package files
// ("Scanning N packages": each file whose suffix is the profile's package
// suffix or .pkg, counted once for each) and "all done". named is the
// number of ports asked for; wholeTree says they are the whole tree
// (ports-mgmt/pkg is then not asked for separately). w nil writes nothing.
func scanReport(w io.Writer, wholeTree bool, roots []ports.Origin, sc *Scanned, repoDir, suffix string) {
	if w == nil {
		return
	}
	named := len(roots)
	verb := "Processing"
	first := named
	if wholeTree {
		verb = "Scanning"
	} else {
		first++ // ports-mgmt/pkg, always asked for first
		for _, o := range roots {
			if o.Dir == ports.PkgOrigin && o.Flavor == "" {
				first-- // named again: dsynth asks for it once
				break
			}
		}
	}
	returned := 0
	for _, id := range sc.Set {
		if sc.Graph.Nodes[id].Status() == ports.StatusOK {
			returned++
		}
	}
	files := 0
	if ents, err := os.ReadDir(repoDir); err == nil {
		for _, e := range ents {
			ext := filepath.Ext(e.Name())
			if ext == "" || ext == e.Name() {
				continue
			}
			if ext == suffix {
				files++
			}
			if ext == ".pkg" {
				files++
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d ports\n", verb, named)
	progressLines(&b, first, named)
	fmt.Fprintf(&b, "\nTotal %d\n", first)
	b.WriteString("Resolving dependencies...done\n")
	fmt.Fprintf(&b, "Total Returned %d\n", returned)
	fmt.Fprintf(&b, "Scanning %d packages\n", files)
	progressLines(&b, files, files)
	fmt.Fprintf(&b, "\nTotal %d\n", files)
	b.WriteString("all done\n")
	io.WriteString(w, b.String())
}

// progressLines is dsynth's progress over count answers out of total: the
// percentage at every 256th answer, ending on a carriage return, then
// "100.00%" and a newline.
func progressLines(b *strings.Builder, count, total int) {
	for n := 256; n <= count && total > 0; n += 256 {
		fmt.Fprintf(b, "%6.2f%%\r", float64(n)*100/float64(total)+0.001)
	}
	b.WriteString("100.00%\n")
}
