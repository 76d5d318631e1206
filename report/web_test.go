package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

func TestSummaryJSONLayout(t *testing.T) {
	s := Summary{
		Profile: "LiveSystem", Kickoff: " 01-Jan-2025 18:00:00 UTC", KFiles: 1, Active: 1,
		Stats: Stats{Queued: 120, Built: 40, Failed: 1, Ignored: 2, Skipped: 3, Remains: 74, Meta: 2,
			Elapsed: " 01:02:03", PkgHour: 38, Impulse: 41, SwapInfo: "  0.0", Load: "  7.9"},
		Builders: []Builder{
			{ID: "00", Elapsed: " 00:03:10", Phase: "build", Origin: "devel/gmake", Lines: "1200"},
			ShutdownBuilder(1),
			IdleBuilder(2, "Idle"),
		},
	}
	want := `{
  "profile":"LiveSystem"
  ,"kickoff":" 01-Jan-2025 18:00:00 UTC"
  ,"kfiles":1
  ,"active":1
  ,"stats":{
    "queued":120
    ,"built":40
    ,"failed":1
    ,"ignored":2
    ,"skipped":3
    ,"remains":74
    ,"meta":2
    ,"elapsed":" 01:02:03"
    ,"pkghour":38
    ,"impulse":41
    ,"swapinfo":"  0.0"
    ,"load":"  7.9"
  }
  ,"builders":[
  {
     "ID":"00"
     ,"elapsed":" 00:03:10"
     ,"phase":"build"
     ,"origin":"devel/gmake"
     ,"lines":"1200"
  }
   ,{
     "ID":"01"
     ,"elapsed":"Shutdown"
     ,"phase":""
     ,"origin":""
     ,"lines":""
    }
,  {
     "ID":"02"
     ,"elapsed":" --:--:--"
     ,"phase":"Idle"
     ,"origin":""
     ,"lines":""
  }
  ]
}
`
	got := SummaryJSON(s)
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	var back Summary
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.Stats != s.Stats || len(back.Builders) != 3 || back.Builders[0] != s.Builders[0] {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestHistoryEntryLayout(t *testing.T) {
	h := HistoryItem{Entry: 1, Elapsed: "00:03:10", ID: "00", Result: "built", Origin: "devel/gmake", Duration: "00:03:09"}
	want := "  {\n" +
		"   \"entry\":1\n" +
		"   ,\"elapsed\":\"00:03:10\"\n" +
		"   ,\"ID\":\"00\"\n" +
		"   ,\"result\":\"built\"\n" +
		"   ,\"origin\":\"devel/gmake\"\n" +
		"   ,\"info\":\"\"\n" +
		"   ,\"duration\":\"00:03:09\"\n" +
		"  }\n" +
		"]\n"
	if got := HistoryEntry(h, true); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if got := HistoryEntry(h, false); got != "  ,"+want[2:] {
		t.Fatalf("later entry: %q", got)
	}
	// Quotes, backslashes and newlines become spaces; info is capped.
	h.Info = "a \"b\" c\\d\ne" + strings.Repeat("x", 400)
	got := HistoryEntry(h, true)
	info := strings.SplitN(strings.SplitN(got, `"info":"`, 2)[1], `"`, 2)[0]
	if !strings.HasPrefix(info, "a  b  c d e") || len(info) != MaxInfo {
		t.Fatalf("info %q (len %d)", info, len(info))
	}
	// The cap does not split a UTF-8 character.
	h.Info = strings.Repeat("é", 200)
	got = HistoryEntry(h, true)
	var items []HistoryItem
	if err := json.Unmarshal([]byte("["+got), &items); err != nil {
		t.Fatal(err)
	}
	if n := len(items[0].Info); n != 254 || !strings.HasSuffix(items[0].Info, "é") {
		t.Fatalf("capped info is %d bytes: %q", n, items[0].Info)
	}
}

func TestHistoryInfo(t *testing.T) {
	tests := []struct {
		result, phase, reason string
		skipped               int
		want                  string
	}{
		{ResultFailed, "build", "", 3, "build: 3"},
		{ResultFailed, "configure", "", 0, "configure:"},
		{ResultFailed, "", "", 0, "unknown:"},
		{ResultIgnored, "", "is marked broken ", 2, "is marked broken :|:2"},
		{ResultIgnored, "", "ONLY_FOR_ARCHS ", 0, "ONLY_FOR_ARCHS :|:0"},
		{ResultSkipped, "", "lang/rust ", 4, "lang/rust "},
		{ResultBuilt, "", "", 0, ""},
		{ResultMeta, "", "", 0, ""},
	}
	for _, tc := range tests {
		if got := HistoryInfo(tc.result, tc.phase, tc.reason, tc.skipped); got != tc.want {
			t.Errorf("HistoryInfo(%s,%q,%q,%d) = %q, want %q", tc.result, tc.phase, tc.reason, tc.skipped, got, tc.want)
		}
	}
}

func readSummary(t *testing.T, dir string) Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json: %v\n%s", err, b)
	}
	return s
}

