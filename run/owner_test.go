package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
)

// testConfig writes dsynth init's configuration into a temporary directory
// and loads it.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if _, err := config.WriteDefault(dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestOwnerHoldsTheBuildBase: one owner at a time, a 0600 socket that
// answers while it owns, nothing left behind after Close.
func TestOwnerHoldsTheBuildBase(t *testing.T) {
	cfg := testConfig(t)
	base := cfg.Profile.BuildBase
	if _, err := Dial(base); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("Dial before any owner: %v, want ErrNoOwner", err)
	}
	o, err := Own(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(o.Socket())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s has mode %v, want a socket with 0600", o.Socket(), st.Mode())
	}
	if _, err := Own(cfg, nil); !errors.Is(err, builddb.ErrLocked) {
		t.Fatalf("second owner: %v, want ErrLocked", err)
	}
	c, err := Dial(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stats(context.Background()); err != nil {
		t.Fatalf("stats through the socket: %v", err)
	}
	c.Close()
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(o.Socket()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after Close: %v", err)
	}
	if _, err := Dial(base); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("Dial after Close: %v, want ErrNoOwner", err)
	}
	// The build base is free again.
	o2, err := Own(cfg, nil)
	if err != nil {
		t.Fatalf("owning again: %v", err)
	}
	o2.Close()
}

// TestOwnerReplacesADeadOwnersSocket: a socket file left by an owner that
// died (nobody listens) reads as no owner and is replaced.
func TestOwnerReplacesADeadOwnersSocket(t *testing.T) {
	cfg := testConfig(t)
	base := cfg.Profile.BuildBase
	if err := os.WriteFile(filepath.Join(base, SocketName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := Own(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := Dial(base); err != nil {
		t.Fatalf("Dial the new owner: %v", err)
	}
}

// TestClientReadsTheOwnersHandle: statistics and stored inputs come from
// the owner's open database, the same as reading the file.
func TestClientReadsTheOwnersHandle(t *testing.T) {
	cfg := testConfig(t)
	o, err := Own(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	db := o.DB()
	now := time.Now().UTC().Truncate(time.Second)
	rec := &builddb.BuildRecord{ID: builddb.NewBuildID("misc/hello", "1.0", ""), Status: builddb.StatusSuccess,
		StartTime: now.Add(-time.Minute), EndTime: now, Duration: time.Minute}
	rec.ID.BuildTime = rec.StartTime
	if err := db.Put(rec); err != nil {
		t.Fatal(err)
	}
	in := builddb.Inputs{Origin: "misc/hello", Fingerprint: "f1", CRC: 7, HasCRC: true, Version: "1.0", Updated: now}
	if err := db.PutInputs(in); err != nil {
		t.Fatal(err)
	}
	c, err := Dial(cfg.Profile.BuildBase)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	got, err := c.Inputs(ctx, []string{"misc/hello", "misc/absent"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := got.Inputs("misc/hello")
	if err != nil || h.Fingerprint != "f1" || h.CRC != 7 || !h.HasCRC || h.Version != "1.0" {
		t.Fatalf("inputs of misc/hello: %+v, %v", h, err)
	}
	if _, err := got.Inputs("misc/absent"); !errors.Is(err, builddb.ErrNotFound) {
		t.Fatalf("inputs of a port with none: %v, want ErrNotFound", err)
	}
	var viaOwner, direct bytes.Buffer
	n, err := c.Export(ctx, &viaOwner)
	if err != nil || n != 1 {
		t.Fatalf("export through the owner: %d records, %v", n, err)
	}
	if _, err := db.Export(&direct); err != nil {
		t.Fatal(err)
	}
	if viaOwner.String() != direct.String() {
		t.Fatalf("export through the owner:\n%s\nfrom the handle:\n%s", viaOwner.String(), direct.String())
	}
	data, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := db.Stats(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(want)
	var a, b any
	json.Unmarshal(data, &a)
	json.Unmarshal(wantJSON, &b)
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if string(aj) != string(bj) {
		t.Fatalf("stats through the owner:\n%s\nwant:\n%s", aj, bj)
	}
}

// TestOwnerSocketPathTooLong refuses a build base whose socket path no
// system could bind, naming the fix.
func TestOwnerSocketPathTooLong(t *testing.T) {
	long := filepath.Join(t.TempDir(), string(make([]byte, 0)))
	for len(long) < maxSocketPath {
		long = filepath.Join(long, "deep-directory-name")
	}
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := listenSocket(filepath.Join(long, SocketName), nil)
	if err == nil {
		t.Fatal("a socket path longer than sun_path was accepted")
	}
}

// TestOwnerWithoutSocket: a build base whose socket path no system could
// bind is still owned (builds work), with a warning; other processes then
// find no owner to ask.
func TestOwnerWithoutSocket(t *testing.T) {
	cfg := testConfig(t)
	long := cfg.Profile.BuildBase
	for len(filepath.Join(long, SocketName)) <= maxSocketPath {
		long = filepath.Join(long, "a-rather-long-directory-name")
	}
	cfg.Profile.BuildBase = long
	var log strings.Builder
	o, err := Own(cfg, &log)
	if err != nil {
		t.Fatalf("Own with an unusable socket path: %v", err)
	}
	defer o.Close()
	if !strings.Contains(log.String(), "warning: owner socket") || !strings.Contains(log.String(), "longer than") {
		t.Fatalf("no warning about the socket:\n%s", log.String())
	}
	if _, err := Dial(long); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("Dial: %v, want ErrNoOwner", err)
	}
}

// TestOwnerRunsOneBuildAtATime: a second build under the same owner is
// refused while the first runs.
func TestOwnerRunsOneBuildAtATime(t *testing.T) {
	o, err := Own(testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	done, err := o.startRun()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.startRun(); !errors.Is(err, ErrBusy) {
		t.Fatalf("second build: %v, want ErrBusy", err)
	}
	done()
	done2, err := o.startRun()
	if err != nil {
		t.Fatalf("after the first ended: %v", err)
	}
	done2()
}

// TestOwnerMaintenance: database maintenance over the owner's socket waits
// for no build — it is refused while one runs — and the readiness probe
// sees the socket and the database.
func TestOwnerMaintenance(t *testing.T) {
	o, err := Own(testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	c, err := Dial(o.cfg.Profile.BuildBase)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	done, err := o.startRun()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(ctx); err == nil || !strings.Contains(err.Error(), "BUILD_RUNNING") {
		t.Fatalf("compact during a build: %v", err)
	}
	if _, err := o.startRun(); !errors.Is(err, ErrBusy) {
		t.Fatalf("the refused compaction let a second build start: %v", err)
	}
	done()
	if res, err := c.Compact(ctx); err != nil || res.AfterBytes <= 0 {
		t.Fatalf("compact: %+v %v", res, err)
	}
	done, err = o.startRun()
	if err != nil {
		t.Fatalf("a build after the compaction: %v", err)
	}
	done()
	resp, err := c.hc.Get("http://owner/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Status string
		Checks map[string]struct{ Status string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != 200 || d.Status != "ready" ||
		d.Checks["socket"].Status != "ok" || d.Checks["database"].Status != "ok" {
		t.Fatalf("readyz: %d %+v %v", resp.StatusCode, d, err)
	}
}
