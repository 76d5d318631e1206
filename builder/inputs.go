package builder

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/digest"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Replay makes a Builder rebuild ports from recorded inputs instead of
// the current ones (`dsynth reproduce`).
type Replay struct {
	// Deps replace the install set computed from the graph: these package
	// files (relative to Options.RepositoryDir) are installed in order.
	Deps []builddb.DepPackage
	// MakeConf replaces the generated make.conf when not empty.
	MakeConf string
	// Options, when CheckOptions is set, are the options the port must
	// build with (as recorded): a port whose options in the slot differ
	// fails in its set-up, phase "options", naming them.
	Options      []string
	CheckOptions bool
}

// inputTracker computes the build inputs shared by a run's ports, each
// once: the fingerprint of the ports tree's Mk/, of the slot template, and
// the digests of dependency packages (remembered by size and modification
// time, so a package is read once per run unless it is replaced).
type inputTracker struct {
	mu         sync.Mutex
	mk         string
	mkDone     bool
	tmpl       string
	tmplKey    string
	digests    digest.Memo
	commitOnce sync.Once
	commit     string
}

// FileSHA256 returns the hex SHA-256 of a file's content.
func FileSHA256(path string) (string, error) { return digest.File(path) }

// digest is the SHA-256 of a package file, from memory when the file has
// the size and modification time it had when it was last read.
func (t *inputTracker) digest(path string) (string, error) {
	sum, _, err := t.digests.SHA256(path)
	return sum, err
}

// mkFingerprint is the content fingerprint of portsDir/Mk, once per run
// ("" when there is no ports tree or it cannot be read).
func (t *inputTracker) mkFingerprint(portsDir string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.mkDone && portsDir != "" {
		t.mk, _ = MkFingerprint(portsDir)
	}
	t.mkDone = true
	return t.mk
}

// templateFingerprint is the fingerprint of the slot template, computed
// again only when the template's markers changed (the package tool is
// installed into it during a run).
func (t *inputTracker) templateFingerprint(dir string) string {
	if dir == "" {
		return ""
	}
	key := markerKey(dir)
	t.mu.Lock()
	defer t.mu.Unlock()
	if key != "" && key == t.tmplKey {
		return t.tmpl
	}
	sum, err := TemplateFingerprint(dir)
	if err != nil {
		return ""
	}
	t.tmpl, t.tmplKey = sum, key
	return sum
}

// markerKey describes the template's marker files (when they change, the
// template did).
func markerKey(dir string) string {
	var b strings.Builder
	for _, m := range []string{environment.TemplateMarker, ".pkg-tool"} {
		if st, err := os.Stat(filepath.Join(dir, m)); err == nil {
			fmt.Fprintf(&b, "%s %d %d;", m, st.Size(), st.ModTime().UnixNano())
		}
	}
	return b.String()
}

// TreeFingerprint is a content fingerprint (hex SHA-256) of a directory
// tree: every entry's path relative to dir, type, permission bits, and the
// content of regular files or the target of symbolic links, in path order.
// Modification times and owners are not part of it.
func TreeFingerprint(dir string) (string, error) { return treeFingerprint(dir, nil) }

// TemplateFingerprint is the fingerprint of a slot template's system
// part: TreeFingerprint without usr/local and the .pkg-tool marker, where
// the builder installs the package tool it built (a package of its own,
// whose version the toolchain records), so that building ports-mgmt/pkg
// does not change the template its own build is compared against.
func TemplateFingerprint(dir string) (string, error) {
	return treeFingerprint(dir, func(rel string) bool { return rel == "usr/local" || rel == ".pkg-tool" })
}

