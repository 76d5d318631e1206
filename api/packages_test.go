package api

import (
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
)

func listOrigins(ps []PackageSummary) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Origin)
	}
	return out
}

func TestPackagesList(t *testing.T) {
	st := newSite(t)
	s := st.server(t, Options{})
	var all PackagesData
	get(t, s, "/api/v1/packages").data(t, &all)
	want := []string{"devel/gmake", "devel/libargs", "lang/py@py311", "lang/py@py39", "misc/hello", "misc/ign", "ports-mgmt/pkg"}
	if got := listOrigins(all.Packages); !reflect.DeepEqual(got, want) || all.Count != len(want) || all.NextCursor != "" || all.ScannedAt == nil {
		t.Fatalf("all: %v count %d cursor %q scanned %v", got, all.Count, all.NextCursor, all.ScannedAt)
	}
	hello := all.Packages[4]
	if hello.Version != "1.0" || hello.PkgFile != "hello-1.0.pkg" || hello.Category != "misc" || hello.Name != "hello" ||
		hello.Status != "failed" || hello.LastBuild == nil || hello.LastBuild.UUID != st.records[7].ID.UUID.String() {
		t.Errorf("misc/hello: %+v", hello)
	}
	if py := all.Packages[3]; py.Flavor != "py39" || py.Status != "success" || all.Packages[5].Ignore != "is broken" || all.Packages[0].Status != "none" {
		t.Errorf("lang/py@py39 %+v, misc/ign %+v, devel/gmake %+v", py, all.Packages[5], all.Packages[0])
	}

	for q, want := range map[string][]string{
		"category=misc":              {"misc/hello", "misc/ign"},
		"name=LIB":                   {"devel/libargs"},
		"origin=lang/":               {"lang/py@py311", "lang/py@py39"},
		"status=failed":              {"misc/hello"},
		"status=none,ignored":        {"devel/gmake", "lang/py@py311", "misc/ign"},
		"status=success&category=la": nil,
	} {
		var page PackagesData
		get(t, s, "/api/v1/packages?"+q).data(t, &page)
		if got := listOrigins(page.Packages); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}

	// Pages of 3 add up to the whole list, each cursor taking up after
	// the last origin of its page.
	var paged []string
	cursor := ""
	for range 5 {
		var page PackagesData
		get(t, s, "/api/v1/packages?limit=3"+cursor).data(t, &page)
		paged = append(paged, listOrigins(page.Packages)...)
		if page.NextCursor == "" {
			break
		}
		cursor = "&cursor=" + page.NextCursor
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged: %v", paged)
	}

	get(t, s, "/api/v1/packages?cursor=zz").wantError(t, http.StatusBadRequest, CodeBadRequest)
	get(t, s, "/api/v1/packages?status=done").wantError(t, http.StatusBadRequest, CodeBadRequest)
	get(t, s, "/api/v1/packages?catgory=misc").wantError(t, http.StatusBadRequest, CodeBadRequest)

	// No scan yet: an empty list. No configuration: NOT_CONFIGURED.
	os.Remove(filepath.Join(st.base, ports.CacheName))
	var none PackagesData
	get(t, s, "/api/v1/packages").data(t, &none)
	if none.Count != 0 || len(none.Packages) != 0 || none.ScannedAt != nil {
		t.Errorf("without a scan cache: %+v", none)
	}
	bare := newTestServer(t, Options{BuildBase: st.base})
	get(t, bare, "/api/v1/packages").wantError(t, http.StatusNotFound, CodeNotConfigured)
}

// TestPackagesTreeFollowsCache: a new scan cache is read again.
func TestPackagesTreeFollowsCache(t *testing.T) {
	st := newSite(t)
	s := st.server(t, Options{})
	var before, after PackagesData
	get(t, s, "/api/v1/packages?category=devel").data(t, &before)
	infos := append(treeInfos(), &ports.Info{Origin: ports.MustOrigin("devel/new"), PkgVersion: "0.1"})
	path := filepath.Join(st.base, ports.CacheName)
	if err := ports.WriteCacheInfos(path, infos); err != nil {
		t.Fatal(err)
	}
	// A rewrite within the file system's time granularity is still seen
	// (the size changed, and the file is another one).
	get(t, s, "/api/v1/packages?category=devel").data(t, &after)
	if before.Count != 2 || after.Count != 3 || after.Packages[2].Origin != "devel/new" {
		t.Errorf("before %v after %v", listOrigins(before.Packages), listOrigins(after.Packages))
	}
}

