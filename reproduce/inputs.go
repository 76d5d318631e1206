package reproduce

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// InputChange is one recorded input that differs between two builds.
type InputChange struct {
	// Input names it: "version", "make.conf", "dep devel/libkit", …
	Input string `json:"input"`
	// A and B are its values in each build ("" when absent).
	A string `json:"a"`
	B string `json:"b"`
	// Removed and Added are, for a multi-line input (make.conf), the
	// lines only in A and only in B.
	Removed []string `json:"lines_removed,omitempty"`
	Added   []string `json:"lines_added,omitempty"`
}

// DiffInputs lists the recorded inputs that differ between a and b, in a
// fixed order: identity, ports tree, options, make.conf, system,
// dependencies, toolchain, environment and make commands. An input that
// neither record has is not compared; one that only one has is reported
// with the other side empty.
func DiffInputs(a, b *builddb.BuildRecord) []InputChange {
	var out []InputChange
	add := func(name, x, y string) {
		if x != y {
			out = append(out, InputChange{Input: name, A: x, B: y})
		}
	}
	add("origin", a.Origin(), b.Origin())
	add("version", a.ID.Version, b.ID.Version)
	add("ports commit", a.ID.PortsCommit, b.ID.PortsCommit)
	add("port fingerprint", a.ID.Fingerprint, b.ID.Fingerprint)
	ia, ib := inputsOf(a), inputsOf(b)
	add("Mk fingerprint", ia.MkFingerprint, ib.MkFingerprint)
	add("options hash", a.ID.Options, b.ID.Options)
	out = append(out, diffList("option", ia.Options, ib.Options)...)
	if ia.MakeConf != ib.MakeConf {
		rem, added := lineDiff(ia.MakeConf, ib.MakeConf)
		out = append(out, InputChange{Input: "make.conf", A: digestNote(ia.MakeConf), B: digestNote(ib.MakeConf), Removed: rem, Added: added})
	}
	add("system", a.ID.SystemVer, b.ID.SystemVer)
	add("OSVERSION", ia.OSVersion, ib.OSVersion)
	add("template fingerprint", ia.TemplateFingerprint, ib.TemplateFingerprint)
	out = append(out, diffDeps(ia.Deps, ib.Deps)...)
	out = append(out, diffMap("dep version", a.DepVersions, b.DepVersions)...)
	out = append(out, diffMap("toolchain", ia.Toolchain, ib.Toolchain)...)
	out = append(out, diffMap("env", a.EnvVars, b.EnvVars)...)
	add("make commands", strings.Join(a.MakeArgs, "; "), strings.Join(b.MakeArgs, "; "))
	return out
}

func inputsOf(r *builddb.BuildRecord) builddb.BuildInputs {
	if r.Inputs == nil {
		return builddb.BuildInputs{}
	}
	return *r.Inputs
}

// digestNote describes a multi-line value by its size.
func digestNote(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("%d lines", strings.Count(strings.TrimRight(s, "\n"), "\n")+1)
}

// diffList compares two lists of NAME=VALUE entries by name.
func diffList(what string, a, b []string) []InputChange {
	return diffMap(what, listMap(a), listMap(b))
}

func listMap(l []string) map[string]string {
	m := map[string]string{}
	for _, e := range l {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}

// diffMap reports each key whose value differs, in key order.
func diffMap(what string, a, b map[string]string) []InputChange {
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []InputChange
	for _, k := range keys {
		x, okx := a[k]
		y, oky := b[k]
		if x != y || okx != oky {
			out = append(out, InputChange{Input: what + " " + k, A: x, B: y})
		}
	}
	return out
}

// diffDeps compares the dependency packages by origin: file and digest.
func diffDeps(a, b []builddb.DepPackage) []InputChange {
	desc := func(d builddb.DepPackage) string {
		if d.SHA256 == "" {
			return d.File
		}
		return d.File + " sha256:" + d.SHA256
	}
	ma, mb := map[string]string{}, map[string]string{}
	for _, d := range a {
		ma[d.Origin] = desc(d)
	}
	for _, d := range b {
		mb[d.Origin] = desc(d)
	}
	out := diffMap("dep", ma, mb)
	if len(out) == 0 && len(a) == len(b) {
		for i := range a {
			if a[i].Origin != b[i].Origin {
				return []InputChange{{Input: "dep order", A: depOrder(a), B: depOrder(b)}}
			}
		}
	}
	return out
}

func depOrder(ds []builddb.DepPackage) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Origin)
	}
	return strings.Join(s, " ")
}

// lineDiff returns the lines only in a and only in b (each counted as
// often as it occurs).
func lineDiff(a, b string) (onlyA, onlyB []string) {
	la, lb := strings.Split(strings.TrimRight(a, "\n"), "\n"), strings.Split(strings.TrimRight(b, "\n"), "\n")
	return minus(la, lb), minus(lb, la)
}

func minus(a, b []string) []string {
	count := map[string]int{}
	for _, l := range b {
		count[l]++
	}
	var out []string
	for _, l := range a {
		if count[l] > 0 {
			count[l]--
			continue
		}
		out = append(out, l)
	}
	return out
}
