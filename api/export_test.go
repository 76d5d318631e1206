package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
)

// stallingWriter is a response writer whose first Write waits until the
// test releases it: a client that stopped reading.
type stallingWriter struct {
	*httptest.ResponseRecorder
	once    sync.Once
	stalled chan struct{}
	release chan struct{}
}

func (w *stallingWriter) Write(b []byte) (int, error) {
	w.once.Do(func() {
		close(w.stalled)
		<-w.release
	})
	return w.ResponseRecorder.Write(b)
}

// TestExportDoesNotHoldTheWriter: while an export waits on a client that
// does not read, the build's commits (which grow the file) go through —
// the export holds no read transaction while it writes — and the export
// then ends with every record and its count.
func TestExportDoesNotHoldTheWriter(t *testing.T) {
	db, err := builddb.Open(builddb.Path(t.TempDir()), builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	batch := func(from, n int) []*builddb.BuildRecord {
		var rs []*builddb.BuildRecord
		for i := from; i < from+n; i++ {
			r := &builddb.BuildRecord{ID: builddb.NewBuildID("misc/p"+strconv.Itoa(i%50), "1", ""), Status: builddb.StatusSuccess,
				StartTime: base.Add(time.Duration(i) * time.Second), EndTime: base.Add(time.Duration(i)*time.Second + time.Millisecond), Duration: time.Millisecond,
				ErrorMsg: strings.Repeat("x", 200)}
			r.ID.BuildTime = r.StartTime
			rs = append(rs, r)
		}
		return rs
	}
	if err := db.PutBatch(batch(0, 2*exportPage+10)); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{DB: db, LocalOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	w := &stallingWriter{ResponseRecorder: httptest.NewRecorder(), stalled: make(chan struct{}), release: make(chan struct{})}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/export", nil).WithContext(WithPeerRole(context.Background(), auth.RoleAdmin))
	done := make(chan struct{})
	go func() {
		defer close(done)
		serve(t, s, w, req)
	}()
	<-w.stalled
	// Enough new records to make bbolt grow and remap the file: with a
	// read transaction open, this would wait for the export forever.
	for i := 0; i < 20; i++ {
		if err := db.PutBatch(batch(10000+i*2000, 2000)); err != nil {
			t.Fatal(err)
		}
	}
	close(w.release)
	<-done
	lines := strings.Count(w.Body.String(), "\n")
	if lines < 2*exportPage+10 {
		t.Fatalf("export wrote %d lines", lines)
	}
	if got := w.Result().Trailer.Get(ExportCountTrailer); got != strconv.Itoa(lines) {
		t.Fatalf("count trailer %q, %d lines", got, lines)
	}
}
