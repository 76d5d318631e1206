package ports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// ErrNoPortsDir is returned when the ports tree does not exist.
var ErrNoPortsDir = errors.New("ports directory missing")

// Scanner asks BSD make for dsynth's 17 variables of many ports in
// parallel, following dependencies, and remembers the answers in a Cache.
// The zero value is not usable: PortsDir and Make are required.
type Scanner struct {
	PortsDir string
	// Make is the BSD make command ("make" on BSD, "bmake" on Linux).
	Make string
	// Env is added to dsynth's scan environment (PORTSDIR, BATCH,
	// PACKAGE_BUILDING, ARCH, PKG_* ); an Emulation's Env goes here. The
	// process environment is never inherited.
	Env []string
	// MakeArgs are the profile make.conf's VAR=VALUE pairs, passed on every
	// make command line as dsynth does.
	MakeArgs []string
	// LocalBase, when set, is passed as LOCALBASE= (dsynth points it at an
	// empty directory so installed software cannot change the answers).
	LocalBase string
	// PkgSuffix is the package suffix (".txz", ".pkg", …).
	PkgSuffix string
	// Arch is the target's ARCH.
	Arch string
	// Jobs is the number of make processes at once (default: one per CPU).
	Jobs int
	// Cache, when set, answers unchanged ports without running make.
	Cache *Cache
	// Nice lowers the priority of the make processes by 10, as dsynth does.
	Nice bool
	// OnStderr receives every stderr line of every make, with its origin
	// (dsynth logs them to 00_last_results.log).
	OnStderr func(o Origin, line string)
}

// ScanStats counts what a scan did.
type ScanStats struct {
	Origins int // scans answered
	MakeRun int // make processes run
	Cached  int // answers from the cache
	Reads   int // files read to fingerprint
}

// Result is the outcome of a scan: one Info per origin scanned (flavored
// ports: the unflavored scan plus one per non-default flavor).
type Result struct {
	Infos []*Info
	Stats ScanStats
	// Warnings are problems that did not stop the scan (an unreadable
	// cache file, which is then rebuilt).
	Warnings []string
}

// request is one origin to scan; allFlavors asks for every flavor of a
// flavored port (a port named by the user), not only those depended on.
type request struct {
	origin     Origin
	allFlavors bool
}

// Scan scans the given origins and, recursively, everything they depend
// on, and returns every scan. Bad origins are errors before anything runs;
// ports that do not exist or whose make fails are returned with status
// NOTFOUND or CORRUPT and do not stop the scan.
func (s *Scanner) Scan(ctx context.Context, roots []Origin) (*Result, error) {
	reqs := make([]request, 0, len(roots)+1)
	for _, o := range roots {
		reqs = append(reqs, request{origin: o, allFlavors: o.Flavor == ""})
	}
	reqs = append(reqs, request{origin: Origin{Dir: PkgOrigin}})
	return s.run(ctx, reqs, true, false)
}

// ScanAll scans every port of the tree and every flavor of each.
func (s *Scanner) ScanAll(ctx context.Context) (*Result, error) {
	all, err := ListPorts(s.PortsDir)
	if err != nil {
		return nil, err
	}
	reqs := make([]request, len(all))
	for i, o := range all {
		reqs[i] = request{origin: o, allFlavors: true}
	}
	return s.run(ctx, reqs, false, true)
}

// ListPorts lists every port directory of a tree: category/port
// directories holding a Makefile. A category is a top-level directory other
// than the framework's (Mk, Templates, Tools, Keywords) and distfiles or
// packages; in a category without a Makefile of its own (vendor categories)
// a port must also have a pkg-descr, so source trees are not taken for ports.
func ListPorts(portsDir string) ([]Origin, error) {
	cats, err := os.ReadDir(portsDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoPortsDir, err)
	}
	var names []string
	for _, c := range cats {
		name := c.Name()
		if !c.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		switch name {
		case "Mk", "Templates", "Tools", "Keywords", "distfiles", "packages":
			continue
		}
		names = append(names, name)
	}
	// Categories are listed in parallel: a whole tree is 31,000 stats.
	per := make([][]Origin, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			per[i], errs[i] = listCategory(portsDir, name)
		}()
	}
	wg.Wait()
	var out []Origin
	for i := range names {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, per[i]...)
	}
	return out, nil
}