func readHistory(t *testing.T, dir string, n int) []HistoryItem {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%02d_history.json", n)))
	if err != nil {
		t.Fatal(err)
	}
	var items []HistoryItem
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatalf("%02d_history.json: %v\n%s", n, err, b)
	}
	return items
}

func TestWebDuringAndAfterRun(t *testing.T) {
	logs := t.TempDir()
	c := newFakeClock()
	w := NewWeb(logs, WebOptions{Clock: c.Now})
	dir := w.Dir()
	t0 := c.Now()

	w.Handle(events.RunStarted{Time: at(c), Profile: "LiveSystem", Queued: 9, MaxWorkers: 3})
	s := readSummary(t, dir)
	if s.Active != 1 || s.Profile != "LiveSystem" || s.Kickoff != " 01-Jan-2025 18:00:00 UTC" || s.KFiles != 0 ||
		s.Stats.Queued != 9 || s.Stats.Remains != 9 || len(s.Builders) != 3 || s.Builders[2].Elapsed != "Shutdown" {
		t.Fatalf("first summary: %+v", s)
	}

	w.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "devel/gmake", Outcome: events.AlreadyBuilt})
	w.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "lang/python", Outcome: events.AlreadyBuilt, Dummy: true})
	w.Handle(events.PortStarted{Time: at(c), Slot: 0, Origin: "devel/gmake2"})
	w.Handle(events.PhaseStarted{Time: at(c), Slot: 0, Origin: "devel/gmake2", Phase: "build"})
	w.Handle(events.PortLines{Time: at(c), Slot: 0, Origin: "devel/gmake2", Lines: 1200})
	if s := readSummary(t, dir); s.Stats.Queued != 9 {
		t.Fatalf("summary rewritten within 10 s: %+v", s.Stats)
	}
	c.Add(10 * time.Second)
	w.Handle(events.SystemLoad{Time: at(c), Load1: 7.94, SwapPercent: -1})
	s = readSummary(t, dir)
	if s.Stats.Queued != 8 || s.Stats.Remains != 8 || s.Stats.Load != "  7.9" || s.Stats.SwapInfo != "-    " ||
		s.Stats.Elapsed != " 00:00:10" {
		t.Fatalf("stats after 10 s: %+v", s.Stats)
	}
	if b := s.Builders[0]; b != (Builder{ID: "00", Elapsed: " 00:00:10", Phase: "build", Origin: "devel/gmake2", Lines: "1200"}) {
		t.Fatalf("running builder: %+v", b)
	}
	if b := s.Builders[1]; b != IdleBuilder(1, "None") {
		t.Fatalf("unused builder: %+v", b)
	}

	c.Add(3 * time.Second)
	w.Handle(events.PortFinished{Time: at(c), Slot: 0, Origin: "devel/gmake2", Outcome: events.Built, Duration: 13 * time.Second})
	if s := readSummary(t, dir); s.Stats.Built != 0 {
		t.Fatal("summary rewritten 3 s after the previous write")
	}
	c.Add(7 * time.Second)
	w.Handle(events.SystemLoad{Time: at(c), Load1: 2, SwapPercent: 1.25})
	s = readSummary(t, dir)
	if s.Stats.Built != 1 || s.Stats.Remains != 7 || s.KFiles != 1 || s.Builders[0] != IdleBuilder(0, "Idle") || s.Stats.SwapInfo != "  1.2" {
		t.Fatalf("after a build: %+v", s)
	}

	w.Handle(events.PortStarted{Time: at(c), Slot: 1, Origin: "lang/rust"})
	w.Handle(events.PhaseStarted{Time: at(c), Slot: 1, Origin: "lang/rust", Phase: "configure"})
	c.Add(65 * time.Second)
	w.Handle(events.PortFinished{Time: at(c), Slot: 1, Origin: "lang/rust", Outcome: events.Failed, Phase: "configure", SkippedDependents: 2, Duration: 65 * time.Second})
	w.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "www/firefox", Outcome: events.Skipped, Reason: "lang/rust ", SkippedDependents: 1})
	w.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "games/broken", Outcome: events.Ignored, Reason: "is \"broken\" "})
	w.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "lang/python3", Outcome: events.Meta})
	w.Handle(events.PortStarted{Time: at(c), Slot: 2, Origin: "x11/slow"})
	c.Add(5 * time.Second)
	w.Handle(events.RunFinished{Time: at(c), Duration: c.Now().Sub(t0)})

	s = readSummary(t, dir)
	want := Stats{Queued: 8, Built: 1, Failed: 1, Ignored: 1, Skipped: 1, Remains: 4, Meta: 1,
		Elapsed: " 00:01:30", PkgHour: 80, Impulse: 80, SwapInfo: "  1.2", Load: "  2.0"}
	if s.Active != 0 || s.Stats != want {
		t.Fatalf("final summary:\n got %+v (active %d)\nwant %+v", s.Stats, s.Active, want)
	}
	if b := s.Builders[2]; b.Phase != "Pending" || b.Origin != "x11/slow" || b.Elapsed != " 00:00:05" {
		t.Fatalf("pending builder: %+v", b)
	}

	hist := readHistory(t, dir, 1)
	wantHist := []HistoryItem{
		{1, "00:00:13", "00", "built", "devel/gmake2", "", "00:00:13"},
		{2, "00:01:25", "01", "failed", "lang/rust", "configure: 2", "00:01:05"},
		{3, "00:01:25", "-1", "skipped", "www/firefox", "lang/rust ", ""},
		{4, "00:01:25", "-1", "ignored", "games/broken", "is  broken  :|:0", ""},
		{5, "00:01:25", "-1", "meta", "lang/python3", "", ""},
	}
	if len(hist) != len(wantHist) {
		t.Fatalf("history: %+v", hist)
	}
	for i := range hist {
		if hist[i] != wantHist[i] {
			t.Errorf("history[%d]:\n got %+v\nwant %+v", i, hist[i], wantHist[i])
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWebHistoryBytes(t *testing.T) {
	c := newFakeClock()
	w := NewWeb(t.TempDir(), WebOptions{Clock: c.Now})
	w.Handle(events.RunStarted{Time: at(c), Queued: 2, MaxWorkers: 1})
	c.Add(time.Minute)
	w.Handle(events.PortFinished{Time: at(c), Slot: 0, Origin: "a/b", Outcome: events.Built, Duration: 30 * time.Second})
	w.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "a/c", Outcome: events.Skipped, Reason: "a/d "})
	got, err := os.ReadFile(filepath.Join(w.Dir(), "01_history.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := "[\n" +
		"  {\n   \"entry\":1\n   ,\"elapsed\":\"00:01:00\"\n   ,\"ID\":\"00\"\n   ,\"result\":\"built\"\n" +
		"   ,\"origin\":\"a/b\"\n   ,\"info\":\"\"\n   ,\"duration\":\"00:00:30\"\n  }\n" +
		"  ,{\n   \"entry\":2\n   ,\"elapsed\":\"00:01:00\"\n   ,\"ID\":\"-1\"\n   ,\"result\":\"skipped\"\n" +
		"   ,\"origin\":\"a/c\"\n   ,\"info\":\"a/d \"\n   ,\"duration\":\"\"\n  }\n" +
		"]\n"
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWebHistoryRotation(t *testing.T) {
	c := newFakeClock()
	w := NewWeb(t.TempDir(), WebOptions{Clock: c.Now})
	const n = 400
	w.Handle(events.RunStarted{Time: at(c), Queued: n, MaxWorkers: 4})
	reason := strings.Repeat("long reason ", 30) // capped at 255 in info
	for i := 0; i < n; i++ {
		c.Add(time.Second)
		w.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: fmt.Sprintf("cat/port%03d", i), Outcome: events.Skipped, Reason: reason})
	}
	w.Handle(events.RunFinished{Time: at(c)})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, w.Dir())
	if s.KFiles < 3 {
		t.Fatalf("kfiles %d: %d entries of ~470 bytes should need at least 3 files", s.KFiles, n)
	}
	next := 1
	for f := 1; f <= s.KFiles; f++ {
		path := filepath.Join(w.Dir(), fmt.Sprintf("%02d_history.json", f))
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		items := readHistory(t, w.Dir(), f)
		// A file takes entries until it is past the limit, so only the
		// last one may be at or under it, and none is past it by more
		// than one entry.
		if f < s.KFiles && st.Size() <= HistoryLimit {
			t.Errorf("%s closed at %d bytes", path, st.Size())
		}
		if st.Size() > HistoryLimit+600 {
			t.Errorf("%s grew to %d bytes", path, st.Size())
		}
		for _, it := range items {
			if it.Entry != next || len(it.Info) != MaxInfo {
				t.Fatalf("%s: entry %d (info %d bytes), want entry %d", path, it.Entry, len(it.Info), next)
			}
			next++
		}
	}
	if next != n+1 {
		t.Fatalf("history holds %d entries, want %d", next-1, n)
	}
	if _, err := os.Stat(filepath.Join(w.Dir(), fmt.Sprintf("%02d_history.json", s.KFiles+1))); !os.IsNotExist(err) {
		t.Fatalf("a history file past kfiles exists: %v", err)
	}
}

func TestWebStartCleansAndWritesPage(t *testing.T) {
	logs := t.TempDir()
	dir := filepath.Join(logs, ReportDir)
	os.MkdirAll(dir, 0o755)
	for _, n := range []string{"summary.json", "01_history.json", "07_history.json", "_history.json", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, n), []byte("old"), 0o644)
	}
	c := newFakeClock()
	w := NewWeb(logs, WebOptions{Clock: c.Now})
	w.Handle(events.RunStarted{Time: at(c), Queued: 1, MaxWorkers: 1})
	for _, n := range []string{"01_history.json", "07_history.json"} {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s survived the new run", n)
		}
	}
	for _, n := range []string{"_history.json", "notes.txt"} { // dsynth leaves these
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
	if s := readSummary(t, dir); s.Active != 1 {
		t.Fatal("no fresh summary.json")
	}
	for _, n := range []string{"index.html", "progress.css", "progress.js"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v", n, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "favicon.png"))
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() != 16 {
		t.Fatalf("favicon: %v", err)
	}
	// Every file dsynth's HtmlInit copies into Report/ is there
	// (progress.html as index.html), and the page refers to the images.
	b, err = os.ReadFile(filepath.Join(dir, "dsynth.png"))
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 64 {
		t.Fatalf("dsynth.png: %v", err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, ref := range []string{`href="favicon.png"`, `src="dsynth.png"`, "progress.css", "progress.js"} {
		if !strings.Contains(string(page), ref) {
			t.Errorf("index.html does not refer to %s", ref)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "*.new")); len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s := readSummary(t, dir); s.Active != 0 {
		t.Fatal("Close did not make the final write")
	}
}

// TestSummaryConcurrentReader reads summary.json in a loop while it is
// rewritten thousands of times: every read must be a whole JSON document.
func TestSummaryConcurrentReader(t *testing.T) {
	c := newFakeClock()
	w := NewWeb(t.TempDir(), WebOptions{Clock: c.Now})
	w.Handle(events.RunStarted{Time: at(c), Queued: 500, MaxWorkers: 8})
	path := filepath.Join(w.Dir(), "summary.json")

	var stop atomic.Bool
	var reads, bad atomic.Int64
	var firstBad atomic.Value
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				b, err := os.ReadFile(path)
				if err != nil || !json.Valid(b) {
					if bad.Add(1) == 1 {
						firstBad.Store(fmt.Sprintf("err=%v data=%q", err, b))
					}
				}
				reads.Add(1)
			}
		}()
	}
	for i := 0; i < 500; i++ {
		c.Add(SummaryInterval) // every event rewrites the file
		slot := i % 8
		w.Handle(events.PortStarted{Time: at(c), Slot: slot, Origin: fmt.Sprintf("cat/p%d", i)})
		w.Handle(events.PortFinished{Time: at(c), Slot: slot, Origin: fmt.Sprintf("cat/p%d", i), Outcome: events.Built, Duration: time.Second})
	}
	w.Handle(events.RunFinished{Time: at(c)})
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d of %d reads saw no or invalid JSON; first: %v", bad.Load(), reads.Load(), firstBad.Load())
	}
	if reads.Load() == 0 {
		t.Fatal("the readers never ran")
	}
	if s := readSummary(t, w.Dir()); s.Stats.Built != 500 || s.Active != 0 {
		t.Fatalf("final: %+v", s.Stats)
	}
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
}

