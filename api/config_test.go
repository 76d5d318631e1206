package api

import (
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
)

func TestConfigRead(t *testing.T) {
	st := newSite(t)
	s := st.server(t, Options{})
	var c ConfigData
	get(t, s, "/api/v1/config").data(t, &c)
	if c.File != st.ini || c.Profile != "LiveSystem" || c.RestartNeeded || c.Settings["Number_of_builders"] != "2" || c.Settings["Directory_logs"] != st.logs ||
		c.Settings["Api_keys"] != "/etc/dsynth/api.keys" || len(c.Settings) != 9 {
		t.Errorf("config: %+v", c)
	}
	if c.Effective["Number_of_builders"] != "2" || c.Effective["Package_suffix"] != ".pkg" || c.Effective["Directory_ccache"] != "disabled" || c.Effective["Api_anonymous_read"] != "false" {
		t.Errorf("effective: %v", c.Effective)
	}
	var p ProfilesData
	get(t, s, "/api/v1/config/profiles").data(t, &p)
	want := ProfilesData{File: st.ini, Active: "LiveSystem", Selected: "LiveSystem",
		Profiles: []ProfileEntry{{Name: "LiveSystem", Active: true, Selected: true}, {Name: "Release"}}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("profiles: %+v", p)
	}
	// Writing needs admin.
	sendBody(t, s, http.MethodPut, "/api/v1/config", `{"settings":{}}`, readKey).wantError(t, http.StatusForbidden, CodeForbidden)
	sendBody(t, s, http.MethodPost, "/api/v1/config/profiles", `{"profile":"X","settings":{}}`, readKey).wantError(t, http.StatusForbidden, CodeForbidden)
	bare := newTestServer(t, Options{BuildBase: st.base})
	get(t, bare, "/api/v1/config").wantError(t, http.StatusNotFound, CodeNotConfigured)
}

func TestRedaction(t *testing.T) {
	got := rawSettings([]config.Entry{{Key: "Webhook_token", Value: "s3cr3t"}, {Key: "Api_keys", Value: "/etc/k"}, {Key: "Db_password", Value: "x"}})
	if got["Webhook_token"] != redacted || got["Db_password"] != redacted || got["Api_keys"] != "/etc/k" {
		t.Errorf("redaction: %v", got)
	}
}

// unchanged fails unless dsynth.ini still holds the site's text.
func (st *site) unchanged(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(st.ini)
	if err != nil || string(b) != st.iniText {
		t.Fatalf("dsynth.ini changed (%v):\n%s", err, b)
	}
}

