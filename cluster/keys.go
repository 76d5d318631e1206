package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nkeys"
)

// WorkerKey is one admitted worker: its name and the public half of its
// NATS user key.
type WorkerKey struct {
	Name   string
	Public string
}

// ParseWorkerKeys reads a workers keys file: one "name public-key" per
// line, '#' starting a comment. Errors name the file and line.
func ParseWorkerKeys(path string, data []byte) ([]WorkerKey, error) {
	var out []WorkerKey
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"name public-key\", got %d fields", path, ln, len(f))
		}
		if err := ValidWorkerName(f[0]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, ln, err)
		}
		if !nkeys.IsValidPublicUserKey(f[1]) {
			return nil, fmt.Errorf("%s:%d: %q is not a NATS user public key", path, ln, f[1])
		}
		if seen[f[0]] {
			return nil, fmt.Errorf("%s:%d: worker %s listed twice", path, ln, f[0])
		}
		seen[f[0]] = true
		out = append(out, WorkerKey{Name: f[0], Public: f[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// LoadWorkerKeys reads the workers keys file; a missing file admits no
// worker.
func LoadWorkerKeys(path string) ([]WorkerKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("worker keys: %w", err)
	}
	return ParseWorkerKeys(path, data)
}

// IssueWorkerKey creates a key for worker name: its public half is added
// to the keys file (replacing an older key of that name), its seed is
// written to credsPath (0600), which the worker's --creds names. Both
// files are replaced atomically.
func IssueWorkerKey(keysPath, name, credsPath string) error {
	if err := ValidWorkerName(name); err != nil {
		return err
	}
	keys, err := LoadWorkerKeys(keysPath)
	if err != nil {
		return err
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("worker key: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return fmt.Errorf("worker key: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return fmt.Errorf("worker key: %w", err)
	}
	var b strings.Builder
	b.WriteString("# go-dsynth cluster workers: name public-key (dsynth worker-key)\n")
	for _, k := range keys {
		if k.Name != name {
			fmt.Fprintf(&b, "%s %s\n", k.Name, k.Public)
		}
	}
	fmt.Fprintf(&b, "%s %s\n", name, pub)
	creds := fmt.Sprintf("# go-dsynth worker %s: NATS user seed (keep secret)\n%s\n", name, seed)
	if err := writeAtomic(credsPath, []byte(creds), 0o600); err != nil {
		return err
	}
	return writeAtomic(keysPath, []byte(b.String()), 0o600)
}

// RevokeWorkerKey removes worker name from the keys file; it reports
// whether it was there.
func RevokeWorkerKey(keysPath, name string) (bool, error) {
	keys, err := LoadWorkerKeys(keysPath)
	if err != nil {
		return false, err
	}
	var b strings.Builder
	b.WriteString("# go-dsynth cluster workers: name public-key (dsynth worker-key)\n")
	found := false
	for _, k := range keys {
		if k.Name == name {
			found = true
			continue
		}
		fmt.Fprintf(&b, "%s %s\n", k.Name, k.Public)
	}
	if !found {
		return false, nil
	}
	return true, writeAtomic(keysPath, []byte(b.String()), 0o600)
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
