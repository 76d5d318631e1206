package ports

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseOrigin checks the origin rules on arbitrary strings: an origin
// that is accepted prints back as given, has exactly a category and a port
// (and a flavor after '@'), no part empty, ".", ".." or dot-prefixed, and
// no whitespace, backslash or control byte anywhere; a refused one says
// ErrBadOrigin and quotes what it refused.
func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{
		"editors/vim", "devel/py-setuptools@py39", "x11/gtk3@lite", "lang/python@3.11",
		"", "vim", "a/b/c", "../etc", "devel/..", "./x", "/etc/passwd", "devel/vim@", "a/b@c@d",
		"a/b c", "a\\b/c", ".git/x", "devel/.hidden", "a/b@x/y", "devel/vim@..", "devel/vim@.",
		"devel/vim\r", "devel/vim@\x1b[2J", "dev\x7fel/vim", "a/b@\x00", "a/\u00e9t\u00e9", "a/b@\u2028",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrigin(s)
		if err != nil {
			if !errors.Is(err, ErrBadOrigin) {
				t.Fatalf("ParseOrigin(%q): %v does not wrap ErrBadOrigin", s, err)
			}
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ParseOrigin(%q): %q does not quote the origin", s, err)
			}
			return
		}
		if o.String() != s {
			t.Fatalf("ParseOrigin(%q) prints back as %q", s, o.String())
		}
		if strings.Count(o.Dir, "/") != 1 || strings.Contains(o.Flavor, "@") || strings.Contains(o.Flavor, "/") {
			t.Fatalf("ParseOrigin(%q) = %#v: not category/port[@flavor]", s, o)
		}
		parts := []string{o.Category(), o.Name()}
		if strings.Contains(s, "@") {
			parts = append(parts, o.Flavor)
		}
		for _, p := range parts {
			if p == "" || p[0] == '.' {
				t.Fatalf("ParseOrigin(%q) accepted the part %q", s, p)
			}
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == 0x7f || c == ' ' || c == '\\' {
				t.Fatalf("ParseOrigin(%q) accepted the byte %#x at %d", s, c, i)
			}
		}
		if strings.Contains(o.LogName(), "/") {
			t.Fatalf("ParseOrigin(%q): log name %q has a slash", s, o.LogName())
		}
		if again, err := ParseOrigin(o.String()); err != nil || again != o {
			t.Fatalf("ParseOrigin(%q) does not read its own String: %v, %v", s, again, err)
		}
	})
}
