package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/go-dsynth/go-dsynth/cluster"
	"github.com/go-dsynth/go-dsynth/run"
)

// runWorker is `dsynth worker --controller URL --creds FILE [--slots N]
// [--ca FILE]`: build a controller's ports on this host until
// interrupted.
func runWorker(ctx context.Context, r *runner, args []string) error {
	const usage = "worker needs --controller URL and --creds FILE, optionally --slots N and --ca FILE"
	flags, err := trailingFlags(args, "--controller", "--creds", "--slots", "--ca")
	if err != nil || flags["--controller"] == "" || flags["--creds"] == "" {
		return &usageError{usage}
	}
	slots := 0
	if v, ok := flags["--slots"]; ok {
		if slots, err = strconv.Atoi(v); err != nil || slots < 1 || slots > 64 {
			return &usageError{"--slots wants a number from 1 to 64"}
		}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	newEnv, layout := run.HostEnvironment()
	return run.Worker(ctx, cfg, run.WorkerOptions{Controller: flags["--controller"], Creds: flags["--creds"], CA: flags["--ca"],
		Slots: slots, Log: r.stderr, NewEnv: newEnv, Layout: layout})
}

// runWorkerKey is `dsynth worker-key NAME [--out FILE]`: credentials for a
// worker, its public key added to Cluster_workers (a running controller
// admits it within seconds), its seed written to FILE (default
// ./NAME.creds). `dsynth worker-key revoke NAME` removes it.
func runWorkerKey(_ context.Context, r *runner, args []string) error {
	const usage = "worker-key needs NAME, optionally --out FILE, or: worker-key revoke NAME"
	cfg, err := r.config()
	if err != nil {
		return err
	}
	c := cfg.Profile.Cluster
	if c.Workers == "" {
		return fmt.Errorf("%s: the [%s] profile has no cluster: set Cluster_listen first", cfg.File, cfg.ProfileName)
	}
	if len(args) == 2 && args[0] == "revoke" {
		found, err := cluster.RevokeWorkerKey(c.Workers, args[1])
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("no worker %q in %s", args[1], c.Workers)
		}
		fmt.Fprintf(r.stderr, "Revoked worker %s in %s.\n", args[1], c.Workers)
		return nil
	}
	if len(args) < 1 {
		return &usageError{usage}
	}
	flags, err := trailingFlags(args[1:], "--out")
	if err != nil {
		return &usageError{usage}
	}
	out := flags["--out"]
	if out == "" {
		out = args[0] + ".creds"
	}
	if err := cluster.IssueWorkerKey(c.Workers, args[0], out); err != nil {
		return err
	}
	fmt.Fprintf(r.stderr, "Worker %s admitted in %s; its credentials are in %s (keep them secret).\n", args[0], c.Workers, out)
	return nil
}
