package cluster

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-dsynth/go-dsynth/ports"
)

// TreeIdentity identifies a ports tree for admission: "git:COMMIT" for a
// git checkout (git must be installed), else "mk:" and the content
// fingerprint of its Mk/ directory. Each lease also carries its port
// directory's fingerprint, checked by the worker (PortChecker).
func TreeIdentity(portsDir string) (string, error) {
	if _, err := os.Stat(filepath.Join(portsDir, ".git")); err == nil {
		if out, err := exec.Command("git", "-C", portsDir, "rev-parse", "HEAD").Output(); err == nil {
			return "git:" + strings.TrimSpace(string(out)), nil
		}
	}
	h, err := ports.NewHasher(nil).Dir(filepath.Join(portsDir, "Mk"))
	if err != nil {
		return "", fmt.Errorf("fingerprint of %s/Mk: %w", portsDir, err)
	}
	return "mk:" + hex.EncodeToString(h[:12]), nil
}

// PortChecker compares a worker's port directories with the controller's
// fingerprints (scanner's content fingerprints of the directory).
func PortChecker(portsDir string) func(portDir, fingerprint string) error {
	return func(portDir, fingerprint string) error {
		clean := path.Clean(portDir)
		if clean != portDir || strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "..") || strings.Count(clean, "/") != 1 {
			return fmt.Errorf("port directory %q refused", portDir)
		}
		if fingerprint == "" {
			return nil
		}
		h, err := ports.NewHasher(nil).Dir(filepath.Join(portsDir, clean))
		if err != nil {
			return fmt.Errorf("port %s: %w", portDir, err)
		}
		if got := hex.EncodeToString(h[:]); got != fingerprint {
			return fmt.Errorf("port %s differs from the controller's (fingerprint %.12s here, %.12s there): the worker's ports tree is not the controller's", portDir, got, fingerprint)
		}
		return nil
	}
}
