package builddb

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The queue holds the build service's run requests: what a client asked
// to build, and what became of it. A request is kept after it ran, as the
// record of who asked for what; its runs are ordinary run records.
//
// The bucket is additive, like the intents: a go-dsynth that does not know
// it ignores it, so it came without a new schema version. Readers find it
// missing in an older file and see an empty queue.

// bQueue holds the requests, keyed by their time-ordered UUID.
var bQueue = []byte("queue")

// tagRequest marks a request value; requestVersion is its format (the JSON
// of Request).
const (
	tagRequest     = 'Q'
	requestVersion = 1
)

// RequestState is where a run request stands.
type RequestState string

// The states of a request. Queued and Running are open; the others are
// final.
const (
	// RequestQueued waits for its turn.
	RequestQueued RequestState = "queued"
	// RequestRunning is the one request the service is running.
	RequestRunning RequestState = "running"
	// RequestDone ran to its end (ports may have failed: see its runs).
	RequestDone RequestState = "done"
	// RequestFailed could not run to its end (the scan failed, the
	// database could not record it, …): Error says why.
	RequestFailed RequestState = "failed"
	// RequestCancelled was cancelled, before it ran or while it ran.
	RequestCancelled RequestState = "cancelled"
)

// Open reports whether the state is not final.
func (s RequestState) Open() bool { return s == RequestQueued || s == RequestRunning }

// Request is one run request of the build service.
type Request struct {
	// ID names the request (a time-ordered UUID, so the queue is in
	// submission order). Its first run has the same UUID; a run resumed
	// after the service was killed has a new one (Runs lists them all).
	ID uuid.UUID `json:"id"`
	// Directive is build, just-build, force or test; Ports the origins as
	// given; Profile the configuration profile.
	Directive string   `json:"directive"`
	Ports     []string `json:"ports"`
	Profile   string   `json:"profile,omitempty"`
	// Flags are the directive's options that change what is built.
	Flags RequestFlags `json:"flags,omitzero"`
	// By names who asked (an API key's name, "uid 1001" on the socket).
	By string `json:"by,omitempty"`
	// RetryOf is the request (or CLI run) this one retries.
	RetryOf uuid.UUID `json:"retry_of,omitzero"`
	// State is where it stands; Error why it failed.
	State RequestState `json:"state"`
	Error string       `json:"error,omitempty"`
	// Queued counts the ports its plan built when it was submitted, and
	// Estimate is the scheduler's duration for them from recorded
	// durations.
	Queued   int      `json:"queued"`
	Estimate Duration `json:"estimated_duration"`
	// Submitted, Started and Ended are its times (zero until they happen).
	Submitted time.Time `json:"submitted"`
	Started   time.Time `json:"started,omitzero"`
	Ended     time.Time `json:"ended,omitzero"`
	// Runs are the runs that executed it, first to last.
	Runs []uuid.UUID `json:"runs,omitempty"`
	// Rank is its place in the queue once a request was moved (see
	// MoveRequest): queued requests run in the order of their rank, and
	// one never ranked counts its submission time, so that it comes after
	// every ranked one.
	Rank int64 `json:"rank,omitempty"`
}

// queueKey is the request's sort key in the queue.
func (r *Request) queueKey() int64 {
	if r.Rank != 0 {
		return r.Rank
	}
	return r.Submitted.UnixNano()
}

