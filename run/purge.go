package run

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run/scanenv"
)

// distFile is one regular file under the distfiles directory, as dsynth's
// scanit lists it: its path relative to the directory, whether it sits
// directly in a ".locks" directory, and whether a port claims it.
type distFile struct {
	rel     string
	inLocks bool
	found   bool
}

// scanDistfiles lists the regular files under dir (symbolic links and
// anything else are not listed; directories that cannot be read are
// passed over), sorted by path as strcmp sorts, as dsynth's scanit and
// pinfocmp do.
func scanDistfiles(dir string) []*distFile {
	var out []*distFile
	var scan func(path, rel string, inLocks bool)
	scan = func(path, rel string, inLocks bool) {
		ents, err := os.ReadDir(path)
		if err != nil {
			return
		}
		for _, e := range ents {
			name := e.Name()
			p := path + "/" + name
			r := name
			if rel != "" {
				r = rel + "/" + name
			}
			fi, err := os.Lstat(p)
			switch {
			case err != nil:
			case fi.IsDir():
				scan(p, r, name == ".locks")
			case fi.Mode().IsRegular():
				out = append(out, &distFile{rel: r, inLocks: inLocks})
			}
		}
	}
	scan(dir, "", false)
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out
}

// lockFile is dsynth's md5lkfile: the fetch lock file of rpath (relative
// to the distfiles directory) in the .locks directory after the first
// whichSlash components of rpath. The ports framework's do-fetch names it
// after `echo name | md5`, so the MD5 is of the rest of the path followed
// by a newline.
func lockFile(rpath string, whichSlash int) string {
	cut := 0
	for range whichSlash {
		i := strings.IndexByte(rpath[cut:], '/')
		if i < 0 {
			cut = len(rpath)
			break
		}
		cut += i + 1
	}
	sum := md5.Sum([]byte(rpath[cut:] + "\n"))
	return rpath[:cut] + ".locks/" + hex.EncodeToString(sum[:]) + ".lk"
}

// markDistfiles marks the files the ports claim, as dsynth's
// PurgeDistfiles does: each word of a port's ALLFILES (under its
// DIST_SUBDIR when it has one), tried as written and then without each
// trailing ":group" suffix in turn; a distfile found outside a .locks
// directory also claims its lock file in every .locks directory from the
// top of the distfiles tree down to its own. Everything left unmarked is
// obsolete, orphan lock files included.
func markDistfiles(files []*distFile, infos []*ports.Info) {
	find := func(rel string) *distFile {
		i := sort.Search(len(files), func(i int) bool { return files[i].rel >= rel })
		if i < len(files) && files[i].rel == rel {
			return files[i]
		}
		return nil
	}
	for _, in := range infos {
		if in == nil {
			continue
		}
		for _, d := range strings.FieldsFunc(in.AllFiles, func(r rune) bool { return r == ' ' || r == '\t' }) {
			for {
				rel := d
				if in.DistSubdir != "" {
					rel = in.DistSubdir + "/" + d
				}
				if f := find(rel); f != nil {
					f.found = true
					if !f.inLocks {
						for i := 0; i <= strings.Count(rel, "/"); i++ {
							if lk := find(lockFile(rel, i)); lk != nil {
								lk.found = true
							}
						}
					}
				}
				i := strings.LastIndexByte(d, ':')
				if i < 0 {
					break
				}
				d = d[:i]
			}
		}
	}
}

// PurgeDistfiles is dsynth's purge-distfiles: scan the whole tree for
// ALLFILES and DIST_SUBDIR, list the regular files of the distfiles
// directory, and delete the ones no port claims (lock files of distfiles
// that are gone included) after asking "Delete N of M items? " (unless
// yes), with dsynth's messages. It returns how many files it deleted.
func PurgeDistfiles(ctx context.Context, cfg *config.Config, yes bool, in io.Reader, out io.Writer) (int, error) {
	setup, err := scanenv.New(ctx, cfg, scanenv.Options{Log: io.Discard})
	if err != nil {
		return 0, err
	}
	res, err := setup.Scanner.ScanAll(ctx)
	if err != nil {
		return 0, err
	}
	return purgeDistfiles(cfg.Profile.DistfilesDir, res.Infos, yes, in, out), nil
}

// purgeDistfiles is PurgeDistfiles once the tree is scanned.
func purgeDistfiles(dir string, infos []*ports.Info, yes bool, in io.Reader, out io.Writer) int {
	fmt.Fprint(out, "Scanning distfiles... ")
	files := scanDistfiles(dir)
	fmt.Fprintf(out, "Checking %d distfiles\n", len(files))
	markDistfiles(files, infos)
	del := 0
	for _, f := range files {
		if !f.found {
			del++
		}
	}
	if del == 0 {
		fmt.Fprintf(out, "No obsolete source files out of %d found\n", len(files))
		return 0
	}
	if !yes && !askYesNo(bufio.NewReader(in), out, fmt.Sprintf("Delete %d of %d items? ", del, len(files))) {
		return 0
	}
	fmt.Fprintf(out, "Deleting %d/%d obsolete source distfiles\n", del, len(files))
	n := 0
	for _, f := range files {
		if f.found {
			continue
		}
		if err := os.Remove(filepath.Join(dir, f.rel)); err != nil {
			fmt.Fprintf(out, "Cannot delete %s/%s\n", dir, f.rel)
			continue
		}
		fmt.Fprintf(out, "Deleted %s\n", f.rel)
		n++
	}
	return n
}
