package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
)

// apiSite is a configuration made by init, with extra profile lines.
type apiSite struct {
	dir, ini, keys string
}

func newAPISite(t *testing.T, lines ...string) *apiSite {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "etc")
	if code, out, errs := runIn(t, context.Background(), "-C", dir, "init"); code != 0 {
		t.Fatalf("init: %d %s %s", code, out, errs)
	}
	s := &apiSite{dir: dir, ini: filepath.Join(dir, config.IniName), keys: filepath.Join(dir, "api.keys")}
	s.add(t, lines...)
	return s
}

// add appends lines to the profile (the last section of the file).
func (s *apiSite) add(t *testing.T, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(s.ini, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		f.WriteString(strings.ReplaceAll(l, "KEYS", s.keys) + "\n")
	}
}

// runIn runs the command line in this process.
func runIn(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var hexKey = regexp.MustCompile(`(?m)^[0-9a-f]{64}$`)

func TestAPIKeyDirective(t *testing.T) {
	s := newAPISite(t)
	code, _, errs := runIn(t, context.Background(), "-C", s.dir, "api-key", "ci", "read")
	if code != 1 || !strings.Contains(errs, "set Api_keys") {
		t.Errorf("without Api_keys: %d %s", code, errs)
	}
	s.add(t, "Api_keys= KEYS")
	code, out, errs := runIn(t, context.Background(), "-C", s.dir, "api-key", "ci", "read")
	if code != 0 || !hexKey.MatchString(strings.TrimSpace(out)) || !strings.Contains(errs, s.keys) {
		t.Fatalf("api-key: %d %q %q", code, out, errs)
	}
	key := strings.TrimSpace(out)
	b, _ := os.ReadFile(s.keys)
	if fields := strings.Fields(string(b)); len(fields) != 3 || fields[0] != "ci" || fields[1] != "read" || fields[2] != digest(key) {
		t.Errorf("keys file %q", b)
	}
	if st, _ := os.Stat(s.keys); st.Mode().Perm() != 0o600 {
		t.Errorf("keys file mode %v", st.Mode())
	}
	if code, _, errs := runIn(t, context.Background(), "-C", s.dir, "api-key", "ci", "admin"); code != 1 || !strings.Contains(errs, `already has a key named "ci"`) {
		t.Errorf("same name again: %d %s", code, errs)
	}
	if code, _, _ := runIn(t, context.Background(), "-C", s.dir, "api-key", "ci", "root"); code != exitUsage {
		t.Errorf("unknown role: exit %d", code)
	}
	if code, _, _ := runIn(t, context.Background(), "-C", s.dir, "api-key", "ci"); code != exitUsage {
		t.Errorf("no role: exit %d", code)
	}
	// Rotation: a second key for ci, expiring; then revoke drops both.
	code, out, errs = runIn(t, context.Background(), "-C", s.dir, "api-key", "ci", "read", "--expires", "2099-01-01T00:00:00Z")
	if code != 0 || !hexKey.MatchString(strings.TrimSpace(out)) || !strings.Contains(errs, "valid until 2099-01-01T00:00:00Z") {
		t.Fatalf("api-key --expires: %d %q %q", code, out, errs)
	}
	if b, _ := os.ReadFile(s.keys); strings.Count(string(b), "ci read ") != 2 || !strings.Contains(string(b), " expires=2099-01-01T00:00:00Z\n") {
		t.Errorf("after the rotation: %q", b)
	}
	for _, bad := range [][]string{{"ci", "read", "--expires", "yesterday"}, {"ci", "read", "--expires", "2001-01-01T00:00:00Z"}, {"ci", "read", "--ttl", "1h"}, {"ci", "read", "--expires"}, {"revoke", "read"}} {
		if code, _, errs := runIn(t, context.Background(), append([]string{"-C", s.dir, "api-key"}, bad...)...); code == 0 {
			t.Errorf("api-key %q: accepted (%s)", bad, errs)
		}
	}
	code, _, errs = runIn(t, context.Background(), "-C", s.dir, "api-key", "revoke", "ci")
	if code != 0 || !strings.Contains(errs, `Revoked 2 key(s) of "ci"`) {
		t.Errorf("revoke: %d %q", code, errs)
	}
	if b, _ := os.ReadFile(s.keys); strings.Contains(string(b), "ci ") {
		t.Errorf("after revoke: %q", b)
	}
	if code, _, errs := runIn(t, context.Background(), "-C", s.dir, "api-key", "revoke", "ci"); code != 1 || !strings.Contains(errs, `no key named "ci"`) {
		t.Errorf("revoke again: %d %q", code, errs)
	}
}

// TestTokenDirective: dsynth token mints a JWT the API's verifier takes,
// with the role and lifetime asked; without Api_token_keys, or with a
// bad role or ttl, it refuses.
func TestTokenDirective(t *testing.T) {
	s := newAPISite(t)
	if code, _, errs := runIn(t, context.Background(), "-C", s.dir, "token", "ci", "user"); code != 1 || !strings.Contains(errs, "set Api_token_keys") {
		t.Errorf("without Api_token_keys: %d %s", code, errs)
	}
	dir := filepath.Dir(s.keys)
	os.WriteFile(filepath.Join(dir, "hs.key"), []byte(strings.Repeat("z", 48)), 0o600)
	tokenKeys := filepath.Join(dir, "token.keys")
	os.WriteFile(tokenKeys, []byte("main HS256 hs.key\n"), 0o600)
	s.add(t, "Api_token_keys= "+tokenKeys)
	code, out, errs := runIn(t, context.Background(), "-C", s.dir, "token", "ci", "user", "--ttl", "30m")
	if code != 0 {
		t.Fatalf("token: %d %s", code, errs)
	}
	tk, err := auth.LoadTokenKeys(tokenKeys, "", "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := tk.VerifyToken(strings.TrimSpace(out), time.Now())
	if err != nil || p.Name != "ci" || p.Role != auth.RoleUser || time.Until(p.Expires) > 30*time.Minute {
		t.Errorf("minted token: %+v %v", p, err)
	}
	for _, bad := range [][]string{{"ci", "root"}, {"ci"}, {"ci", "read", "--ttl", "-1h"}, {"ci", "read", "--kid", "nope"}} {
		if code, _, _ := runIn(t, context.Background(), append([]string{"-C", s.dir, "token"}, bad...)...); code == 0 {
			t.Errorf("token %q: accepted", bad)
		}
	}
}

// TestServeRefusals: serve needs Api_listen; an API nobody could use, a
// malformed keys file and a taken address stop it with the file, the line
// or the key named.
func TestServeRefusals(t *testing.T) {
	ctx := context.Background()
	s := newAPISite(t)
	if code, _, errs := runIn(t, ctx, "-C", s.dir, "serve"); code != 1 || !strings.Contains(errs, s.ini+": set Api_listen") {
		t.Errorf("without Api_listen: %d %s", code, errs)
	}

	s = newAPISite(t, "Api_listen= 127.0.0.1:0")
	if code, _, errs := runIn(t, ctx, "-C", s.dir, "serve"); code != 1 || !regexp.MustCompile(regexp.QuoteMeta(s.ini)+`:\d+: Api_listen: the API would refuse every client`).MatchString(errs) {
		t.Errorf("without keys: %d %s", code, errs)
	}

	s = newAPISite(t, "Api_listen= 127.0.0.1:0", "Api_keys= KEYS")
	os.WriteFile(s.keys, []byte("# keys\nci read "+digest("k")+"\nops admin\n"), 0o600)
	if code, _, errs := runIn(t, ctx, "-C", s.dir, "serve"); code != 1 || !strings.Contains(errs, s.ini+": Api_keys: "+s.keys+":3: want NAME ROLE SHA256HEX") {
		t.Errorf("malformed keys file: %d %s", code, errs)
	}
	os.WriteFile(s.keys, []byte("# no key yet\n"), 0o600)
	if code, _, errs := runIn(t, ctx, "-C", s.dir, "serve"); code != 1 || !strings.Contains(errs, s.keys+" holds no key") {
		t.Errorf("empty keys file: %d %s", code, errs)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s = newAPISite(t, "Api_listen= "+ln.Addr().String(), "Api_anonymous_read= true")
	if code, _, errs := runIn(t, ctx, "-C", s.dir, "serve"); code != 1 || !strings.Contains(errs, s.ini+": Api_listen: api: listen on "+ln.Addr().String()) {
		t.Errorf("address taken: %d %s", code, errs)
	}
	if code, _, _ := runIn(t, ctx, "-C", s.dir, "serve", "now"); code != exitUsage {
		t.Errorf("serve with an argument: exit %d", code)
	}
}

// digest is the keys file's form of a key.
func digest(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

// TestServeDirective serves a build base with a recorded run: the history
// answers, status says no run is active and names the last one, the event
// stream stays open with keep-alives, a request without a key is 401,
// and an interrupt ends the server with exit 0.
func TestServeDirective(t *testing.T) {
	addr := freeAddr(t)
	s := newAPISite(t, "Api_listen= "+addr, "Api_keys= KEYS")
	_, out, _ := runIn(t, context.Background(), "-C", s.dir, "api-key", "ci", "read")
	key := strings.TrimSpace(out)

	cfg, err := config.Load(config.LoadOptions{Dir: s.dir})
	if err != nil {
		t.Fatal(err)
	}
	db, err := builddb.Open(builddb.Path(cfg.Profile.BuildBase), builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)
	runRec := &builddb.Run{ID: uuid.Must(uuid.NewV7()), Start: start, End: start.Add(time.Hour), Directive: "build", Profile: "LiveSystem"}
	rec := &builddb.BuildRecord{ID: builddb.NewBuildID("misc/hello", "1.0", ""), RunID: runRec.ID, Status: builddb.StatusSuccess,
		StartTime: start, EndTime: start.Add(time.Minute), PkgFile: "hello-1.0.pkg"}
	if err := db.PutRun(runRec); err != nil {
		t.Fatal(err)
	}
	if err := db.Put(rec); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code      int
		out, errs string
	}
	done := make(chan result, 1)
	go func() {
		var o, e bytes.Buffer
		c := runMain(ctx, []string{"-C", s.dir, "serve"}, &o, &e)
		done <- result{c, o.String(), e.String()}
	}()

	base := "http://" + addr + "/api/v1"
	getJSON := func(path string, auth bool, v any) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(v)
		return resp.StatusCode
	}
	var status struct {
		Data struct {
			Active  bool         `json:"active"`
			LastRun *builddb.Run `json:"last_run"`
		} `json:"data"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for getJSON("/status", true, &status) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("serve did not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status.Data.Active || status.Data.LastRun == nil || status.Data.LastRun.ID != runRec.ID {
		t.Errorf("status: %+v", status.Data)
	}
	var hist struct {
		Data struct {
			Builds []*builddb.BuildRecord `json:"builds"`
		} `json:"data"`
	}
	if code := getJSON("/packages/misc/hello/history", true, &hist); code != 200 || len(hist.Data.Builds) != 1 || hist.Data.Builds[0].ID.UUID != rec.ID.UUID {
		t.Errorf("history: %d %+v", code, hist.Data)
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if code := getJSON("/builds", false, &e); code != 401 || e.Error.Code != "UNAUTHORIZED" {
		t.Errorf("without a key: %d %+v", code, e)
	}

	// The dashboard is served beside the API, without a key (the page
	// asks for one); an unknown API path stays the API's JSON 404.
	if page, err := http.Get("http://" + addr + "/"); err != nil {
		t.Error(err)
	} else {
		b, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if page.StatusCode != 200 || !strings.Contains(string(b), "<title>go-dsynth dashboard</title>") {
			t.Errorf("dashboard: %d %.200s", page.StatusCode, b)
		}
	}
	if code := getJSON("/no-such-endpoint", true, &e); code != 404 || e.Error.Code == "" {
		t.Errorf("unknown API path: %d %+v", code, e)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/events", nil)
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.StatusCode != 200 || err != nil || !strings.HasPrefix(first, ":") {
		t.Errorf("event stream: %d %q %v", resp.StatusCode, first, err)
	}

	cancel()
	select {
	case r := <-done:
		if r.code != 0 || !strings.Contains(r.errs, "Serving the API on http://"+addr+"/api/v1/ and the dashboard on http://"+addr+"/") {
			t.Errorf("serve: exit %d\n%s%s", r.code, r.out, r.errs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on interrupt")
	}
	resp.Body.Close()
	if _, err := http.Get(base + "/status"); err == nil {
		t.Error("still serving after the interrupt")
	}
}
