package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/hooks"
	"github.com/go-dsynth/go-dsynth/repository"
)

// The `dsynth repo` operations on the generations of atomic publishing.

// ErrVerifyFailed is RepoVerify's answer for a generation that does not
// match its manifest or signature.
var ErrVerifyFailed = errors.New("repository verification failed")

// atomicStore returns the profile's store, refusing a profile that
// publishes directly.
func atomicStore(cfg *config.Config) (*repository.Store, error) {
	if !cfg.Profile.Atomic() {
		return nil, fmt.Errorf("dsynth repo: profile %s publishes directly into %s (dsynth's way): set Repository_publish= atomic for generations", cfg.ProfileName, cfg.Profile.PackagesDir)
	}
	return repository.New(cfg.Profile.PackagesDir), nil
}

// RepoList writes one line per generation: its number, whether it is
// served, its file count and whether it is signed.
func RepoList(cfg *config.Config, out io.Writer) error {
	s, err := atomicStore(cfg)
	if err != nil {
		return err
	}
	gens, err := s.Generations()
	if err != nil {
		return err
	}
	if len(gens) == 0 {
		fmt.Fprintf(out, "no generations yet in %s (the first atomic run adopts %s)\n", s.Dir, s.Live)
		return nil
	}
	cur, _ := s.Current()
	for _, g := range gens {
		mark := " "
		if g == cur {
			mark = "*"
		}
		dir := s.GenPath(g)
		files, state := "-", "no manifest"
		if data, err := os.ReadFile(filepath.Join(dir, repository.ManifestName)); err == nil {
			files = fmt.Sprint(strings.Count(string(data), "\n"))
			state = "unsigned"
			if _, err := os.Stat(filepath.Join(dir, repository.SignatureName)); err == nil {
				state = "signed"
			}
		}
		when := ""
		if st, err := os.Stat(dir); err == nil {
			when = st.ModTime().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(out, "%s %s  %s  %6s files  %s  %s\n", mark, repository.GenName(g), when, files, state, dir)
	}
	return nil
}

// RepoRollback serves generation gen again (0: the one before the
// current), then runs hook_publish for it, so that mirrors follow.
func RepoRollback(ctx context.Context, cfg *config.Config, gen int, out io.Writer) error {
	s, err := atomicStore(cfg)
	if err != nil {
		return err
	}
	unlock, err := s.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := s.Current()
	if err != nil {
		return err
	}
	if gen == 0 {
		gens, err := s.Generations()
		if err != nil {
			return err
		}
		var ok bool
		if gen, ok = repository.Previous(gens, cur); !ok {
			return fmt.Errorf("dsynth repo rollback: no generation before %d in %s", cur, s.Dir)
		}
	}
	if err := s.Switch(gen); err != nil {
		return err
	}
	fmt.Fprintf(out, "Repository: %s serves generation %d (was %d)\n", s.Live, gen, cur)
	dir := s.GenPath(gen)
	sig := filepath.Join(dir, repository.SignatureName)
	if _, err := os.Stat(sig); err != nil {
		sig = ""
	}
	for _, l := range hooks.RunPublish(ctx, cfg, hooks.Published{Generation: gen, Path: dir, Manifest: filepath.Join(dir, repository.ManifestName), Live: s.Live}, sig) {
		fmt.Fprintln(out, l)
	}
	return nil
}

// RepoPrune removes the generations beyond the keep newest (the served
// one always kept); packages no kept generation links go with them.
func RepoPrune(cfg *config.Config, keep int, out io.Writer) error {
	s, err := atomicStore(cfg)
	if err != nil {
		return err
	}
	unlock, err := s.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	drop, err := s.Prune(keep, repository.Options{Out: out})
	if err == nil && len(drop) == 0 {
		fmt.Fprintf(out, "Repository: nothing to prune (keeping %d)\n", keep)
	}
	return err
}

// RepoVerify checks generation gen (0: the served one) against its
// manifest and its signature: with the public key file pubFile, else the
// public half of Repository_manifest_key, else the signature is not
// checked (and it says so). A mismatch is ErrVerifyFailed.
func RepoVerify(cfg *config.Config, gen int, pubFile string, out io.Writer) error {
	s, err := atomicStore(cfg)
	if err != nil {
		return err
	}
	if gen == 0 {
		if gen, err = s.Current(); err != nil {
			return err
		}
	}
	var pub *repository.PublicKey
	switch {
	case pubFile != "":
		data, err := os.ReadFile(pubFile)
		if err != nil {
			return err
		}
		if pub, err = repository.ParsePublicKey(pubFile, data); err != nil {
			return err
		}
	case cfg.Profile.RepositoryManifestKey != "":
		k, err := LoadManifestKey(cfg.Profile.RepositoryManifestKey)
		if err != nil {
			return err
		}
		pub = k.Public()
	}
	r, err := s.Verify(gen, pub)
	if err != nil {
		return err
	}
	for _, p := range r.Problems {
		fmt.Fprintf(out, "%s: %s\n", repository.GenName(gen), p)
	}
	sig := "signature verified"
	switch {
	case r.SigErr != nil:
		sig = "signature: " + r.SigErr.Error()
	case pub == nil && r.Signed:
		sig = "signature not checked (no key: --pubkey FILE or Repository_manifest_key)"
	case pub == nil:
		sig = "unsigned"
	}
	if !r.OK() {
		fmt.Fprintf(out, "generation %d: FAILED (%d of %d files differ; %s)\n", gen, len(r.Problems), r.Files, sig)
		return fmt.Errorf("%w: generation %d", ErrVerifyFailed, gen)
	}
	fmt.Fprintf(out, "generation %d: OK (%d files match the manifest; %s)\n", gen, r.Files, sig)
	return nil
}

// RepoKeygen writes a new signify key pair for Repository_manifest_key:
// PATH.sec (unencrypted, mode 0600) and PATH.pub. It never overwrites.
func RepoKeygen(path string, out io.Writer) error {
	path = strings.TrimSuffix(path, ".sec")
	sec, pubPath := path+".sec", path+".pub"
	for _, p := range []string{sec, pubPath} {
		if _, err := os.Lstat(p); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("dsynth repo keygen: %s exists: not overwritten", p)
		}
	}
	k, err := repository.GenerateKey()
	if err != nil {
		return err
	}
	if err := writeNew(sec, k.Marshal("signify secret key"), 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, k.Public().Marshal("signify public key"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s (set Repository_manifest_key= %s) and %s (for mirrors and clients: signify -V -p %s -x MANIFEST.sha256.sig -m MANIFEST.sha256)\n",
		sec, sec, pubPath, filepath.Base(pubPath))
	return nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