// listCategory lists the ports of one category (see ListPorts).
func listCategory(portsDir, name string) ([]Origin, error) {
	_, err := os.Stat(filepath.Join(portsDir, name, "Makefile"))
	hasCatMakefile := err == nil
	ents, err := os.ReadDir(filepath.Join(portsDir, name))
	if err != nil {
		return nil, err
	}
	var out []Origin
	for _, p := range ents {
		if !p.IsDir() || strings.HasPrefix(p.Name(), ".") {
			continue
		}
		dir := filepath.Join(portsDir, name, p.Name())
		if _, err := os.Stat(filepath.Join(dir, "Makefile")); err != nil {
			continue
		}
		if !hasCatMakefile {
			if _, err := os.Stat(filepath.Join(dir, "pkg-descr")); err != nil {
				continue
			}
		}
		out = append(out, Origin{Dir: name + "/" + p.Name()})
	}
	return out, nil
}

// dirState tracks one port directory during a scan.
type dirState struct {
	bare       *Info
	queued     map[string]bool // flavors queued (non-default)
	wanted     map[string]bool // flavors asked for before the bare scan ended
	allFlavors bool
}

func (s *Scanner) run(ctx context.Context, reqs []request, follow, prune bool) (*Result, error) {
	if st, err := os.Stat(s.PortsDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %s", ErrNoPortsDir, s.PortsDir)
	}
	makePath, err := exec.LookPath(s.Make)
	if err != nil {
		return nil, fmt.Errorf("make command %q: %w", s.Make, err)
	}
	var memo map[string]fileMemo
	var warnings []string
	if s.Cache != nil {
		memo = s.Cache.memo()
		if err := s.Cache.Err(); err != nil {
			warnings = append(warnings, err.Error())
		}
	}
	h := NewHasher(memo)
	global, err := s.globalKey(h, makePath)
	if err != nil {
		return nil, err
	}
	jobs := s.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan Origin)
	type done struct {
		info   *Info
		cached bool
	}
	results := make(chan done, jobs)
	var wg sync.WaitGroup
	for i := 0; i < jobs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				info, cached := s.scanOne(ctx, makePath, o, h, global)
				results <- done{info, cached}
			}
		}()
	}

	res := &Result{Warnings: warnings}
	dirs := map[string]*dirState{}
	var pending []Origin
	inflight := 0
	want := func(r request) {
		o := r.origin
		d := dirs[o.Dir]
		if d == nil {
			d = &dirState{queued: map[string]bool{}, wanted: map[string]bool{}}
			dirs[o.Dir] = d
			pending = append(pending, Origin{Dir: o.Dir})
		}
		if r.allFlavors {
			d.allFlavors = true
		}
		if o.Flavor != "" {
			d.wanted[o.Flavor] = true
		}
		if d.bare != nil {
			s.queueFlavors(d, o.Dir, &pending)
		}
	}
	for _, r := range reqs {
		want(r)
	}
	for len(pending) > 0 || inflight > 0 {
		var send chan Origin
		var next Origin
		if len(pending) > 0 {
			send, next = work, pending[len(pending)-1]
		}
		select {
		case send <- next:
			pending = pending[:len(pending)-1]
			inflight++
		case d := <-results:
			inflight--
			res.Infos = append(res.Infos, d.info)
			res.Stats.Origins++
			if d.cached {
				res.Stats.Cached++
			} else {
				res.Stats.MakeRun++
			}
			if d.info.Origin.Flavor == "" {
				st := dirs[d.info.Origin.Dir]
				st.bare = d.info
				s.queueFlavors(st, d.info.Origin.Dir, &pending)
			}
			if follow && d.info.Status == StatusOK {
				for _, k := range DepKinds {
					deps, _ := ParseDepends(k, d.info.DependsOf(k), s.PortsDir)
					for _, dep := range deps {
						want(request{origin: dep.Origin})
					}
				}
			}
		case <-ctx.Done():
			close(work)
			wg.Wait()
			return nil, ctx.Err()
		}
	}
	close(work)
	wg.Wait()
	sort.Slice(res.Infos, func(i, j int) bool { return res.Infos[i].Origin.Less(res.Infos[j].Origin) })
	res.Stats.Reads = h.Reads()
	if s.Cache != nil {
		if err := s.Cache.save(h, prune); err != nil {
			return res, err
		}
	}
	return res, nil
}

