package api

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Error codes of the endpoints over the ports tree, logs and configuration.
const (
	// CodeNotConfigured: the server was made without Options.Config, so
	// it knows no ports tree, logs, repository or dsynth.ini.
	CodeNotConfigured = "NOT_CONFIGURED"
	// CodeGone: the build's log or package is no longer the one it made.
	CodeGone = "GONE"
	// CodeInvalidConfig: a configuration body that dsynth.ini's rules
	// refuse (the message is file:line: key: reason).
	CodeInvalidConfig = "INVALID_CONFIG"
	// CodeProfileExists: POST /config/profiles of a profile that exists.
	CodeProfileExists = "PROFILE_EXISTS"
)

// notConfigured is the answer of an endpoint that needs Options.Config.
func notConfigured(what string) error {
	return errorf(http.StatusNotFound, CodeNotConfigured, "this server has no configuration to find %s in", what)
}

// portTree is the ports tree as the scan cache remembers it.
type portTree struct {
	graph *ports.Graph
	// listed are the nodes GET /packages lists (not dummies, scanned),
	// sorted by origin string, and names their origin strings.
	listed []*ports.Node
	names  []string
	// scanned is the cache file's modification time: when the last scan
	// wrote it.
	scanned time.Time
}

// treeCache keeps the tree read from the scan cache while the file is
// unchanged (same size, modification time and file).
type treeCache struct {
	mu   sync.Mutex
	fi   os.FileInfo
	tree *portTree
}

// load returns the tree of the cache file at path, read again only when
// the file changed; nil when there is no cache file (no scan yet).
func (c *treeCache) load(path, portsDir string) (*portTree, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		c.fi, c.tree = nil, nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scan cache: %w", err)
	}
	if c.tree != nil && os.SameFile(c.fi, fi) && c.fi.Size() == fi.Size() && c.fi.ModTime().Equal(fi.ModTime()) {
		return c.tree, nil
	}
	infos, err := ports.ReadCacheInfos(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	g, _ := ports.NewGraph(infos, portsDir)
	t := &portTree{graph: g, scanned: fi.ModTime().UTC()}
	for _, n := range g.Nodes {
		if !n.Dummy && n.Info != nil {
			t.listed = append(t.listed, n)
		}
	}
	sort.Slice(t.listed, func(i, j int) bool { return t.listed[i].Origin.String() < t.listed[j].Origin.String() })
	t.names = make([]string, len(t.listed))
	for i, n := range t.listed {
		t.names[i] = n.Origin.String()
	}
	c.fi, c.tree = fi, t
	return t, nil
}

// withDBOrNone is withDB, calling fn with a nil database when there is
// none yet (no build ran): the tree's endpoints answer from the tree alone.
func (s *Server) withDBOrNone(fn func(db *builddb.DB) error) error {
	called := false
	err := s.withDB(func(db *builddb.DB) error {
		called = true
		return fn(db)
	})
	if err == nil && !called {
		return fn(nil)
	}
	return err
}

// portTree returns the tree of the owner's scan cache (nil before the
// first scan).
func (s *Server) portTree() (*portTree, error) {
	cfg := s.o.Config
	if cfg == nil {
		return nil, notConfigured("the ports tree")
	}
	return s.ext.tree.load(filepath.Join(cfg.Profile.BuildBase, ports.CacheName), cfg.Profile.PortsDir)
}

// node returns the tree's node for o (a bare flavored origin means its
// default flavor), or nil.
func (t *portTree) node(o ports.Origin) *ports.Node {
	if t == nil {
		return nil
	}
	n, ok := t.graph.Resolve(o)
	if !ok || n.Info == nil || n.Dummy {
		return nil
	}
	return n
}

// depKindName is the JSON name of a dependency kind ("build", "lib", …).
func depKindName(k ports.DepKind) string { return strings.ToLower(k.String()) }

// Dependencies are a port's direct dependencies by kind (fetch, extract,
// patch, build, lib, run), each list sorted; kinds without any are left
// out.
type Dependencies map[string][]string

