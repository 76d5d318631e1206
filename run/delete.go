package run

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
)

// DeletePackages removes the packages of the given nodes, recursing through
// dummy and meta nodes into their dependencies (force, test, debug).
func DeletePackages(g *ports.Graph, roots []ports.NodeID, repo string, log func(string)) {
	seen := map[ports.NodeID]bool{}
	var del func(id ports.NodeID)
	del = func(id ports.NodeID) {
		if seen[id] {
			return
		}
		seen[id] = true
		n := g.Nodes[id]
		if n.Info != nil && n.Info.PkgFile != "" && !n.Dummy {
			path := filepath.Join(repo, n.Info.PkgFile)
			if err := os.Remove(path); err == nil {
				log(fmt.Sprintf("%s DELETE-PACKAGE %s (forced)", n.Origin, path))
			}
		}
		if n.Dummy || (n.Info != nil && (n.Info.IsMeta() || n.Info.PkgFile == "")) {
			for _, e := range n.Deps {
				del(e.To)
			}
		}
	}
	for _, r := range roots {
		del(r)
	}
}

// RepositoryPrompt asks the question dsynth asks after a build.
func RepositoryPrompt(in io.Reader, out io.Writer) bool {
	fmt.Fprint(out, "Rebuild the repository? [Y/n] ")
	var answer string
	fmt.Fscanln(in, &answer)
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "" || answer == "y" || answer == "yes"
}

// logFunc publishes a free-form 00 log line.
func logFunc(bus *events.Bus) func(string) {
	return func(s string) { bus.Publish(events.Log{Time: events.Time{T: time.Now()}, Slot: -1, Text: s}) }
}

// portLogOpener opens dsynth's per-port logs in the logs directory.
func portLogOpener(dir string) builder.OpenPortLog {
	return func(origin string) (builder.PortLog, error) {
		l, err := report.CreatePortLog(dir, origin)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
}
