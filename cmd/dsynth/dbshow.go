package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/run"
)

// dbShow is `dsynth db show BUILD [--json]`: one build record with its
// recorded inputs and reproduction verdicts.
func dbShow(ctx context.Context, r *runner, args []string) error {
	asJSON := false
	var ids []string
	for _, a := range args {
		switch a {
		case "--json", "-json":
			asJSON = true
		default:
			ids = append(ids, a)
		}
	}
	if len(ids) != 1 {
		return &usageError{msg: "db show takes one build UUID (and --json)"}
	}
	id, err := uuid.Parse(ids[0])
	if err != nil {
		return &usageError{msg: fmt.Sprintf("db show: %q is not a build UUID", ids[0])}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	rec, err := run.ShowBuild(ctx, cfg, id)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(r.stdout, rec)
	}
	showRecord(r.stdout, rec)
	return nil
}

// showRecord prints a build record for a reader.
func showRecord(w io.Writer, rec *builddb.BuildRecord) {
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-22s %s\n", k+":", v)
		}
	}
	line("build", rec.ID.UUID.String())
	line("origin", rec.Origin())
	line("version", rec.ID.Version)
	line("status", string(rec.Status))
	line("run", rec.RunID.String())
	line("started", rec.StartTime.Format(time.RFC3339))
	if !rec.EndTime.IsZero() {
		line("ended", rec.EndTime.Format(time.RFC3339)+" ("+rec.Duration.Round(time.Second).String()+")")
	}
	line("worker", fmt.Sprint(rec.ID.WorkerID))
	line("where", rec.Where)
	line("phase", rec.Phase)
	line("error", rec.ErrorMsg)
	if rec.PkgFile != "" {
		line("package", fmt.Sprintf("%s (%d bytes, sha256 %s)", rec.PkgFile, rec.PkgSize, rec.PkgChecksum))
	}
	showPhases(w, rec)
	line("log", rec.LogFile)
	line("system", rec.ID.SystemVer)
	line("ports commit", rec.ID.PortsCommit)
	line("port fingerprint", rec.ID.Fingerprint)
	line("options hash", rec.ID.Options)
	if in := rec.Inputs; in != nil {
		line("Mk fingerprint", in.MkFingerprint)
		line("template fingerprint", in.TemplateFingerprint)
		line("OSVERSION", in.OSVersion)
		line("options", strings.Join(in.Options, " "))
		for _, k := range slices.Sorted(maps.Keys(in.Toolchain)) {
			line("toolchain "+k, in.Toolchain[k])
		}
		if len(in.Deps) > 0 {
			fmt.Fprintln(w, "dependency packages:")
			for _, d := range in.Deps {
				fmt.Fprintf(w, "  %s %s sha256 %s\n", d.Origin, d.File, d.SHA256)
			}
		}
		if in.MakeConf != "" {
			fmt.Fprintln(w, "make.conf:")
			for _, l := range strings.Split(strings.TrimRight(in.MakeConf, "\n"), "\n") {
				fmt.Fprintf(w, "  %s\n", l)
			}
		}
	} else if rec.Status == builddb.StatusSuccess || rec.Status == builddb.StatusFailed {
		fmt.Fprintln(w, "inputs:                (not recorded: an older go-dsynth built it)")
	}
	if len(rec.EnvVars) > 0 {
		fmt.Fprintln(w, "environment:")
		for _, k := range slices.Sorted(maps.Keys(rec.EnvVars)) {
			fmt.Fprintf(w, "  %s=%s\n", k, rec.EnvVars[k])
		}
	}
	if len(rec.MakeArgs) > 0 {
		fmt.Fprintln(w, "make commands:")
		for _, a := range rec.MakeArgs {
			fmt.Fprintf(w, "  %s\n", a)
		}
	}
	for _, p := range rec.Reproductions {
		fmt.Fprintf(w, "reproduced %s: %s", p.Time.Format(time.RFC3339), p.Verdict)
		if len(p.Files) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(p.Files, ", "))
		}
		if p.Detail != "" {
			fmt.Fprintf(w, ": %s", p.Detail)
		}
		fmt.Fprintln(w)
	}
}

// showPhases prints the phases the attempt entered: each one's offset
// from the build's start and, up to the next phase or the build's end,
// how long it took.
func showPhases(w io.Writer, rec *builddb.BuildRecord) {
	if len(rec.Phases) == 0 {
		return
	}
	fmt.Fprintln(w, "phases:")
	for i, p := range rec.Phases {
		end := rec.EndTime
		if i+1 < len(rec.Phases) {
			end = rec.Phases[i+1].Start
		}
		took := ""
		if !end.IsZero() && !end.Before(p.Start) {
			took = "  " + end.Sub(p.Start).Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "  %-20s +%s%s\n", p.Phase, p.Start.Sub(rec.StartTime).Round(time.Millisecond), took)
	}
}
