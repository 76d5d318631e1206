package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nkeys"
)

// Creds are a worker's credentials: its name and its NATS user key.
type Creds struct {
	Name string
	key  nkeys.KeyPair
}

// ReadCreds reads a credentials file written by IssueWorkerKey.
func ReadCreds(path string) (Creds, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Creds{}, fmt.Errorf("worker credentials: %w", err)
	}
	var c Creds
	sc := bufio.NewScanner(bytes.NewReader(data))
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "# go-dsynth worker "):
			c.Name, _, _ = strings.Cut(strings.TrimPrefix(line, "# go-dsynth worker "), ":")
		case strings.HasPrefix(line, "SU"):
			kp, err := nkeys.FromSeed([]byte(line))
			if err != nil {
				return Creds{}, fmt.Errorf("%s:%d: not a NATS user seed: %v", path, ln, err)
			}
			c.key = kp
		}
	}
	if c.key == nil {
		return Creds{}, fmt.Errorf("%s: no NATS user seed (issue one with `dsynth worker-key NAME`)", path)
	}
	if err := ValidWorkerName(c.Name); err != nil {
		return Creds{}, fmt.Errorf("%s: the first line names no valid worker: %w", path, err)
	}
	return c, nil
}

// Public is the credentials' public key.
func (c Creds) Public() string {
	pub, _ := c.key.PublicKey()
	return pub
}

// sign answers the server's nonce, and signs the worker's hello.
func (c Creds) sign(nonce []byte) ([]byte, error) { return c.key.Sign(nonce) }
