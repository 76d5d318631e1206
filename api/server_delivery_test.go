package api

import (
	"testing"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// TestServerIsLossless: the live status must see every event, so the bus
// may not drop events for the API (its stream clients drop instead).
func TestServerIsLossless(t *testing.T) {
	s, err := New(Options{BuildBase: t.TempDir(), AnonymousRead: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Delivery(); d != events.Lossless {
		t.Fatalf("api.Server delivery %v, want lossless", d)
	}
}