// depsOf returns n's direct dependencies (or, with reverse, its direct
// dependents) by kind.
func depsOf(g *ports.Graph, n *ports.Node, reverse bool) Dependencies {
	out := Dependencies{}
	edges := n.Deps
	if reverse {
		edges = n.RDeps
	}
	for _, e := range edges {
		if e.Kind == ports.DepFlavor {
			continue
		}
		k := depKindName(e.Kind)
		o := g.Nodes[e.To].Origin.String()
		if !slices.Contains(out[k], o) {
			out[k] = append(out[k], o)
		}
	}
	for _, l := range out {
		sort.Strings(l)
	}
	return out
}

// PackageSummary is one port of GET /api/v1/packages.
type PackageSummary struct {
	Origin   string `json:"origin"`
	Category string `json:"category"`
	Name     string `json:"name"`
	Flavor   string `json:"flavor,omitempty"`
	Version  string `json:"version,omitempty"`
	PkgFile  string `json:"pkg_file,omitempty"`
	// Ignore is the port's IGNORE text, when it is set.
	Ignore string `json:"ignore,omitempty"`
	// Status is the status of its latest build record, "none" without one.
	Status string `json:"status"`
	// LastBuild is the latest build's id, status and end, if any.
	LastBuild *BuildRef `json:"last_build,omitempty"`
}

// BuildRef names one build record briefly.
type BuildRef struct {
	UUID     string           `json:"uuid"`
	Status   builddb.Status   `json:"status"`
	Start    time.Time        `json:"start_time"`
	End      time.Time        `json:"end_time,omitzero"`
	Duration builddb.Duration `json:"duration"`
}

func refOf(r *builddb.BuildRecord) *BuildRef {
	if r == nil {
		return nil
	}
	return &BuildRef{UUID: r.ID.UUID.String(), Status: r.Status, Start: r.StartTime, End: r.EndTime, Duration: builddb.Duration(r.Duration)}
}

// PackagesData is the answer of GET /api/v1/packages.
type PackagesData struct {
	Packages   []PackageSummary `json:"packages"`
	Count      int              `json:"count"`
	NextCursor string           `json:"next_cursor,omitempty"`
	// ScannedAt is when the scan cache was written last (absent before
	// the first scan: the list is then empty).
	ScannedAt *time.Time `json:"scanned_at,omitempty"`
}

// packageFilter is the query of GET /api/v1/packages.
type packageFilter struct {
	prefix, category, name string
	status                 []string
	limit                  int
	after                  string
}

func parsePackageFilter(r *http.Request) (packageFilter, error) {
	var f packageFilter
	q, err := queryOf(r, "origin", "category", "name", "status", "limit", "cursor")
	if err != nil {
		return f, err
	}
	for _, p := range []struct {
		name string
		v    *string
	}{{"origin", &f.prefix}, {"category", &f.category}, {"name", &f.name}} {
		if *p.v, err = single(q, p.name); err != nil {
			return f, err
		}
		if len(*p.v) > 256 || strings.ContainsFunc(*p.v, func(r rune) bool { return r < ' ' || r == ' ' || r == 0x7f }) {
			return f, badParam(p.name, "at most 256 bytes, no blanks or control characters")
		}
	}
	st, err := single(q, "status")
	if err != nil {
		return f, err
	}
	if st != "" {
		for _, v := range strings.Split(st, ",") {
			v = strings.TrimSpace(v)
			if v != "none" && !builddb.Status(v).Valid() {
				return f, badParam("status", "unknown status %q (use success, failed, ignored, skipped, lost, running or none)", v)
			}
			if !slices.Contains(f.status, v) {
				f.status = append(f.status, v)
			}
		}
	}
	if f.limit, err = parseLimit(q, builddb.DefaultPageSize); err != nil {
		return f, err
	}
	c, err := single(q, "cursor")
	if err != nil {
		return f, err
	}
	if c != "" {
		b, err := hex.DecodeString(c)
		if err != nil || len(b) == 0 {
			return f, badParam("cursor", "not a cursor of this endpoint (use next_cursor from the previous page)")
		}
		if _, err := ports.ParseOrigin(string(b)); err != nil {
			return f, badParam("cursor", "not a cursor of this endpoint (use next_cursor from the previous page)")
		}
		f.after = string(b)
	}
	return f, nil
}

