package builder

import (
	"strings"
	"testing"
	"time"
)

func phaseNames(ph []Phase) string {
	var n []string
	for _, p := range ph {
		n = append(n, p.Name)
	}
	return strings.Join(n, " ")
}

func TestPhases(t *testing.T) {
	base := "check-sanity pkg-depends fetch-depends fetch checksum extract-depends extract patch-depends patch build-depends lib-depends configure build run-depends stage"
	cases := []struct {
		origin string
		o      PhaseOptions
		want   string
	}{
		{"ports-mgmt/pkg", PhaseOptions{}, "package"},
		{"editors/vim", PhaseOptions{}, base + " package"},
		{"editors/vim", PhaseOptions{CheckPlist: true}, base + " check-plist package"},
		{"editors/vim", PhaseOptions{CheckPlist: true, Install: true}, base + " check-plist package install deinstall"},
		{"editors/vim", PhaseOptions{FetchOnly: true}, "check-sanity fetch-depends fetch checksum"},
		{"editors/vim", PhaseOptions{Developer: true}, "Environment showconfig CONFIGURE_ENV CONFIGURE_ARGS MAKE_ENV MAKE_ARGS PLIST_SUB SUB_LIST /etc/make.conf " + base + " package"},
	}
	for _, c := range cases {
		if got := phaseNames(Phases(c.origin, c.o)); got != c.want {
			t.Errorf("%s %+v:\n got %s\nwant %s", c.origin, c.o, got, c.want)
		}
	}
	for _, p := range Phases("x/y", PhaseOptions{}) {
		want := map[string]bool{"build": true, "package": true}[p.Name]
		if p.NoDepends != want {
			t.Errorf("%s: NoDepends %v", p.Name, p.NoDepends)
		}
	}
}

func TestPhaseCommand(t *testing.T) {
	dump := dumpPhases()
	cases := map[string]string{
		"Environment":    "env",
		"/etc/make.conf": "cat /etc/make.conf",
		"MAKE_ENV":       "bmake -C /xports/a/b NO_DEPENDS=1 -V MAKE_ENV",
		"showconfig":     "bmake -C /xports/a/b NO_DEPENDS=1 showconfig",
	}
	for _, p := range dump {
		if want, ok := cases[p.Name]; ok {
			if got := strings.Join(PhaseCommand(p, "bmake", "/xports/a/b"), " "); got != want {
				t.Errorf("%s: %q, want %q", p.Name, got, want)
			}
		}
	}
	if got := strings.Join(PhaseCommand(Phase{Name: "build", NoDepends: true}, "make", "/xports/a/b"), " "); got != "make -C /xports/a/b NO_DEPENDS=1 build" {
		t.Errorf("build: %q", got)
	}
}

func TestWatchdogLimit(t *testing.T) {
	cases := []struct {
		base        time.Duration
		load15      float64
		ncpu        int
		scale, want float64 // want in minutes
	}{
		{180 * time.Minute, 1, 8, 1, 180},
		{180 * time.Minute, 63, 8, 1, 180},   // 63/8 < 8: unscaled
		{180 * time.Minute, 64, 8, 1, 180},   // 64/8 = 8 → ×8/8 = ×1
		{180 * time.Minute, 128, 8, 1, 360},  // 16/8 → ×2
		{180 * time.Minute, 1000, 8, 1, 720}, // capped at 4·ncpu/ncpu = ×4
		{60 * time.Minute, 0, 2, 0.5, 30},
	}
	for _, c := range cases {
		got := WatchdogLimit(c.base, c.load15, c.ncpu, c.scale)
		if got.Minutes() != c.want {
			t.Errorf("%+v: %v minutes", c, got.Minutes())
		}
	}
}
