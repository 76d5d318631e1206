package builder

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/ports"
)

// OptionsHash fingerprints a port's option selection.
func OptionsHash(in *ports.Info) string {
	if in == nil {
		return ""
	}
	h := sha256.Sum256([]byte(in.SelectedOptions + "\x00" + in.DeselectedOptions))
	return hex.EncodeToString(h[:8])
}

// FactsSource gathers Facts from the repository, the ports tree and the
// build database.
type FactsSource struct {
	Graph         *ports.Graph
	PortsDir      string
	RepositoryDir string
	// DB holds the stored rebuild inputs; nil: nothing stored.
	DB InputsReader
}

// InputsReader returns the rebuild inputs stored for an origin, or an error
// wrapping builddb.ErrNotFound. *builddb.DB is one; a client of the build
// base's owner is another.
type InputsReader interface {
	Inputs(origin string) (*builddb.Inputs, error)
}

// Facts returns the facts of one node.
func (s FactsSource) Facts(n *ports.Node) Facts {
	var f Facts
	if n.Info == nil {
		return f
	}
	if n.Info.PkgFile != "" {
		_, err := os.Stat(filepath.Join(s.RepositoryDir, n.Info.PkgFile))
		f.PackageExists = err == nil
	}
	origin := n.Origin.String()
	if s.DB != nil {
		in, err := s.DB.Inputs(origin)
		if err == nil {
			f.Stored = in
		} else if !errors.Is(err, builddb.ErrNotFound) {
			f.Stored = nil
		}
	}
	f.Current = builddb.Current{Origin: origin, Fingerprint: n.Info.Fingerprint, Options: OptionsHash(n.Info), PackageExists: f.PackageExists}
	// dsynth's port path is "<Directory_portsdir>/<category>/<name>" as
	// written, and its CRC hashes the path: no cleaning.
	if crc, err := ports.DsynthCRC(s.PortsDir + "/" + n.Origin.Dir); err == nil {
		f.Current.CRC, f.Current.HasCRC = crc, true
	}
	f.Current.DepVersions = map[string]string{}
	for _, d := range InstallSet(s.Graph, n.ID) {
		if dn := s.Graph.Nodes[d]; dn.Info != nil {
			f.Current.DepVersions[dn.Origin.String()] = dn.Info.PkgVersion
		}
	}
	return f
}
