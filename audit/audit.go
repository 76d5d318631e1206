// Package audit keeps the API's audit log: one JSON line per write
// request and per failed authentication, in a file rotated by size.
//
// An entry says who (the principal and how it authenticated), from where,
// what (method and route) and the result — never a key, a token or a body.
package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
)

// Entry is one line of the audit log.
type Entry struct {
	Time time.Time `json:"time"`
	// Principal is who the request was authenticated as ("" when
	// authentication failed), AuthMethod how.
	Principal  string `json:"principal,omitempty"`
	AuthMethod string `json:"auth_method,omitempty"`
	Role       string `json:"role,omitempty"`
	Method     string `json:"method"`
	Route      string `json:"route"`
	Address    string `json:"address"`
	// Status is the HTTP status answered; Result a word for it
	// (ok, denied, refused, failed) and Reason, for a refusal, why.
	Status    int    `json:"status"`
	Result    string `json:"result"`
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"request_id"`
}

// DefaultKeep is how many rotated files are kept beside the log.
const DefaultKeep = 5

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	path    string
	maxSize int64
	keep    int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (creating with mode 0600) the audit log at path, which is
// rotated when a line would take it past maxSize bytes: path.1 is the
// newest old file, up to path.<keep>. A file already there keeps its mode
// unless others may read it: it is then made 0600, as the log names who
// did what.
func Open(path string, maxSize int64, keep int) (*Log, error) {
	if keep <= 0 {
		keep = DefaultKeep
	}
	l := &Log{path: path, maxSize: maxSize, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	if st.Mode().Perm()&0o007 != 0 {
		if err := f.Chmod(st.Mode().Perm() &^ 0o077); err != nil {
			f.Close()
			return fmt.Errorf("audit log: %w", err)
		}
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Path is the log's file.
func (l *Log) Path() string { return l.path }

// Write appends one entry, rotating first when it would not fit.
func (l *Log) Write(e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("audit log: closed")
	}
	if l.maxSize > 0 && l.size > 0 && l.size+int64(len(line)) > l.maxSize {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err != nil {
		return fmt.Errorf("audit log: %s: %w", l.path, err)
	}
	return nil
}

// rotate shifts path.N-1 → path.N … path → path.1 and opens a new file.
func (l *Log) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	l.f = nil
	os.Remove(l.rotated(l.keep))
	for i := l.keep - 1; i >= 1; i-- {
		if err := os.Rename(l.rotated(i), l.rotated(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("audit log: rotate: %w", err)
		}
	}
	if err := os.Rename(l.path, l.rotated(1)); err != nil {
		return fmt.Errorf("audit log: rotate: %w", err)
	}
	return l.open()
}

// rotated is the name of the i-th old file.
func (l *Log) rotated(i int) string { return l.path + "." + strconv.Itoa(i) }

// Close closes the log.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Tail returns the last n entries, oldest first, reading the current
// file and as many rotated ones as it takes. Lines that do not parse are
// skipped (a line cut by a full disk).
func (l *Log) Tail(n int) ([]Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Entry
	for i := 0; i <= l.keep && len(out) < n; i++ {
		name := l.path
		if i > 0 {
			name = l.rotated(i)
		}
		b, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		es := parse(bytes.NewReader(b))
		if len(es) > n-len(out) {
			es = es[len(es)-(n-len(out)):]
		}
		out = append(es, out...)
	}
	return out, nil
}

// parse reads the entries of one file.
func parse(r io.Reader) []Entry {
	var es []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			es = append(es, e)
		}
	}
	return es
}
