package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/digest"
	"github.com/nats-io/nats.go/jetstream"
)

// jsTimeout bounds each JetStream API request and object transfer step.
// A loaded host answers slowly: the library's 5 s default failed package
// transfers on a busy 2-core machine.
const jsTimeout = time.Minute

// putFile puts a file into store under its SHA-256 and returns its
// reference (an object of that name is replaced: the same bytes).
func putFile(ctx context.Context, store jetstream.ObjectStore, path string) (PackageRef, error) {
	sum, err := digest.File(path)
	if err != nil {
		return PackageRef{}, fmt.Errorf("hashing %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return PackageRef{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return PackageRef{}, err
	}
	ref := PackageRef{File: filepath.Base(path), SHA256: sum, Size: fi.Size()}
	if _, err := store.Put(ctx, jetstream.ObjectMeta{Name: ref.SHA256}, f); err != nil {
		return ref, fmt.Errorf("storing %s: %w", ref.File, err)
	}
	return ref, nil
}

// putIfAbsent stores r's bytes as object meta.Name unless it exists.
func putIfAbsent(ctx context.Context, store jetstream.ObjectStore, meta jetstream.ObjectMeta, r io.Reader) error {
	if _, err := store.GetInfo(ctx, meta.Name); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("object %s: %w", meta.Name, err)
	}
	if _, err := store.Put(ctx, meta, r); err != nil {
		return fmt.Errorf("storing object %s: %w", meta.Name, err)
	}
	return nil
}

// getVerified writes object ref.SHA256 of store to dst, atomically, after
// checking its SHA-256 and size.
func getVerified(ctx context.Context, store jetstream.ObjectStore, ref PackageRef, dst string) error {
	obj, err := store.Get(ctx, ref.SHA256)
	if err != nil {
		return fmt.Errorf("package %s (sha256 %s): %w", ref.File, ref.SHA256, err)
	}
	defer obj.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	// A temporary name of its own: two slots may fetch the same package
	// at once.
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	h := sha256.New()
	// No fsync: the controller's builder syncs a package before it
	// renames it into the repository, and a worker's cached copy is
	// hashed again whenever it changed (a torn file is fetched anew).
	n, err := io.Copy(io.MultiWriter(f, h), obj)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("receiving %s: %w", ref.File, err)
	}
	return placeVerified(tmp, hex.EncodeToString(h.Sum(nil)), n, ref, dst)
}

// placeVerified renames a received file, whose content has SHA-256 got
// and n bytes, to dst when that is ref's; otherwise (or when the rename
// fails) it removes it.
func placeVerified(tmp, got string, n int64, ref PackageRef, dst string) error {
	var err error
	if got != ref.SHA256 || (ref.Size > 0 && n != ref.Size) {
		err = fmt.Errorf("package %s arrived corrupt: sha256 %s (%d bytes), want %s (%d bytes)", ref.File, got, n, ref.SHA256, ref.Size)
	} else {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
