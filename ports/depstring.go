package ports

import (
	"fmt"
	"strings"
)

// DepKind is one of the dependency kinds dsynth reads, in dsynth's order.
type DepKind uint8

// The dependency kinds, numbered as dsynth numbers them (1–6).
const (
	DepFetch DepKind = iota + 1
	DepExtract
	DepPatch
	DepBuild
	DepLib
	DepRun
	// DepFlavor links a dummy (unflavored) node to each of its flavors; dsynth
	// records these links as build dependencies.
	DepFlavor
)

// DepKinds lists the six scanned kinds in dsynth's order.
var DepKinds = [...]DepKind{DepFetch, DepExtract, DepPatch, DepBuild, DepLib, DepRun}

// String returns the make variable prefix of the kind ("BUILD", "LIB", …).
func (k DepKind) String() string {
	switch k {
	case DepFetch:
		return "FETCH"
	case DepExtract:
		return "EXTRACT"
	case DepPatch:
		return "PATCH"
	case DepBuild:
		return "BUILD"
	case DepLib:
		return "LIB"
	case DepRun:
		return "RUN"
	case DepFlavor:
		return "FLAVOR"
	}
	return fmt.Sprintf("DepKind(%d)", uint8(k))
}

// Dep is one parsed dependency token.
type Dep struct {
	Kind   DepKind
	Origin Origin
	// Target is the optional third field (":patch", ":configure", …) without
	// the colon; dsynth ignores it, and so does the graph.
	Target string
	// Raw is the token as the framework printed it.
	Raw string
}

// DepError describes one dependency token that could not be parsed.
type DepError struct {
	Token  string
	Reason string
}

func (e *DepError) Error() string {
	return fmt.Sprintf("dependency %q: %s", e.Token, e.Reason)
}

// ParseDepends parses a *_DEPENDS value: whitespace-separated tokens of the
// form "what:origin[@flavor][:target]". portsDir is stripped from origins
// written as "${PORTSDIR}/cat/port" (older trees); "/nonexistent:…" tokens are
// skipped, as dsynth skips them. Tokens that cannot be parsed are returned as
// errors beside the good ones; they never stop the parse.
func ParseDepends(kind DepKind, value, portsDir string) ([]Dep, []*DepError) {
	var deps []Dep
	var errs []*DepError
	for _, tok := range strings.Fields(value) {
		d, err := ParseDepToken(kind, tok, portsDir)
		switch {
		case err != nil:
			errs = append(errs, err)
		case d.Origin.Dir != "":
			deps = append(deps, d)
		}
	}
	return deps, errs
}

// ParseDepToken parses one dependency token. It returns a zero Dep and no
// error for tokens dsynth skips silently ("/nonexistent:…").
func ParseDepToken(kind DepKind, tok, portsDir string) (Dep, *DepError) {
	if strings.HasPrefix(tok, "/nonexistent:") {
		return Dep{}, nil
	}
	_, rest, ok := strings.Cut(tok, ":")
	if !ok {
		return Dep{}, &DepError{Token: tok, Reason: "no ':' separating the file or package from the origin"}
	}
	if portsDir != "" {
		pd := strings.TrimSuffix(portsDir, "/")
		if strings.HasPrefix(rest, pd+"/") {
			rest = rest[len(pd)+1:]
		}
	}
	rest = strings.TrimPrefix(rest, "/")
	spec, target, _ := strings.Cut(rest, ":")
	// dsynth takes the flavor after the last '@'; ParseOrigin rejects a
	// second '@', so the two rules agree on every valid token.
	o, err := ParseOrigin(spec)
	if err != nil {
		return Dep{}, &DepError{Token: tok, Reason: err.Error()}
	}
	return Dep{Kind: kind, Origin: o, Target: target, Raw: tok}, nil
}
