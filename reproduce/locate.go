package reproduce

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// ErrMissing is returned when a package with the wanted digest is in none
// of the directories searched.
var ErrMissing = errors.New("no longer available")

// sha256Of is the digest function, a variable of the Finder for tests.
type sha256Of func(path string) (string, error)

// Finder finds package files by SHA-256 in a list of directories: first
// under the expected file name in each, then any file of the expected
// size in each (a package kept under another name). Digests are computed
// once per file.
type Finder struct {
	Dirs []string
	// Digest hashes a file (builder.FileSHA256).
	Digest sha256Of
	memo   map[string]string
}

// Find returns the path of a file named name (a hint), size bytes long
// (0: any), whose SHA-256 is sum.
func (f *Finder) Find(name, sum string, size int64) (string, error) {
	if sum == "" {
		return "", fmt.Errorf("%s: no SHA-256 recorded", name)
	}
	sum = strings.TrimPrefix(sum, "sha256:")
	digest := func(p string) string {
		if f.memo == nil {
			f.memo = map[string]string{}
		}
		if d, ok := f.memo[p]; ok {
			return d
		}
		d, err := f.Digest(p)
		if err != nil {
			d = ""
		}
		f.memo[p] = d
		return d
	}
	if name != "" {
		for _, d := range f.Dirs {
			p := filepath.Join(d, filepath.Base(name))
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && digest(p) == sum {
				return p, nil
			}
		}
	}
	for _, d := range f.Dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			p := filepath.Join(d, e.Name())
			if size > 0 {
				if st, err := e.Info(); err != nil || st.Size() != size {
					continue
				}
			}
			if digest(p) == sum {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("package %s (sha256 %s): %w in %s", name, sum, ErrMissing, strings.Join(f.Dirs, ", "))
}

// Locate finds the package of build record r in dirs by its recorded
// SHA-256.
func Locate(r *builddb.BuildRecord, dirs []string) (string, error) {
	if r.PkgFile == "" || r.PkgChecksum == "" {
		return "", fmt.Errorf("build %s of %s recorded no package", r.ID.UUID, r.Origin())
	}
	f := Finder{Dirs: dirs, Digest: fileSHA256}
	return f.Find(r.PkgFile, r.PkgChecksum, r.PkgSize)
}

// LocateDeps finds every dependency package a build installed, by its
// recorded SHA-256; the error names each one that is missing.
func LocateDeps(r *builddb.BuildRecord, dirs []string) (map[string]string, error) {
	if r.Inputs == nil {
		return nil, fmt.Errorf("build %s of %s has no recorded inputs (recorded before go-dsynth kept them)", r.ID.UUID, r.Origin())
	}
	f := Finder{Dirs: dirs, Digest: fileSHA256}
	out := map[string]string{}
	var missing []string
	for _, d := range r.Inputs.Deps {
		p, err := f.Find(d.File, d.SHA256, 0)
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s (%s, sha256 %s)", d.Origin, d.File, d.SHA256))
			continue
		}
		out[d.File] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("dependency package %s %w in %s", strings.Join(missing, ", "), ErrMissing, strings.Join(dirs, ", "))
	}
	return out, nil
}
