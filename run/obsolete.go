package run

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-dsynth/go-dsynth/ports"
)

// ObsoletePackages lists the package files in the repository that no
// scanned port produces (dsynth matches each file against the scanned
// PKGFILEs; files ending in the configured suffix or .pkg are considered).
func ObsoletePackages(g *ports.Graph, repo, suffix string) ([]string, error) {
	known := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Info != nil && n.Info.PkgFile != "" {
			known[n.Info.PkgFile] = true
		}
	}
	ents, err := os.ReadDir(repo)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, ".pkg") || (suffix != "" && strings.HasSuffix(name, suffix))) {
			continue
		}
		if !known[name] {
			out = append(out, filepath.Join(repo, name))
		}
	}
	sort.Strings(out)
	return out, nil
}

// DeleteObsolete removes the obsolete packages, logging each with dsynth's
// "Deleting obsolete package" line.
func DeleteObsolete(g *ports.Graph, repo, suffix string, log func(string)) (int, error) {
	list, err := ObsoletePackages(g, repo, suffix)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range list {
		if err := os.Remove(p); err == nil {
			n++
			log("Deleting obsolete package " + p)
		}
	}
	return n, nil
}