// queueFlavors queues the non-default flavors of a scanned directory that
// are wanted (or all of them).
func (s *Scanner) queueFlavors(d *dirState, dir string, pending *[]Origin) {
	if d.bare == nil || d.bare.Status != StatusOK {
		return
	}
	fl := d.bare.FlavorList()
	for i, f := range fl {
		if i == 0 || d.queued[f] || !(d.allFlavors || d.wanted[f]) {
			continue
		}
		d.queued[f] = true
		*pending = append(*pending, Origin{Dir: dir, Flavor: f})
	}
}

// env returns the complete environment of a scan: dsynth's, then the
// configured additions.
func (s *Scanner) env() []string {
	env := []string{"PORTSDIR=" + s.PortsDir, "BATCH=yes", "PACKAGE_BUILDING=yes"}
	if s.Arch != "" {
		env = append(env, "ARCH="+s.Arch)
	}
	if s.PkgSuffix != "" {
		sfx := strings.TrimPrefix(s.PkgSuffix, ".")
		env = append(env, "PKG_COMPRESSION_FORMAT="+sfx, "PKG_SUFX="+s.PkgSuffix)
	}
	return append(env, s.Env...)
}

// args returns make's arguments for one origin.
func (s *Scanner) args(o Origin) []string {
	return s.argsWith(o, scanArgs())
}

// argsWith returns make's arguments for one origin with the -V arguments
// given.
func (s *Scanner) argsWith(o Origin, vflags []string) []string {
	args := []string{"-C", filepath.Join(s.PortsDir, o.Dir)}
	if o.Flavor != "" {
		args = append(args, "FLAVOR="+o.Flavor)
	}
	if s.LocalBase != "" {
		args = append(args, "LOCALBASE="+s.LocalBase)
	}
	args = append(args, vflags...)
	return append(args, s.MakeArgs...)
}

// Command returns the make command with which a scan would query o, but
// asking for vars (one -V each) instead of dsynth's variables: the same
// make, environment, arguments and directory. It lets tools and tests
// read any variable of a port exactly as the scanner sees the port. The
// output has one line per variable, in order.
func (s *Scanner) Command(ctx context.Context, o Origin, vars ...string) *exec.Cmd {
	vflags := make([]string, len(vars))
	for i, v := range vars {
		vflags[i] = "-V" + v
	}
	cmd := exec.CommandContext(ctx, s.Make, s.argsWith(o, vflags)...)
	cmd.Env = s.env()
	cmd.Dir = filepath.Join(s.PortsDir, o.Dir)
	return cmd
}