// treeFingerprint is TreeFingerprint leaving out the entries (and what is
// under them) for which skip is true.
func treeFingerprint(dir string, skip func(rel string) bool) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if skip != nil && skip(filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", rel, info.Mode())
		switch {
		case info.Mode().IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			io.WriteString(h, target)
		}
		h.Write([]byte{0})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("fingerprint of %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// portOptions are a port's options as its scan reported them, "NAME=on"
// and "NAME=off", sorted.
func portOptions(in *ports.Info) []string {
	if in == nil {
		return nil
	}
	var out []string
	for _, o := range strings.Fields(in.SelectedOptions) {
		out = append(out, o+"=on")
	}
	for _, o := range strings.Fields(in.DeselectedOptions) {
		out = append(out, o+"=off")
	}
	slices.Sort(out)
	return out
}

// toolchainScript prints the version of the tools that make a package,
// one "tool=version" line each, inside the slot: the compiler, make and
// the package tool. A tool that is missing prints nothing.
const toolchainScript = `v=$(cc --version 2>/dev/null | head -n 1); [ -n "$v" ] && echo "cc=$v"
v=$("$1" -f /dev/null -V MAKE_VERSION 2>/dev/null | head -n 1); [ -n "$v" ] && echo "make=$v"
v=$(pkg -v 2>/dev/null | head -n 1); [ -n "$v" ] && echo "pkg=$v"
exit 0
`

// probeToolchain runs toolchainScript in the slot: one short command per
// port.
func (r *slotRun) probeToolchain(ctx context.Context) map[string]string {
	var out bytes.Buffer
	cmd := r.toolchainCommand()
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	res, err := r.env.Execute(ctx, cmd)
	if err != nil || res.ExitCode != 0 {
		return nil
	}
	return parseToolchain(out.String())
}

// probeOptions asks make inside the slot for the port's options: what
// the build really uses, the options directory (PORT_DBDIR) included,
// which the scan does not read. nil when make does not answer.
func (r *slotRun) probeOptions(ctx context.Context, dir string) []string {
	var out bytes.Buffer
	cmd := r.optionsCommand(dir)
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	res, err := r.env.Execute(ctx, cmd)
	if err != nil || res.ExitCode != 0 {
		return nil
	}
	sel, desel, _ := strings.Cut(out.String(), "\n")
	return portOptions(&ports.Info{SelectedOptions: sel, DeselectedOptions: desel})
}

// toolchainCommand runs toolchainScript.
func (r *slotRun) toolchainCommand() environment.Command {
	return environment.Command{Args: []string{"/bin/sh", "-c", toolchainScript, "sh", r.b.o.Make}, Env: r.penv}
}

// optionsCommand asks make in dir for the selected and deselected options.
func (r *slotRun) optionsCommand(dir string) environment.Command {
	return environment.Command{Args: []string{r.b.o.Make, "-C", dir, "-V", "SELECTED_OPTIONS", "-V", "DESELECTED_OPTIONS"}, Env: r.penv}
}

// parseToolchain reads toolchainScript's "tool=version" lines.
func parseToolchain(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && k != "" && v != "" {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// envMap turns KEY=VALUE strings into a map.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// GitCommit returns the commit checked out in the git work tree at dir
// (its .git directory, or a .git file naming one), read from HEAD, the
// loose ref it names or packed-refs; "" when dir is not a checkout or the
// commit cannot be told.
func GitCommit(dir string) string {
	gitDir := filepath.Join(dir, ".git")
	st, err := os.Stat(gitDir)
	if err != nil {
		return ""
	}
	if !st.IsDir() {
		b, err := os.ReadFile(gitDir)
		if err != nil {
			return ""
		}
		p, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
		if !ok {
			return ""
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		gitDir = p
	}
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: ")
	if !ok {
		return hexCommit(string(head))
	}
	// A linked work tree keeps its refs in the common directory.
	dirs := []string{gitDir}
	if c, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		cd := strings.TrimSpace(string(c))
		if !filepath.IsAbs(cd) {
			cd = filepath.Join(gitDir, cd)
		}
		dirs = append(dirs, cd)
	}
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(ref))); err == nil {
			return hexCommit(string(b))
		}
		if b, err := os.ReadFile(filepath.Join(d, "packed-refs")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if sum, name, ok := strings.Cut(line, " "); ok && name == ref {
					return hexCommit(sum)
				}
			}
		}
	}
	return ""
}

// hexCommit is s trimmed when it is a commit id, "" otherwise.
func hexCommit(s string) string {
	s = strings.TrimSpace(s)
	if len(s) != 40 && len(s) != 64 {
		return ""
	}
	if _, err := hex.DecodeString(s); err != nil {
		return ""
	}
	return s
}

// portsCommit is GitCommit of the ports tree, once per run.
func (t *inputTracker) portsCommit(portsDir string) string {
	t.commitOnce.Do(func() {
		if portsDir != "" {
			t.commit = GitCommit(portsDir)
		}
	})
	return t.commit
}

// MkFingerprint is the content fingerprint (hex SHA-256) of portsDir/Mk,
// as builds record it.
func MkFingerprint(portsDir string) (string, error) {
	h, err := ports.NewHasher(nil).Dir(filepath.Join(portsDir, "Mk"))
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h[:]), nil
}

// PortOptions are a port's options as builds record them: "NAME=on" and
// "NAME=off", sorted.
func PortOptions(in *ports.Info) []string { return portOptions(in) }
