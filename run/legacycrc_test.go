package run

import (
	"reflect"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/ports"
)

// TestStartCRCs: when a build starts, dsynth's check_packaged stores the
// CRC of each packaged port it has no entry for and keeps the package; an
// entry that differs makes it delete the package, rebuild and store the
// new CRC afterwards, unless -xx keeps the package (then the old entry
// stays). go-dsynth keeps a package whose content is unchanged even when
// its CRC moved, so it stores the new CRC at once: the file ends as
// dsynth's would.
func TestStartCRCs(t *testing.T) {
	up := func(origin string, crc uint32, overridden ...builddb.ReasonKind) *builder.Item {
		it := &builder.Item{Origin: origin, Disp: builder.UpToDate}
		it.Facts.Current = builddb.Current{CRC: crc, HasCRC: true}
		for _, k := range overridden {
			it.Decision.Overridden = append(it.Decision.Overridden, builddb.Reason{Kind: k})
		}
		return it
	}
	items := []*builder.Item{
		up("a/new", 1),     // no entry: stored
		up("a/same", 2),    // same CRC: nothing to do
		up("a/touched", 3), // content unchanged, CRC moved: stored
		up("a/kept-by-xx", 4, builddb.PortChanged),      // -xx: the old entry stays
		up("a/kept-by-x", 5, builddb.DependencyRebuilt), // -x: the CRC is the port's own
		{Origin: "a/built", Disp: builder.Build, Facts: builder.Facts{Current: builddb.Current{CRC: 6, HasCRC: true}}},
		{Origin: "a/no-crc", Disp: builder.UpToDate},
	}
	plan := &builder.Plan{Items: map[ports.NodeID]*builder.Item{}}
	for i, it := range items {
		plan.Items[ports.NodeID(i)] = it
	}
	stored := map[string]uint32{"a/same": 2, "a/touched": 30, "a/kept-by-xx": 40, "a/kept-by-x": 50, "a/built": 60}
	got := startCRCs(plan, func(o string) (uint32, bool) { c, ok := stored[o]; return c, ok })
	want := map[string]uint32{"a/new": 1, "a/touched": 3, "a/kept-by-x": 5}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
}