// SortQueue puts requests in queue order: by rank, then submission (a
// request never moved is ranked by its submission time), then UUID.
func SortQueue(reqs []*Request) {
	slices.SortStableFunc(reqs, func(a, b *Request) int {
		if c := cmp.Compare(a.queueKey(), b.queueKey()); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
}

// RequestFlags are a request's build options (dsynth's -D, -P and -x).
type RequestFlags struct {
	Developer  bool `json:"developer,omitempty"`
	CheckPlist bool `json:"check_plist,omitempty"`
	Keep       int  `json:"keep,omitempty"`
}

// NewRequest returns a queued request submitted now with a fresh
// time-ordered UUID.
func NewRequest(directive string, ports []string, profile string) *Request {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	return &Request{ID: id, Directive: directive, Ports: ports, Profile: profile, State: RequestQueued, Submitted: time.Now().UTC()}
}

func encodeRequest(r *Request) ([]byte, error) {
	j, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return seal(append([]byte{tagRequest, requestVersion}, j...)), nil
}

func decodeRequest(v []byte) (*Request, error) {
	body, err := unsealVersion(v, tagRequest, requestVersion)
	if err != nil {
		return nil, err
	}
	r := &Request{}
	if err := json.Unmarshal(body, r); err != nil {
		return nil, errDecode
	}
	return r, nil
}

// PutRequest stores or updates a request.
func (db *DB) PutRequest(r *Request) error {
	if r.ID == uuid.Nil || r.Submitted.IsZero() || r.State == "" {
		return fmt.Errorf("%w: request without UUID, submission time or state", ErrInvalidRecord)
	}
	v, err := encodeRequest(r)
	if err != nil {
		return err
	}
	return db.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bQueue)
		if err != nil {
			return fmt.Errorf("queue: %w", err)
		}
		return b.Put(r.ID[:], v)
	})
}

// Request returns one request (ErrNotFound when there is none).
func (db *DB) Request(id uuid.UUID) (*Request, error) {
	var r *Request
	err := db.view(func(tx *bolt.Tx) error {
		var v []byte
		if b := tx.Bucket(bQueue); b != nil {
			v = b.Get(id[:])
		}
		if v == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		var err error
		if r, err = decodeRequest(v); err != nil {
			return fmt.Errorf("request %s: %w", id, err)
		}
		return nil
	})
	return r, err
}

// Requests returns the requests in submission order whose state is one of
// states (every request when none is given).
func (db *DB) Requests(states ...RequestState) ([]*Request, error) {
	var out []*Request
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bQueue)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			r, err := decodeRequest(v)
			if err != nil {
				return fmt.Errorf("request %x: %w", k, err)
			}
			if len(states) == 0 || slices.Contains(states, r.State) {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}

// QueuedRequests returns the queued requests in queue order (SortQueue):
// the first is the one to run next.
func (db *DB) QueuedRequests() ([]*Request, error) {
	q, err := db.Requests(RequestQueued)
	SortQueue(q)
	return q, err
}

// ErrNotQueued is MoveRequest's error for a request that is not queued.
var ErrNotQueued = errors.New("not queued")

// MoveRequest moves a queued request to position (0 runs next; a position
// past the end moves it last) and returns the queue after the move, in
// one transaction: every queued request is ranked anew, 1 to n.
func (db *DB) MoveRequest(id uuid.UUID, position int) ([]*Request, error) {
	if position < 0 {
		return nil, fmt.Errorf("request %s: position %d: %w", id, position, ErrInvalidRecord)
	}
	var queue []*Request
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bQueue)
		if b == nil || b.Get(id[:]) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		queue = queue[:0]
		var moved *Request
		err := b.ForEach(func(k, v []byte) error {
			r, err := decodeRequest(v)
			if err != nil {
				return fmt.Errorf("request %x: %w", k, err)
			}
			switch {
			case r.ID == id && r.State == RequestQueued:
				moved = r
			case r.ID == id:
				return fmt.Errorf("request %s is %s: %w", id, r.State, ErrNotQueued)
			case r.State == RequestQueued:
				queue = append(queue, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		SortQueue(queue)
		queue = slices.Insert(queue, min(position, len(queue)), moved)
		for i, r := range queue {
			r.Rank = int64(i + 1)
			v, err := encodeRequest(r)
			if err != nil {
				return err
			}
			if err := b.Put(r.ID[:], v); err != nil {
				return fmt.Errorf("queue: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return queue, nil
}

// RequestOfRun returns the request a run executed, nil when the run was
// not a request's (a CLI run).
func (db *DB) RequestOfRun(run uuid.UUID) (*Request, error) {
	if r, err := db.Request(run); err == nil {
		return r, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	all, err := db.Requests()
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		if slices.Contains(r.Runs, run) {
			return r, nil
		}
	}
	return nil, nil
}
