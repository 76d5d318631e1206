package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/run"
)

// dbTimeout bounds every wait for another process's transaction.
const dbTimeout = 10 * time.Second

// buildBase returns the configured build base.
func (r *runner) buildBase() (string, error) {
	cfg, err := r.config()
	if err != nil {
		return "", err
	}
	if cfg.Profile.BuildBase == "" {
		return "", errors.New("the profile sets no Directory_buildbase")
	}
	return cfg.Profile.BuildBase, nil
}

// runDB is `dsynth db stats|show BUILD|export [--all]|import FILE|clean|compact|import-legacy FILE|recover`.
func runDB(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return &usageError{msg: "db needs a subcommand: stats, show BUILD [--json], export [--all], import FILE|-, clean [-older-than 90d], compact, import-legacy FILE, recover"}
	}
	base, err := r.buildBase()
	if err != nil {
		return err
	}
	path := builddb.Path(base)
	sub, rest := args[0], args[1:]
	switch sub {
	case "stats":
		if len(rest) > 0 {
			return &usageError{msg: "db stats takes no arguments"}
		}
		return dbStats(ctx, r, base)
	case "show":
		return dbShow(ctx, r, rest)
	case "export":
		all := false
		for _, a := range rest {
			switch a {
			case "-a", "--all", "-all":
				all = true
			default:
				return &usageError{msg: fmt.Sprintf("db export: unknown argument %q (--all writes the complete dump)", a)}
			}
		}
		if all {
			return dbDump(ctx, r, base)
		}
		return dbExport(ctx, r, base)
	case "import":
		if len(rest) != 1 {
			return &usageError{msg: "db import needs exactly one FILE (a complete dump of `dsynth db export --all`; - reads stdin)"}
		}
		return dbImport(r, base, path, rest[0])
	case "clean":
		return dbClean(ctx, r, base, path, rest)
	case "compact":
		if len(rest) > 0 {
			return &usageError{msg: "db compact takes no arguments"}
		}
		if c, err := run.Dial(base); err == nil {
			// The owner compacts its own handle (refused during a build).
			defer c.Close()
			res, err := c.Compact(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "compacted %s: %d -> %d bytes\n", path, res.BeforeBytes, res.AfterBytes)
			return nil
		} else if !errors.Is(err, run.ErrNoOwner) {
			return err
		}
		return withLock(base, func() error {
			before, after, err := builddb.Compact(path, dbTimeout)
			if err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "compacted %s: %d -> %d bytes\n", path, before, after)
			return nil
		})
	case "import-legacy":
		if len(rest) != 1 {
			return &usageError{msg: "db import-legacy needs exactly one FILE (dsynth's ports_crc.db)"}
		}
		return dbImportLegacy(r, base, path, rest[0])
	case "recover":
		if len(rest) > 0 {
			return &usageError{msg: "db recover takes no arguments"}
		}
		return dbRecover(r, base, path)
	}
	return &usageError{msg: fmt.Sprintf("unknown db subcommand %q (stats, show, export, import, clean, compact, import-legacy, recover)", sub)}
}

// withLock runs fn holding the build base lock, like a dsynth run.
func withLock(base string, fn func() error) error {
	lock, err := builddb.LockBuildBase(base)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	return fn()
}

func openReader(path string) (*builddb.DB, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no build database at %s yet (it is created by the first build)", path)
	}
	return builddb.OpenReader(filepath.Dir(path), builddb.Options{Timeout: dbTimeout})
}

// dbStats prints the statistics of the whole history: the owner's answer
// when a process owns the build base (the file is not touched), else the
// file's, opened briefly.
func dbStats(ctx context.Context, r *runner, base string) error {
	c, err := run.Dial(base)
	if err == nil {
		defer c.Close()
		data, err := c.Stats(ctx)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := json.Indent(&b, data, "", "  "); err != nil {
			return fmt.Errorf("the owner's statistics: %w", err)
		}
		b.WriteByte('\n')
		_, err = r.stdout.Write(b.Bytes())
		return err
	}
	if !errors.Is(err, run.ErrNoOwner) {
		return err
	}
	db, err := openReader(builddb.Path(base))
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := db.Stats(time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(r.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// dbExport writes every record as JSON lines: the owner's answer when a
// process owns the build base, else the file's.
func dbExport(ctx context.Context, r *runner, base string) error {
	var n int
	c, err := run.Dial(base)
	switch {
	case err == nil:
		defer c.Close()
		n, err = c.Export(ctx, r.stdout)
	case errors.Is(err, run.ErrNoOwner):
		var db *builddb.DB
		if db, err = openReader(builddb.Path(base)); err != nil {
			return err
		}
		defer db.Close()
		n, err = db.Export(r.stdout)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stderr, "exported %d records\n", n)
	return nil
}

// dbDump writes the complete dump (builddb.Dumper): the owner's when a
// process owns the build base, else the file's.
func dbDump(ctx context.Context, r *runner, base string) error {
	c, err := run.Dial(base)
	switch {
	case err == nil:
		defer c.Close()
		n, err := c.Dump(ctx, r.stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "exported %d lines\n", n)
		return nil
	case !errors.Is(err, run.ErrNoOwner):
		return err
	}
	path := builddb.Path(base)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// Nothing recorded yet: the dump of an empty database.
		return builddb.EmptyDump(r.stdout)
	}
	db, err := openReader(path)
	if err != nil {
		return err
	}
	defer db.Close()
	counts, err := db.Dump(r.stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stderr, "exported %d records, %d runs, %d rebuild inputs and %d intents\n", counts.Records, counts.Runs, counts.Inputs, counts.Intents)
	return nil
}

// dbImport restores a complete dump into the build base's database, which
// must be empty, holding the build base lock (refused while an owner
// runs).
func dbImport(r *runner, base, path, file string) error {
	in, name := r.stdin, "stdin"
	if in == nil {
		in = os.Stdin
	}
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("db import: %w", err)
		}
		defer f.Close()
		in, name = f, file
	}
	err := withLock(base, func() error {
		counts, err := builddb.ImportDump(path, in, name, dbTimeout)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "imported %d records, %d runs, %d rebuild inputs and %d intents into %s\n",
			counts.Records, counts.Runs, counts.Inputs, counts.Intents, path)
		return nil
	})
	if errors.Is(err, builddb.ErrLocked) {
		return fmt.Errorf("db import restores only into a build base that nothing owns (stop `dsynth serve` or the build first): %w", err)
	}
	return err
}

