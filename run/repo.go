package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/go-dsynth/go-dsynth/config"
)

// ErrNoPkgTool is returned when the template holds no package tool yet
// (ports-mgmt/pkg was never built).
var ErrNoPkgTool = errors.New("no package tool in the template: build ports-mgmt/pkg first")

// RebuildRepository runs dsynth's repository step: delete stray *.new files
// from the repository, write a meta.conf with Meta_version and the packing
// format, and run the template's pkg-static repo over the packages (the
// template's tool, as the host's may be too old for the format).
func RebuildRepository(ctx context.Context, cfg *config.Config, out io.Writer) error {
	p := &cfg.Profile
	junk, _ := filepath.Glob(filepath.Join(p.RepositoryDir, "*.new"))
	for _, f := range junk {
		if err := os.Remove(f); err == nil {
			fmt.Fprintf(out, "Deleted Garbage %s\n", f)
		}
	}
	tool := filepath.Join(p.BuildBase, "Template", "usr", "local", "sbin", "pkg-static")
	if _, err := os.Stat(tool); err != nil {
		return fmt.Errorf("%w (%s)", ErrNoPkgTool, tool)
	}
	meta, err := os.CreateTemp("", "meta.*.conf")
	if err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	defer os.Remove(meta.Name())
	fmt.Fprintf(meta, "version = %d;\npacking_format = %q;\n", p.MetaVersion, strings.TrimPrefix(p.PackageSuffix, "."))
	if err := meta.Close(); err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	dir := p.RepositoryDir
	if rel, err := filepath.Rel(p.PackagesDir, p.RepositoryDir); err == nil && !strings.HasPrefix(rel, "..") {
		dir = p.PackagesDir
	}
	cmd := exec.CommandContext(ctx, tool, "repo", "-m", meta.Name(), "-o", p.PackagesDir, dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(out, "Rebuild failed")
		return fmt.Errorf("repository: %s repo: %w", tool, err)
	}
	fmt.Fprintln(out, "Rebuild succeeded")
	return nil
}

// RepositoryStepFor runs the step a building directive takes after its
// build (Directive.Repository): rebuild the repository always, or when
// ask says so (the caller asks dsynth's question or answers -y), or not.
// The caller ends upgrade-system with UpgradeNoteLine (Directive.UpgradeNote).
func RepositoryStepFor(ctx context.Context, cfg *config.Config, d Directive, ask func() bool, out io.Writer) error {
	var err error
	switch d.Repository {
	case AlwaysRepository:
		err = RebuildRepository(ctx, cfg, out)
	case AskRepository:
		if ask() {
			err = RebuildRepository(ctx, cfg, out)
		}
	}
	return err
}

// UpgradeNoteLine is how dsynth ends upgrade-system, whatever the build
// did: this line on stderr (its dfatal, naming the C function it is in)
// and exit status 1 (dsynth.c, "upgrade-system").
const UpgradeNoteLine = "main: NOTE: you have to pkg upgrade manually"
