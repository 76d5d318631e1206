package builder

import (
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// TestDeleteAndOverrideNotes checks dsynth's DELETE-PACKAGE reasons byte
// for byte. dsynth's check_packaged deletes a package whose port CRC
// differs from the one ports_crc.db holds and says "(port content changed
// CRC stored/current)" with both as %08x, or, under -xx, keeps it and adds
// " OVERRIDE, NOT DELETED" inside the parentheses; build_find_leaves
// deletes a package whose dependencies are not clean "(due to
// dependencies)", or under -x keeps it "(OVERRIDE, NOT DELETED)".
func TestDeleteAndOverrideNotes(t *testing.T) {
	crc := func(it *Item) *Item {
		it.Facts.Stored = &builddb.Inputs{CRC: 0xa, HasCRC: true}
		it.Facts.Current.CRC = 0xdeadbeef
		return it
	}
	stored := builddb.Inputs{CRC: 0xa, HasCRC: true}
	for _, tc := range []struct {
		name      string
		cur       builddb.Current
		policy    builddb.Policy
		del, keep string
	}{
		{"content changed", builddb.Current{CRC: 0xdeadbeef, HasCRC: true, PackageExists: true}, builddb.Policy{},
			"port content changed CRC 0000000a/deadbeef", ""},
		{"content changed, -xx", builddb.Current{CRC: 0xdeadbeef, HasCRC: true, PackageExists: true}, builddb.PolicyFromX(2),
			"", "port content changed CRC 0000000a/deadbeef OVERRIDE, NOT DELETED"},
		{"dependency rebuilt", builddb.Current{CRC: 0xa, HasCRC: true, PackageExists: true, RebuiltDeps: []string{"a/lib"}}, builddb.Policy{},
			"due to dependencies", ""},
		{"dependency rebuilt, -x", builddb.Current{CRC: 0xa, HasCRC: true, PackageExists: true, RebuiltDeps: []string{"a/lib"}}, builddb.PolicyFromX(1),
			"", "OVERRIDE, NOT DELETED"},
		{"both: the content wins", builddb.Current{CRC: 0xdeadbeef, HasCRC: true, PackageExists: true, RebuiltDeps: []string{"a/lib"}}, builddb.Policy{},
			"port content changed CRC 0000000a/deadbeef", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := stored
			it := crc(&Item{})
			it.Facts.Stored = &st
			it.Facts.Current = tc.cur
			it.Decision = builddb.Decide(&st, tc.cur, tc.policy)
			if tc.del != "" {
				if !it.Decision.Rebuild {
					t.Fatalf("not rebuilt: %+v", it.Decision)
				}
				if g := DeleteNote(it); g != tc.del {
					t.Errorf("delete note %q, want %q", g, tc.del)
				}
			}
			if tc.keep != "" {
				if it.Decision.Rebuild {
					t.Fatalf("rebuilt: %+v", it.Decision)
				}
				if g := OverrideNote(it); g != tc.keep {
					t.Errorf("override note %q, want %q", g, tc.keep)
				}
			}
		})
	}
}
