package ports

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	good := map[string]Origin{
		"editors/vim":              {Dir: "editors/vim"},
		"devel/py-setuptools@py39": {Dir: "devel/py-setuptools", Flavor: "py39"},
	}
	for in, want := range good {
		got, err := ParseOrigin(in)
		if err != nil || got != want {
			t.Errorf("ParseOrigin(%q) = %v, %v; want %v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("round trip %q -> %q", in, got.String())
		}
	}
	for _, bad := range []string{"", "vim", "a/b/c", "../etc", "devel/..", "./x", "/etc/passwd", "devel/vim@", "a/b@c@d", "a/b c", "a\\b/c", ".git/x", "devel/.hidden", "a/b@x/y"} {
		if _, err := ParseOrigin(bad); !errors.Is(err, ErrBadOrigin) {
			t.Errorf("ParseOrigin(%q) accepted", bad)
		}
	}
}

// TestParseOriginRefusesDotFlavorsAndControls is issue 13's finding 6: a
// flavor of ".." and control characters (CR, ESC, DEL) anywhere in an
// origin were accepted. Each is refused, and the message names the byte.
func TestParseOriginRefusesDotFlavorsAndControls(t *testing.T) {
	cases := map[string]string{
		"devel/vim@..":       `flavor ".." is not allowed`,
		"devel/vim@.":        `flavor "." is not allowed`,
		"devel/vim@.py39":    `flavor ".py39" starts with a dot`,
		"devel/vim\r":        `"vim\r" has the control character 0x0d at byte 3`,
		"devel/vim\r@py39":   "control character 0x0d",
		"devel/vim@py\r":     "control character 0x0d at byte 2",
		"devel/vim@\x1b[2J":  "control character 0x1b at byte 0",
		"dev\x7fel/vim":      "control character 0x7f at byte 3",
		"devel/vim@py\t39":   "control character 0x09",
		"devel/vim@py 39":    "whitespace or a backslash",
		"devel/vim@py\\39":   "whitespace or a backslash",
		"devel/vim@py\x0039": "control character 0x00",
	}
	for in, want := range cases {
		_, err := ParseOrigin(in)
		if !errors.Is(err, ErrBadOrigin) {
			t.Errorf("ParseOrigin(%q) accepted", in)
			continue
		}
		if want != "" && !strings.Contains(err.Error(), want) {
			t.Errorf("ParseOrigin(%q): %v; want a message with %q", in, err, want)
		}
	}
	for _, good := range []string{"devel/vim@py39", "x11/gtk3@lite", "lang/python@3.11", "a/b-c_d.e@f_g-h"} {
		if _, err := ParseOrigin(good); err != nil {
			t.Errorf("ParseOrigin(%q): %v", good, err)
		}
	}
}

func TestParseDepends(t *testing.T) {
	deps, errs := ParseDepends(DepBuild, "gmake:devel/gmake  lib>0:${PORTSDIR}/x/y\t/nonexistent:a/b:patch  p:/usr/ports/devel/foo@py39:configure nocolon", "/usr/ports")
	var got []string
	for _, d := range deps {
		got = append(got, d.Origin.String()+"|"+d.Target)
	}
	want := "devel/gmake| ${PORTSDIR}/x/y| devel/foo@py39|configure"
	_ = want
	if len(errs) != 2 {
		t.Errorf("want 2 errors (unexpanded ${PORTSDIR} and no colon), got %v", errs)
	}
	if strings.Join(got, " ") != "devel/gmake| devel/foo@py39|configure" {
		t.Errorf("got %q", got)
	}
}

