package repository

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Store is the repository at a live path and its generations.
type Store struct {
	// Live is the path clients read (Directory_packages): a symlink to
	// the current generation.
	Live string
	// Dir holds the generations and the staging copies: Live +
	// ".generations".
	Dir string
}

// New returns the store of the live path.
func New(live string) *Store {
	live = filepath.Clean(live)
	return &Store{Live: live, Dir: live + GenerationsSuffix}
}

// Options tune the store's operations that publish.
type Options struct {
	// Out receives what the operation says (adoption, leftovers removed,
	// generations published and pruned).
	Out io.Writer
	// Key signs the manifest of each generation published (nil: not
	// signed); PubName is the public key file named in the signature's
	// comment.
	Key     *SecretKey
	PubName string
	// Keep is how many generations Publish keeps (default 3).
	Keep int
	// Step, when set, is called as publishing reaches each step (see the
	// Step* names); tests stop the process there.
	Step func(step string)
}

// The steps Options.Step is called at.
const (
	StepLinking  = "linking"  // the staging copy has its first file
	StepStaged   = "staged"   // the staging copy is complete
	StepManifest = "manifest" // the manifest is written
	StepSigned   = "signed"   // its signature is written
	StepRenamed  = "renamed"  // staging is a numbered generation, not served yet
	StepSwitched = "switched" // the live path serves the new generation
)

func (o Options) step(s string) {
	if o.Step != nil {
		o.Step(s)
	}
}

func (o Options) out() io.Writer {
	if o.Out == nil {
		return io.Discard
	}
	return o.Out
}

// GenPath is the directory of generation n.
func (s *Store) GenPath(n int) string { return filepath.Join(s.Dir, GenName(n)) }

// target is the live symlink's content for generation n: relative, so
// that the tree may move.
func (s *Store) target(n int) string { return filepath.Join(filepath.Base(s.Dir), GenName(n)) }

// Current is the generation the live path serves.
func (s *Store) Current() (int, error) {
	t, err := os.Readlink(s.Live)
	if err != nil {
		return 0, fmt.Errorf("repository: %s is not the symlink of atomic publishing: %w", s.Live, err)
	}
	if !filepath.IsAbs(t) {
		t = filepath.Join(filepath.Dir(s.Live), t)
	}
	if filepath.Dir(filepath.Clean(t)) != s.Dir {
		return 0, fmt.Errorf("repository: %s points to %s, not to a generation in %s", s.Live, t, s.Dir)
	}
	n, ok := ParseGen(filepath.Base(t))
	if !ok {
		return 0, fmt.Errorf("repository: %s points to %s, not to a generation in %s", s.Live, t, s.Dir)
	}
	return n, nil
}

// Generations lists the published generations, oldest first.
func (s *Store) Generations() ([]int, error) {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("repository: %w", err)
	}
	var gens []int
	for _, e := range ents {
		if n, ok := ParseGen(e.Name()); ok && e.IsDir() {
			gens = append(gens, n)
		}
	}
	slices.Sort(gens)
	return gens, nil
}

// Init makes the live path a store's: an existing real directory is
// adopted as generation 1; a live path missing while generations exist
// (a kill during an adoption) is pointed at the newest. Anything else at
// the live path (a file, a symlink elsewhere) is refused.
func (s *Store) Init(o Options) error {
	st, err := os.Lstat(s.Live)
	switch {
	case err == nil && st.Mode()&fs.ModeSymlink != 0:
		_, err := s.Current()
		return err
	case err == nil && st.IsDir():
		gens, err := s.Generations()
		if err != nil {
			return err
		}
		n := Next(gens)
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			return fmt.Errorf("repository: %w", err)
		}
		if err := os.Rename(s.Live, s.GenPath(n)); err != nil {
			if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV) {
				return fmt.Errorf("repository: adopting %s: %w: it is a mount point (or on another file system than %s); atomic publishing needs Directory_packages to be a directory inside a file system, e.g. one level below its mount point", s.Live, err, filepath.Dir(s.Live))
			}
			return fmt.Errorf("repository: adopting %s: %w", s.Live, err)
		}
		if err := s.Switch(n); err != nil {
			return err
		}
		fmt.Fprintf(o.out(), "Repository: adopted %s as generation %d (%s); %s is now a symlink to it\n", s.Live, n, s.GenPath(n), s.Live)
		return nil
	case err == nil:
		return fmt.Errorf("repository: %s (Directory_packages) is a %s, neither a directory nor the symlink of atomic publishing: move it away", s.Live, st.Mode().Type())
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("repository: %w", err)
	}
	gens, err := s.Generations()
	if err != nil {
		return err
	}
	if len(gens) == 0 {
		return fmt.Errorf("repository: Directory missing: %s (Directory_packages)", s.Live)
	}
	n := gens[len(gens)-1]
	if err := s.Switch(n); err != nil {
		return err
	}
	fmt.Fprintf(o.out(), "Repository: %s was missing; it serves generation %d again\n", s.Live, n)
	return nil
}

