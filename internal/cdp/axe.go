package cdp

import (
	"os"
	"path/filepath"
	"testing"
)

// axeRel is where `make deps-axe` installs axe-core (npm ci in
// dashboard/testdata/axe), from the module's root.
const axeRel = "dashboard/testdata/axe/node_modules/axe-core/axe.min.js"

// AxeSource returns axe-core's script, found under the module's root
// (the first directory above the test's own holding go.mod), and
// whether it is installed: without it the caller skips or logs, saying
// that `make deps-axe` installs it.
func AxeSource(t testing.TB) (string, bool) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", false
		}
		dir = up
	}
	src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(axeRel)))
	if err != nil {
		return "", false
	}
	return string(src), true
}

// AxeViolation is a serious or critical finding of axe-core: the rule,
// its impact, what it asks for, and up to five of the elements at fault
// (selector and axe's summary).
type AxeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// Axe injects axe-core's script src (from [AxeSource]) when the page
// lacks it, runs it on the whole document as shown, and returns its
// serious and critical violations.
func (b *Browser) Axe(src string) []AxeViolation {
	b.t.Helper()
	var has bool
	b.MustEval(`typeof window.axe === 'object'`, &has)
	if !has {
		b.MustEval(src+"\n;true", nil)
	}
	var v []AxeViolation
	b.MustEval(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' ')) })))`, &v)
	return v
}
