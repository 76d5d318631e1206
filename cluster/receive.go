package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// receiver takes the objects a worker puts into its upload bucket as the
// server stores them: an ordered consumer of the bucket's stream writes
// each object's chunks to a file in the controller's repository directory
// as they come, and hashes them. The package is then there by the time
// the upload's end reaches the controller, which would otherwise ask for
// it (a Get is a request for the object's description, then a consumer of
// its own). The stream's layout is the object store's: chunks on
// $O.<bucket>.C.<nuid>, then the object's description on
// $O.<bucket>.M.<name>.
type receiver struct {
	dir string
	cc  jetstream.ConsumeContext

	mu      sync.Mutex
	byNUID  map[string]*incoming
	byName  map[string]*incoming
	waiting map[string]chan struct{} // closed when that name is complete
	closed  bool
}

// incoming is one object being received.
type incoming struct {
	f    *os.File
	h    hash.Hash
	n    uint64
	info *jetstream.ObjectInfo // its description, once it came
	err  error                 // writing it failed
	done bool
}

// errNotReceived says the receiver has no such object (it takes the
// objects stored after it started); the caller gets it from the store.
var errNotReceived = errors.New("not received")

// receive starts a receiver of bucket's new objects, assembled in dir.
func receive(ctx context.Context, js jetstream.JetStream, bucket, dir string) (*receiver, error) {
	stream, err := js.Stream(ctx, "OBJ_"+bucket)
	if err != nil {
		return nil, err
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return nil, err
	}
	r := &receiver{dir: dir, byNUID: map[string]*incoming{}, byName: map[string]*incoming{}, waiting: map[string]chan struct{}{}}
	if r.cc, err = cons.Consume(r.onMsg); err != nil {
		return nil, err
	}
	return r, nil
}

// onMsg takes one message of the bucket's stream (one at a time).
func (r *receiver) onMsg(m jetstream.Msg) {
	parts := strings.Split(m.Subject(), ".")
	if len(parts) != 4 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	switch parts[2] {
	case "C":
		in := r.objectLocked(parts[3])
		if in.err == nil {
			_, in.err = in.f.Write(m.Data())
		}
		in.h.Write(m.Data())
		in.n += uint64(len(m.Data()))
		r.checkLocked(in)
	case "M":
		var info jetstream.ObjectInfo
		if json.Unmarshal(m.Data(), &info) != nil || info.Deleted || info.NUID == "" {
			return
		}
		in := r.objectLocked(info.NUID)
		in.info = &info
		r.byName[info.Name] = in
		r.checkLocked(in)
	}
}

// objectLocked is the object of nuid, begun if new.
func (r *receiver) objectLocked(nuid string) *incoming {
	in := r.byNUID[nuid]
	if in == nil {
		in = &incoming{h: sha256.New()}
		in.f, in.err = os.CreateTemp(r.dir, ".dsynth-incoming-*")
		r.byNUID[nuid] = in
	}
	return in
}

// checkLocked marks an object complete once its description came and
// its bytes are all there, and wakes who waits for it.
func (r *receiver) checkLocked(in *incoming) {
	if in.done || in.info == nil || in.n != in.info.Size {
		return
	}
	in.done = true
	if ch := r.waiting[in.info.Name]; ch != nil {
		close(ch)
		delete(r.waiting, in.info.Name)
	}
}

// take waits until object name is complete, checks it against ref (its
// SHA-256 and size) and renames it to dst. It gives up with
// errNotReceived when ctx ends first (the caller then gets the object
// from the store).
func (r *receiver) take(ctx context.Context, name string, ref PackageRef, dst string) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errNotReceived
	}
	in := r.byName[name]
	if in == nil || !in.done {
		ch := r.waiting[name]
		if ch == nil {
			ch = make(chan struct{})
			r.waiting[name] = ch
		}
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			r.drop(name)
			return errNotReceived
		}
		r.mu.Lock()
		in = r.byName[name]
	}
	if in == nil || !in.done {
		r.mu.Unlock()
		return errNotReceived
	}
	delete(r.byName, name)
	delete(r.byNUID, in.info.NUID)
	r.mu.Unlock()
	if in.err != nil {
		in.discard()
		return fmt.Errorf("receiving %s: %w", ref.File, in.err)
	}
	err := in.f.Chmod(0o644)
	if cerr := in.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(in.f.Name())
		return err
	}
	return placeVerified(in.f.Name(), hex.EncodeToString(in.h.Sum(nil)), int64(in.n), ref, dst)
}

// discard closes and removes the object's file.
func (in *incoming) discard() {
	if in.f != nil {
		in.f.Close()
		os.Remove(in.f.Name())
	}
}

// drop forgets object name and removes its file (nobody will take it).
func (r *receiver) drop(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := r.byName[name]
	if in == nil {
		return
	}
	delete(r.byName, name)
	delete(r.byNUID, in.info.NUID)
	in.discard()
}

// stop ends the consumer and removes the files of objects nobody took.
func (r *receiver) stop() {
	r.cc.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, in := range r.byNUID {
		in.discard()
	}
	r.byNUID, r.byName = map[string]*incoming{}, map[string]*incoming{}
	for _, ch := range r.waiting {
		close(ch)
	}
	r.waiting = map[string]chan struct{}{}
}
