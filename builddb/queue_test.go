package builddb

import (
	"errors"
	"testing"

	"github.com/google/uuid"
)

func TestRequestsRoundTripInSubmissionOrder(t *testing.T) {
	db := openTemp(t)
	a := NewRequest("build", []string{"misc/hello"}, "LiveSystem")
	b := NewRequest("force", []string{"devel/libkit", "misc/hello"}, "LiveSystem")
	b.Flags = RequestFlags{Developer: true, Keep: 1}
	for _, r := range []*Request{b, a} { // stored out of order
		if err := db.PutRequest(r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Requests()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
		t.Fatalf("requests = %v, want a then b", all)
	}
	if !all[1].Flags.Developer || all[1].Flags.Keep != 1 || all[1].Ports[1] != "misc/hello" {
		t.Errorf("b read back as %+v", all[1])
	}

	second := uuid.New()
	b.State, b.Runs = RequestRunning, []uuid.UUID{b.ID, second}
	if err := db.PutRequest(b); err != nil {
		t.Fatal(err)
	}
	open, err := db.Requests(RequestRunning)
	if err != nil || len(open) != 1 || open[0].ID != b.ID {
		t.Fatalf("running = %v, %v; want b", open, err)
	}
	for _, run := range []uuid.UUID{b.ID, second} {
		got, err := db.RequestOfRun(run)
		if err != nil || got == nil || got.ID != b.ID {
			t.Errorf("RequestOfRun(%s) = %v, %v; want b", run, got, err)
		}
	}
	if got, err := db.RequestOfRun(uuid.New()); err != nil || got != nil {
		t.Errorf("RequestOfRun(a CLI run) = %v, %v; want nil, nil", got, err)
	}
	if _, err := db.Request(uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Request(unknown) = %v, want ErrNotFound", err)
	}
}

func TestPutRequestRefusesAnIncompleteOne(t *testing.T) {
	db := openTemp(t)
	r := NewRequest("build", nil, "")
	r.State = ""
	if err := db.PutRequest(r); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("PutRequest(no state) = %v, want ErrInvalidRecord", err)
	}
	if all, _ := db.Requests(); len(all) != 0 {
		t.Errorf("stored %d requests", len(all))
	}
}

func TestRequestStateOpen(t *testing.T) {
	for s, want := range map[RequestState]bool{RequestQueued: true, RequestRunning: true, RequestDone: false, RequestFailed: false, RequestCancelled: false} {
		if s.Open() != want {
			t.Errorf("%s.Open() = %v", s, !want)
		}
	}
}

// TestMoveRequest: moves reorder the queued requests only, a request
// submitted after a move queues last, and a request that is not queued,
// an unknown one and a negative position are refused with nothing
// changed.
func TestMoveRequest(t *testing.T) {
	db := openTemp(t)
	var q []*Request
	for _, o := range []string{"misc/a", "misc/b", "misc/c"} {
		r := NewRequest("build", []string{o}, "LiveSystem")
		if err := db.PutRequest(r); err != nil {
			t.Fatal(err)
		}
		q = append(q, r)
	}
	done := NewRequest("build", []string{"misc/done"}, "LiveSystem")
	done.State = RequestDone
	if err := db.PutRequest(done); err != nil {
		t.Fatal(err)
	}
	order := func(rs []*Request) string {
		s := ""
		for _, r := range rs {
			s += r.Ports[0][len("misc/"):] + " "
		}
		return s
	}
	queued := func() string {
		t.Helper()
		rs, err := db.QueuedRequests()
		if err != nil {
			t.Fatal(err)
		}
		return order(rs)
	}
	got, err := db.MoveRequest(q[2].ID, 0)
	if err != nil || order(got) != "c a b " || queued() != "c a b " {
		t.Fatalf("move c to 0: %q, %v; stored %q; want c a b", order(got), err, queued())
	}
	if got, err = db.MoveRequest(q[2].ID, 1); err != nil || order(got) != "a c b " {
		t.Fatalf("move c to 1: %q, %v", order(got), err)
	}
	if got, err = db.MoveRequest(q[0].ID, 10); err != nil || order(got) != "c b a " {
		t.Fatalf("move a past the end: %q, %v", order(got), err)
	}
	later := NewRequest("build", []string{"misc/later"}, "LiveSystem")
	if err := db.PutRequest(later); err != nil {
		t.Fatal(err)
	}
	if s := queued(); s != "c b a later " {
		t.Fatalf("a request submitted after moves: queue %q, want it last", s)
	}
	if _, err := db.MoveRequest(done.ID, 0); !errors.Is(err, ErrNotQueued) {
		t.Errorf("move of a done request: %v, want ErrNotQueued", err)
	}
	if _, err := db.MoveRequest(uuid.New(), 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("move of an unknown request: %v, want ErrNotFound", err)
	}
	if _, err := db.MoveRequest(later.ID, -1); err == nil {
		t.Error("move to -1 accepted")
	}
	if s := queued(); s != "c b a later " {
		t.Errorf("refused moves changed the queue: %q", s)
	}
}
