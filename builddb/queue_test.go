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