// globalKey fingerprints what every scan shares: the make binary, the
// environment and arguments, the make.conf it reads and the whole Mk/ tree
// (so a change in Mk/ invalidates every answer).
func (s *Scanner) globalKey(h *Hasher, makePath string) (Hash, error) {
	hw := sha256.New()
	fmt.Fprintf(hw, "format=%d\x00make=%s\x00", cacheFormat, makePath)
	for _, e := range s.env() {
		fmt.Fprintf(hw, "env=%s\x00", e)
		if v, ok := strings.CutPrefix(e, "MAKESYSPATH="); ok {
			// The system makefiles (the emulation's shims) feed every answer.
			for _, d := range filepath.SplitList(v) {
				sum, err := h.Dir(d)
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					return Hash{}, fmt.Errorf("fingerprint %s: %w", d, err)
				}
				hw.Write(sum[:])
			}
		}
		if v, ok := strings.CutPrefix(e, "__MAKE_CONF="); ok {
			sum, err := h.File(v)
			if err != nil {
				return Hash{}, fmt.Errorf("fingerprint make.conf: %w", err)
			}
			hw.Write(sum[:])
		}
	}
	fmt.Fprintf(hw, "localbase=%s\x00", s.LocalBase)
	for _, a := range s.MakeArgs {
		fmt.Fprintf(hw, "arg=%s\x00", a)
	}
	mk, err := h.Dir(filepath.Join(s.PortsDir, "Mk"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Hash{}, fmt.Errorf("fingerprint Mk/: %w", err)
	}
	hw.Write(mk[:])
	var sum Hash
	copy(sum[:], hw.Sum(nil))
	return sum, nil
}

// scanOne answers one origin from the cache or by running make.
func (s *Scanner) scanOne(ctx context.Context, makePath string, o Origin, h *Hasher, global Hash) (*Info, bool) {
	portDir := filepath.Join(s.PortsDir, o.Dir)
	if st, err := os.Stat(filepath.Join(portDir, "Makefile")); err != nil || st.IsDir() {
		return &Info{Origin: o, Status: StatusNotFound, Stderr: "no Makefile in " + portDir}, false
	}
	dirHash, herr := h.Dir(portDir)
	if s.Cache != nil && herr == nil {
		if e := s.Cache.get(o.String()); e != nil && e.Global == global && e.PortDir == dirHash && externalsCurrent(h, e.External) {
			info := e.Info
			return &info, true
		}
	}
	cmd := exec.CommandContext(ctx, makePath, s.args(o)...)
	cmd.Env = s.env()
	cmd.Dir = portDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Start()
	if err == nil {
		if s.Nice {
			renice(cmd.Process.Pid, 10)
		}
		err = cmd.Wait()
	}
	info, makefiles := ParseScanOutput(o, stdout.Bytes(), err == nil)
	if herr == nil {
		info.Fingerprint = hex.EncodeToString(dirHash[:])
	}
	if err != nil && stdout.Len() == 0 && stderr.Len() == 0 {
		stderr.WriteString(err.Error())
	}
	if se := trimStderr(stderr.Bytes()); se != "" {
		if info.Stderr != "" {
			info.Stderr += "\n"
		}
		info.Stderr += se
		if s.OnStderr != nil {
			for _, line := range strings.Split(se, "\n") {
				s.OnStderr(o, line)
			}
		}
	}
	if s.Cache != nil && herr == nil && info.Status == StatusOK {
		ext, err := s.externals(h, portDir, makefiles)
		if err == nil {
			s.Cache.put(o.String(), &cacheEntry{Info: *info, Global: global, PortDir: dirHash, External: ext})
		}
	}
	return info, false
}

// externals fingerprints the makefiles a scan read from outside its port
// directory and outside Mk/ (those two are fingerprinted as wholes).
func (s *Scanner) externals(h *Hasher, portDir string, makefiles string) ([]extDep, error) {
	var out []extDep
	for _, f := range Makefiles(makefiles, portDir, portDir, filepath.Join(s.PortsDir, "Mk")) {
		sum, err := h.File(f)
		if err != nil {
			return nil, err
		}
		out = append(out, extDep{Path: f, Hash: sum})
	}
	return out, nil
}

func externalsCurrent(h *Hasher, ext []extDep) bool {
	for _, e := range ext {
		sum, err := h.File(e.Path)
		if err != nil || sum != e.Hash {
			return false
		}
	}
	return true
}
