package pkgdiff

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

type member struct {
	name, body, link string
	mode             int64
	typ              byte
	mtime            int64
	uid              int
}

// archive writes a tar of ms compressed with comp.
func archive(t *testing.T, comp string, ms ...member) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, m := range ms {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := m.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: m.name, Typeflag: typ, Mode: mode, Linkname: m.link, ModTime: time.Unix(1700000000+m.mtime, 0), Uid: m.uid, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			h.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(m.body))
		}
	}
	tw.Close()
	var out bytes.Buffer
	switch comp {
	case "gzip":
		zw := gzip.NewWriter(&out)
		zw.Write(tb.Bytes())
		zw.Close()
	case "xz":
		xw, err := xz.NewWriter(&out)
		if err != nil {
			t.Fatal(err)
		}
		xw.Write(tb.Bytes())
		xw.Close()
	case "zstd":
		zw, err := zstd.NewWriter(&out)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(tb.Bytes())
		zw.Close()
	default:
		out = tb
	}
	return out.Bytes()
}

func write(t *testing.T, name string, data []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var base = []member{
	{name: "+MANIFEST", body: "name: x\nversion: 1\nfile: aaa /usr/local/bin/x\n"},
	{name: "usr/local/bin/x", body: "binary", mode: 0o755},
	{name: "usr/local/share/x/stamp", body: "built at 1\n"},
	{name: "usr/local/lib/libx.so", typ: tar.TypeSymlink, link: "libx.so.1"},
}

func TestReadEveryCompression(t *testing.T) {
	for _, comp := range []string{"gzip", "xz", "zstd", "none"} {
		p, err := Open(write(t, "x.pkg", archive(t, comp, base...)))
		if err != nil {
			t.Fatalf("%s: %v", comp, err)
		}
		if p.Compression != comp || len(p.Entries) != 4 || p.SHA256 == "" || p.Size == 0 {
			t.Errorf("%s: %+v", comp, p)
		}
		e := p.Entries[1]
		if e.Path != "usr/local/bin/x" || e.Type != TypeFile || e.Mode != 0o755 || e.Size != 6 ||
			e.SHA256 != "9a3a45d01531a20e89ac6ae10b0b0beb0492acd7216a368aa062d1a5fecaf9cd" {
			t.Errorf("%s: member %+v", comp, e)
		}
		if p.Entries[0].Meta == "" || p.Entries[1].Meta != "" {
			t.Errorf("%s: metadata kept %q, other %q", comp, p.Entries[0].Meta, p.Entries[1].Meta)
		}
		if l := p.Entries[3]; l.Type != TypeSymlink || l.Link != "libx.so.1" {
			t.Errorf("%s: link %+v", comp, l)
		}
	}
}

func TestRefusesOtherFormats(t *testing.T) {
	bz := []byte("BZh91AY&SY" + strings.Repeat("\x00", 600))
	for name, data := range map[string][]byte{"bzip2": bz, "text": []byte(strings.Repeat("not a tar archive\n", 60)), "empty": nil} {
		_, err := Open(write(t, "x.pkg", data))
		if !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && !strings.Contains(err.Error(), "x.pkg") {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none.pkg")); err == nil {
		t.Error("missing file read")
	}
}

func TestDiff(t *testing.T) {
	a, err := Open(write(t, "a.pkg", archive(t, "gzip", base...)))
	if err != nil {
		t.Fatal(err)
	}
	same, _ := Open(write(t, "a2.pkg", archive(t, "gzip", base...)))
	if r := Diff(a, same); !r.Identical || len(r.Members) != 0 {
		t.Errorf("same bytes: %+v", r)
	}
	// Another compression of the same members: not identical, but only
	// the archive differs.
	plain, _ := Open(write(t, "p.pkg", archive(t, "none", base...)))
	if r := Diff(a, plain); r.Identical || len(r.Members) != 0 || !r.ArchiveOnly {
		t.Errorf("other compression: %+v", r)
	}
	changed := append([]member(nil), base...)
	changed[0].body = "name: x\nversion: 2\nfile: aaa /usr/local/bin/x\n"
	changed[1].mode = 0o700
	changed[2] = member{name: "usr/local/share/x/stamp", body: "built at 22\n", mtime: 5, uid: 1001}
	changed = append(changed[:3], member{name: "usr/local/share/x/new", body: "n"})
	b, _ := Open(write(t, "b.pkg", archive(t, "gzip", changed...)))
	r := Diff(a, b)
	if r.Identical || r.ArchiveOnly {
		t.Fatalf("%+v", r)
	}
	got := map[string]MemberDiff{}
	for _, m := range r.Members {
		got[m.Path] = m
	}
	if strings.Join(r.Files(), " ") != "+MANIFEST usr/local/bin/x usr/local/lib/libx.so usr/local/share/x/new usr/local/share/x/stamp" {
		t.Errorf("files %v", r.Files())
	}
	if m := got["usr/local/lib/libx.so"]; m.Status != Removed {
		t.Errorf("removed: %+v", m)
	}
	if m := got["usr/local/share/x/new"]; m.Status != Added {
		t.Errorf("added: %+v", m)
	}
	fields := func(m MemberDiff) string {
		var s []string
		for _, f := range m.Fields {
			s = append(s, f.Name)
		}
		return strings.Join(s, " ")
	}
	if f := fields(got["usr/local/share/x/stamp"]); f != "sha256 size owner mtime" {
		t.Errorf("stamp fields %q", f)
	}
	if f := fields(got["usr/local/bin/x"]); f != "mode" {
		t.Errorf("binary fields %q", f)
	}
	m := got["+MANIFEST"]
	if strings.Join(m.Removed, "|") != "version: 1" || strings.Join(m.Added, "|") != "version: 2" {
		t.Errorf("manifest lines %+v", m)
	}
	var text bytes.Buffer
	r.WriteText(&text)
	for _, want := range []string{"5 member(s) differ", "~ usr/local/share/x/stamp", "size: 11 -> 12", "-| version: 1", "+| version: 2", "+ usr/local/share/x/new (only in b)", "- usr/local/lib/libx.so (only in a)", "mode: 0755 -> 0700"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	j, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(j), `"path":"usr/local/share/x/stamp","status":"changed"`) || !strings.Contains(string(j), `"a":{"path":`) {
		t.Errorf("JSON %s %v", j, err)
	}
	// Order only.
	rev := []member{base[0], base[2], base[1], base[3]}
	o, _ := Open(write(t, "o.pkg", archive(t, "gzip", rev...)))
	if r := Diff(a, o); !r.OrderDiffers || len(r.Members) != 0 {
		t.Errorf("order: %+v", r)
	}
}

func TestLineDiffCountsRepeats(t *testing.T) {
	a, b := lineDiff("x\nx\ny", "x\ny\nz")
	if strings.Join(a, ",") != "x" || strings.Join(b, ",") != "z" {
		t.Errorf("%v %v", a, b)
	}
}
