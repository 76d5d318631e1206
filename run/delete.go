package run

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
)

// DeletePackages removes the packages of the given nodes, recursing through
// dummy and meta nodes into their dependencies (force, test, debug), and
// tells removed each package file it removed.
func DeletePackages(g *ports.Graph, roots []ports.NodeID, repo string, removed func(path string)) {
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
				removed(path)
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

// RepositoryPrompt asks dsynth's question "Rebuild the repository? " on
// out and reads the answer from in, as dsynth's askyn does: an answer
// starting with y or Y is yes, with n or N no; anything else (an empty
// line included) says "Please type y/n" and asks again; the end of the
// input is no.
func RepositoryPrompt(in io.Reader, out io.Writer) bool {
	return askYesNo(bufio.NewReader(in), out, "Rebuild the repository? ")
}

// askYesNo is dsynth's askyn over a reader.
func askYesNo(in *bufio.Reader, out io.Writer, question string) bool {
	for {
		fmt.Fprint(out, question)
		line, err := in.ReadString('\n')
		if line == "" && err != nil {
			return false // end of input: no
		}
		switch line[0] {
		case 'y', 'Y':
			return true
		case 'n', 'N':
			return false
		}
		fmt.Fprintln(out, "Please type y/n")
	}
}

// removedFunc says "Removed: path" on w, as dsynth's RemovePackages does
// on stdout (not in its logs); w nil says nothing.
func removedFunc(w io.Writer) func(string) {
	return func(path string) {
		if w != nil {
			fmt.Fprintf(w, "Removed: %s\n", path)
		}
	}
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