// A port a worker slot finds ignored counts as ignored but, as in dsynth,
// its history entry says skipped, with the slot and the bare reason.
func TestWebWorkerIgnored(t *testing.T) {
	c := newFakeClock()
	w := NewWeb(t.TempDir(), WebOptions{Clock: c.Now})
	w.Handle(events.RunStarted{Time: at(c), Queued: 1, MaxWorkers: 2})
	w.Handle(events.PortStarted{Time: at(c), Slot: 1, Origin: "a/b"})
	c.Add(4 * time.Second)
	w.Handle(events.PortFinished{Time: at(c), Slot: 1, Origin: "a/b", Outcome: events.Ignored, Reason: "is forbidden ", SkippedDependents: 3, Duration: 4 * time.Second})
	w.Handle(events.RunFinished{Time: at(c)})
	if s := readSummary(t, w.Dir()); s.Stats.Ignored != 1 || s.Stats.Skipped != 0 || s.Stats.Remains != 0 {
		t.Fatalf("stats %+v", s.Stats)
	}
	want := HistoryItem{1, "00:00:04", "01", "skipped", "a/b", "is forbidden ", "00:00:04"}
	if h := readHistory(t, w.Dir(), 1); len(h) != 1 || h[0] != want {
		t.Fatalf("history %+v, want %+v", h, want)
	}
}
