package environment

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TemplateMarker is the file whose presence says a template is complete
// (dsynth's .template.good).
const TemplateMarker = ".template.good"

// passwordFiles hold password hashes in their second colon-separated field;
// the template keeps the accounts but replaces every hash with "*".
var passwordFiles = []string{"master.passwd", "shadow", "gshadow", "shadow-", "gshadow-"}

// secretDirs are emptied in the template's /etc.
var secretDirs = []string{"ssl/private"}

// BuildTemplate writes dsynth's slot template into dst, which must not
// exist yet, from the system rooted at systemDir ("" = "/"):
//   - tmp and var/tmp with mode 1777;
//   - a copy of etc with secrets stripped: etc/ssh/*key* removed, the
//     password fields of master.passwd, shadow and gshadow replaced by "*",
//     etc/ssl/private emptied; database files derived from master.passwd
//     (spwd.db) are removed so no hash survives; etc/localtime is removed,
//     as mktemplate.sh does, so every port builds in UTC;
//   - every directory under var (directories only), plus var/mail,
//     var/games, var/msgs and var/run, and var/run/ld-elf.so.hints when the
//     system has it;
//   - root and usr/local/{etc,etc/pkg,bin,sbin,lib};
//   - finally the TemplateMarker file.
//
// Files the caller cannot read (secrets, when not root) are skipped.
func BuildTemplate(dst, systemDir string) error {
	if systemDir == "" {
		systemDir = "/"
	}
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("environment: template %s already exists", dst)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("environment: template: %w", err)
	}
	for _, d := range []string{"tmp", "var/tmp"} {
		if err := mkdirMode(filepath.Join(dst, d), fs.ModeSticky|0o777); err != nil {
			return err
		}
	}
	if err := CopyTree(filepath.Join(systemDir, "etc"), filepath.Join(dst, "etc"), copySkipUnreadable); err != nil {
		return fmt.Errorf("environment: template: copy etc: %w", err)
	}
	if err := stripSecrets(filepath.Join(dst, "etc")); err != nil {
		return fmt.Errorf("environment: template: %w", err)
	}
	if err := os.Remove(filepath.Join(dst, "etc/localtime")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("environment: template: %w", err)
	}
	if err := copyDirs(filepath.Join(systemDir, "var"), filepath.Join(dst, "var")); err != nil {
		return fmt.Errorf("environment: template: var directories: %w", err)
	}
	for _, d := range []struct {
		path string
		mode fs.FileMode
	}{
		{"var/mail", 0o775}, {"var/games", 0o775}, {"var/msgs", 0o755}, {"var/run", 0o755},
		{"root", 0o700}, {"usr/local/etc/pkg", 0o755}, {"usr/local/bin", 0o755},
		{"usr/local/sbin", 0o755}, {"usr/local/lib", 0o755},
	} {
		if err := mkdirMode(filepath.Join(dst, d.path), d.mode); err != nil {
			return err
		}
	}
	hints := filepath.Join(systemDir, "var/run/ld-elf.so.hints")
	if _, err := os.Stat(hints); err == nil {
		if err := copyFile(hints, filepath.Join(dst, "var/run/ld-elf.so.hints"), 0o644); err != nil {
			return fmt.Errorf("environment: template: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dst, TemplateMarker), nil, 0o644); err != nil {
		return fmt.Errorf("environment: template: %w", err)
	}
	return nil
}

// EnsureTemplate builds the template at dir unless a complete one (with
// TemplateMarker) is there. It builds into a temporary sibling and renames
// it into place, so concurrent callers never see a half-built template.
func EnsureTemplate(dir, systemDir string) error {
	if _, err := os.Stat(filepath.Join(dir, TemplateMarker)); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("environment: template: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".Template.tmp-")
	if err != nil {
		return fmt.Errorf("environment: template: %w", err)
	}
	build := filepath.Join(tmp, "t")
	if err := BuildTemplate(build, systemDir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if _, err := os.Stat(dir); err == nil {
		// An incomplete template (no marker): replace it.
		if _, err := os.Stat(filepath.Join(dir, TemplateMarker)); err != nil {
			if err := os.RemoveAll(dir); err != nil {
				os.RemoveAll(tmp)
				return fmt.Errorf("environment: template: remove incomplete %s: %w", dir, err)
			}
		}
	}
	err = os.Rename(build, dir)
	os.RemoveAll(tmp)
	if err != nil {
		if _, serr := os.Stat(filepath.Join(dir, TemplateMarker)); serr == nil {
			return nil // another caller won the race
		}
		return fmt.Errorf("environment: template: %w", err)
	}
	return nil
}

func mkdirMode(dir string, mode fs.FileMode) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("environment: template: %w", err)
	}
	// Chmod, because MkdirAll's mode goes through the umask and drops the
	// sticky bit.
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("environment: template: %w", err)
	}
	return nil
}