func TestPackageDetailAndDeps(t *testing.T) {
	st := newSite(t)
	s := st.server(t, Options{})
	var p PackageData
	get(t, s, "/api/v1/packages/misc/hello").data(t, &p)
	wantDeps := Dependencies{"build": {"devel/gmake"}, "lib": {"devel/libargs"}, "run": {"devel/libargs"}}
	if p.Package != "misc/hello" || !p.InTree || p.Version != "1.0" || p.PkgFile != "hello-1.0.pkg" || !reflect.DeepEqual(p.Dependencies, wantDeps) {
		t.Errorf("tree fields: %+v", p)
	}
	if p.LastBuild == nil || p.LastBuild.ID.UUID != st.records[7].ID.UUID || p.LastGood == nil || p.LastGood.ID.UUID != st.records[6].ID.UUID ||
		p.SuccessfulBuilds != 2 || time.Duration(p.AverageDuration) != 3*time.Minute {
		t.Errorf("database fields: %+v", p)
	}
	// The bare origin of a flavored port is its default flavor.
	get(t, s, "/api/v1/packages/lang/py").data(t, &p)
	if p.Package != "lang/py@py39" || p.Version != "3.9" || p.LastBuild == nil || !slices.Equal(p.Flavors, []string{"py39", "py311"}) {
		t.Errorf("lang/py: %+v", p)
	}
	// In the tree, never built: found, without builds.
	get(t, s, "/api/v1/packages/devel/gmake").data(t, &p)
	if !p.InTree || p.LastBuild != nil || p.LastGood != nil || p.Version != "4.4" {
		t.Errorf("devel/gmake: %+v", p)
	}
	get(t, s, "/api/v1/packages/misc/nothing").wantError(t, http.StatusNotFound, CodePackageNotFound)
	get(t, s, "/api/v1/packages/misc/..hello").wantError(t, http.StatusBadRequest, CodeInvalidOrigin)

	var d DepsData
	get(t, s, "/api/v1/packages/devel/libargs/deps").data(t, &d)
	if len(d.Dependencies) != 0 || !reflect.DeepEqual(d.RequiredBy, Dependencies{"lib": {"misc/hello"}, "run": {"misc/hello"}}) || len(d.All) != 0 {
		t.Errorf("devel/libargs deps: %+v", d)
	}
	get(t, s, "/api/v1/packages/misc/hello/deps").data(t, &d)
	if !reflect.DeepEqual(d.Dependencies, wantDeps) || !slices.Equal(d.All, []string{"devel/gmake", "devel/libargs"}) {
		t.Errorf("misc/hello deps: %+v", d)
	}
	get(t, s, "/api/v1/packages/misc/broken/deps").wantError(t, http.StatusNotFound, CodePackageNotFound)
}

