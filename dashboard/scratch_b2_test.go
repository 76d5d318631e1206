package dashboard

import (
	"context"
	"encoding/base64"
	"os"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/cdp"
)

func TestScratchB2(t *testing.T) {
	path := cdp.FindChromium(t)
	s := newSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := cdp.Start(t, path)
	w := 1280
	if os.Getenv("W") == "375" {
		w = 375
	}
	b.SetViewport(w, 900, w < 500)
	if os.Getenv("DARK") != "" {
		b.SetColorScheme("dark")
	}
	b.Navigate(s.srv.URL + "/#view=overview&key=" + testKey)
	b.WaitFor(ctx, "kit", `window.dsynthViews && window.dsynthViews.timeline && window.dsynthViews.graph && window.dsynthViews.trends`)
	js, _ := os.ReadFile("/tmp/b2/fake.js")
	var out any
	b.MustEval(string(js), &out)
	t.Logf("%v", out)
	axe, _ := os.ReadFile("/work/wt-dash-page/dashboard/testdata/axe/node_modules/axe-core/axe.min.js")
	b.MustEval(string(axe)+";0", nil)
	var res any
	b.MustEval(`axe.run({include: [['#scratch-timeline'], ['#scratch-graph'], ['#scratch-trends']]}).then((r) => r.violations.map((v) => [v.impact, v.id, v.help, v.nodes.slice(0,3).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary)]))`, &res)
	t.Logf("axe: %v", res)
	var r struct{ Data string }
	b.Must("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true, "clip": map[string]any{"x": 0, "y": 0, "width": w, "height": 1500, "scale": 1}}, &r)
	p, _ := base64.StdEncoding.DecodeString(r.Data)
	os.WriteFile("/tmp/b2/shot.png", p, 0o644)
	b.CheckProblems()
}
