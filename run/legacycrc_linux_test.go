//go:build linux

package run_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
)

// TestBuildKeepsDsynthCRCFile: dsynth stores a port's directory CRC in
// <BuildBase>/ports_crc.db after building it (workercomplete) and, when a
// build starts, for every packaged port it has no entry for
// (check_packaged); an entry whose CRC differs from the port's makes it
// delete the package and rebuild. After go-dsynth builds, the file must
// hold exactly dsynth's keys and CRCs, and after a file of the port is
// touched (go-dsynth's content fingerprint keeps the package; dsynth would
// have rebuilt it) the next run stores the new CRC, so that dsynth run
// afterwards rebuilds nothing. An entry for a port outside the run stays.
func TestBuildKeepsDsynthCRCFile(t *testing.T) {
	conf, base := testSite(t)
	cfg, err := config.Load(config.LoadOptions{Dir: conf})
	if err != nil {
		t.Fatal(err)
	}
	portDir := func(o string) string { return cfg.Profile.PortsDir + "/" + o }
	path := filepath.Join(base, builddb.LegacyFileName)
	// An entry dsynth left for a port this run does not touch.
	if err := builddb.WriteLegacyCRC(path, []builddb.LegacyEntry{{Origin: "editors/vim", CRC: 0x5a5a5a5a}}); err != nil {
		t.Fatal(err)
	}
	want := func() map[string]uint32 {
		m := map[string]uint32{"editors/vim": 0x5a5a5a5a}
		for _, o := range []string{"misc/hello", ports.PkgOrigin} {
			c, err := ports.DsynthCRC(portDir(o))
			if err != nil {
				t.Fatal(err)
			}
			m[o] = c
		}
		return m
	}
	check := func(when string) {
		t.Helper()
		got, err := builddb.ReadLegacyCRC(path)
		if err != nil {
			t.Fatal(err)
		}
		w := want()
		if len(got) != len(w) {
			t.Fatalf("%s: %d entries %+v, want %v", when, len(got), got, w)
		}
		for _, e := range got {
			if c, ok := w[e.Origin]; !ok || c != e.CRC {
				t.Errorf("%s: %s %08x, want %08x (expected: %v)", when, e.Origin, e.CRC, c, ok)
			}
		}
	}

	var out bytes.Buffer
	if err := buildPorts(context.Background(), conf, &out, "misc/hello"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	check("after the first build")

	// Touch a file of misc/hello: its CRC changes, its content does not.
	f := filepath.Join(portDir("misc/hello"), "Makefile")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(f, later, later); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := buildPorts(context.Background(), conf, &out, "misc/hello"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "just-build: 0 built") {
		t.Fatalf("touching a file rebuilt the port (go-dsynth goes by content):\n%s", out.String())
	}
	check("after the touch")
}
