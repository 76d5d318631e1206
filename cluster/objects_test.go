package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestPrunePackages: a new controller session removes from the packages
// bucket, as it starts, the objects whose file left the repository or
// changed size, and those that name no file; it keeps the others, and
// those it stored itself.
func TestPrunePackages(t *testing.T) {
	r := newRigWith(t, func(o *ControllerOptions) { o.RepositoryDir = "" }) // no prune of its own
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
	// It prunes by itself, as it starts.
	next, err := NewController(nc, ControllerOptions{Self: selfID, Logf: r.logs.Logf, RepositoryDir: repo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(next.Close)
	within(t, r.logs.waitFor("cluster: 3 packages no longer in "+repo+" removed"), "the new session pruned gone, rebuilt and nameless")
	// What it stores itself is kept, its file gone or not.
	mine, err := next.storeFile(ctx, write("mine-1.pkg", 1000))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(repo, "mine-1.pkg"))
	if n, err := next.PrunePackages(ctx, repo); err != nil || n != 0 {
		t.Fatalf("pruned %d (%v) after the start, want 0", n, err)
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

// flakyStore is a real object store whose first fails Gets time out.
type flakyStore struct {
	jetstream.ObjectStore
	mu    sync.Mutex
	fails int
}

func (f *flakyStore) Get(ctx context.Context, name string, opts ...jetstream.GetObjectOpt) (jetstream.ObjectResult, error) {
	f.mu.Lock()
	fail := f.fails > 0
	if fail {
		f.fails--
	}
	left := f.fails
	f.mu.Unlock()
	if fail {
		if left%2 == 0 {
			return nil, fmt.Errorf("getting %s: %w", name, context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("getting %s: %w", name, nats.ErrTimeout)
	}
	return f.ObjectStore.Get(ctx, name, opts...)
}

// TestFetchRetriesATimeout: a package whose transfer timed out is asked
// for again, up to fetchTries times in all; then the fetch fails with the
// timeout.
func TestFetchRetriesATimeout(t *testing.T) {
	for _, tc := range []struct {
		fails int
		ok    bool
	}{{fetchTries - 1, true}, {fetchTries, false}} {
		t.Run(fmt.Sprintf("%d timeouts", tc.fails), func(t *testing.T) {
			r := newRig(t, "w1")
			tw := r.startWorker("w1", func(o *WorkerOptions) {
				o.wrapStore = func(s jetstream.ObjectStore) jetstream.ObjectStore {
					return &flakyStore{ObjectStore: s, fails: tc.fails}
				}
			})
			r.waitJoined("w1")
			env := r.ctrl.Env("w1", 0).(environment.Remote)
			ctx := context.Background()
			if err := env.Setup(ctx, environment.Plan{}); err != nil {
				t.Fatal(err)
			}
			defer env.Teardown()
			dep := filepath.Join(t.TempDir(), "dep-1.0.pkg")
			os.WriteFile(dep, []byte("a dependency"), 0o644)
			err := env.Provide(ctx, []string{dep})
			if tc.ok {
				if err != nil {
					t.Fatalf("Provide after %d timeouts: %v", tc.fails, err)
				}
				if got, _ := os.ReadFile(filepath.Join(tw.root, "packages", "All", "dep-1.0.pkg")); string(got) != "a dependency" {
					t.Fatalf("the dependency on the worker: %q", got)
				}
			} else if err == nil || !strings.Contains(err.Error(), "getting") {
				t.Fatalf("Provide after %d timeouts = %v, want the timeout", tc.fails, err)
			}
			if got := strings.Count(r.logs.String(), "fetching it again"); got != fetchTries-1 {
				t.Errorf("%d retries logged, want %d", got, fetchTries-1)
			}
		})
	}
}
