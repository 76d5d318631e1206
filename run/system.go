package run

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
)

// ErrNoPkgCommand is returned by the directives that need the host's
// package tool when it is missing.
var ErrNoPkgCommand = errors.New("the host's package tool is not available")

// InstalledOrigins asks the host's package tool (Pkg_command) for the
// installed packages as dsynth's GetLocalPackageList does — `pkg info -a
// -o -A`, each package's origin and, from its "flavor" annotation, its
// flavor — and returns them in the tool's order (ParseInstalled); lines
// it cannot use are reported to warn.
func InstalledOrigins(ctx context.Context, cfg *config.Config, warn io.Writer) ([]ports.Origin, error) {
	tool := cfg.Profile.PkgCommand
	if tool == "" {
		tool = "pkg"
	}
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, fmt.Errorf("%w: %q not found (set Pkg_command in %s): %v", ErrNoPkgCommand, tool, cfg.File, err)
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "info", "-a", "-o", "-A")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s info -a -o -A: %v: %s", path, err, strings.TrimSpace(errb.String()))
	}
	list, bad := ParseInstalled(out.String())
	for _, b := range bad {
		fmt.Fprintf(warn, "Badly formatted origin: %s\n", b)
	}
	return list, nil
}

// ParseInstalled reads `pkg info -a -o -A` as dsynth does: a line is a
// key, a colon and a value (the first word on each side); an "Origin"
// line starts a package, and a "flavor" line after it (one of the
// package's annotations) gives its flavor. ports-mgmt/pkg is left out
// (every build set has it), and so is a package listed twice; an origin
// that is not category/port is returned in bad. It is pure.
func ParseInstalled(out string) (list []ports.Origin, bad []string) {
	var cur *ports.Origin
	seen := map[string]bool{}
	add := func(o ports.Origin) {
		if !seen[o.String()] {
			seen[o.String()] = true
			list = append(list, o)
		}
	}
	for _, line := range strings.SplitAfter(out, "\n") {
		if !strings.HasSuffix(line, "\n") {
			continue // dsynth reads whole lines only
		}
		key, value, ok := strings.Cut(strings.TrimSuffix(line, "\n"), ":")
		if !ok {
			continue
		}
		k, v := strings.Fields(key), strings.Fields(value)
		if len(k) == 0 || len(v) == 0 {
			continue
		}
		switch {
		case k[0] == "Origin":
			if cur != nil {
				add(*cur)
			}
			cur = nil
			dir, _, _ := strings.Cut(v[0], "@") // dsynth drops a flavor written in the origin
			o, err := ports.ParseOrigin(dir)
			if err != nil {
				bad = append(bad, v[0])
				continue
			}
			if o.Dir != ports.PkgOrigin {
				cur = &o
			}
		case k[0] == "flavor" && cur != nil:
			o := *cur
			o.Flavor = v[0]
			if fo, err := ports.ParseOrigin(o.String()); err == nil {
				add(fo)
			} else {
				bad = append(bad, o.String())
			}
			cur = nil
		}
	}
	if cur != nil {
		add(*cur)
	}
	return list, bad
}

// ListSystem writes the build set of list, the installed packages
// (InstalledOrigins, checked with ConfirmInstalled), to path
// (dsynth writes ./build.txt): every port dsynth's GetLocalPackageList
// returns — the installed ones, their dependencies and ports-mgmt/pkg —
// one origin a line, dependencies first. It returns how many.
func ListSystem(ctx context.Context, cfg *config.Config, list []ports.Origin, path string, warn io.Writer) (int, error) {
	sc, err := Scan(ctx, cfg, list, warn, true)
	if err != nil {
		return 0, err
	}
	order, err := sc.Graph.Order(sc.Set)
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	for _, id := range order {
		b.WriteString(sc.Graph.Nodes[id].Origin.String() + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return 0, fmt.Errorf("list-system: %w", err)
	}
	return len(order), nil
}

// AllPorts lists every port of the configured tree (everything,
// status-everything).
func AllPorts(cfg *config.Config) ([]ports.Origin, error) {
	return ports.ListPorts(cfg.Profile.PortsDir)
}

// ConfirmInstalled is dsynth's check of the installed set
// (pkglist.c processPackageListBulk with PrepareSystemFlag): it scans list
// and, when ports of it failed to probe, prints dsynth's lines on out —
// "N packages failed to probe", then either the question whether to go on
// without the installed ports that no longer exist ("Continue anyway? ",
// answered from in as dsynth's askyn: y or n by the first character,
// asked again on anything else, no at the end of the input; yes answers
// yes without asking) or, when a dependency of an installed port failed,
// that it cannot continue. It returns list without the ports that failed,
// or an error wrapping ErrProbe when the run must stop (dsynth exits 1).
func ConfirmInstalled(ctx context.Context, cfg *config.Config, list []ports.Origin, yes bool, in io.Reader, out, warn io.Writer) ([]ports.Origin, error) {
	sc, err := scan(ctx, cfg, list, io.Discard, true, true)
	if err != nil {
		return nil, err
	}
	_, rootBad, depBad := probeFailures(sc.Graph, list, cfg.Profile.PortsDir)
	if len(rootBad)+len(depBad) == 0 {
		return list, nil
	}
	bad := append(rootBad, depBad...)
	if !continueWithoutVanished(len(rootBad), len(depBad), yes, bufio.NewReader(in), out) {
		return nil, fmt.Errorf("%d %w:\n%w", len(bad), ErrProbe, errors.Join(bad...))
	}
	for _, e := range rootBad {
		fmt.Fprintf(warn, "warning: %v\n", e)
	}
	var keep []ports.Origin
	for _, o := range list {
		if n, ok := sc.Graph.Lookup(o.String()); ok && n.Status() != ports.StatusNotFound && n.Status() != ports.StatusCorrupt {
			keep = append(keep, o)
		}
	}
	return keep, nil
}

// continueWithoutVanished prints dsynth's lines for installed ports that
// failed to probe (rootBad of them, and depBad failed dependencies of
// installed ports) and reports whether to go on without them: only when
// no dependency failed, and the user says so.
func continueWithoutVanished(rootBad, depBad int, yes bool, in *bufio.Reader, out io.Writer) bool {
	fmt.Fprintf(out, "%d packages failed to probe\n", rootBad+depBad)
	if depBad > 0 {
		fmt.Fprint(out, "prepare-system: Some of your installed packages have dependencies\n"+
			"which could not be found in dports, cannot continue, aborting\n")
		return false
	}
	fmt.Fprint(out, "prepare-system: Some of your installed packages no longer exist in\n"+
		"dports, do you wish to continue rebuilding what does exist?\n")
	return yes || askYesNo(in, out, "Continue anyway? ")
}

// BeginListSystem does what dsynth does before list-system reads the
// installed set (dsynth.c main): it takes the build base lock (a
// *builddb.LockError when another dsynth holds it) and empties the eight
// numbered logs (DoCleanBuild's log reset). Call the returned function to
// release the lock when the list is written.
func BeginListSystem(cfg *config.Config) (release func(), err error) {
	lock, err := builddb.LockBuildBase(cfg.Profile.BuildBase)
	if err != nil {
		return nil, err
	}
	logs := report.NewLogs(cfg.Profile.LogsDir, report.LogsOptions{})
	if err := logs.Reset(); err != nil {
		lock.Unlock()
		return nil, err
	}
	if err := logs.Close(); err != nil {
		lock.Unlock()
		return nil, err
	}
	return func() { lock.Unlock() }, nil
}