func TestPackageStatus(t *testing.T) {
	st := newSite(t)
	s := st.server(t, Options{})
	status := func(origin string) PackageStatus {
		t.Helper()
		var ps PackageStatus
		get(t, s, "/api/v1/packages/"+origin+"/status").data(t, &ps)
		return ps
	}
	// No package in the repository: the planner would build it.
	ps := status("misc/hello")
	if ps.State != StateFailed || ps.Rebuild == nil || !ps.Rebuild.Needed || ps.Rebuild.Reason != "no package" || ps.Rebuild.PackageExists ||
		ps.LastBuild == nil || ps.LastBuild.UUID != st.records[7].ID.UUID.String() || ps.ScannedAt == nil {
		t.Fatalf("without packages: %+v %+v", ps, ps.Rebuild)
	}
	if ps := status("misc/ign"); ps.State != StateIgnored || ps.Rebuild.Needed || ps.Rebuild.Reason != "is broken" {
		t.Errorf("misc/ign: %+v %+v", ps, ps.Rebuild)
	}
	// Every package of its build set there and no stored inputs: up to date.
	for _, in := range treeInfos() {
		os.WriteFile(filepath.Join(st.repo, in.PkgFile), []byte(in.PkgFile), 0o644)
	}
	if ps := status("misc/hello"); ps.State != StateUpToDate || ps.Rebuild.Needed || !ps.Rebuild.PackageExists {
		t.Errorf("with packages: %+v %+v", ps, ps.Rebuild)
	}
	// Stored inputs of another content: the port changed.
	db, err := builddb.Open(st.path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.PutInputs(builddb.Inputs{Origin: "misc/hello", Fingerprint: "fp-older", Version: "1.0"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ps := status("misc/hello"); !ps.Rebuild.Needed || !strings.HasPrefix(ps.Rebuild.Reason, string(builddb.PortChanged)+": fingerprint") || ps.State != StateFailed {
		t.Errorf("port changed: %+v %+v", ps, ps.Rebuild)
	}

	// The run in progress comes first: queued, then building with its phase.
	build := uuid.Must(uuid.NewV7())
	s.Handle(events.RunStarted{Time: events.Time{T: t0}, RunID: "r", MaxWorkers: 2})
	s.Handle(events.PortQueued{Time: events.Time{T: t0}, Origin: "misc/hello", Reason: "no package"})
	if ps := status("misc/hello"); ps.State != StateQueued || ps.Building != nil || ps.WaitingOn != nil {
		t.Errorf("queued, with nothing to wait on: %+v", ps)
	}
	// Waiting on its dependencies the run builds: gmake (to build) and
	// libargs (lib and run, named once) while queued or building; a
	// finished one no more.
	s.Handle(events.PortQueued{Time: events.Time{T: t0}, Origin: "devel/gmake", Reason: "no package"})
	s.Handle(events.PortQueued{Time: events.Time{T: t0}, Origin: "devel/libargs", Reason: "no package"})
	s.Handle(events.PortStarted{Time: events.Time{T: t0}, Slot: 0, Origin: "devel/libargs"})
	if ps := status("misc/hello"); !slices.Equal(ps.WaitingOn, []string{"devel/gmake", "devel/libargs"}) {
		t.Errorf("waiting on %v", ps.WaitingOn)
	}
	s.Handle(events.PortFinished{Time: events.Time{T: t0}, Slot: 0, Origin: "devel/libargs", Outcome: events.Built})
	if ps := status("misc/hello"); !slices.Equal(ps.WaitingOn, []string{"devel/gmake"}) {
		t.Errorf("waiting on %v after libargs was built", ps.WaitingOn)
	}
	if ps := status("devel/gmake"); ps.State != StateQueued || ps.WaitingOn != nil {
		t.Errorf("devel/gmake: %+v", ps)
	}
	s.Handle(events.PortFinished{Time: events.Time{T: t0}, Slot: -1, Origin: "devel/gmake", Outcome: events.Failed})
	s.Handle(events.PortStarted{Time: events.Time{T: t0}, Slot: 1, Origin: "misc/hello", Build: build})
	s.Handle(events.PhaseStarted{Time: events.Time{T: t0}, Slot: 1, Origin: "misc/hello", Phase: "build"})
	ps = status("misc/hello")
	if ps.State != StateBuilding || ps.Building == nil || ps.Building.Phase != "build" || ps.Building.Worker != 1 || ps.Building.RecordID != build.String() {
		t.Errorf("building: %+v %+v", ps, ps.Building)
	}
	s.Handle(events.PortFinished{Time: events.Time{T: t0}, Slot: 1, Origin: "misc/hello", Outcome: events.Built})
	if ps := status("misc/hello"); ps.State == StateBuilding || ps.State == StateQueued {
		t.Errorf("after it finished: %+v", ps)
	}

	get(t, s, "/api/v1/packages/misc/nothing/status").wantError(t, http.StatusNotFound, CodePackageNotFound)
}

func TestStatsTodayAndPackage(t *testing.T) {
	st := newSite(t)
	zone := time.FixedZone("CET", 3600)
	now := time.Date(2025, 1, 15, 20, 0, 0, 0, zone)
	s := st.server(t, Options{Now: func() time.Time { return now }})
	var today TodayData
	get(t, s, "/api/v1/stats/today").data(t, &today)
	if today.TotalBuilds != 8 || !today.Since.Equal(time.Date(2025, 1, 14, 23, 0, 0, 0, time.UTC)) || today.TimeZone != "CET" || today.UTCOffset != "+01:00" {
		t.Errorf("today: %+v", today)
	}
	// Past midnight (local) nothing was built today.
	now = time.Date(2025, 1, 16, 0, 30, 0, 0, zone)
	get(t, s, "/api/v1/stats/today").data(t, &today)
	if today.TotalBuilds != 0 || !today.Since.Equal(time.Date(2025, 1, 15, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("next day: %+v", today)
	}

	var ps PortStats
	get(t, s, "/api/v1/stats/package/misc/hello").data(t, &ps)
	want := PortStats{Package: "misc/hello", Builds: 3, Successful: 2, Failed: 1, SuccessRate: 200.0 / 3,
		AvgDuration: builddb.Duration(3 * time.Minute), MinDuration: builddb.Duration(2 * time.Minute), MaxDuration: builddb.Duration(4 * time.Minute),
		LastDuration: builddb.Duration(time.Minute), FirstBuild: t0.Add(6 * time.Minute)}
	if ps.LastSuccess == nil || ps.LastSuccess.UUID != st.records[6].ID.UUID.String() || ps.LastFailure == nil || ps.LastFailure.UUID != st.records[7].ID.UUID.String() {
		t.Errorf("last success %+v, last failure %+v", ps.LastSuccess, ps.LastFailure)
	}
	ps.LastSuccess, ps.LastFailure = nil, nil
	ps.FirstBuild = ps.FirstBuild.UTC()
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("misc/hello stats:\n got %+v\nwant %+v", ps, want)
	}
	get(t, s, "/api/v1/stats/package/misc/nothing").wantError(t, http.StatusNotFound, CodePackageNotFound)
	get(t, s, "/api/v1/stats/today?since=x").wantError(t, http.StatusBadRequest, CodeBadRequest)
}

// TestPackagesBeforeAnyBuild: without a build database yet, the tree's
// endpoints answer from the tree alone.
func TestPackagesBeforeAnyBuild(t *testing.T) {
	st := newSite(t)
	if err := os.Remove(st.path); err != nil {
		t.Fatal(err)
	}
	s := st.server(t, Options{})
	var all PackagesData
	get(t, s, "/api/v1/packages?status=none").data(t, &all)
	if all.Count != 7 {
		t.Errorf("packages without a database: %v", listOrigins(all.Packages))
	}
	var ps PackageStatus
	get(t, s, "/api/v1/packages/misc/hello/status").data(t, &ps)
	if ps.State != StateNotBuilt || ps.LastBuild != nil || ps.Rebuild == nil || ps.Rebuild.Reason != "no package" {
		t.Errorf("status without a database: %+v %+v", ps, ps.Rebuild)
	}
}
