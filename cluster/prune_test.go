package cluster

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// TestPrunePackages: a new controller session removes from the packages
// bucket the objects whose file left the repository or changed size, and
// those that name no file; it keeps the others, and those it stored
// itself.
func TestPrunePackages(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	repo := t.TempDir()
	write := func(name string, n int) string {
		p := filepath.Join(repo, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte(name), n), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	refs := map[string]PackageRef{}
	for _, name := range []string{"gone-1.pkg", "rebuilt-1.pkg", "kept-1.pkg"} {
		ref, err := r.ctrl.storeFile(ctx, write(name, 1000))
		if err != nil {
			t.Fatal(err)
		}
		refs[name] = ref
	}
	if _, err := r.ctrl.pkgs.PutBytes(ctx, "nameless", []byte("from an older go-dsynth")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(repo, "gone-1.pkg"))
	write("rebuilt-1.pkg", 2000)

	// The next session of the controller, as after a restart.
	nc, err := r.srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	next, err := NewController(nc, ControllerOptions{Self: selfID, Logf: r.logs.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(next.Close)
	mine, err := next.storeFile(ctx, write("mine-1.pkg", 1000))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(repo, "mine-1.pkg"))

	n, err := next.PrunePackages(ctx, repo)
	if err != nil || n != 3 {
		t.Fatalf("pruned %d (%v), want 3: gone, rebuilt and nameless", n, err)
	}
	for name, want := range map[string]bool{
		refs["gone-1.pkg"].SHA256: false, refs["rebuilt-1.pkg"].SHA256: false, "nameless": false,
		refs["kept-1.pkg"].SHA256: true, mine.SHA256: true,
	} {
		_, err := next.pkgs.GetInfo(ctx, name)
		if got := err == nil; got != want {
			t.Errorf("object %s present %v (%v), want %v", name, got, err, want)
		} else if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			t.Errorf("object %s: %v", name, err)
		}
	}
	if n, err := next.PrunePackages(ctx, repo); err != nil || n != 0 {
		t.Errorf("pruned again: %d (%v), want 0", n, err)
	}
}

// TestNewWorkerSessionVoidsItsOldUploads: what a worker's earlier session
// left in its upload bucket is purged when it starts again.
func TestNewWorkerSessionVoidsItsOldUploads(t *testing.T) {
	r := newRig(t, "w1")
	tw := r.startWorker("w1", nil)
	r.waitJoined("w1")
	ctx := context.Background()
	up, err := r.ctrl.js.ObjectStore(ctx, uploadBucket("w1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.PutBytes(ctx, "left-behind", []byte("a package nobody fetched")); err != nil {
		t.Fatal(err)
	}
	tw.cancel()
	<-tw.done
	tw.done <- nil // for the cleanup
	r.startWorker("w1", nil)
	within(t, r.logs.waitFor("worker w1 lost: it started again"), "the worker's new session joined")
	if _, err := up.GetInfo(ctx, "left-behind"); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("the old session's upload is still there: %v", err)
	}
}
