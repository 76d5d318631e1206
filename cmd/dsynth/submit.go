package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/display"
	"github.com/go-dsynth/go-dsynth/run"
	"github.com/go-dsynth/go-dsynth/service"
)

// remoteURL is the remote build service the command line names: -R, else
// DSYNTH_REMOTE.
func (r *runner) remoteURL() string {
	if r.opts.remote != "" {
		return r.opts.remote
	}
	return os.Getenv("DSYNTH_REMOTE")
}

// submitToService runs a building directive through the build service when
// there is one: the remote one (-R, DSYNTH_REMOTE), or `dsynth serve`
// owning this profile's build base. handled is false when the directive
// is to run here (no service; a directive the service does not run; the
// build base owned by a command line build, which the local run then
// reports).
func (r *runner) submitToService(ctx context.Context, d run.Directive, args []string) (handled bool, err error) {
	if !slices.Contains(service.Directives(), d.Name) {
		if r.remoteURL() != "" {
			return true, &usageError{fmt.Sprintf("%s cannot run on a remote build service (it runs %v)", d.Name, service.Directives())}
		}
		return false, nil
	}
	var c *run.Client
	if u := r.remoteURL(); u != "" {
		if c, err = run.DialRemote(u, os.Getenv("DSYNTH_API_KEY")); err != nil {
			return true, err
		}
	} else {
		cfg, err := r.config()
		if err != nil {
			return true, err
		}
		c, err = run.Dial(cfg.Profile.BuildBase)
		if errors.Is(err, run.ErrNoOwner) {
			return false, nil
		}
		if err != nil {
			return true, err
		}
	}
	defer c.Close()
	origins, err := roots(args)
	if err != nil {
		return true, err
	}
	req := api.BuildRequest{Directive: d.Name, Developer: r.opts.developer, CheckPlist: r.opts.checkPlist}
	for _, o := range origins {
		req.Packages = append(req.Packages, o.String())
	}
	// The screen or dsynth's plain lines; the service writes the monitor
	// file itself.
	var bo run.Options
	stop := func() {}
	if _, isFile := r.stdout.(*os.File); !isFile {
		// dsynth's plain lines, as a local run echoes them.
		bo.Observers = append(bo.Observers, display.NewPlain(r.stdout, false))
	} else if stop, err = r.display(ctx, &bo); err != nil {
		return true, err
	}
	b, err := service.Follow(ctx, c, req, service.FollowOptions{Observers: bo.Observers, Out: r.stderr})
	stop()
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeNotAService {
		return false, nil // a command line build owns the base: say so the usual way
	}
	if err != nil {
		return true, err
	}
	c2 := b.Counts
	switch b.State {
	case builddb.RequestCancelled:
		return true, &exitError{code: 130, msg: fmt.Sprintf("build %s was cancelled: running builds were stopped; the next run continues where this one stopped", b.ID)}
	case builddb.RequestFailed:
		return true, fmt.Errorf("build %s failed: %s", b.ID, b.Error)
	}
	fmt.Fprintf(r.stderr, "dsynth %s: %d built, %d failed, %d ignored, %d skipped (build %s on the service, %v)\n",
		d.Name, c2.Built, c2.Failed, c2.Ignored, c2.Skipped, b.ID, time.Duration(b.Duration).Round(time.Second))
	return true, r.portsFailed(c2.Failed, "the service's logs")
}
