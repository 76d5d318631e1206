package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/cluster"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/run/scanenv"
)

// WorkerOptions are a cluster worker's settings (`dsynth worker`).
type WorkerOptions struct {
	// Controller is the controller's NATS URL; Creds the credentials file
	// `dsynth worker-key` wrote; CA, when set, the CA file the
	// controller's TLS certificate must chain to.
	Controller, Creds, CA string
	// Slots is how many ports the worker builds at once (0: the profile's
	// Number_of_builders).
	Slots int
	// Log receives what the worker does.
	Log io.Writer
	// NewEnv and Layout are the host's backend (HostEnvironment).
	NewEnv func(slot int) environment.Environment
	Layout environment.Layout
}

// Worker serves a controller's builds on this host with the profile's
// own ports tree, distfiles, packages and template, until ctx ends or the
// controller refuses it. It holds the build base's lock meanwhile.
func Worker(ctx context.Context, cfg *config.Config, o WorkerOptions) error {
	p := &cfg.Profile
	if o.NewEnv == nil {
		return fmt.Errorf("dsynth worker: this system has no build environment backend")
	}
	creds, err := cluster.ReadCreds(o.Creds)
	if err != nil {
		return err
	}
	id, err := Identity(p)
	if err != nil {
		return err
	}
	id.Slots = o.Slots
	if id.Slots <= 0 {
		id.Slots = configuredWorkers(p.NumberOfBuilders)
	}
	if err := os.MkdirAll(p.BuildBase, 0o755); err != nil {
		return fmt.Errorf("build base: %w", err)
	}
	lock, err := builddb.LockBuildBase(p.BuildBase)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	setup, err := scanenv.New(ctx, cfg, scanenv.Options{Log: o.Log})
	if err != nil {
		return err
	}
	shims := ""
	if setup.Emulation != nil {
		shims = filepath.Join(setup.Emulation.Dir, "mk")
	}
	tmpl := TemplateDir(p)
	if err := environment.EnsureTemplate(tmpl, p.SystemDir); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	for _, d := range []string{p.RepositoryDir, p.DistfilesDir, p.OptionsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	wo := cluster.WorkerOptions{
		URL: o.Controller, Creds: creds, CredsPath: o.Creds, Identity: id,
		NewEnv: o.NewEnv,
		SlotPlan: func(slot int) (environment.Plan, error) {
			s := SlotSettings(p, o.Layout, slot)
			s.Debug = WithDebug(cfg)
			return builder.SlotPlan(s, shims)
		},
		CheckPort: cluster.PortChecker(p.PortsDir),
		InstallTool: func(ctx context.Context, pkg string) error {
			_, err := builder.InstallPkgTool(ctx, tmpl, pkg)
			return err
		},
		PackagesDir:   p.PackagesDir,
		RepositoryDir: p.RepositoryDir,
		LeaseTimeout:  p.Cluster.LeaseTimeout,
		Logf:          func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) },
	}
	if o.CA != "" {
		if wo.TLS, err = caConfig(o.CA); err != nil {
			return fmt.Errorf("--ca: %w", err)
		}
	}
	return cluster.RunWorker(ctx, wo)
}
