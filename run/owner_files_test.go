//go:build unix

package run

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
)

// TestOwnerFileModes is finding 7 of issue 13 at the owner: with the API
// listening, the build database and the audit log are 0600; with
// Api_file_group they are 0640 and the group's, and so is the keys file;
// a plain-HTTP listener off the loopback is warned about.
func TestOwnerFileModes(t *testing.T) {
	for _, group := range []string{"", strconv.Itoa(os.Getgid())} {
		cfg := testConfig(t)
		p := &cfg.Profile
		p.APIKeys = filepath.Join(t.TempDir(), "api.keys")
		if _, err := auth.AppendKey(p.APIKeys, "ci", auth.RoleRead, time.Time{}); err != nil {
			t.Fatal(err)
		}
		p.APIListen, p.APIFileGroup = "127.0.0.1:0", group
		var log strings.Builder
		o, err := Own(cfg, &log)
		if err != nil {
			t.Fatal(err)
		}
		files := []string{builddb.Path(p.BuildBase), p.APIAuditLog}
		want := os.FileMode(0o600)
		if group != "" {
			files, want = append(files, p.APIKeys), 0o640
		}
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil {
				t.Fatalf("group %q: %v", group, err)
			}
			if st.Mode().Perm() != want || int(st.Sys().(*syscall.Stat_t).Gid) != os.Getgid() {
				t.Errorf("group %q: %s has mode %v gid %d, want %v", group, f, st.Mode().Perm(), st.Sys().(*syscall.Stat_t).Gid, want)
			}
		}
		if strings.Contains(log.String(), "plain HTTP") {
			t.Errorf("a loopback listener was warned about:\n%s", log.String())
		}
		o.Close()
	}
	cfg := testConfig(t)
	cfg.Profile.APIListen, cfg.Profile.APIAnonymousRead = "0.0.0.0:0", true
	var log strings.Builder
	o, err := Own(cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if !strings.Contains(log.String(), "warning: the API is served in plain HTTP on ") {
		t.Errorf("no warning for a plain-HTTP listener on every address:\n%s", log.String())
	}
}
