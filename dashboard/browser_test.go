package dashboard

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// findChromium returns the headless browser to drive; the test is skipped
// without one.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed; `make test` installs it (APT_PKGS)")
	return ""
}

// chromiumFlags are the flags this machine needs for a headless run with
// a fresh profile in dir.
func chromiumFlags(dir string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + dir,
	}
}

// dumpDOM loads url in headless Chromium, lets its scripts run for up to
// five seconds of virtual time (network requests pause it) and returns the
// resulting DOM.
func dumpDOM(t *testing.T, browser, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	args := append(chromiumFlags(t.TempDir()), "--virtual-time-budget=5000", "--dump-dom", url)
	cmd := exec.CommandContext(ctx, browser, args...)
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v\n%s", url, err, stderr.String())
	}
	return string(out)
}
