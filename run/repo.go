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

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
)

// ErrNoPkgTool is returned when the template holds no package tool yet
// (ports-mgmt/pkg was never built).
var ErrNoPkgTool = errors.New("no package tool in the template: build ports-mgmt/pkg first")

// ErrRebuildFailed is returned when the package tool's repo command
// failed: dsynth then prints "Rebuild failed" and still exits 0 (the
// caller decides the exit status).
var ErrRebuildFailed = errors.New("rebuilding the repository failed")

// RepoOptions tune RebuildRepository.
type RepoOptions struct {
	// Held says the caller owns the build base (the service, which holds
	// its lock): the rebuild takes no lock of its own. Otherwise it takes
	// the build base lock, so that it never runs beside a build.
	Held bool
	// Publication, under Repository_publish=atomic, is the run's staging
	// copy (BeginPublish): RepositoryStepFor publishes it after the step,
	// unless the rebuild failed.
	Publication *Publication
}

// RebuildRepository runs dsynth's repository step (repo.c DoRebuildRepo):
// delete stray *.new files from the repository, write a meta.conf with
// Meta_version and the packing format, echo and run the template's
// pkg-static repo over the packages (the template's tool, as the host's
// may be too old for the format), ask that tool its version, recompress
// what the repo command wrote when the package suffix asks for it
// (RecompressPlan), and say "Rebuild succeeded" or "Rebuild failed". A
// failed repo command is ErrRebuildFailed; a failed recompression is an
// error of its own (dsynth's dfatal).
func RebuildRepository(ctx context.Context, cfg *config.Config, out io.Writer, o RepoOptions) error {
	p := &cfg.Profile
	if !o.Held {
		lock, err := builddb.LockBuildBase(p.BuildBase)
		if err != nil {
			return err
		}
		defer lock.Unlock()
	}
	junk, _ := filepath.Glob(filepath.Join(p.RepositoryDir, "*.new"))
	for _, f := range junk {
		if err := os.Remove(f); err == nil {
			fmt.Fprintf(out, "Deleted Garbage %s\n", f)
		}
	}
	tool := filepath.Join(p.BuildBase, "Template", "usr", "local", "sbin", "pkg-static")
	if _, err := os.Stat(tool); err != nil {
		// dsynth runs the command anyway, its exec fails and it says
		// "Rebuild failed" (repo.c): so does go-dsynth, naming the cause.
		fmt.Fprintf(out, "pkg repo: %v: %v\nRebuild failed\n", ErrNoPkgTool, err)
		return fmt.Errorf("%w: %w (%s)", ErrRebuildFailed, ErrNoPkgTool, tool)
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
	sign := RepoSigningArgs(p)
	fmt.Fprintf(out, "pkg repo -m %s -o %s %s\n", meta.Name(), p.PackagesDir, strings.Join(append([]string{dir}, sign...), " "))
	cmd := exec.CommandContext(ctx, tool, append([]string{"repo", "-m", meta.Name(), "-o", p.PackagesDir, dir}, sign...)...)
	cmd.Stdout, cmd.Stderr = out, out
	repoErr := cmd.Run()

	// pkg 1.12 and later write the repository in the packing format;
	// older ones always wrote .txz (repo.c childRebuildRepo).
	modern := false
	if v, err := exec.CommandContext(ctx, tool, "-v").Output(); err == nil {
		if major, minor, ok := pkgVersion(string(v)); ok {
			fmt.Fprintf(out, "pkg repo - pkg version: %d.%d\n", major, minor)
			modern = major > 1 || major == 1 && minor >= 12
		}
	}
	plan, err := RecompressPlan(p.PackageSuffix, modern)
	if err != nil {
		return err
	}
	if plan.Line != "" {
		fmt.Fprintln(out, plan.Line)
	}
	for _, f := range plan.Files {
		pipe := fmt.Sprintf("%s < %s/%s%s | %s > %s/%s%s", plan.Decompress, p.PackagesDir, f, plan.From, plan.Compress, p.PackagesDir, f, plan.To)
		if b, err := exec.CommandContext(ctx, "/bin/sh", "-c", pipe).CombinedOutput(); err != nil {
			return fmt.Errorf("command failed: %s: %v %s", pipe, err, strings.TrimSpace(string(b)))
		}
	}
	if repoErr != nil {
		fmt.Fprintln(out, "Rebuild failed")
		return fmt.Errorf("%w: %s repo: %v", ErrRebuildFailed, tool, repoErr)
	}
	fmt.Fprintln(out, "Rebuild succeeded")
	return nil
}

// RepoSigningArgs are the arguments pkg repo takes after the repository
// to sign its catalogue, as pkg-repo(8) reads them: the RSA key file
// (Repository_signing_key), or "signing_command:" and the program
// (Repository_signing_command); none when neither is set, as dsynth,
// which never signs.
func RepoSigningArgs(p *config.Profile) []string {
	switch {
	case p.RepositorySigningKey != "":
		return []string{p.RepositorySigningKey}
	case p.RepositorySigningCommand != "":
		return []string{"signing_command:", p.RepositorySigningCommand}
	}
	return nil
}

// pkgVersion reads the "X.Y" that `pkg -v` starts with.
func pkgVersion(s string) (major, minor int, ok bool) {
	n, err := fmt.Sscanf(strings.TrimSpace(s), "%d.%d", &major, &minor)
	return major, minor, err == nil && n == 2
}

// Recompress is what dsynth recompresses after pkg repo: each of Files
// from Files+From to Files+To, through "Decompress < in | Compress > out",
// after printing Line. No Files: nothing to do.
type Recompress struct {
	Line                 string
	Files                []string
	From, To             string
	Decompress, Compress string
}

// RecompressPlan is dsynth's choice (repo.c childRebuildRepo): a pkg
// older than 1.12 wrote digests and packagesite as .txz, which are
// recompressed to the package suffix; a newer one wrote meta in the
// package suffix, which is recompressed to .txz. With .txz, nothing. With
// .pkg (pkg 1.17 and later, which dsynth's table predates) nothing either:
// pkg writes that format itself. Another suffix is dsynth's dfatal.
func RecompressPlan(suffix string, modern bool) (Recompress, error) {
	if suffix == ".txz" || suffix == ".pkg" {
		return Recompress{}, nil
	}
	if !modern {
		comp := map[string]string{".tar": "cat", ".tgz": "gzip", ".tbz": "bzip", ".tzst": "zstd"}[suffix]
		if comp == "" {
			return Recompress{}, fmt.Errorf("recompressing as %s not supported", suffix)
		}
		return Recompress{Line: "pkg repo - recompressing digests and packagesite", Files: []string{"digests", "packagesite"},
			From: ".txz", To: suffix, Decompress: "unxz", Compress: comp}, nil
	}
	decomp := map[string]string{".tar": "cat", ".tgz": "gunzip", ".tbz": "bunzip2", ".tzst": "unzstd"}[suffix]
	if decomp == "" {
		return Recompress{}, fmt.Errorf("recompressing from %s not supported", suffix)
	}
	return Recompress{Line: "pkg repo - recompressing meta", Files: []string{"meta"}, From: suffix, To: ".txz", Decompress: decomp, Compress: "xz"}, nil
}

// RepositoryStepFor runs the step a building directive takes after its
// build (Directive.Repository): rebuild the repository always, or when
// ask says so (the caller asks dsynth's question or answers -y), or not.
// The caller ends upgrade-system with UpgradeNoteLine (Directive.UpgradeNote).
func RepositoryStepFor(ctx context.Context, cfg *config.Config, d Directive, ask func() bool, out io.Writer, o RepoOptions) error {
	var err error
	switch d.Repository {
	case AlwaysRepository:
		err = RebuildRepository(ctx, cfg, out, o)
	case AskRepository:
		if ask() {
			err = RebuildRepository(ctx, cfg, out, o)
		}
	}
	return errors.Join(err, publishAfter(ctx, o.Publication, err, out))
}

// publishAfter ends a repository step under atomic publishing: the
// staging copy is published, unless the step failed (the copy is left
// for the next run to remove, and the current generation stays served).
func publishAfter(ctx context.Context, pub *Publication, stepErr error, out io.Writer) error {
	if pub == nil {
		return nil
	}
	if stepErr != nil {
		fmt.Fprintf(out, "Repository: not published, the repository step failed; %s stays served\n", pub.cfg.Profile.PackagesDir)
		pub.Close()
		return nil
	}
	_, err := pub.Finish(ctx, out)
	return err
}

// UpgradeNoteLine is how dsynth ends upgrade-system, whatever the build
// did: this line on stderr (its dfatal, naming the C function it is in)
// and exit status 1 (dsynth.c, "upgrade-system").
const UpgradeNoteLine = "main: NOTE: you have to pkg upgrade manually"
