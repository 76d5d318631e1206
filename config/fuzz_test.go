package config

import (
	"errors"
	"testing"
)

// FuzzParseINI checks that the dsynth.ini parser and the profile decoder
// never panic and that every error they return locates a line ≥ 1.
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
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			return
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v is %T, not *ParseError", err, err)
		}
		if pe.Line < 1 {
			t.Fatalf("error %v has line %d", err, pe.Line)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ini, err := ParseINI("fuzz.ini", data)
		check(t, err)
		if err != nil {
			return
		}
		for _, name := range ini.Profiles() {
			entries, _ := ini.Entries(name)
			_, err := DecodeProfile("fuzz.ini", entries, Host{NumCPU: 4})
			check(t, err)
		}
		_, err = ParseMakeConf("fuzz-make.conf", data)
		check(t, err)
	})
}