func TestParseScanOutput(t *testing.T) {
	lines := make([]string, scanLines)
	lines[0], lines[1], lines[15] = "1.0", "x-1.0.pkg", "a b"
	lines[17] = "/mk/sys.mk Makefile ../Makefile.inc Makefile"
	out := []byte(strings.Join(lines, "\n") + "\n")
	in, raw := ParseScanOutput(MustOrigin("c/x"), out, true)
	if in.Status != StatusOK || in.PkgVersion != "1.0" || in.Flavors != "a b" {
		t.Errorf("bad parse: %+v", in)
	}
	if mk := Makefiles(raw, "/p/c/x"); strings.Join(mk, " ") != "/mk/sys.mk /p/c/x/Makefile /p/c/Makefile.inc" {
		t.Errorf("makefiles %q", mk)
	}
	// Files inside the port and under skipped directories are left out,
	// also when written with "..": only what resolves outside counts.
	raw = "/p/Mk/bsd.port.mk Makefile /p/c/x/../x/files/a.mk /p/c/x/../../lang/y/Makefile.version /p/Mk2/z.mk"
	if mk := Makefiles(raw, "/p/c/x", "/p/c/x", "/p/Mk"); strings.Join(mk, " ") != "/p/lang/y/Makefile.version /p/Mk2/z.mk" {
		t.Errorf("externals %q", mk)
	}
	cases := []struct {
		out    string
		ok     bool
		status Status
	}{
		{"", true, StatusNotFound},
		{"", false, StatusCorrupt},
		{"a\nb\n", true, StatusCorrupt},
		{string(out), false, StatusCorrupt},
		{strings.TrimSuffix(string(out), "\n"), true, StatusCorrupt},
	}
	for i, c := range cases {
		in, _ := ParseScanOutput(MustOrigin("c/x"), []byte(c.out), c.ok)
		if in.Status != c.status {
			t.Errorf("case %d: status %v, want %v", i, in.Status, c.status)
		}
	}
}

// FuzzParseDepends checks *_DEPENDS parsing on arbitrary values: every
// blank-separated token is a dependency, an error naming the token, or a
// "/nonexistent:" token dsynth skips — none lost, none invented — and each
// dependency's origin is a valid origin that reads back as itself.
func FuzzParseDepends(f *testing.F) {
	for _, s := range []string{
		"gmake:devel/gmake", "a:b/c@d:e", "/nonexistent:x/y", "x:/usr/ports/a/b", "::", "a:../../etc", "a:b/c@",
		"libfoo.so:devel/foo lib>0:${PORTSDIR}/x/y\t/nonexistent:a/b:patch p:/usr/ports/devel/foo@py39:configure nocolon",
		"x:devel/vim@..", "x:devel/vim\r", "x:a/b@\x1b", "py39-setuptools>0:devel/py-setuptools@py39",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		deps, errs := ParseDepends(DepRun, s, "/usr/ports")
		skipped := 0
		for _, tok := range strings.Fields(s) {
			if strings.HasPrefix(tok, "/nonexistent:") {
				skipped++
			}
		}
		if n := len(strings.Fields(s)); len(deps)+len(errs)+skipped != n {
			t.Fatalf("%d tokens gave %d dependencies, %d errors and %d skipped", n, len(deps), len(errs), skipped)
		}
		for _, e := range errs {
			if e.Token == "" || e.Reason == "" || !strings.Contains(s, e.Token) || !strings.Contains(e.Error(), strconv.Quote(e.Token)) {
				t.Fatalf("error %+v does not name its token", e)
			}
		}
		for _, d := range deps {
			if d.Kind != DepRun || d.Raw == "" || !strings.Contains(s, d.Raw) {
				t.Fatalf("dependency %+v: wrong kind or token", d)
			}
			o, err := ParseOrigin(d.Origin.String())
			if err != nil || o != d.Origin {
				t.Fatalf("dependency origin %q does not round-trip: %v", d.Origin, err)
			}
			if strings.Contains(d.Origin.Dir, "..") && (strings.HasPrefix(d.Origin.Dir, "../") || strings.HasSuffix(d.Origin.Dir, "/..")) {
				t.Fatalf("path traversal accepted: %q", d.Origin)
			}
		}
	})
}

func FuzzParseScanOutput(f *testing.F) {
	f.Add([]byte("1\n2\n"), true)
	f.Add([]byte(strings.Repeat("x\n", scanLines)), true)
	f.Fuzz(func(t *testing.T, out []byte, ok bool) {
		in, _ := ParseScanOutput(MustOrigin("c/x"), out, ok)
		if in.Status == StatusOK && (!ok || strings.Count(string(out), "\n") != scanLines) {
			t.Fatalf("accepted bad output as OK")
		}
	})
}

func TestOriginLessMatchesStringOrder(t *testing.T) {
	list := []string{"a/b", "a/b@f", "a/b-c", "a/bc", "a/b@a", "a/a", "b/a", "a/b@z", "a/b.c", "a/b_c", "a/b@"}
	for _, x := range list {
		for _, y := range list {
			ox, errx := ParseOrigin(x)
			oy, erry := ParseOrigin(y)
			if errx != nil || erry != nil {
				continue
			}
			if ox.Less(oy) != (x < y) {
				t.Errorf("%s < %s: Less says %v", x, y, ox.Less(oy))
			}
		}
	}
}
