package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ReadMakeConf reads a profile make.conf. A missing file is no error (it
// yields no variables), as in dsynth.
func ReadMakeConf(path string) ([]MakeVar, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseMakeConf(path, data)
}

// ParseMakeConf parses the text of a <Profile>-make.conf: one VAR=VALUE a
// line, leading and trailing whitespace stripped, empty lines and lines
// starting with ';' or '#' ignored. The value follows dsynth.ini's
// first-word rule and may be empty ("VAR=").
//
// dsynth turns a line without '=' into VAR with an empty value; go-dsynth
// reports it (and a name containing whitespace) as a *ParseError, since such
// a line is almost always make syntax (.if, .include) that the file cannot
// hold.
func ParseMakeConf(file string, data []byte) ([]MakeVar, error) {
	var vars []MakeVar
	lines := strings.Split(string(data), "\n")
	for i, raw := range lines {
		if i == len(lines)-1 && raw == "" {
			break
		}
		line := strings.Trim(raw, cSpace)
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, "=")
		name = strings.Trim(name, cSpace)
		if !ok || name == "" || strings.ContainsAny(name, cSpace) {
			return nil, &ParseError{File: file, Line: i + 1, Msg: fmt.Sprintf("syntax error: want VAR=VALUE, got %q", line)}
		}
		value, _ := firstWord(rest)
		vars = append(vars, MakeVar{Name: name, Value: value})
	}
	return vars, nil
}

// findHooks returns the executable hook scripts in dir, by hook name. A
// hook_* file that is not executable, or whose name dsynth does not know,
// is skipped with a warning.
func findHooks(dir string, warnings *[]string) (map[string]string, error) {
	hooks := make(map[string]string)
	known := make(map[string]bool, len(HookNames))
	for _, h := range HookNames {
		known[h] = true
	}
	names, err := filepath.Glob(filepath.Join(dir, "hook_*"))
	if err != nil {
		return nil, fmt.Errorf("config: hooks: %w", err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		st, err := os.Stat(path) // follows symlinks, as dsynth's stat does
		if err != nil {
			*warnings = append(*warnings, fmt.Sprintf("hook %s: %v", path, err))
			continue
		}
		switch {
		case !known[name]:
			*warnings = append(*warnings, fmt.Sprintf("hook %s: unknown hook name (known: %s)", path, strings.Join(HookNames[:], ", ")))
		case st.IsDir():
			*warnings = append(*warnings, fmt.Sprintf("hook %s: is a directory", path))
		case st.Mode().Perm()&0o111 == 0:
			*warnings = append(*warnings, fmt.Sprintf("hook %s: not executable, ignored", path))
		default:
			hooks[name] = path
		}
	}
	return hooks, nil
}
