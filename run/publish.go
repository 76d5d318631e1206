package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/hooks"
	"github.com/go-dsynth/go-dsynth/repository"
)

// Publication is the staging copy of a run under atomic publishing
// (Repository_publish=atomic): BeginPublish makes it and returns the
// configuration the run builds with (Directory_packages and
// Directory_repository in the staging copy, so slots install their
// dependencies from it), and Finish publishes it as the next generation.
// Under dsynth's direct publishing there is none: BeginPublish returns
// the configuration itself and a nil *Publication, whose methods do
// nothing.
type Publication struct {
	cfg     *config.Config // the live configuration
	store   *repository.Store
	opts    repository.Options
	staging string
	unlock  func()
}

// BeginPublish takes the generations' lock, makes Directory_packages a
// store (adopting the existing directory as generation 1, saying so),
// removes the staging copies a killed run left, and stages the current
// generation by hard links. The manifest key is read now, so that a bad
// key stops the run before it builds. Close the Publication (after
// Finish, or instead of it).
func BeginPublish(cfg *config.Config, out io.Writer) (*config.Config, *Publication, error) {
	p := &cfg.Profile
	if !p.Atomic() {
		return cfg, nil, nil
	}
	o := repository.Options{Out: out, Keep: p.RepositoryKeep}
	if p.RepositoryManifestKey != "" {
		key, err := LoadManifestKey(p.RepositoryManifestKey)
		if err != nil {
			return nil, nil, err
		}
		o.Key, o.PubName = key, PubKeyName(p.RepositoryManifestKey)
	}
	s := repository.New(p.PackagesDir)
	unlock, err := s.Lock()
	if err != nil {
		return nil, nil, err
	}
	pub := &Publication{cfg: cfg, store: s, opts: o, unlock: unlock}
	if err := s.Init(o); err != nil {
		pub.Close()
		return nil, nil, err
	}
	if err := s.CleanLeftovers(o); err != nil {
		pub.Close()
		return nil, nil, err
	}
	if pub.staging, err = s.Stage(uuid.NewString(), o); err != nil {
		pub.Close()
		return nil, nil, err
	}
	staged := *cfg
	rel, err := filepath.Rel(p.PackagesDir, p.RepositoryDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		pub.Close()
		return nil, nil, fmt.Errorf("repository: Directory_repository %s is not inside Directory_packages %s", p.RepositoryDir, p.PackagesDir)
	}
	staged.Profile.PackagesDir = pub.staging
	staged.Profile.RepositoryDir = filepath.Join(pub.staging, rel)
	if err := os.MkdirAll(staged.Profile.RepositoryDir, 0o755); err != nil {
		pub.Close()
		return nil, nil, fmt.Errorf("repository: %w", err)
	}
	return &staged, pub, nil
}

// Staging is the staging directory ("" without a Publication).
func (pub *Publication) Staging() string {
	if pub == nil {
		return ""
	}
	return pub.staging
}

// Finish publishes the staging copy as the next generation (manifest,
// signature, rename, one switch of the symlink, generations beyond
// Repository_keep removed) and runs hook_publish; when nothing differs
// from the current generation, nothing is published. It returns the
// generation served afterwards (0 without a Publication).
func (pub *Publication) Finish(ctx context.Context, out io.Writer) (int, error) {
	if pub == nil {
		return 0, nil
	}
	defer pub.Close()
	o := pub.opts
	o.Out = out
	before, err := pub.store.Current()
	if err != nil {
		return 0, err
	}
	n, err := pub.store.Publish(pub.staging, o)
	if err != nil {
		return 0, err
	}
	pub.staging = ""
	if n != before {
		dir := pub.store.GenPath(n)
		sig := ""
		if o.Key != nil {
			sig = filepath.Join(dir, repository.SignatureName)
		}
		info := hooks.Published{Generation: n, Path: dir, Manifest: filepath.Join(dir, repository.ManifestName), Live: pub.store.Live}
		for _, l := range hooks.RunPublish(ctx, pub.cfg, info, sig) {
			fmt.Fprintln(out, l)
		}
	}
	return n, nil
}

// Close releases the generations' lock. A staging copy not published is
// left where it is; the next run removes it, saying so.
func (pub *Publication) Close() {
	if pub == nil || pub.unlock == nil {
		return
	}
	pub.unlock()
	pub.unlock = nil
}

// LoadManifestKey reads Repository_manifest_key: an unencrypted signify
// secret key.
func LoadManifestKey(path string) (*repository.SecretKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("Repository_manifest_key: %w", err)
	}
	k, err := repository.ParseSecretKey(path, data)
	if err != nil {
		return nil, fmt.Errorf("Repository_manifest_key: %w", err)
	}
	return k, nil
}

// PubKeyName is the public key file named in the signatures made with
// the secret key file path: signify's pairing, KEY.sec and KEY.pub.
func PubKeyName(secret string) string {
	return strings.TrimSuffix(filepath.Base(secret), ".sec") + ".pub"
}

// GenerationPackageDirs lists, with Repository_publish=atomic, the
// repository directory of every generation kept (newest first): the
// packages a rebuild or a comparison may look for by SHA-256 besides the
// live repository's. Without generations it is empty.
func GenerationPackageDirs(p *config.Profile) []string {
	if !p.Atomic() {
		return nil
	}
	rel, err := filepath.Rel(p.PackagesDir, p.RepositoryDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil
	}
	st := repository.New(p.PackagesDir)
	gens, err := st.Generations()
	if err != nil {
		return nil
	}
	var out []string
	for i := len(gens) - 1; i >= 0; i-- {
		out = append(out, filepath.Join(st.GenPath(gens[i]), rel))
	}
	return out
}
