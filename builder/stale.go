package builder

import (
	"fmt"
	"path/filepath"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// deleteStale removes the packages the plan found stale, all of them
// before any port starts, as dsynth does (check_packaged at the start of
// DoBuild for changed ports, build_find_leaves' first pass for ports whose
// dependencies are rebuilt), and logs dsynth's DELETE-PACKAGE line for
// each, and for each package -x / -xx keep.
func (b *Builder) deleteStale() {
	for _, id := range b.plan.Order {
		it := b.plan.Items[id]
		n := b.plan.Graph.Nodes[id]
		if n.Info == nil || n.Info.PkgFile == "" {
			continue
		}
		path := filepath.Join(b.o.RepositoryDir, n.Info.PkgFile)
		switch {
		case it.DeletePackage:
			if err := b.o.FS.Remove(path); err != nil {
				b.log(-1, "%s DELETE-PACKAGE %s (failed)", it.Origin, path)
				continue
			}
			b.log(-1, "%s DELETE-PACKAGE %s (%s)", it.Origin, path, DeleteNote(it))
		case len(it.Decision.Overridden) > 0:
			b.log(-1, "%s DELETE-PACKAGE %s (%s)", it.Origin, path, OverrideNote(it))
		}
	}
}

// DeleteNote is the parenthesised reason dsynth gives when it deletes a
// stale package: "port content changed CRC OLD/NEW" (check_packaged, with
// the CRC it had stored and the one it computed now) or "due to
// dependencies" (build_find_leaves). go-dsynth's own reasons map onto
// these: a content change (by fingerprint or CRC) is the first, a
// dependency rebuilt or at another version the second; a change of
// options, which dsynth does not track, says "options changed". The first
// cause wins, as in dsynth, where check_packaged runs first.
func DeleteNote(it *Item) string {
	return note(it, it.Decision.Reasons, "")
}

// OverrideNote is dsynth's reason for a stale package -x / -xx keep: the
// same texts, followed by "OVERRIDE, NOT DELETED" (check_packaged under
// -xx puts it inside the CRC text; build_find_leaves under -x says only
// "OVERRIDE, NOT DELETED").
func OverrideNote(it *Item) string {
	return note(it, it.Decision.Overridden, "OVERRIDE, NOT DELETED")
}

func note(it *Item, rs []builddb.Reason, suffix string) string {
	kind := builddb.ReasonKind("")
	for _, r := range rs {
		switch r.Kind {
		case builddb.PortChanged:
			kind = r.Kind
		case builddb.OptionsChanged:
			if kind != builddb.PortChanged {
				kind = r.Kind
			}
		case builddb.DependencyRebuilt, builddb.DependencyChanged:
			if kind == "" {
				kind = builddb.DependencyRebuilt
			}
		}
	}
	var text string
	switch kind {
	case builddb.PortChanged:
		var old uint32
		if st := it.Facts.Stored; st != nil {
			old = st.CRC
		}
		text = fmt.Sprintf("port content changed CRC %08x/%08x", old, it.Facts.Current.CRC)
	case builddb.OptionsChanged:
		text = "options changed"
	case builddb.DependencyRebuilt:
		if suffix != "" {
			return suffix // dsynth: "(OVERRIDE, NOT DELETED)"
		}
		text = "due to dependencies"
	default:
		text = it.Reason
	}
	if suffix != "" {
		return text + " " + suffix
	}
	return text
}
