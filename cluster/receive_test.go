package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/nats-io/nats.go/jetstream"
)

// TestReceiverTakesObjectsAsStored: objects put into a bucket after the
// receiver started are assembled as they are stored (one of several
// chunks), checked against their reference and renamed into place; a
// corrupt one is refused and removed; a name never put is not waited for
// past the context; nothing is left behind.
func TestReceiverTakesObjectsAsStored(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	store, err := r.ctrl.js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "up_test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	recv, err := receive(ctx, r.ctrl.js, "up_test", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer recv.stop()
	refOf := func(data []byte) PackageRef {
		sum := sha256.Sum256(data)
		return PackageRef{File: "p.pkg", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	}
	for _, size := range []int{0, 1000, 300 << 10} { // none, one and three chunks
		data := bytes.Repeat([]byte{byte(size)}, size)
		ref := refOf(data)
		if _, err := store.PutBytes(ctx, ref.SHA256, data); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "p.pkg")
		if err := recv.take(ctx, ref.SHA256, ref, dst); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: received %d", size, len(got))
		}
		if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v", fi.Mode())
		}
	}
	// An object whose bytes are not what the upload's end says.
	bad := []byte("what the worker stored")
	ref := refOf([]byte("what the worker said"))
	if _, err := store.PutBytes(ctx, "liar", bad); err != nil {
		t.Fatal(err)
	}
	if err := recv.take(ctx, "liar", ref, filepath.Join(dir, "liar.pkg")); err == nil || !strings.Contains(err.Error(), "arrived corrupt") {
		t.Fatalf("corrupt object: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := recv.take(short, "never", ref, filepath.Join(dir, "never.pkg")); !errors.Is(err, errNotReceived) {
		t.Fatalf("an object never put: %v", err)
	}
	recv.stop()
	if left, _ := filepath.Glob(filepath.Join(dir, ".dsynth-incoming-*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "liar.pkg")); !os.IsNotExist(err) {
		t.Errorf("the corrupt object was placed: %v", err)
	}
}

// TestRetrieveFetchesWhatWasNotReceived: a built package comes back
// whole when the controller receives no uploads (no repository
// directory) and when its receiver stopped (it fetches the package once
// the upload ended, and says so).
func TestRetrieveFetchesWhatWasNotReceived(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tweak    func(*ControllerOptions)
		stop     bool
		fetchLog bool
	}{
		{name: "no repository directory", tweak: func(o *ControllerOptions) { o.RepositoryDir = "" }},
		{name: "receiver stopped", stop: true, fetchLog: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRigWith(t, tc.tweak, "w1")
			tw := r.startWorker("w1", nil)
			r.waitJoined("w1")
			if tc.stop {
				r.ctrl.mu.Lock()
				recv := r.ctrl.members["w1"].recv
				r.ctrl.mu.Unlock()
				recv.stop()
			}
			env := r.ctrl.Env("w1", 0).(environment.Remote)
			ctx := context.Background()
			if err := env.Setup(ctx, environment.Plan{}); err != nil {
				t.Fatal(err)
			}
			defer env.Teardown()
			retrieveBuilt(t, r, tw, env, "y-1.pkg", bytes.Repeat([]byte("built "), 40000))
			if got := strings.Contains(r.logs.String(), "fetching it"); got != tc.fetchLog {
				t.Errorf("fetch logged %v, want %v:\n%s", got, tc.fetchLog, r.logs)
			}
		})
	}
}
