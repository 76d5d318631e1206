package config

import (
	"fmt"
	"strings"
)

// GlobalSection is the label of dsynth.ini's global section. It may hold
// only the profile_selected key.
const GlobalSection = "Global Configuration"

// DefaultProfileName is the profile dsynth uses when neither -p,
// DSYNTH_PROFILE nor profile_selected names one.
const DefaultProfileName = "LiveSystem"

// ParseError is a problem in a configuration file, located by file and line.
// Key is the offending key, or "" when the line has none (a syntax error).
type ParseError struct {
	File string
	Line int
	Key  string
	Msg  string
}

// Error formats the error as "file:line: key: message".
func (e *ParseError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// INI is a parsed dsynth.ini: the global setting and every other section,
// in file order, with their raw key=value entries. Values of profile
// sections are not validated here; Decode does that for the one profile
// that is used, as dsynth does.
type INI struct {
	// File is the name used in error messages (normally the path).
	File string
	// ProfileSelected is the value of profile_selected ("" when absent) and
	// ProfileSelectedLine its line (0 when absent).
	ProfileSelected     string
	ProfileSelectedLine int
	// Sections are the well-formed "[Name]" sections other than the global
	// one, in file order. A name may repeat; the sections then add up.
	Sections []Section
}

// Section is one "[Name]" section of dsynth.ini.
type Section struct {
	Name    string
	Line    int
	Entries []Entry
}

// Entry is one key=value line.
type Entry struct {
	Key   string
	Value string
	Line  int
	// Ignored is the text after the value's first word, which dsynth's
	// first-token rule drops ("" normally).
	Ignored string
}

// cSpace is C's isspace() set, which dsynth uses to strip lines.
const cSpace = " \t\n\v\f\r"

// ParseINI parses the text of a dsynth.ini with dsynth's rules:
//
//   - Trailing whitespace is stripped; empty lines and lines whose first
//     character is ';' or '#' are ignored. (An indented comment is not a
//     comment, exactly as in dsynth.)
//   - A line starting with '[' opens a section. "[Global Configuration]"
//     must match exactly and accepts only profile_selected; "[Name]" opens a
//     profile section; any other bracketed line opens a section that is
//     skipped. Lines before the first section are skipped too, but every
//     line must still be well-formed.
//   - Every other line is key=value: the key is the text before the first
//     '=', trimmed; the value is the first space- or tab-delimited word after
//     it (the rest of the line is dropped: values cannot contain spaces). A
//     line without '=', with an empty key or without a value is an error.
//
// Unlike dsynth, a last line without a trailing newline is read, not
// silently dropped. Every error is a *ParseError with Line ≥ 1.
func ParseINI(file string, data []byte) (*INI, error) {
	ini := &INI{File: file}
	const (
		modeSkip = iota
		modeGlobal
		modeProfile
	)
	mode := modeSkip
	var cur *Section
	lines := strings.Split(string(data), "\n")
	for i, raw := range lines {
		lineno := i + 1
		if i == len(lines)-1 && raw == "" {
			break // the newline ending the last line
		}
		line := strings.TrimRight(raw, cSpace)
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			cur = nil
			switch {
			case line == "["+GlobalSection+"]":
				mode = modeGlobal
			case len(line) > 2 && line[len(line)-1] == ']':
				mode = modeProfile
				ini.Sections = append(ini.Sections, Section{Name: line[1 : len(line)-1], Line: lineno})
				cur = &ini.Sections[len(ini.Sections)-1]
			default:
				mode = modeSkip
			}
			continue
		}
		e, err := splitEntry(file, lineno, line)
		if err != nil {
			return nil, err
		}
		switch mode {
		case modeGlobal:
			if e.Key != "profile_selected" {
				return nil, &ParseError{File: file, Line: lineno, Key: e.Key,
					Msg: "unknown directive in [" + GlobalSection + "] (it accepts only profile_selected)"}
			}
			ini.ProfileSelected, ini.ProfileSelectedLine = e.Value, lineno
		case modeProfile:
			cur.Entries = append(cur.Entries, e)
		}
	}
	return ini, nil
}

// splitEntry splits a stripped, non-comment line into key and first-word
// value.
func splitEntry(file string, lineno int, line string) (Entry, error) {
	eq := strings.IndexByte(line, '=')
	if eq < 0 {
		return Entry{}, &ParseError{File: file, Line: lineno, Msg: fmt.Sprintf("syntax error: want key=value, got %q", line)}
	}
	key := strings.Trim(line[:eq], cSpace)
	if key == "" {
		return Entry{}, &ParseError{File: file, Line: lineno, Msg: fmt.Sprintf("syntax error: no key before '=' in %q", line)}
	}
	value, rest := firstWord(line[eq+1:])
	if value == "" {
		return Entry{}, &ParseError{File: file, Line: lineno, Key: key, Msg: "syntax error: no value after '='"}
	}
	return Entry{Key: key, Value: value, Line: lineno, Ignored: rest}, nil
}

// firstWord returns the first space- or tab-delimited word of s (trimmed of
// C whitespace, as dsynth does) and the trimmed text after it.
func firstWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " \t")
	end := strings.IndexAny(s, " \t")
	if end < 0 {
		end = len(s)
	}
	return strings.Trim(s[:end], cSpace), strings.Trim(s[end:], cSpace)
}

// Profiles lists the names of the profile sections, each once, in file
// order.
func (ini *INI) Profiles() []string {
	var names []string
	seen := make(map[string]bool)
	for _, s := range ini.Sections {
		if !seen[s.Name] {
			seen[s.Name] = true
			names = append(names, s.Name)
		}
	}
	return names
}

// Entries returns the entries of every section named name, in file order,
// and whether such a section exists.
func (ini *INI) Entries(name string) ([]Entry, bool) {
	var out []Entry
	found := false
	for _, s := range ini.Sections {
		if s.Name == name {
			found = true
			out = append(out, s.Entries...)
		}
	}
	return out, found
}