func dbClean(ctx context.Context, r *runner, base, path string, args []string) error {
	var opts builddb.CleanOptions
	var age string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-older-than" || a == "--older-than":
			if i+1 == len(args) {
				return &usageError{msg: "-older-than needs an age (90d, 720h)"}
			}
			i++
			age = args[i]
			d, err := api.ParseAge(age)
			if err != nil {
				return &usageError{msg: err.Error()}
			}
			opts.Before = time.Now().Add(-d)
		default:
			return &usageError{msg: fmt.Sprintf("db clean: unknown argument %q", a)}
		}
	}
	if c, err := run.Dial(base); err == nil {
		// The owner cleans its own handle (refused during a build).
		defer c.Close()
		res, err := c.Clean(ctx, age)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "removed %d records and %d rebuild inputs\n", res.Records, res.Inputs)
		return nil
	} else if !errors.Is(err, run.ErrNoOwner) {
		return err
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	if opts.Exists, err = run.PortsTree(cfg.Profile.PortsDir); err != nil {
		return fmt.Errorf("db clean: %w", err)
	}
	return withLock(base, func() error {
		db, err := builddb.Open(path, builddb.Options{Timeout: dbTimeout})
		if err != nil {
			return err
		}
		defer db.Close()
		res, err := db.Clean(opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "removed %d records and %d rebuild inputs\n", res.Records, res.Inputs)
		return nil
	})
}

func dbImportLegacy(r *runner, base, path, file string) error {
	entries, err := builddb.ReadLegacyCRC(file)
	if err != nil {
		return err
	}
	return withLock(base, func() error {
		db, err := builddb.Open(path, builddb.Options{Timeout: dbTimeout})
		if err != nil {
			return err
		}
		defer db.Close()
		n, err := db.ImportLegacy(entries, false)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "imported %d entries from %s (%d read)\n", n, file, len(entries))
		return nil
	})
}

func dbRecover(r *runner, base, path string) error {
	return withLock(base, func() error {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("db recover: %w", err)
		}
		fresh := path + ".recovered"
		os.Remove(fresh)
		rep, err := builddb.Recover(path, fresh)
		if err != nil {
			os.Remove(fresh)
			return err
		}
		kept := fmt.Sprintf("%s.damaged-%s", path, time.Now().Format("20060102-150405"))
		if err := os.Rename(path, kept); err != nil {
			return fmt.Errorf("db recover: %w", err)
		}
		if err := os.Rename(fresh, path); err != nil {
			return fmt.Errorf("db recover: %w", err)
		}
		fmt.Fprintf(r.stdout, "recovered %d records, %d runs and %d rebuild inputs into %s; the damaged file is kept as %s\n",
			rep.Records, rep.Runs, rep.Inputs, path, kept)
		if rep.Damaged > 0 {
			fmt.Fprintf(r.stdout, "%d damaged values could not be saved\n", rep.Damaged)
		}
		return nil
	})
}

// runResetDB is dsynth's reset-db: under the build base lock it removes
// <BuildBase>/ports_crc.db and prints dsynth's line, whether or not the
// file was there (dsynth ignores remove's result), and it forgets the
// rebuild inputs in go-dsynth's database (the build history stays), which
// is to go-dsynth what the CRC file is to dsynth: the next build keeps
// the packages it finds and records their inputs again.
func runResetDB(_ context.Context, r *runner, args []string) error {
	if len(args) > 0 {
		return &usageError{msg: "reset-db takes no arguments"}
	}
	base, err := r.buildBase()
	if err != nil {
		return err
	}
	return withLock(base, func() error {
		legacy := filepath.Join(base, builddb.LegacyFileName)
		if err := os.Remove(legacy); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reset-db: %w", err)
		}
		fmt.Fprint(r.stdout, resetDBLine(base))
		path := builddb.Path(base)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		db, err := builddb.Open(path, builddb.Options{Timeout: dbTimeout})
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Reset()
		return err
	})
}

// resetDBLine is what dsynth's reset-db prints: the CRC file's path
// (BuildBase "/ports_crc.db", as the configuration spells the build
// base) and " reset, will be regenerated on next build".
func resetDBLine(base string) string {
	return base + "/" + builddb.LegacyFileName + " reset, will be regenerated on next build\n"
}
