package run

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run/scanenv"
)

// Referenced returns the distfile paths (relative to the distfiles
// directory: DIST_SUBDIR/file) that the scanned ports name in ALLFILES.
func Referenced(infos []*ports.Info) map[string]bool {
	ref := map[string]bool{}
	for _, in := range infos {
		if in.Status != ports.StatusOK {
			continue
		}
		for _, f := range strings.Fields(in.AllFiles) {
			ref[filepath.Clean(filepath.Join(in.DistSubdir, f))] = true
		}
	}
	return ref
}

// Unreferenced lists the files under dir that no port references, and the
// dsynth fetch lock files (.locks/<md5 of the name>.lk) that belong to them.
func Unreferenced(dir string, ref map[string]bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			if rel == ".locks" {
				return filepath.SkipDir
			}
			return nil
		}
		if !ref[rel] {
			out = append(out, rel)
			lk := filepath.Join(".locks", lockName(rel))
			if _, err := os.Stat(filepath.Join(dir, lk)); err == nil {
				out = append(out, lk)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func lockName(rel string) string {
	h := md5.Sum([]byte(rel))
	return hex.EncodeToString(h[:]) + ".lk"
}

// PurgeDistfiles is dsynth's purge-distfiles: scan the whole tree for
// ALLFILES and DIST_SUBDIR, list the distfiles no port references, ask
// (unless yes), and delete them with their lock files.
func PurgeDistfiles(ctx context.Context, cfg *config.Config, yes bool, in io.Reader, out io.Writer) (int, error) {
	setup, err := scanenv.New(ctx, cfg, scanenv.Options{Log: io.Discard})
	if err != nil {
		return 0, err
	}
	fmt.Fprintln(out, "Scanning the ports tree for distfiles...")
	res, err := setup.Scanner.ScanAll(ctx)
	if err != nil {
		return 0, err
	}
	dir := cfg.Profile.DistfilesDir
	list, err := Unreferenced(dir, Referenced(res.Infos))
	if err != nil {
		return 0, fmt.Errorf("purge-distfiles: %w", err)
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "No obsolete distfiles.")
		return 0, nil
	}
	for _, f := range list {
		fmt.Fprintf(out, "  %s\n", f)
	}
	if !yes {
		fmt.Fprintf(out, "Delete these %d files? [y/N] ", len(list))
		line, _ := bufio.NewReader(in).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(out, "Nothing deleted.")
			return 0, nil
		}
	}
	n := 0
	for _, f := range list {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			return n, fmt.Errorf("purge-distfiles: %w", err)
		}
		n++
	}
	fmt.Fprintf(out, "Deleted %d files.\n", n)
	return n, nil
}
