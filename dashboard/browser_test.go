package dashboard

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/cdp"
)

// findChromium returns the headless browser to drive; the test is skipped
// without one.
func findChromium(t *testing.T) string { return cdp.FindChromium(t) }

// chromiumFlags are the flags of a headless run with a profile in dir.
func chromiumFlags(dir string) []string { return cdp.Flags(dir) }

// browser is the DevTools harness of internal/cdp.
type browser = cdp.Browser

// startBrowser starts Chromium on a blank page, closed when the test ends.
func startBrowser(t *testing.T, path string) *browser { return cdp.Start(t, path) }

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