func TestConfigPut(t *testing.T) {
	st := newSite(t)
	s := st.server(t, Options{})
	put := func(body string) answer { return sendBody(t, s, http.MethodPut, "/api/v1/config", body, adminKey) }

	// Refused bodies leave the file alone; the message is file:line.
	a := put(`{"settings":{"Directory_portsdir":"` + st.portsDir + `","Number_of_builders":"lots"}}`)
	a.wantError(t, http.StatusBadRequest, CodeInvalidConfig)
	// The section's lines are rewritten in the documented key order:
	// Directory_portsdir on line 6, Number_of_builders on line 7.
	if want := st.ini + ":7: Number_of_builders:"; !strings.HasPrefix(a.Error.Message, want) || a.Error.Details["line"] != float64(7) || a.Error.Details["key"] != "Number_of_builders" {
		t.Errorf("message %q details %v, want prefix %q", a.Error.Message, a.Error.Details, want)
	}
	st.unchanged(t)
	put(`{"settings":{"Nuber_of_builders":"2"}}`).wantError(t, http.StatusBadRequest, CodeInvalidConfig)
	put(`{"settings":{"Number_of_builders":"2 # four"}}`).wantError(t, http.StatusBadRequest, CodeBadRequest)
	put(`{"settings":{"Number_of_builders":"2\n[Global Configuration]"}}`).wantError(t, http.StatusBadRequest, CodeBadRequest)
	put(`{"settings":{"Bad key":"2"}}`).wantError(t, http.StatusBadRequest, CodeBadRequest)
	put(`{"profile":"Nope","settings":{"Number_of_builders":"2"}}`).wantError(t, http.StatusNotFound, CodeNotFound)
	put(`{"settings":{"Number_of_builders":"2"},"extra":1}`).wantError(t, http.StatusBadRequest, CodeBadRequest)
	put(`{"profile":"LiveSystem"}`).wantError(t, http.StatusBadRequest, CodeBadRequest)
	st.unchanged(t)

	// A good body replaces the section and keeps the rest of the file
	// and its mode.
	c := st.cfg.Profile
	var w ConfigWritten
	put(`{"settings":{"Operating_system":"FreeBSD","Directory_packages":"`+c.PackagesDir+`","Directory_repository":"`+c.RepositoryDir+
		`","Directory_portsdir":"`+c.PortsDir+`","Directory_buildbase":"`+c.BuildBase+`","Directory_logs":"`+c.LogsDir+
		`","Number_of_builders":"3"}}`).data(t, &w)
	if w.Profile != "LiveSystem" || !w.RestartNeeded || w.Settings["Number_of_builders"] != "3" {
		t.Errorf("answer %+v", w)
	}
	b, _ := os.ReadFile(st.ini)
	text := string(b)
	if !strings.HasPrefix(text, "; go-dsynth test site\n[Global Configuration]\nprofile_selected= LiveSystem\n\n[LiveSystem]\nOperating_system= FreeBSD\n") ||
		!strings.Contains(text, "\nNumber_of_builders= 3\n") || strings.Contains(text, "Max_jobs_per_builder") ||
		!strings.HasSuffix(text, "# the release builds\n[Release]\nOperating_system= FreeBSD\nNumber_of_builders= 8\n") {
		t.Errorf("dsynth.ini:\n%s", text)
	}
	if fi, err := os.Stat(st.ini); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	cfg, err := config.Load(config.LoadOptions{Dir: st.dir})
	if err != nil || cfg.Profile.NumberOfBuilders != 3 {
		t.Fatalf("the written file does not load: %v", err)
	}
	var now ConfigData
	get(t, s, "/api/v1/config").data(t, &now)
	if !now.RestartNeeded || now.Settings["Number_of_builders"] != "3" {
		t.Errorf("after the change: %+v", now)
	}
	// Another profile by name.
	put(`{"profile":"Release","settings":{"Number_of_builders":"6"}}`).data(t, &w)
	if !w.RestartNeeded {
		t.Errorf("LiveSystem's earlier change still waits for a restart")
	}
	if b, _ := os.ReadFile(st.ini); !strings.HasSuffix(string(b), "\n# the release builds\n[Release]\nNumber_of_builders= 6\n") {
		t.Errorf("Release:\n%s", b)
	}
}

func TestConfigCreateProfile(t *testing.T) {
	st := newSite(t)
	s := st.server(t, Options{})
	post := func(body string) answer {
		return sendBody(t, s, http.MethodPost, "/api/v1/config/profiles", body, adminKey)
	}
	post(`{"profile":"Release","settings":{}}`).wantError(t, http.StatusConflict, CodeProfileExists)
	post(`{"profile":"a]b","settings":{}}`).wantError(t, http.StatusBadRequest, CodeBadRequest)
	a := post(`{"profile":"Test","settings":{"Package_suffix":".zip"}}`)
	a.wantError(t, http.StatusBadRequest, CodeInvalidConfig)
	if !strings.HasPrefix(a.Error.Message, st.ini+":22: Package_suffix:") {
		t.Errorf("message %q", a.Error.Message)
	}
	st.unchanged(t)

	a = post(`{"profile":"Test","settings":{"Number_of_builders":"1","Package_suffix":".txz"}}`)
	var w ConfigWritten
	if a.code != http.StatusCreated || a.Status != "success" {
		t.Fatalf("create: %d %s", a.code, a.raw)
	}
	a.code = http.StatusOK
	if a.data(t, &w); w.RestartNeeded || w.Profile != "Test" {
		t.Errorf("a new profile changes nothing this process runs with: %+v", w)
	}
	b, _ := os.ReadFile(st.ini)
	if want := st.iniText + "\n[Test]\nPackage_suffix= .txz\nNumber_of_builders= 1\n"; string(b) != want {
		t.Errorf("dsynth.ini:\n%s\nwant:\n%s", b, want)
	}
	var p ProfilesData
	get(t, s, "/api/v1/config/profiles").data(t, &p)
	if len(p.Profiles) != 3 || p.Profiles[2].Name != "Test" || p.Profiles[2].Active {
		t.Errorf("profiles: %+v", p)
	}
}
