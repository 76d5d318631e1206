package ports

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// makefilesVar is bmake's list of every makefile it read. The scanner asks
// for it after dsynth's 17 variables so the metadata cache knows which files
// outside the port directory an answer depends on.
const makefilesVar = ".MAKE.MAKEFILES"

// scanLines is the number of lines a scan prints: dsynth's 17 plus the
// makefile list.
const scanLines = len(ScanVars) + 1

// ParseScanOutput turns the stdout of one `make -V …` scan into an Info and
// the raw list of makefiles make read (bmake's .MAKE.MAKEFILES; see
// Makefiles). exitOK says whether make exited with status 0.
// It applies dsynth's rules: no output is NOTFOUND, a failed make or a wrong
// line count is CORRUPT.
func ParseScanOutput(o Origin, stdout []byte, exitOK bool) (*Info, string) {
	in := &Info{Origin: o}
	if len(stdout) == 0 {
		in.Status = StatusNotFound
		if !exitOK {
			in.Status = StatusCorrupt
		}
		return in, ""
	}
	text := string(stdout)
	if !strings.HasSuffix(text, "\n") {
		in.Status = StatusCorrupt
		in.Stderr = "make output does not end in a newline"
		return in, ""
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if !exitOK {
		in.Status = StatusCorrupt
		return in, ""
	}
	if len(lines) != scanLines {
		in.Status = StatusCorrupt
		in.Stderr = fmt.Sprintf("make printed %d lines, want %d", len(lines), scanLines)
		return in, ""
	}
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	in.PkgVersion = lines[0]
	in.PkgFile = lines[1]
	in.AllFiles = lines[2]
	in.DistSubdir = lines[3]
	in.MakeJobsNumber = lines[4]
	in.Ignore = lines[5]
	copy(in.Depends[:], lines[6:12])
	in.SelectedOptions = lines[12]
	in.DeselectedOptions = lines[13]
	in.UseLinux = lines[14]
	in.Flavors = lines[15]
	in.Uses = lines[16]
	return in, lines[17]
}

// Makefiles returns the makefiles of a raw .MAKE.MAKEFILES value that lie
// outside the given directories, as unique absolute clean paths (relative
// names are taken relative to portDir). Most of a port's makefiles are in
// its own directory or in Mk/; they are skipped without allocating.
func Makefiles(raw, portDir string, skipDirs ...string) []string {
	var seen map[string]bool
	var out []string
	for _, f := range strings.Fields(raw) {
		abs := filepath.IsAbs(f)
		if abs && !strings.Contains(f, "/..") && !strings.Contains(f, "/./") && underAny(f, skipDirs) {
			continue
		}
		if !abs {
			f = filepath.Join(portDir, f)
		}
		f = filepath.Clean(f)
		if underAny(f, skipDirs) {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

func underAny(path string, dirs []string) bool {
	for _, d := range dirs {
		if len(path) > len(d) && path[len(d)] == '/' && strings.HasPrefix(path, d) {
			return true
		}
	}
	return false
}

// scanArgs returns make's -V arguments in dsynth's order plus the makefile list.
func scanArgs() []string {
	args := make([]string, 0, scanLines)
	for _, v := range ScanVars {
		args = append(args, "-V"+v)
	}
	return append(args, "-V"+makefilesVar)
}

// trimStderr keeps at most the last 4 KiB of stderr.
func trimStderr(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}
