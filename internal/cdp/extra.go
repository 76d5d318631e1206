package cdp

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// FindChromium returns the headless browser to drive; the test is skipped
// without one.
func FindChromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed; `make test` installs it (TEST_PKGS)")
	return ""
}

// Flags are the flags this machine needs for a headless run with a fresh
// profile in dir.
func Flags(dir string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--disable-extensions",
		"--hide-scrollbars", "--font-render-hinting=none",
		"--user-data-dir=" + dir,
	}
}

// SetWaitLimit changes the bound of each WaitFor (a real build takes
// longer than a page's refresh).
func (b *Browser) SetWaitLimit(d time.Duration) { b.limit = d }

// SetViewport sets the page's viewport to width × height CSS pixels, as a
// phone (mobile: a touch screen that honours the viewport meta tag) or a
// desktop.
func (b *Browser) SetViewport(width, height int, mobile bool) {
	b.t.Helper()
	b.Must("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}, nil)
}

// SetColorScheme emulates prefers-color-scheme: "light" or "dark" ("" for
// the browser's own).
func (b *Browser) SetColorScheme(scheme string) {
	b.t.Helper()
	b.Must("Emulation.setEmulatedMedia", map[string]any{
		"features": []map[string]string{{"name": "prefers-color-scheme", "value": scheme}}}, nil)
}

// Screenshot saves a PNG of the page (its full height when full) as
// dir/name.png and returns the file's path.
func (b *Browser) Screenshot(dir, name string, full bool) string {
	b.t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	b.Must("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": full}, &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// ArtifactDir is where a test keeps its screenshots: $DSYNTH_ARTIFACTS/sub
// when that is set (CI keeps it), else a directory of the test's own.
func ArtifactDir(t testing.TB, sub string) string {
	t.Helper()
	if root := os.Getenv("DSYNTH_ARTIFACTS"); root != "" {
		dir := filepath.Join(root, sub)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("artifacts: %v", err)
		}
		return dir
	}
	return t.TempDir()
}

// Problems returns the script errors the page reported so far and forgets
// them (a test that provokes an error on purpose takes it out).
func (b *Browser) Problems() []string {
	p := b.problems
	b.problems = nil
	return p
}

// String names the browser's process, for messages.
func (b *Browser) String() string {
	return fmt.Sprintf("chromium (pid %d)", b.cmd.Process.Pid)
}
