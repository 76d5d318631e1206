package pkgdiff

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Member statuses in a Report.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// Field is one attribute of a member that differs between the packages.
type Field struct {
	Name string `json:"field"`
	A    string `json:"a"`
	B    string `json:"b"`
}

// MemberDiff is one member that differs.
type MemberDiff struct {
	Path   string  `json:"path"`
	Status string  `json:"status"`
	Fields []Field `json:"fields,omitempty"`
	// Removed and Added are the lines of a metadata file only in A and
	// only in B.
	Removed []string `json:"lines_removed,omitempty"`
	Added   []string `json:"lines_added,omitempty"`
}

// Summary describes one side of a comparison.
type Summary struct {
	Path        string `json:"path"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Compression string `json:"compression"`
	Members     int    `json:"members"`
}

// Report is what Diff found.
type Report struct {
	A Summary `json:"a"`
	B Summary `json:"b"`
	// Identical says the two files are bit for bit the same.
	Identical bool `json:"identical"`
	// Members are the members that differ, in path order.
	Members []MemberDiff `json:"members,omitempty"`
	// OrderDiffers says the members common to both are stored in another
	// order.
	OrderDiffers bool `json:"order_differs,omitempty"`
	// ArchiveOnly says the files differ while every member is the same:
	// the difference is in the compression or the archive's framing.
	ArchiveOnly bool `json:"archive_only,omitempty"`
}

// Files returns the paths of the members that differ.
func (r *Report) Files() []string {
	out := make([]string, len(r.Members))
	for i, m := range r.Members {
		out[i] = m.Path
	}
	return out
}

func summary(p *Package) Summary {
	return Summary{Path: p.Path, Size: p.Size, SHA256: p.SHA256, Compression: p.Compression, Members: len(p.Entries)}
}

// Diff compares two packages.
func Diff(a, b *Package) Report {
	r := Report{A: summary(a), B: summary(b), Identical: a.SHA256 == b.SHA256 && a.Size == b.Size}
	if r.Identical {
		return r
	}
	ia, ib := index(a), index(b)
	for _, e := range a.Entries {
		f, ok := ib[e.Path]
		if !ok {
			r.Members = append(r.Members, MemberDiff{Path: e.Path, Status: Removed})
			continue
		}
		if md, differs := diffEntry(e, f); differs {
			r.Members = append(r.Members, md)
		}
	}
	for _, e := range b.Entries {
		if _, ok := ia[e.Path]; !ok {
			r.Members = append(r.Members, MemberDiff{Path: e.Path, Status: Added})
		}
	}
	slices.SortFunc(r.Members, func(x, y MemberDiff) int { return strings.Compare(x.Path, y.Path) })
	r.OrderDiffers = !slices.Equal(commonOrder(a, ib), commonOrder(b, ia))
	r.ArchiveOnly = len(r.Members) == 0 && !r.OrderDiffers
	return r
}

// index maps member paths to entries (the last of duplicates wins, as an
// extraction would).
func index(p *Package) map[string]Entry {
	m := make(map[string]Entry, len(p.Entries))
	for _, e := range p.Entries {
		m[e.Path] = e
	}
	return m
}

// commonOrder is the order of p's members that the other package has too.
func commonOrder(p *Package, other map[string]Entry) []string {
	var out []string
	for _, e := range p.Entries {
		if _, ok := other[e.Path]; ok {
			out = append(out, e.Path)
		}
	}
	return out
}

// diffEntry compares two members of the same path.
func diffEntry(a, b Entry) (MemberDiff, bool) {
	md := MemberDiff{Path: a.Path, Status: Changed}
	add := func(name, x, y string) {
		if x != y {
			md.Fields = append(md.Fields, Field{Name: name, A: x, B: y})
		}
	}
	add("type", a.Type, b.Type)
	add("sha256", a.SHA256, b.SHA256)
	add("size", strconv.FormatInt(a.Size, 10), strconv.FormatInt(b.Size, 10))
	add("mode", fmt.Sprintf("%04o", a.Mode), fmt.Sprintf("%04o", b.Mode))
	add("link", a.Link, b.Link)
	add("owner", owner(a), owner(b))
	add("mtime", a.ModTime.Format(time.RFC3339Nano), b.ModTime.Format(time.RFC3339Nano))
	if a.Meta != b.Meta && (a.Meta != "" || b.Meta != "") {
		md.Removed, md.Added = lineDiff(a.Meta, b.Meta)
	}
	return md, len(md.Fields) > 0
}

func owner(e Entry) string {
	return fmt.Sprintf("%d:%d(%s:%s)", e.UID, e.GID, e.UName, e.GName)
}

// lineDiff returns the lines only in a and only in b, each in its file's
// order (a multiset difference: a line repeated counts each time).
func lineDiff(a, b string) (onlyA, onlyB []string) {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	count := map[string]int{}
	for _, l := range lb {
		count[l]++
	}
	for _, l := range la {
		if count[l] > 0 {
			count[l]--
			continue
		}
		onlyA = append(onlyA, l)
	}
	count = map[string]int{}
	for _, l := range la {
		count[l]++
	}
	for _, l := range lb {
		if count[l] > 0 {
			count[l]--
			continue
		}
		onlyB = append(onlyB, l)
	}
	return onlyA, onlyB
}

// WriteText writes the report for a reader: both files, then each member
// that differs with what differs about it.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "  a: %s (%d bytes, %s, %d members, sha256 %s)\n", r.A.Path, r.A.Size, r.A.Compression, r.A.Members, r.A.SHA256)
	fmt.Fprintf(w, "  b: %s (%d bytes, %s, %d members, sha256 %s)\n", r.B.Path, r.B.Size, r.B.Compression, r.B.Members, r.B.SHA256)
	switch {
	case r.Identical:
		fmt.Fprintln(w, "  identical: the packages are bit for bit the same")
		return
	case r.ArchiveOnly:
		fmt.Fprintln(w, "  every member is the same; the archives differ in their compression or framing")
		return
	}
	if r.OrderDiffers {
		fmt.Fprintln(w, "  the members are stored in another order")
	}
	fmt.Fprintf(w, "  %d member(s) differ:\n", len(r.Members))
	for _, m := range r.Members {
		switch m.Status {
		case Added:
			fmt.Fprintf(w, "    + %s (only in b)\n", m.Path)
		case Removed:
			fmt.Fprintf(w, "    - %s (only in a)\n", m.Path)
		default:
			fmt.Fprintf(w, "    ~ %s\n", m.Path)
			for _, f := range m.Fields {
				fmt.Fprintf(w, "        %s: %s -> %s\n", f.Name, f.A, f.B)
			}
			for _, l := range m.Removed {
				fmt.Fprintf(w, "        -| %s\n", l)
			}
			for _, l := range m.Added {
				fmt.Fprintf(w, "        +| %s\n", l)
			}
		}
	}
}
