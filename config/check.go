package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DirError reports a configured directory that is missing or unusable.
type DirError struct {
	Key  string // the dsynth.ini key, e.g. "Directory_portsdir"
	Path string
	Err  error // fs.ErrNotExist for a missing directory
}

// Error reads "Directory missing: X (Key)", as dsynth's message does.
func (e *DirError) Error() string {
	if errors.Is(e.Err, fs.ErrNotExist) {
		return fmt.Sprintf("Directory missing: %s (%s)", e.Path, e.Key)
	}
	return fmt.Sprintf("Directory unusable: %s (%s): %v", e.Path, e.Key, e.Err)
}

// Unwrap returns the underlying error.
func (e *DirError) Unwrap() error { return e.Err }

// CheckDirs checks that every directory the profile names exists, as dsynth
// does at startup; directives that build call it, init and help do not.
// Like dsynth, it creates the repository directory when it lies inside the
// packages directory. Every problem is reported (joined *DirError values).
func (p *Profile) CheckDirs() error {
	if within(p.RepositoryDir, p.PackagesDir) {
		// A failure shows up below as a missing directory.
		_ = os.Mkdir(p.RepositoryDir, 0o755)
	}
	dirs := []struct{ key, path string }{
		{"Directory_portsdir", p.PortsDir},
		{"Directory_packages", p.PackagesDir},
		{"Directory_repository", p.RepositoryDir},
		{"Directory_options", p.OptionsDir},
		{"Directory_distfiles", p.DistfilesDir},
		{"Directory_buildbase", p.BuildBase},
		{"Directory_logs", p.LogsDir},
		{"Directory_system", p.SystemDir},
	}
	if p.CcacheDir != "" {
		dirs = append(dirs, struct{ key, path string }{"Directory_ccache", p.CcacheDir})
	}
	var errs []error
	for _, d := range dirs {
		st, err := os.Stat(d.path)
		switch {
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // DirError names the path
			}
			errs = append(errs, &DirError{Key: d.key, Path: d.path, Err: err})
		case !st.IsDir():
			errs = append(errs, &DirError{Key: d.key, Path: d.path, Err: errors.New("not a directory")})
		}
	}
	return errors.Join(errs...)
}

// CheckDirs checks the selected profile's directories (see Profile.CheckDirs).
func (c *Config) CheckDirs() error {
	return c.Profile.CheckDirs()
}

// within reports whether path lies strictly inside dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
