package run

import (
	"strings"
	"testing"
)

// TestPlainHTTPWarning: a plain-HTTP API on an address other machines can
// reach is warned about (with anonymous reading, louder); loopback is not.
func TestPlainHTTPWarning(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "127.0.0.2:1"} {
		if w := plainHTTPWarning(addr, true); w != "" {
			t.Errorf("%s: %q", addr, w)
		}
	}
	for _, addr := range []string{"0.0.0.0:8080", "[::]:8080", "192.168.1.5:8080"} {
		w := plainHTTPWarning(addr, false)
		if !strings.Contains(w, "plain HTTP on "+addr) || strings.Contains(w, "anyone") {
			t.Errorf("%s: %q", addr, w)
		}
		if w := plainHTTPWarning(addr, true); !strings.Contains(w, "anyone who reaches it reads the build history") {
			t.Errorf("%s with anonymous reading: %q", addr, w)
		}
	}
}
