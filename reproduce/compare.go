package reproduce

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/pkgdiff"
)

// Side describes one build of a comparison.
type Side struct {
	Build     uuid.UUID      `json:"build"`
	Run       uuid.UUID      `json:"run"`
	Origin    string         `json:"origin"`
	Version   string         `json:"version"`
	Status    builddb.Status `json:"status"`
	Start     time.Time      `json:"start_time"`
	PkgFile   string         `json:"pkg_file,omitempty"`
	PkgSHA256 string         `json:"pkg_sha256,omitempty"`
	// Package is where the package was found ("" when it was not).
	Package string `json:"package,omitempty"`
}

// Comparison is what differs between two builds.
type Comparison struct {
	A Side `json:"a"`
	B Side `json:"b"`
	// Inputs are the recorded inputs that differ.
	Inputs []InputChange `json:"inputs"`
	// Outputs compares the two packages; nil when one of them could not
	// be read, OutputsError then says why.
	Outputs      *pkgdiff.Report `json:"outputs,omitempty"`
	OutputsError string          `json:"outputs_error,omitempty"`
}

func side(r *builddb.BuildRecord) Side {
	return Side{Build: r.ID.UUID, Run: r.RunID, Origin: r.Origin(), Version: r.ID.Version, Status: r.Status,
		Start: r.StartTime, PkgFile: r.PkgFile, PkgSHA256: r.PkgChecksum}
}

// Compare compares two build records and, when both packages can be
// found in dirs (Locate), their packages; the two are read side by side,
// unless they have the same recorded digest (found by it, they are
// identical).
func Compare(a, b *builddb.BuildRecord, dirs []string) Comparison {
	c := Comparison{A: side(a), B: side(b), Inputs: DiffInputs(a, b)}
	if c.Inputs == nil {
		c.Inputs = []InputChange{}
	}
	var (
		pa, pb   *pkgdiff.Package
		ea, eb   error
		wg       sync.WaitGroup
		pathA, _ = Locate(a, dirs)
		pathB, _ = Locate(b, dirs)
	)
	c.A.Package, c.B.Package = pathA, pathB
	if pathA != "" && pathB != "" && a.PkgChecksum == b.PkgChecksum {
		// Both files were found by that digest: they are the same
		// bytes, nothing to read.
		sum := func(r *builddb.BuildRecord, path string) pkgdiff.Summary {
			return pkgdiff.Summary{Path: path, Size: r.PkgSize, SHA256: r.PkgChecksum}
		}
		c.Outputs = &pkgdiff.Report{A: sum(a, pathA), B: sum(b, pathB), Identical: true}
		return c
	}
	read := func(r *builddb.BuildRecord, path string, p **pkgdiff.Package, e *error) {
		defer wg.Done()
		if path == "" {
			_, *e = Locate(r, dirs)
			return
		}
		*p, *e = pkgdiff.Open(path)
	}
	wg.Add(2)
	go read(a, pathA, &pa, &ea)
	go read(b, pathB, &pb, &eb)
	wg.Wait()
	if err := errors.Join(ea, eb); err != nil {
		c.OutputsError = err.Error()
		return c
	}
	rep := pkgdiff.Diff(pa, pb)
	c.Outputs = &rep
	return c
}

// WriteText writes the comparison for a reader.
func (c *Comparison) WriteText(w io.Writer) {
	for _, s := range []struct {
		tag  string
		side Side
	}{{"a", c.A}, {"b", c.B}} {
		fmt.Fprintf(w, "%s: build %s of %s %s (%s, run %s, started %s)\n", s.tag, s.side.Build, s.side.Origin, s.side.Version,
			s.side.Status, s.side.Run, s.side.Start.Format(time.RFC3339))
	}
	if len(c.Inputs) == 0 {
		fmt.Fprintln(w, "inputs: the same")
	} else {
		fmt.Fprintf(w, "inputs: %d differ\n", len(c.Inputs))
		for _, in := range c.Inputs {
			fmt.Fprintf(w, "  %s: %s -> %s\n", in.Input, orNone(in.A), orNone(in.B))
			for _, l := range in.Removed {
				fmt.Fprintf(w, "      -| %s\n", l)
			}
			for _, l := range in.Added {
				fmt.Fprintf(w, "      +| %s\n", l)
			}
		}
	}
	if c.Outputs == nil {
		fmt.Fprintf(w, "outputs: not compared: %s\n", c.OutputsError)
		return
	}
	fmt.Fprintln(w, "outputs:")
	c.Outputs.WriteText(w)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
