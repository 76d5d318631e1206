package builder

import (
	"context"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// TestRunReplay: with Replay, the slot gets the recorded make.conf and
// installs the recorded dependency packages instead of the current ones,
// and the port's record carries them; a port whose options differ from
// the recorded ones fails in phase "options" before any make phase.
func TestRunReplay(t *testing.T) {
	p := fakePlan(t, []fakePort{{origin: "r/lib"}, {origin: "r/app", deps: []string{"r/lib"}}}, []string{"r/app"}, "r/lib")
	r := newRig(t, p)
	r.fs.put(r.repo("r-lib-1.0.pkg"), 1<<20)
	r.opts.Replay = &Replay{MakeConf: "RECORDED=yes\n", Deps: []builddb.DepPackage{{Origin: "r/lib", File: "r-lib-0.9.pkg", SHA256: "ab"}}}
	if _, err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var conf, script string
	for _, w := range r.writes {
		switch w.path {
		case "/etc/make.conf":
			conf = w.content
		case "/tmp/dsynth_install_pkgs":
			script = w.content
		}
	}
	if conf != "RECORDED=yes\n" || !strings.Contains(script, "/packages/All/r-lib-0.9.pkg") || strings.Contains(script, "r-lib-1.0.pkg") {
		t.Errorf("make.conf %q, install script %q", conf, script)
	}
	f := r.events.finished(t)["r/app"]
	if f.Outcome != events.Built || f.Inputs == nil || f.Inputs.MakeConf != "RECORDED=yes\n" || len(f.Inputs.Deps) != 1 || f.Inputs.Deps[0].File != "r-lib-0.9.pkg" ||
		f.Inputs.Deps[0].SHA256 != "ab" || f.Env["__MAKE_CONF"] != "/etc/make.conf" || len(f.MakeArgs) == 0 {
		t.Errorf("r/app: %+v %+v", f, f.Inputs)
	}

	// Options that differ from the recorded ones stop the build.
	r = newRig(t, fakePlan(t, []fakePort{{origin: "r/lib"}, {origin: "r/app", deps: []string{"r/lib"}}}, []string{"r/app"}, "r/lib"))
	r.fs.put(r.repo("r-lib-1.0.pkg"), 1<<20)
	r.opts.Replay = &Replay{Options: []string{"DOCS=on"}, CheckOptions: true}
	if _, err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f = r.events.finished(t)["r/app"]
	if f.Outcome != events.Failed || f.Phase != "options" || !strings.Contains(f.Reason, `recorded "DOCS=on"`) {
		t.Errorf("r/app with other options: %+v", f)
	}
	for _, e := range r.envList() {
		for _, s := range steps(e) {
			if s == "check-sanity" {
				t.Errorf("a make phase ran: %v", steps(e))
			}
		}
	}
}