// CopyOption adjusts CopyTree.
type CopyOption int

const (
	// copySkipUnreadable skips files that cannot be read instead of failing.
	copySkipUnreadable CopyOption = 1 << iota
)

// CopyTree copies the directory src to dst (created if needed) like
// `cp -Rp`: directories, regular files and symbolic links, with modes and,
// where the platform allows, owners and times. Other file types (sockets,
// devices) are skipped.
func CopyTree(src, dst string, opts ...CopyOption) error {
	var o CopyOption
	for _, x := range opts {
		o |= x
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if o&copySkipUnreadable != 0 && errors.Is(err, fs.ErrPermission) {
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(to, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(to, info.Mode().Perm()|info.Mode()&(fs.ModeSticky|fs.ModeSetgid|fs.ModeSetuid)); err != nil {
				return err
			}
			copyOwner(info, to)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, to); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			copyOwner(info, to)
		case info.Mode().IsRegular():
			if err := copyFile(p, to, info.Mode()); err != nil {
				if o&copySkipUnreadable != 0 && errors.Is(err, fs.ErrPermission) {
					return nil
				}
				return err
			}
			copyOwner(info, to)
			_ = os.Chtimes(to, info.ModTime(), info.ModTime())
		}
		return nil
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode.Perm()|mode&(fs.ModeSticky|fs.ModeSetgid|fs.ModeSetuid))
}

// copyDirs recreates the directory hierarchy of src under dst, without files.
func copyDirs(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dst, 0o755)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fs.SkipDir
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(to, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(to, info.Mode().Perm()|info.Mode()&fs.ModeSticky); err != nil {
			return err
		}
		copyOwner(info, to)
		return nil
	})
}

// stripSecrets removes host secrets from a copied etc directory.
func stripSecrets(etc string) error {
	keys, err := filepath.Glob(filepath.Join(etc, "ssh", "*key*"))
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := os.RemoveAll(k); err != nil {
			return fmt.Errorf("strip %s: %w", k, err)
		}
	}
	for _, d := range secretDirs {
		entries, err := os.ReadDir(filepath.Join(etc, d))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(etc, d, e.Name())); err != nil {
				return fmt.Errorf("strip %s: %w", e.Name(), err)
			}
		}
	}
	for _, name := range passwordFiles {
		if err := StripPasswordFile(filepath.Join(etc, name)); err != nil {
			return err
		}
	}
	if err := os.Remove(filepath.Join(etc, "spwd.db")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("strip spwd.db: %w", err)
	}
	return nil
}

// StripPasswordFile replaces the second colon-separated field of every
// account line of a passwd-style file (master.passwd, shadow) with "*",
// keeping comments and blank lines. A missing file is not an error.
func StripPasswordFile(file string) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("strip %s: %w", file, err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.Contains(line, ":") {
			out.WriteString(line + "\n")
			continue
		}
		f := strings.SplitN(line, ":", 3)
		if len(f) >= 2 && f[1] != "" && f[1] != "*" {
			f[1] = "*"
		}
		out.WriteString(strings.Join(f, ":") + "\n")
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("strip %s: %w", file, err)
	}
	st, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("strip %s: %w", file, err)
	}
	if err := os.WriteFile(file, out.Bytes(), st.Mode().Perm()); err != nil {
		return fmt.Errorf("strip %s: %w", file, err)
	}
	return nil
}
