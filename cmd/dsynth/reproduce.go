package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/reproduce"
	"github.com/go-dsynth/go-dsynth/run"
)

// Exit statuses of `dsynth reproduce` (and compare's usage errors).
const (
	exitDiffers       = 1 // the rebuilt package differs
	exitRebuildFailed = 2 // the rebuild made no package
	exitCannot        = 3 // an input is missing or cannot be restored
)

// reproFlags are the flags compare and reproduce take after the
// directive.
type reproFlags struct {
	json, force, keep bool
	dirs              []string
	args              []string
}

// parseReproFlags reads --json, --pkgdir DIR (repeatable), and for
// reproduce --force and --keep, from args.
func parseReproFlags(directive string, args []string, reproduce bool) (reproFlags, error) {
	var f reproFlags
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--json" || a == "-json":
			f.json = true
		case (a == "--force" || a == "-force") && reproduce:
			f.force = true
		case (a == "--keep" || a == "-keep") && reproduce:
			f.keep = true
		case a == "--pkgdir" || a == "-pkgdir":
			if i+1 >= len(args) {
				return f, &usageError{msg: directive + ": --pkgdir needs a directory"}
			}
			i++
			f.dirs = append(f.dirs, args[i])
		case strings.HasPrefix(a, "--pkgdir="):
			f.dirs = append(f.dirs, strings.TrimPrefix(a, "--pkgdir="))
		case strings.HasPrefix(a, "-") && a != "-":
			return f, &usageError{msg: fmt.Sprintf("%s: unknown flag %q", directive, a)}
		default:
			f.args = append(f.args, a)
		}
	}
	return f, nil
}

// runCompare is `dsynth compare [--json] [--pkgdir DIR]… A B` or
// `… ORIGIN RUN1 RUN2`.
func runCompare(ctx context.Context, r *runner, args []string) error {
	f, err := parseReproFlags("compare", args, false)
	if err != nil {
		return err
	}
	if len(f.args) != 2 && len(f.args) != 3 {
		return &usageError{msg: "compare takes two build UUIDs, or a port and two run UUIDs"}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	c, err := run.CompareBuilds(ctx, cfg, f.args, f.dirs)
	if errors.Is(err, reproduce.ErrUsage) {
		return &usageError{msg: err.Error()}
	}
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(r.stdout, c)
	}
	c.WriteText(r.stdout)
	return nil
}

// runReproduce is `dsynth reproduce [--json] [--force] [--keep]
// [--pkgdir DIR]… BUILD`.
func runReproduce(ctx context.Context, r *runner, args []string) error {
	f, err := parseReproFlags("reproduce", args, true)
	if err != nil {
		return err
	}
	if len(f.args) != 1 {
		return &usageError{msg: "reproduce takes one build UUID"}
	}
	id, err := uuid.Parse(f.args[0])
	if err != nil {
		return &usageError{msg: fmt.Sprintf("reproduce: %q is not a build UUID", f.args[0])}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	newEnv, layout := run.HostEnvironment()
	o := run.ReproduceOptions{Options: run.Options{Stderr: r.stderr, NewEnv: newEnv, Layout: layout, CleanSlots: run.HostCleanup(), NoNice: r.opts.noNice},
		PackageDirs: f.dirs, Force: f.force, Keep: f.keep}
	res, err := run.Reproduce(ctx, cfg, id, o)
	switch {
	case errors.Is(err, run.ErrNotReproducible):
		return &exitError{code: exitCannot, msg: err.Error()}
	case errors.Is(err, builder.ErrAborted):
		return &exitError{code: 130, msg: "interrupted"}
	case err != nil:
		return err
	}
	if f.json {
		if err := writeJSON(r.stdout, res); err != nil {
			return err
		}
	} else {
		writeVerdict(r.stdout, res)
	}
	switch res.Verdict.Verdict {
	case builddb.VerdictDiffers:
		return &exitError{code: exitDiffers}
	case builddb.VerdictFailed:
		return &exitError{code: exitRebuildFailed}
	}
	return nil
}

// writeVerdict prints a reproduction for a reader.
func writeVerdict(w io.Writer, res *run.ReproduceResult) {
	rec, v := res.Record, res.Verdict
	fmt.Fprintf(w, "build %s of %s %s: %s\n", rec.ID.UUID, rec.Origin(), rec.ID.Version, v.Verdict)
	if v.Detail != "" {
		fmt.Fprintf(w, "  %s\n", v.Detail)
	}
	if res.Diff != nil && !res.Diff.Identical {
		res.Diff.WriteText(w)
	}
	if res.Dir != "" {
		fmt.Fprintf(w, "  rebuilt package and log kept in %s\n", res.Dir)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
