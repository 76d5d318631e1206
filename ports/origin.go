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
// port list file. It rejects anything that could escape the ports tree, name
// a hidden file or garble a log line: absolute paths, more or fewer than two
// path components, empty parts, "." and "..", parts or flavors starting with
// a dot, backslashes, whitespace and control characters (bytes below 0x20
// and DEL), in the category, the port and the flavor alike.
func ParseOrigin(s string) (Origin, error) {
	dir, flavor, hasAt := strings.Cut(s, "@")
	if hasAt {
		if flavor == "" {
			return Origin{}, fmt.Errorf("%w %q: empty flavor after '@'", ErrBadOrigin, s)
		}
		if strings.ContainsAny(flavor, "/@") {
			return Origin{}, fmt.Errorf("%w %q: bad flavor %q (no '/' or second '@')", ErrBadOrigin, s, flavor)
		}
		if why := badOriginPart(flavor); why != "" {
			return Origin{}, fmt.Errorf("%w %q: flavor %s", ErrBadOrigin, s, why)
		}
	}
	cat, name, ok := strings.Cut(dir, "/")
	if !ok || strings.Contains(name, "/") {
		return Origin{}, fmt.Errorf("%w %q: want category/port[@flavor]", ErrBadOrigin, s)
	}
	for _, part := range []string{cat, name} {
		if part == "" {
			return Origin{}, fmt.Errorf("%w %q: empty path component", ErrBadOrigin, s)
		}
		if why := badOriginPart(part); why != "" {
			return Origin{}, fmt.Errorf("%w %q: component %s", ErrBadOrigin, s, why)
		}
	}
	return Origin{Dir: dir, Flavor: flavor}, nil
}

// badOriginPart says what is wrong with one non-empty part of an origin
// (category, port or flavor), or "" when nothing is.
func badOriginPart(part string) string {
	switch {
	case part == "." || part == "..":
		return fmt.Sprintf("%q is not allowed", part)
	case strings.HasPrefix(part, "."):
		return fmt.Sprintf("%q starts with a dot", part)
	}
	for i := 0; i < len(part); i++ {
		switch c := part[i]; {
		case c < 0x20 || c == 0x7f:
			return fmt.Sprintf("%q has the control character 0x%02x at byte %d", part, c, i)
		case c == ' ' || c == '\\':
			return fmt.Sprintf("%q has whitespace or a backslash at byte %d", part, i)
		}
	}
	return ""
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
