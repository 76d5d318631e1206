package recorder

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/google/uuid"
)

// newRecord returns a record of a plan item with the identity fields set
// from its current facts: version, flavor, fingerprint, CRC, options hash,
// system and run.
func newRecord(it *builder.Item, n *ports.Node, system string, run uuid.UUID) *builddb.BuildRecord {
	version := ""
	if n.Info != nil {
		version = n.Info.PkgVersion
	}
	rec := &builddb.BuildRecord{ID: builddb.NewBuildID(n.Origin.Dir, version, n.Origin.Flavor)}
	rec.ID.Fingerprint = it.Facts.Current.Fingerprint
	rec.ID.PortsCRC = it.Facts.Current.CRC
	rec.ID.Options = it.Facts.Current.Options
	rec.ID.SystemVer = system
	rec.RunID = run
	return rec
}

// inputs are the rebuild inputs to store for a plan item: its current
// facts, with deps for the dependency versions when not nil.
func inputs(it *builder.Item, n *ports.Node, deps map[string]string, now time.Time) builddb.Inputs {
	cur := it.Facts.Current
	in := builddb.Inputs{Origin: it.Origin, Fingerprint: cur.Fingerprint, CRC: cur.CRC, HasCRC: cur.HasCRC,
		Options: cur.Options, DepVersions: cur.DepVersions, Updated: now.UTC()}
	if deps != nil {
		in.DepVersions = deps
	}
	if n.Info != nil {
		in.Version = n.Info.PkgVersion
	}
	return in
}

// depVersions are the versions of the packages installed in the slot to
// build node id (builder.InstallSet).
func depVersions(g *ports.Graph, id ports.NodeID) map[string]string {
	out := map[string]string{}
	for _, d := range builder.InstallSet(g, id) {
		if dn := g.Nodes[d]; dn.Info != nil {
			out[dn.Origin.String()] = dn.Info.PkgVersion
		}
	}
	return out
}

// logPath is the per-port log of a node in logsDir.
func logPath(logsDir string, n *ports.Node) string {
	return filepath.Join(logsDir, n.Origin.LogName()+".log")
}

// fileDigest returns the size and the hex SHA-256 of a file.
func fileDigest(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("package digest: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("package digest of %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
