package ports

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ListError reports every bad line of a port list file.
type ListError struct {
	File  string
	Lines []LineError
}

// LineError is one bad line of a port list.
type LineError struct {
	Line int
	Err  error
}

func (e *ListError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d bad line(s)", e.File, len(e.Lines))
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "\n  %s:%d: %v", e.File, l.Line, l.Err)
	}
	return b.String()
}

// ReadPortList reads a port list: one origin per line, only the first
// whitespace-separated token counting (dsynth's rule); blank lines and lines
// starting with '#' are skipped. Every bad line is reported, with its number.
func ReadPortList(r io.Reader, name string) ([]Origin, error) {
	var out []Origin
	le := &ListError{File: name}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		o, err := ParseOrigin(f[0])
		if err != nil {
			le.Lines = append(le.Lines, LineError{n, err})
			continue
		}
		out = append(out, o)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(le.Lines) > 0 {
		return out, le
	}
	return out, nil
}

// ParseArgs turns command line port arguments into origins: each is an
// origin, or the path of an existing file holding a port list.
func ParseArgs(args []string) ([]Origin, error) {
	var out []Origin
	var errs []error
	for _, a := range args {
		if st, err := os.Stat(a); err == nil && st.Mode().IsRegular() {
			f, err := os.Open(a)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			list, err := ReadPortList(f, a)
			f.Close()
			if err != nil {
				errs = append(errs, err)
			}
			out = append(out, list...)
			continue
		}
		o, err := ParseOrigin(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}
