package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
)

// site is a configured build site around the fixture's database: a
// dsynth.ini loaded by config.Load, whose profile names the fixture's
// build base and fresh ports, logs and repository directories, and a scan
// cache of a small tree.
type site struct {
	*fixture
	dir, ini             string // configuration directory and dsynth.ini
	portsDir, logs, repo string
	cfg                  *config.Config
	iniText              string
}

// siteINI is the dsynth.ini of a site; %BASE% and friends are replaced.
const siteINI = `; go-dsynth test site
[Global Configuration]
profile_selected= LiveSystem

[LiveSystem]
Operating_system= FreeBSD
Directory_packages= %PKGS%
Directory_repository= %REPO%
Directory_portsdir= %PORTS%
Directory_buildbase= %BASE%
Directory_logs= %LOGS%
Number_of_builders= 2
Max_jobs_per_builder= 2
Api_keys= /etc/dsynth/api.keys

# the release builds
[Release]
Operating_system= FreeBSD
Number_of_builders= 8
`

// treeInfos is the site's ports tree: misc/hello needs devel/gmake to
// build and devel/libargs to run; lang/py has flavors py39 (default) and
// py311; misc/ign is IGNOREd.
func treeInfos() []*ports.Info {
	info := func(origin, version string, deps ...string) *ports.Info {
		in := &ports.Info{Origin: ports.MustOrigin(origin), PkgVersion: version, Fingerprint: "fp-" + origin}
		name := in.Origin.Name()
		in.PkgFile = name + "-" + version + ".pkg"
		for i := 0; i+1 < len(deps); i += 2 {
			k := map[string]ports.DepKind{"build": ports.DepBuild, "run": ports.DepRun, "lib": ports.DepLib}[deps[i]]
			in.Depends[k-1] = strings.TrimSpace(in.Depends[k-1] + " x:" + deps[i+1])
		}
		return in
	}
	py := info("lang/py", "3.9")
	py.Flavors = "py39 py311"
	py311 := info("lang/py@py311", "3.11")
	py311.Flavors = "py39 py311"
	ign := info("misc/ign", "1.0")
	ign.Ignore = "is broken"
	return []*ports.Info{
		info("ports-mgmt/pkg", "1.21"),
		info("misc/hello", "1.0", "build", "devel/gmake", "run", "devel/libargs", "lib", "devel/libargs"),
		info("devel/gmake", "4.4"),
		info("devel/libargs", "2.0"),
		py, py311, ign,
	}
}

func newSite(t *testing.T) *site {
	t.Helper()
	st := &site{fixture: newFixture(t), dir: t.TempDir()}
	root := t.TempDir()
	st.portsDir, st.logs, st.repo = filepath.Join(root, "ports"), filepath.Join(root, "logs"), filepath.Join(root, "packages", "All")
	for _, d := range []string{st.portsDir, st.logs, st.repo} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	st.iniText = strings.NewReplacer("%PKGS%", filepath.Join(root, "packages"), "%REPO%", st.repo, "%PORTS%", st.portsDir,
		"%BASE%", st.base, "%LOGS%", st.logs).Replace(siteINI)
	st.ini = filepath.Join(st.dir, config.IniName)
	if err := os.WriteFile(st.ini, []byte(st.iniText), 0o640); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{Dir: st.dir})
	if err != nil {
		t.Fatal(err)
	}
	st.cfg = cfg
	if err := ports.WriteCacheInfos(filepath.Join(st.base, ports.CacheName), treeInfos()); err != nil {
		t.Fatal(err)
	}
	return st
}

// server is a Server over the site.
func (st *site) server(t *testing.T, o Options) *Server {
	t.Helper()
	o.BuildBase, o.Config = st.base, st.cfg
	return newTestServer(t, o)
}

// send sends a request with a body and a key to h.
func sendBody(t *testing.T, h http.Handler, method, path, body, key string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://dsynth.test"+path, r)
	req.Header.Set("X-API-Key", key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	serve(t, h, w, req)
	return decodeAnswer(t, w.Code, w.Header(), w.Body)
}

// raw sends a GET with the read key and extra headers, and returns the
// recorded answer as it is.
func raw(t *testing.T, h http.Handler, path string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://dsynth.test"+path, nil)
	req.Header.Set("X-API-Key", readKey)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}
