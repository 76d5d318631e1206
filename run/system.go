package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
)

// ErrNoPkgCommand is returned by the directives that need the host's
// package tool when it is missing.
var ErrNoPkgCommand = errors.New("the host's package tool is not available")

// InstalledOrigins asks the host's package tool (Pkg_command) for the
// origins of the installed packages, as dsynth's `pkg info -a -o` does;
// origins it cannot use are reported to warn.
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
	cmd := exec.CommandContext(ctx, path, "query", "-a", "%o")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s query -a %%o: %v: %s", path, err, strings.TrimSpace(errb.String()))
	}
	var list []ports.Origin
	var bad []string
	for _, l := range strings.Fields(out.String()) {
		o, err := ports.ParseOrigin(l)
		if err != nil {
			bad = append(bad, l)
			continue
		}
		list = append(list, o)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].String() < list[j].String() })
	if len(bad) > 0 {
		fmt.Fprintf(warn, "warning: ignoring %d installed package(s) with unusable origins: %s\n", len(bad), strings.Join(bad, " "))
	}
	return list, nil
}

// ListSystem writes the installed origins to path (dsynth writes
// ./build.txt), one per line, and returns how many.
func ListSystem(ctx context.Context, cfg *config.Config, path string, warn io.Writer) (int, error) {
	list, err := InstalledOrigins(ctx, cfg, warn)
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	for _, o := range list {
		b.WriteString(o.String() + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return 0, fmt.Errorf("list-system: %w", err)
	}
	return len(list), nil
}

// AllPorts lists every port of the configured tree (everything,
// status-everything).
func AllPorts(cfg *config.Config) ([]ports.Origin, error) {
	return ports.ListPorts(cfg.Profile.PortsDir)
}
