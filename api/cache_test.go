package api

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// TestAnswerCacheKeepsOneVersion: an answer is computed once per version
// and key, a new version forgets the old answers, errors are not kept.
func TestAnswerCacheKeepsOneVersion(t *testing.T) {
	var c answerCache
	calls := 0
	compute := func(s string) func() (json.RawMessage, error) {
		return func() (json.RawMessage, error) { calls++; return json.RawMessage(s), nil }
	}
	for i := 0; i < 3; i++ {
		if got, _ := c.get(7, "/a", compute(`1`)); string(got) != "1" {
			t.Fatalf("answer %s", got)
		}
	}
	if calls != 1 {
		t.Fatalf("computed %d times at one version, want 1", calls)
	}
	if got, _ := c.get(8, "/a", compute(`2`)); string(got) != "2" || calls != 2 {
		t.Fatalf("after a commit: %s, %d computations", got, calls)
	}
	if got, _ := c.get(7, "/a", compute(`old`)); string(got) != "old" || calls != 3 {
		t.Fatalf("an older version's request: %s, %d computations", got, calls)
	}
	if got, _ := c.get(8, "/a", compute(`x`)); string(got) != "2" {
		t.Fatalf("the older request replaced the newer answer: %s", got)
	}
	boom := errors.New("boom")
	if _, err := c.get(8, "/b", func() (json.RawMessage, error) { return nil, boom }); err != boom {
		t.Fatalf("error %v", err)
	}
	if got, err := c.get(8, "/b", compute(`3`)); err != nil || string(got) != "3" {
		t.Fatalf("an error was kept: %s, %v", got, err)
	}
}

// TestAnswerCacheOneFlight: requests for an answer being computed wait for
// that computation.
func TestAnswerCacheOneFlight(t *testing.T) {
	var c answerCache
	started, release := make(chan struct{}), make(chan struct{})
	calls := 0
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.get(1, "/k", func() (json.RawMessage, error) {
			calls++
			close(started)
			<-release
			return json.RawMessage(`"v"`), nil
		})
	}()
	<-started
	results := make(chan string, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _ := c.get(1, "/k", func() (json.RawMessage, error) { calls++; return json.RawMessage(`"w"`), nil })
			results <- string(got)
		}()
	}
	// The waiters are either parked on the flight or arrive after it
	// landed and read the kept answer: both give "v".
	close(release)
	wg.Wait()
	close(results)
	for r := range results {
		if r != `"v"` {
			t.Fatalf("a waiter got %s", r)
		}
	}
	if calls != 1 {
		t.Fatalf("computed %d times", calls)
	}
}

// TestOwnerAnswersFollowCommits: on the owner's handle, a database-only
// answer is kept while the database does not change, and a commit shows
// in the next answer.
func TestOwnerAnswersFollowCommits(t *testing.T) {
	dir := t.TempDir()
	db, err := builddb.Open(builddb.Path(dir), builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	put := func(origin string) {
		now := time.Now().UTC().Truncate(time.Second)
		r := &builddb.BuildRecord{ID: builddb.NewBuildID(origin, "1.0", ""), Status: builddb.StatusSuccess,
			StartTime: now.Add(-time.Minute), EndTime: now, Duration: time.Minute}
		r.ID.BuildTime = r.StartTime
		if err := db.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	put("misc/one")
	cached, err := New(Options{DB: db, AnonymousRead: true})
	if err != nil {
		t.Fatal(err)
	}
	count := func(a answer) int {
		var d RecordsData
		if err := json.Unmarshal(a.Data, &d); err != nil {
			t.Fatal(err)
		}
		return len(d.Records)
	}
	a1 := get(t, cached, "/api/v1/records?limit=10", "Accept", "*/*")
	a2 := get(t, cached, "/api/v1/records?limit=10", "Accept", "*/*")
	if a1.code != 200 || string(a1.Data) != string(a2.Data) || count(a1) != 1 {
		t.Fatalf("cached answers: %d %s / %s", a1.code, a1.Data, a2.Data)
	}
	put("misc/two")
	a3 := get(t, cached, "/api/v1/records?limit=10", "Accept", "*/*")
	if count(a3) != 2 {
		t.Fatalf("after a commit the answer still has %d builds", count(a3))
	}
}
