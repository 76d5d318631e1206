package ports

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadOrigin is wrapped by every error about a malformed origin.
var ErrBadOrigin = errors.New("bad port origin")

// Origin names a port: its category/name directory and, optionally, a flavor.
// The zero Flavor means "the port's default" (for an unflavored port, the
// port itself).
type Origin struct {
	Dir    string // "editors/vim"
	Flavor string // "" or "py39"
}

// String returns "cat/port" or "cat/port@flavor".
func (o Origin) String() string {
	if o.Flavor == "" {
		return o.Dir
	}
	return o.Dir + "@" + o.Flavor
}

// Less orders origins as their strings would sort ("a/b" < "a/b@f" <
// "a/b-c"), without building the strings.
func (o Origin) Less(p Origin) bool {
	if o.Dir == p.Dir {
		return o.Flavor < p.Flavor
	}
	// "@" sorts after what may follow a shared prefix only in rare cases;
	// compare the full strings when one directory is a prefix of the other.
	if strings.HasPrefix(o.Dir, p.Dir) || strings.HasPrefix(p.Dir, o.Dir) {
		return o.String() < p.String()
	}
	return o.Dir < p.Dir
}

// Category returns the part of Dir before the slash.
func (o Origin) Category() string {
	c, _, _ := strings.Cut(o.Dir, "/")
	return c
}

// Name returns the part of Dir after the slash.
func (o Origin) Name() string {
	_, n, _ := strings.Cut(o.Dir, "/")
	return n
}

// LogName returns dsynth's per-port log file base name,
// "cat___port[@flavor]" (without the ".log" suffix).
func (o Origin) LogName() string {
	return strings.Replace(o.String(), "/", "___", 1)
}

// ParseOrigin parses "cat/port" or "cat/port@flavor" as given by a user or a
// port list file. It rejects anything that could escape the ports tree or is
// not exactly two path components: absolute paths, "..", ".", empty parts,
// backslashes, NUL and whitespace.
func ParseOrigin(s string) (Origin, error) {
	dir, flavor, hasAt := strings.Cut(s, "@")
	if hasAt && flavor == "" {
		return Origin{}, fmt.Errorf("%w %q: empty flavor after '@'", ErrBadOrigin, s)
	}
	if strings.ContainsAny(flavor, "/@ \t\n\\\x00") {
		return Origin{}, fmt.Errorf("%w %q: bad flavor %q", ErrBadOrigin, s, flavor)
	}
	cat, name, ok := strings.Cut(dir, "/")
	if !ok || strings.Contains(name, "/") {
		return Origin{}, fmt.Errorf("%w %q: want category/port[@flavor]", ErrBadOrigin, s)
	}
	for _, part := range []string{cat, name} {
		switch {
		case part == "":
			return Origin{}, fmt.Errorf("%w %q: empty path component", ErrBadOrigin, s)
		case part == "." || part == "..":
			return Origin{}, fmt.Errorf("%w %q: %q is not allowed in an origin", ErrBadOrigin, s, part)
		case strings.ContainsAny(part, " \t\n\\\x00"):
			return Origin{}, fmt.Errorf("%w %q: whitespace, backslash or NUL in origin", ErrBadOrigin, s)
		case strings.HasPrefix(part, "."):
			return Origin{}, fmt.Errorf("%w %q: component %q starts with a dot", ErrBadOrigin, s, part)
		}
	}
	return Origin{Dir: dir, Flavor: flavor}, nil
}

// MustOrigin is ParseOrigin for constants in tests and tables; it panics on
// a malformed origin.
func MustOrigin(s string) Origin {
	o, err := ParseOrigin(s)
	if err != nil {
		panic(err)
	}
	return o
}
