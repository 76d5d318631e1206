package repository

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Names of the files a published generation carries at its root beside
// the repository. They are not listed in the manifest.
const (
	// ManifestName is the SHA-256 manifest: one line per file,
	// "SHA256 (path) = hex", as sha256(1) -r and `sha256sum --tag` write
	// them (`sha256sum -c` checks it).
	ManifestName = "MANIFEST.sha256"
	// SignatureName is the manifest's detached signify signature
	// (`signify -V -p KEY.pub -x MANIFEST.sha256.sig -m MANIFEST.sha256`).
	SignatureName = ManifestName + ".sig"
)

// Entry is one file of a manifest: its path relative to the generation
// (slash-separated) and its SHA-256.
type Entry struct {
	Path string
	Sum  [32]byte
}

// Manifest is a generation's file list, sorted by path, no path twice.
type Manifest []Entry

// Sort orders the manifest by path.
func (m Manifest) Sort() {
	sort.Slice(m, func(i, j int) bool { return m[i].Path < m[j].Path })
}

// Format writes the manifest in the BSD tag format, one line per file.
func (m Manifest) Format() []byte {
	var b bytes.Buffer
	b.Grow(len(m) * 100)
	for _, e := range m {
		b.WriteString("SHA256 (")
		b.WriteString(e.Path)
		b.WriteString(") = ")
		b.WriteString(hex.EncodeToString(e.Sum[:]))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Lookup returns the entry of path, if listed.
func (m Manifest) Lookup(path string) (Entry, bool) {
	i := sort.Search(len(m), func(i int) bool { return m[i].Path >= path })
	if i < len(m) && m[i].Path == path {
		return m[i], true
	}
	return Entry{}, false
}

// ParseManifest reads a manifest written by Format. name is used in the
// errors, which give the line.
func ParseManifest(name string, data []byte) (Manifest, error) {
	var m Manifest
	lines := strings.Split(string(data), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	for i, line := range lines {
		rest, ok := strings.CutPrefix(line, "SHA256 (")
		k := strings.LastIndex(rest, ") = ")
		if !ok || k < 0 {
			return nil, fmt.Errorf("%s:%d: not a manifest line (want \"SHA256 (path) = hex\"): %q", name, i+1, line)
		}
		path, sum := rest[:k], rest[k+4:]
		var e Entry
		if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("%s:%d: %q is not a SHA-256", name, i+1, sum)
		} else {
			copy(e.Sum[:], b)
		}
		if err := checkPath(path); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		e.Path = path
		if len(m) > 0 && m[len(m)-1].Path >= path {
			return nil, fmt.Errorf("%s:%d: %s is out of order or listed twice", name, i+1, path)
		}
		m = append(m, e)
	}
	return m, nil
}

// checkPath refuses a manifest path that could name a file outside the
// generation.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\n\x00") {
		return fmt.Errorf("bad path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("bad path %q", p)
		}
	}
	return nil
}

// Problem is one difference between a manifest and the files found.
type Problem struct {
	Path string
	// Kind is "missing" (listed, not found), "extra" (found, not
	// listed) or "changed" (its SHA-256 differs).
	Kind string
}

func (p Problem) String() string { return p.Kind + ": " + p.Path }

// Compare lists the differences between the manifest want and the files
// found, got, in path order.
func Compare(want, got Manifest) []Problem {
	var out []Problem
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || i < len(want) && want[i].Path < got[j].Path:
			out = append(out, Problem{Path: want[i].Path, Kind: "missing"})
			i++
		case i == len(want) || got[j].Path < want[i].Path:
			out = append(out, Problem{Path: got[j].Path, Kind: "extra"})
			j++
		default:
			if want[i].Sum != got[j].Sum {
				out = append(out, Problem{Path: want[i].Path, Kind: "changed"})
			}
			i++
			j++
		}
	}
	return out
}
