package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/native"
	"github.com/go-dsynth/go-dsynth/run"
)

// runInSlot sets up a fresh slot of the selected profile, runs one command
// there and tears the slot down.
func runInSlot(ctx context.Context, r *runner, cmd environment.Command) (environment.Result, error) {
	res := environment.Result{ExitCode: -1}
	cfg, err := r.config()
	if err != nil {
		return res, err
	}
	p := &cfg.Profile
	if p.BuildBase == "" {
		return res, errors.New("the profile has no Directory_buildbase")
	}
	if err := environment.EnsureTemplate(run.TemplateDir(p), p.SystemDir); err != nil {
		return res, err
	}
	for slot := run.FirstUtilitySlot; slot <= run.LastUtilitySlot; slot++ {
		settings := run.SlotSettings(p, native.Layout, slot)
		settings.Debug = run.WithDebug(cfg)
		plan, err := environment.BuildPlan(settings)
		if err != nil {
			return res, err
		}
		env := native.New()
		err = env.Setup(ctx, plan)
		if errors.Is(err, environment.ErrSlotInUse) {
			continue
		}
		if err != nil {
			return res, err
		}
		res, err = env.Execute(ctx, cmd)
		if terr := env.Teardown(); terr != nil && err == nil {
			err = terr
		}
		return res, err
	}
	return res, fmt.Errorf("slots SL%02d to SL%02d are all in use (dsynth cleanup removes slots left by a crash)", run.FirstUtilitySlot, run.LastUtilitySlot)
}

// runExec is `dsynth exec [--] command…`.
func runExec(ctx context.Context, r *runner, args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return &usageError{msg: "exec needs a command"}
	}
	res, err := runInSlot(ctx, r, environment.Command{
		Args: args, Env: environment.WorkerEnv(""), Dir: "/",
		Stdin: os.Stdin, Stdout: r.stdout, Stderr: r.stderr,
	})
	return slotExit(res, err)
}

// runShell is `dsynth shell`: an interactive shell in a fresh slot. The
// shell's end (exit, ^D) tears the slot down; ^C does not end the session.
func runShell(ctx context.Context, r *runner, args []string) error {
	if len(args) != 0 {
		return &usageError{msg: "shell takes no arguments"}
	}
	tty := false
	if st, err := os.Stdin.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		tty = true
	}
	res, err := runInSlot(context.WithoutCancel(ctx), r, environment.Command{
		Args: []string{"/bin/sh", "-i"}, Env: append(environment.WorkerEnv(os.Getenv("TERM")), "PS1=dsynth-slot# "), Dir: "/",
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, TTY: tty,
	})
	return slotExit(res, err)
}

// slotExit turns a command's outcome into the CLI's exit status.
func slotExit(res environment.Result, err error) error {
	if err != nil {
		if errors.Is(err, environment.ErrNotFound) {
			return &exitError{code: 127, msg: err.Error()}
		}
		return err
	}
	if res.ExitCode != 0 {
		return &exitError{code: res.ExitCode}
	}
	return nil
}

// runCleanup is `dsynth cleanup`: remove every slot a crashed controller
// left behind under the profile's build base.
func runCleanup(_ context.Context, r *runner, args []string) error {
	if len(args) != 0 {
		return &usageError{msg: "cleanup takes no arguments"}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	results, err := native.Cleanup(cfg.Profile.BuildBase)
	removed := 0
	for _, c := range results {
		if c.InUse {
			fmt.Fprintf(r.stdout, "%s: in use by a running dsynth, left alone\n", c.Slot)
			continue
		}
		if c.Incomplete {
			fmt.Fprintf(r.stdout, "%s: NOT fully removed (%d processes killed, %d mounts removed; see the error below)\n", c.Slot, c.Killed, c.Unmounted)
			continue
		}
		removed++
		fmt.Fprintf(r.stdout, "%s: removed (%d processes killed, %d mounts removed)\n", c.Slot, c.Killed, c.Unmounted)
	}
	if removed == 0 && err == nil {
		fmt.Fprintln(r.stdout, "no slot to clean up")
	}
	return err
}