// match says whether a node passes the filter's tree conditions.
func (f *packageFilter) match(n *ports.Node, origin string) bool {
	if f.prefix != "" && !strings.HasPrefix(origin, f.prefix) {
		return false
	}
	if f.category != "" && n.Origin.Category() != f.category {
		return false
	}
	if f.name != "" && !strings.Contains(strings.ToLower(n.Origin.Name()), strings.ToLower(f.name)) {
		return false
	}
	return true
}

// packages answers GET /api/v1/packages: the ports of the tree as the
// scan cache remembers them, by origin, one page at a time.
func (s *Server) packages(r *http.Request) (any, error) {
	f, err := parsePackageFilter(r)
	if err != nil {
		return nil, err
	}
	t, err := s.portTree()
	if err != nil {
		return nil, err
	}
	out := PackagesData{Packages: []PackageSummary{}}
	if t == nil {
		return out, nil
	}
	out.ScannedAt = &t.scanned
	start := 0
	if f.after != "" {
		start = sort.SearchStrings(t.names, f.after)
		if start < len(t.names) && t.names[start] == f.after {
			start++
		}
	}
	err = s.withDBOrNone(func(db *builddb.DB) error {
		for i := start; i < len(t.listed); i++ {
			n, origin := t.listed[i], t.names[i]
			if !f.match(n, origin) {
				continue
			}
			if len(out.Packages) == f.limit {
				out.NextCursor = hex.EncodeToString([]byte(out.Packages[len(out.Packages)-1].Origin))
				return nil
			}
			p := PackageSummary{Origin: origin, Category: n.Origin.Category(), Name: n.Origin.Name(), Flavor: n.Origin.Flavor,
				Version: n.Info.PkgVersion, PkgFile: n.Info.PkgFile, Ignore: n.Info.Ignore, Status: "none"}
			if db != nil {
				last, err := db.PortHistory(origin, 1)
				if err != nil {
					return err
				}
				if len(last) > 0 {
					p.LastBuild = refOf(last[0])
					p.Status = string(last[0].Status)
				}
			}
			if len(f.status) > 0 && !slices.Contains(f.status, p.Status) {
				continue
			}
			out.Packages = append(out.Packages, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Count = len(out.Packages)
	return out, nil
}

// PackageData is the answer of GET /api/v1/packages/{category}/{port}:
// the port's latest build, its last known good build (with its package)
// and the average of its successful build times, with what the scan cache
// says about the port when the tree has it.
type PackageData struct {
	Package          string               `json:"package"`
	LastBuild        *builddb.BuildRecord `json:"last_build"`
	LastGood         *builddb.BuildRecord `json:"last_good"`
	AverageDuration  builddb.Duration     `json:"average_duration"`
	SuccessfulBuilds int                  `json:"successful_builds"`

	// InTree says the scan cache knows the port; the fields below come
	// from its last scan.
	InTree       bool         `json:"in_tree"`
	Version      string       `json:"version,omitempty"`
	PkgFile      string       `json:"pkg_file,omitempty"`
	Flavors      []string     `json:"flavors,omitempty"`
	Ignore       string       `json:"ignore,omitempty"`
	Dependencies Dependencies `json:"dependencies,omitempty"`
}

// treePort is lookupPort for the endpoints that need the port in the
// tree: no tree configured and a port the tree lacks are errors.
func (s *Server) treePort(r *http.Request) (ports.Origin, *portTree, *ports.Node, error) {
	if s.o.Config == nil {
		return ports.Origin{}, nil, nil, notConfigured("the ports tree")
	}
	o, t, n, err := s.lookupPort(r)
	if err == nil && n == nil {
		err = notInTree(o.String(), t)
	}
	return o, t, n, err
}

// lookupPort reads the origin of the path and finds it in the tree (nil
// when the tree does not have it, or there is no tree or configuration).
func (s *Server) lookupPort(r *http.Request) (ports.Origin, *portTree, *ports.Node, error) {
	o, err := parseOrigin(r.PathValue("category"), r.PathValue("port"))
	if err != nil {
		return o, nil, nil, err
	}
	if s.o.Config == nil {
		return o, nil, nil, nil
	}
	t, err := s.portTree()
	if err != nil {
		return o, nil, nil, err
	}
	n := t.node(o)
	if n != nil {
		o = n.Origin
	}
	return o, t, n, nil
}

func (s *Server) pkg(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	o, t, n, err := s.lookupPort(r)
	if err != nil {
		return nil, err
	}
	out := PackageData{Package: o.String()}
	err = s.withDB(func(db *builddb.DB) error {
		last, err := db.PortHistory(out.Package, 1)
		if err != nil || len(last) == 0 {
			return err
		}
		out.LastBuild = last[0]
		if out.LastGood, err = db.LastGood(out.Package); err != nil && !errors.Is(err, builddb.ErrNotFound) {
			return err
		}
		avg, cnt, err := db.AverageDuration(out.Package)
		out.AverageDuration, out.SuccessfulBuilds = builddb.Duration(avg), cnt
		return err
	})
	if err != nil {
		return nil, err
	}
	if n != nil {
		out.InTree = true
		out.Version, out.PkgFile, out.Ignore = n.Info.PkgVersion, n.Info.PkgFile, n.Info.Ignore
		out.Flavors = n.Info.FlavorList()
		out.Dependencies = depsOf(t.graph, n, false)
	}
	if out.LastBuild == nil && n == nil {
		return nil, notBuilt(out.Package)
	}
	return out, nil
}

// notInTree is the 404 of an endpoint that needs the port in the tree.
func notInTree(origin string, t *portTree) error {
	msg := "%s is not in the scan cache of the ports tree"
	if t == nil {
		msg = "%s: there is no scan cache of the ports tree yet (the next build scans it)"
	}
	e := errorf(http.StatusNotFound, CodePackageNotFound, msg, origin)
	e.Details = map[string]any{"package": origin}
	return e
}

// DepsData is the answer of GET …/deps.
type DepsData struct {
	Package string `json:"package"`
	// Dependencies are the direct dependencies by kind; RequiredBy the
	// ports of the tree that depend on it directly, by kind.
	Dependencies Dependencies `json:"dependencies"`
	RequiredBy   Dependencies `json:"required_by"`
	// All is every port it needs, directly or not (through every kind),
	// sorted.
	All []string `json:"all"`
}

func (s *Server) pkgDeps(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	o, t, n, err := s.treePort(r)
	if err != nil {
		return nil, err
	}
	out := DepsData{Package: o.String(), Dependencies: depsOf(t.graph, n, false), RequiredBy: depsOf(t.graph, n, true), All: []string{}}
	for _, id := range t.graph.Closure(n.ID) {
		if d := t.graph.Nodes[id]; id != n.ID && !d.Dummy {
			out.All = append(out.All, d.Origin.String())
		}
	}
	sort.Strings(out.All)
	return out, nil
}

// Package states of GET …/status.
const (
	StateBuilding = "building"
	StateQueued   = "queued"
	StateUpToDate = "up_to_date"
	StateBuilt    = "built"
	StateFailed   = "failed"
	StateIgnored  = "ignored"
	StateSkipped  = "skipped"
	StateBroken   = "broken"
	StateNotBuilt = "not_built"
)

// RebuildInfo is the planner's verdict on a port, as a build of it would
// plan it now (builder.MakePlan over the scan cache, the repository and
// the stored rebuild inputs, without -x).
type RebuildInfo struct {
	// Needed says a build would build it; Disposition is the plan's
	// ("build", "up-to-date", "ignore", "skip", "broken"); Reason is the
	// planner's ("no package", "port-changed: fingerprint … -> …", the
	// IGNORE text, the failed chain).
	Needed      bool     `json:"needed"`
	Disposition string   `json:"disposition"`
	Reason      string   `json:"reason,omitempty"`
	Overridden  []string `json:"overridden,omitempty"`
	// PackageExists says its package file is in the repository.
	PackageExists bool `json:"package_exists"`
}

// PackageStatus is the answer of GET …/status.
type PackageStatus struct {
	Package string `json:"package"`
	// State is building, queued (in the run in progress), up_to_date,
	// built (its latest build succeeded but a build would rebuild it),
	// failed, ignored, skipped, broken (its scan failed) or not_built.
	State string `json:"state"`
	// Building is the worker building it, with its phase and build id.
	Building  *WorkerState `json:"building,omitempty"`
	LastBuild *BuildRef    `json:"last_build,omitempty"`
	// Rebuild is the planner's verdict; absent when the scan cache does
	// not have the port.
	Rebuild *RebuildInfo `json:"rebuild,omitempty"`
	// ScannedAt is when the scan cache the verdict uses was written: a
	// port changed since is seen as it was then.
	ScannedAt *time.Time `json:"scanned_at,omitempty"`
	// WaitingOn are, for a port queued in the run in progress, its
	// direct dependencies that the run has not finished yet (queued or
	// building), sorted; absent otherwise or when there are none.
	WaitingOn []string `json:"waiting_on,omitempty"`
}

func (s *Server) pkgStatus(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	o, t, n, err := s.lookupPort(r)
	if err != nil {
		return nil, err
	}
	out := PackageStatus{Package: o.String()}
	s.mu.Lock()
	w, building := s.live.building(out.Package)
	queued := s.live.isQueued(out.Package)
	s.mu.Unlock()
	var plan *builder.Item
	err = s.withDBOrNone(func(db *builddb.DB) error {
		if db != nil {
			last, err := db.PortHistory(out.Package, 1)
			if err != nil {
				return err
			}
			if len(last) > 0 {
				out.LastBuild = refOf(last[0])
			}
		}
		if n == nil {
			return nil
		}
		var err error
		plan, err = planOne(t.graph, n, s.o.Config.Profile.PortsDir, s.o.Config.Profile.RepositoryDir, db)
		return err
	})
	if err != nil {
		return nil, err
	}
	if out.LastBuild == nil && n == nil && !building && !queued {
		if s.o.Config != nil {
			return nil, notInTree(out.Package, t)
		}
		return nil, notBuilt(out.Package)
	}
	if plan != nil {
		out.ScannedAt = &t.scanned
		out.Rebuild = &RebuildInfo{Needed: plan.Disp == builder.Build, Disposition: plan.Disp.String(), Reason: strings.TrimSpace(plan.Reason),
			Overridden: plan.Overridden, PackageExists: plan.Facts.PackageExists}
	}
	out.State = packageState(building, queued, out.LastBuild, plan)
	if out.State == StateQueued && n != nil {
		out.WaitingOn = s.waitingOn(t.graph, n)
	}
	if building {
		out.Building = &w
	}
	return out, nil
}

// waitingOn returns n's direct dependencies that the run in progress has
// queued and not finished, sorted.
func (s *Server) waitingOn(g *ports.Graph, n *ports.Node) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range n.Deps {
		if e.Kind == ports.DepFlavor {
			continue
		}
		if o := g.Nodes[e.To].Origin.String(); s.live.isQueued(o) && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	sort.Strings(out)
	return out
}

// packageState is the state GET …/status reports: the run in progress
// first, then the planner's verdict and the latest record.
func packageState(building, queued bool, last *BuildRef, plan *builder.Item) string {
	switch {
	case building:
		return StateBuilding
	case queued:
		return StateQueued
	}
	if plan != nil {
		switch plan.Disp {
		case builder.UpToDate:
			return StateUpToDate
		case builder.Ignore:
			return StateIgnored
		case builder.Skip:
			return StateSkipped
		case builder.Broken:
			return StateBroken
		}
	}
	if last == nil {
		return StateNotBuilt
	}
	switch last.Status {
	case builddb.StatusSuccess:
		return StateBuilt
	case builddb.StatusFailed:
		return StateFailed
	case builddb.StatusIgnored:
		return StateIgnored
	case builddb.StatusSkipped:
		return StateSkipped
	}
	return StateNotBuilt
}

// planOne plans a build of n alone (with its dependencies and pkg, as a
// build of it would) with the planner's own function and facts, and
// returns n's item. db nil: no database yet, nothing stored.
func planOne(g *ports.Graph, n *ports.Node, portsDir, repoDir string, db *builddb.DB) (*builder.Item, error) {
	src := builder.FactsSource{Graph: g, PortsDir: portsDir, RepositoryDir: repoDir}
	if db != nil {
		src.DB = db
	}
	p, err := builder.MakePlan(g, g.BuildSet(n.ID), src.Facts, builddb.Policy{})
	if err != nil {
		return nil, fmt.Errorf("planning %s: %w", n.Origin, err)
	}
	return p.Items[n.ID], nil
}