// Switch makes the live path serve generation n: a new symlink renamed
// over it, one rename(2).
func (s *Store) Switch(n int) error {
	if st, err := os.Stat(s.GenPath(n)); err != nil || !st.IsDir() {
		return fmt.Errorf("repository: no generation %d in %s", n, s.Dir)
	}
	tmp := s.Live + ".switch"
	os.Remove(tmp)
	if err := os.Symlink(s.target(n), tmp); err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	if err := os.Rename(tmp, s.Live); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("repository: switching %s to generation %d: %w", s.Live, n, err)
	}
	syncDir(filepath.Dir(s.Live))
	return nil
}

// CleanLeftovers removes the staging copies and temporary symlinks a
// killed run left, saying so. Call it under Lock.
func (s *Store) CleanLeftovers(o Options) error {
	os.Remove(s.Live + ".switch")
	ents, err := os.ReadDir(s.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("repository: %w", err)
	}
	for _, e := range ents {
		if !IsStaging(e.Name()) {
			continue
		}
		p := filepath.Join(s.Dir, e.Name())
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("repository: removing the staging copy a killed run left: %w", err)
		}
		fmt.Fprintf(o.out(), "Repository: removed %s, the staging copy of a run that did not publish\n", p)
	}
	return nil
}

// Stage makes the staging copy of run runID from the current generation:
// subdirectories' files (the packages) hard-linked, files at its root (the
// repository metadata, which pkg repo rewrites) copied, symlinks
// recreated, the manifest and its signature left out. It returns the
// staging directory.
func (s *Store) Stage(runID string, o Options) (string, error) {
	cur, err := s.Current()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(s.Dir, StagingName(runID))
	if err := os.Mkdir(dst, 0o755); err != nil {
		return "", fmt.Errorf("repository: staging: %w", err)
	}
	src := s.GenPath(cur)
	first := true
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "." {
			return nil
		}
		to := filepath.Join(dst, rel)
		top := !strings.ContainsRune(rel, filepath.Separator)
		switch {
		case d.IsDir():
			return os.Mkdir(to, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(t, to)
		case !d.Type().IsRegular():
			return nil
		case top && (rel == ManifestName || rel == SignatureName):
			return nil
		case top:
			err = copyFile(path, to)
		default:
			err = os.Link(path, to)
		}
		if err == nil && first {
			first = false
			o.step(StepLinking)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("repository: staging generation %d: %w", cur, err)
	}
	o.step(StepStaged)
	return dst, nil
}

// copyFile copies a file, keeping its mode.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Publish makes a staging copy the next generation (or removes it when
// its files are exactly the current generation's, which stays served, and
// returns that one): its manifest
// (hashes of files still hard-linked to the current generation's are
// taken from that generation's manifest), the manifest's signature, the
// rename to the next number, the switch of the live path, and the
// removal of generations beyond Keep. It returns the new generation.
func (s *Store) Publish(staging string, o Options) (int, error) {
	cur, err := s.Current()
	if err != nil {
		return 0, err
	}
	prev := s.reusable(cur)
	m, err := ComputeManifest(staging, prev)
	if err != nil {
		return 0, err
	}
	if prev != nil && len(Compare(prev.m, m)) == 0 {
		if err := os.RemoveAll(staging); err != nil {
			return 0, fmt.Errorf("repository: %w", err)
		}
		fmt.Fprintf(o.out(), "Repository: nothing changed, generation %d still served\n", cur)
		return cur, nil
	}
	data := m.Format()
	if err := writeSynced(filepath.Join(staging, ManifestName), data); err != nil {
		return 0, err
	}
	o.step(StepManifest)
	if o.Key != nil {
		if err := writeSynced(filepath.Join(staging, SignatureName), o.Key.Sign(data, o.PubName)); err != nil {
			return 0, err
		}
	}
	o.step(StepSigned)
	syncDir(staging)
	gens, err := s.Generations()
	if err != nil {
		return 0, err
	}
	n := Next(gens)
	if err := os.Rename(staging, s.GenPath(n)); err != nil {
		return 0, fmt.Errorf("repository: %w", err)
	}
	syncDir(s.Dir)
	o.step(StepRenamed)
	if err := s.Switch(n); err != nil {
		return 0, err
	}
	o.step(StepSwitched)
	signed := "unsigned"
	if o.Key != nil {
		signed = "signed"
	}
	fmt.Fprintf(o.out(), "Repository: published generation %d (%d files, manifest %s) at %s\n", n, len(m), signed, s.Live)
	keep := o.Keep
	if keep == 0 {
		keep = 3
	}
	if _, err := s.Prune(keep, o); err != nil {
		return n, err
	}
	return n, nil
}

// Prune removes the generations beyond the keep newest (never the
// current one) and returns them. Packages no kept generation links
// disappear with them.
func (s *Store) Prune(keep int, o Options) ([]int, error) {
	cur, err := s.Current()
	if err != nil {
		return nil, err
	}
	gens, err := s.Generations()
	if err != nil {
		return nil, err
	}
	drop := ToPrune(gens, cur, keep)
	for _, g := range drop {
		if err := os.RemoveAll(s.GenPath(g)); err != nil {
			return nil, fmt.Errorf("repository: pruning generation %d: %w", g, err)
		}
		fmt.Fprintf(o.out(), "Repository: removed generation %d\n", g)
	}
	return drop, nil
}

// reused is what a previous generation offers to the next manifest: the
// hashes of its files, by path, valid for a file that is still the same
// inode and was not written since that manifest was.
type reused struct {
	dir  string
	m    Manifest
	made time.Time
}

func (s *Store) reusable(cur int) *reused {
	dir := s.GenPath(cur)
	st, err := os.Stat(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil
	}
	m, err := ParseManifest(ManifestName, data)
	if err != nil {
		return nil
	}
	return &reused{dir: dir, m: m, made: st.ModTime()}
}

// ComputeManifest hashes every file of a generation directory (symlinks
// followed, dangling ones skipped; the manifest and its signature left
// out). prev, when not nil,
// lends the hashes of unchanged hard-linked files.
func ComputeManifest(dir string, prev *reused) (Manifest, error) {
	var m Manifest
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() || rel == ManifestName || rel == SignatureName {
			return nil
		}
		st, err := os.Stat(path)
		if err != nil {
			if d.Type()&fs.ModeSymlink != 0 && errors.Is(err, fs.ErrNotExist) {
				return nil // a dangling symlink names no content
			}
			return err
		}
		if !st.Mode().IsRegular() {
			return nil
		}
		if prev != nil && d.Type().IsRegular() && st.ModTime().Before(prev.made) {
			if e, ok := prev.m.Lookup(rel); ok {
				if pst, err := os.Lstat(filepath.Join(prev.dir, filepath.FromSlash(rel))); err == nil && os.SameFile(st, pst) {
					m = append(m, e)
					return nil
				}
			}
		}
		sum, err := hashFile(path)
		if err != nil {
			return err
		}
		m = append(m, Entry{Path: rel, Sum: sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repository: manifest of %s: %w", dir, err)
	}
	m.Sort()
	return m, nil
}

func hashFile(path string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// writeSynced writes a file and flushes it to disk.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	return nil
}

// syncDir flushes a directory's entries (best effort: not every system
// syncs directories).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// VerifyResult is what Verify found in a generation.
type VerifyResult struct {
	Generation int
	Files      int
	// Problems are the manifest's differences with the files.
	Problems []Problem
	// Signed says the generation carries a signature; SigErr is its
	// verification's failure (nil: verified, or not checked without a
	// key).
	Signed bool
	SigErr error
}

// OK reports whether the generation matches its manifest and its
// signature verified (or the generation is unsigned and pub was nil).
func (r *VerifyResult) OK() bool { return len(r.Problems) == 0 && r.SigErr == nil }

// Verify checks generation n: every file's SHA-256 against the manifest,
// no file missing or extra, and the manifest's signature with pub. With a
// key, an unsigned generation fails.
func (s *Store) Verify(n int, pub *PublicKey) (*VerifyResult, error) {
	dir := s.GenPath(n)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("repository: no generation %d in %s", n, s.Dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("repository: generation %d has no manifest (adopted, not published by go-dsynth?): %w", n, err)
	}
	want, err := ParseManifest(filepath.Join(dir, ManifestName), data)
	if err != nil {
		return nil, err
	}
	got, err := ComputeManifest(dir, nil)
	if err != nil {
		return nil, err
	}
	r := &VerifyResult{Generation: n, Files: len(want), Problems: Compare(want, got)}
	sig, err := os.ReadFile(filepath.Join(dir, SignatureName))
	switch {
	case err == nil:
		r.Signed = true
		if pub != nil {
			r.SigErr = pub.Verify(filepath.Join(dir, SignatureName), sig, data)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("repository: %w", err)
	case pub != nil:
		r.SigErr = fmt.Errorf("generation %d is not signed", n)
	}
	return r, nil
}
