package run

import (
	"testing"

	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/config"
)

// TestPhaseOptionsAsDsynth: dsynth.c's directives set WorkerProcFlags —
// test adds CHECK_PLIST, INSTALL, DEINSTALL and DEVELOPER (whose dump
// phases then run); everything with -D adds CHECK_PLIST ("-D everything
// infers -P"); -D alone does not imply -P for build.
func TestPhaseOptionsAsDsynth(t *testing.T) {
	look := func(name string) Directive {
		d, ok := Lookup(name)
		if !ok {
			t.Fatalf("no directive %s", name)
		}
		return d
	}
	for _, c := range []struct {
		name string
		o    Options
		p    config.Profile
		want builder.PhaseOptions
	}{
		{"build", Options{}, config.Profile{}, builder.PhaseOptions{}},
		{"build", Options{Developer: true}, config.Profile{}, builder.PhaseOptions{Developer: true}},
		{"build", Options{}, config.Profile{CheckPlist: true}, builder.PhaseOptions{CheckPlist: true}},
		{"test", Options{}, config.Profile{}, builder.PhaseOptions{Developer: true, CheckPlist: true, Install: true}},
		{"everything", Options{}, config.Profile{}, builder.PhaseOptions{}},
		{"everything", Options{Developer: true}, config.Profile{}, builder.PhaseOptions{Developer: true, CheckPlist: true}},
		{"fetch-only", Options{}, config.Profile{}, builder.PhaseOptions{FetchOnly: true}},
	} {
		if got := phaseOptions(look(c.name), c.o, &c.p); got != c.want {
			t.Errorf("%s %+v: %+v, want %+v", c.name, c.o, got, c.want)
		}
	}
	// test's phases start with the DEVELOPER dump phases.
	ph := builder.Phases("misc/hello", phaseOptions(look("test"), Options{}, &config.Profile{}))
	if len(ph) == 0 || ph[0].Name != "Environment" || !ph[0].Dump {
		t.Errorf("test's first phase %+v, want the Environment dump", ph[0])
	}
}

// TestFetchOnlyScale: dsynth.c's fetch-only turns a -M still at its
// default (PkgDepScaleTarget 100, i.e. 1.00) into 999 (9.99); a -M given
// on the command line stays, unless it is 1, which dsynth cannot tell from
// the default; other directives keep -M as given.
func TestFetchOnlyScale(t *testing.T) {
	fetch, _ := Lookup("fetch-only")
	build, _ := Lookup("build")
	for _, c := range []struct {
		d     Directive
		scale float64
		want  float64
	}{
		{fetch, 1, 9.99}, {fetch, 2.5, 2.5}, {fetch, 0.5, 0.5},
		{build, 1, 1}, {build, 2.5, 2.5},
	} {
		if got := limitScale(c.d, c.scale); got != c.want {
			t.Errorf("%s -M %v: %v, want %v", c.d.Name, c.scale, got, c.want)
		}
	}
}
