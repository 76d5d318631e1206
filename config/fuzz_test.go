package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// FuzzParseINI checks the dsynth.ini parser, the profile decoder and the
// make.conf parser on arbitrary text: they never panic; every error is a
// *ParseError of the file, located on one of its lines, and its message
// starts with "file:line: "; what ParseINI accepts reads back the same
// when written out again (sections, keys and values survive, so nothing
// the parser kept depends on how the file was laid out).
func FuzzParseINI(f *testing.F) {
	seeds := []string{
		"",
		"[Global Configuration]\nprofile_selected=LiveSystem\n[LiveSystem]\nNumber_of_builders=0\n",
		"[LiveSystem]\nDirectory_logs= /a b c\nTmpfs_workdir=TRUE\nPackage_suffix=.tzst",
		"[P]\nfoo\n",
		"[P]\n=\n==\n",
		"[\n]\n[]\n[x\n",
		"; c\n# c\n\r\n\t\n[P]\r\nMax_jobs_per_builder=0x10\r\n",
		"[P]\nBuild_timeout=1h\nWatchdog_scale=1e300\nNumber_of_builders=99999999999999999999\n",
		"[P]\n ;x=1\n #y=2\n [z=3\n",
		"[a ]\n[Global Configuration]\nprofile_selected=a \n[a ]\nk\v=v\fw\n",
		"[Global Configuration]\nfoo=bar\n",
		"[LiveSystem]\nAPI_listen=127.0.0.1:8080\nAPI_keys_file=/etc/dsynth/keys\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		nlines := strings.Count(string(data), "\n") + 1
		check := func(what string, err error) {
			t.Helper()
			if err == nil {
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%s: error %v is %T, not *ParseError", what, err, err)
			}
			if pe.Line < 1 || pe.Line > nlines {
				t.Fatalf("%s: error %v has line %d; the file has %d", what, err, pe.Line, nlines)
			}
			if prefix := fmt.Sprintf("%s:%d: ", pe.File, pe.Line); pe.File != "fuzz.ini" && pe.File != "fuzz-make.conf" || !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("%s: error %q does not start with the file and line %q", what, err, prefix)
			}
		}
		_, err := ParseMakeConf("fuzz-make.conf", data)
		check("make.conf", err)
		ini, err := ParseINI("fuzz.ini", data)
		check("dsynth.ini", err)
		if err != nil {
			return
		}
		for _, name := range ini.Profiles() {
			entries, _ := ini.Entries(name)
			for _, e := range entries {
				if e.Line < 1 || e.Line > nlines {
					t.Fatalf("entry %+v outside the file's %d lines", e, nlines)
				}
			}
			_, err := DecodeProfile("fuzz.ini", entries, Host{NumCPU: 4})
			check("profile "+name, err)
		}
		// Written out again: one section per line, each entry indented
		// by a blank (a key may start with ';', '#' or '[').
		var b strings.Builder
		if ini.ProfileSelectedLine > 0 {
			fmt.Fprintf(&b, "[%s]\nprofile_selected=%s\n", GlobalSection, ini.ProfileSelected)
		}
		for _, s := range ini.Sections {
			fmt.Fprintf(&b, "[%s]\n", s.Name)
			for _, e := range s.Entries {
				fmt.Fprintf(&b, " %s=%s\n", e.Key, e.Value)
			}
		}
		again, err := ParseINI("again.ini", []byte(b.String()))
		if err != nil {
			t.Fatalf("written out again, it does not parse: %v\n%s", err, b.String())
		}
		if again.ProfileSelected != ini.ProfileSelected || len(again.Sections) != len(ini.Sections) {
			t.Fatalf("written out again: profile %q, %d sections; want %q, %d\n%s", again.ProfileSelected, len(again.Sections), ini.ProfileSelected, len(ini.Sections), b.String())
		}
		for i, s := range ini.Sections {
			a := again.Sections[i]
			if a.Name != s.Name || len(a.Entries) != len(s.Entries) {
				t.Fatalf("section %d: %q with %d entries, want %q with %d", i, a.Name, len(a.Entries), s.Name, len(s.Entries))
			}
			for j, e := range s.Entries {
				if a.Entries[j].Key != e.Key || a.Entries[j].Value != e.Value {
					t.Fatalf("section %q entry %d: %q=%q, want %q=%q", s.Name, j, a.Entries[j].Key, a.Entries[j].Value, e.Key, e.Value)
				}
			}
		}
	})
}
