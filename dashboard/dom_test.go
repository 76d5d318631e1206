package dashboard

import (
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// shownFields are the values the page marks with data-field, by name:
// their text and, when set, their data-value.
func shownFields(dom string) (text, value map[string]string) {
	text, value = map[string]string{}, map[string]string{}
	re := regexp.MustCompile(`data-field="([^"]+)"(?: data-value="([^"]*)")?>([^<]*)<`)
	for _, m := range re.FindAllStringSubmatch(dom, -1) {
		text[m[1]] = strings.TrimSpace(html.UnescapeString(m[3]))
		if m[2] != "" {
			value[m[1]] = html.UnescapeString(m[2])
		}
	}
	return text, value
}

// shownRecord is one row of a records table.
type shownRecord struct {
	id, origin, status, version string
}

// element returns the inner HTML of the first <tag id="id">, or "".
func element(dom, tag, id string) string {
	m := regexp.MustCompile(`(?s)<` + tag + ` id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</` + tag + `>`).FindStringSubmatch(dom)
	if m == nil {
		return ""
	}
	return m[1]
}

// shownRecords are the rows of the tbody with that id.
func shownRecords(dom, tbody string) []shownRecord {
	var out []shownRecord
	re := regexp.MustCompile(`<tr data-id="([^"]*)" data-origin="([^"]*)" data-status="([^"]*)" data-version="([^"]*)">`)
	for _, m := range re.FindAllStringSubmatch(element(dom, "tbody", tbody), -1) {
		out = append(out, shownRecord{m[1], html.UnescapeString(m[2]), m[3], html.UnescapeString(m[4])})
	}
	return out
}

// wantRecords checks that rows show recs, in order.
func wantRecords(t *testing.T, what string, rows []shownRecord, recs []*builddb.BuildRecord) {
	t.Helper()
	if len(rows) != len(recs) {
		t.Errorf("%s: %d rows, the database has %d records", what, len(rows), len(recs))
	}
	for i := range min(len(rows), len(recs)) {
		r := recs[i]
		want := shownRecord{r.ID.UUID.String(), r.Origin(), string(r.Status), r.ID.Version}
		if rows[i] != want {
			t.Errorf("%s: row %d shows %+v, want %+v", what, i, rows[i], want)
		}
	}
}

// durationText is a duration as the API writes it.
func durationText(t *testing.T, d builddb.Duration) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wantStats checks the statistics panel against the database's.
func wantStats(t *testing.T, dom string, st builddb.Stats) {
	t.Helper()
	text, value := shownFields(dom)
	for name, want := range map[string]string{
		"stats-total":        strconv.Itoa(st.TotalBuilds),
		"stats-successful":   strconv.Itoa(st.Successful),
		"stats-failed":       strconv.Itoa(st.Failed),
		"stats-success-rate": strconv.FormatFloat(st.SuccessRate, 'f', 1, 64) + " %",
		"stats-per-hour":     strconv.FormatFloat(st.PackagesPerHour, 'f', 1, 64),
		"stats-avg-time":     durationText(t, st.AvgBuildTime),
		"stats-total-time":   durationText(t, st.TotalBuildTime),
		"stats-busiest":      strconv.Itoa(st.BusiestWorker),
	} {
		if text[name] != want {
			t.Errorf("%s shows %q, the database says %q", name, text[name], want)
		}
	}
	for name, want := range map[string]float64{"stats-success-rate": st.SuccessRate, "stats-per-hour": st.PackagesPerHour} {
		if got, err := strconv.ParseFloat(value[name], 64); err != nil || got != want {
			t.Errorf("%s carries %q, the database says %v", name, value[name], want)
		}
	}
	var slowest []string
	for _, m := range regexp.MustCompile(`<tr data-origin="([^"]*)">`).FindAllStringSubmatch(element(dom, "section", "stats"), -1) {
		slowest = append(slowest, html.UnescapeString(m[1]))
	}
	var want []string
	for _, p := range st.Slowest {
		want = append(want, p.PortDir)
	}
	if strings.Join(slowest, " ") != strings.Join(want, " ") {
		t.Errorf("slowest ports shown: %q, the database says %q", slowest, want)
	}
}

// wantEscaped checks that the hostile strings are on the page as text and
// nowhere as markup.
func wantEscaped(t *testing.T, dom string) {
	t.Helper()
	asText := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(hostile)
	if !strings.Contains(dom, asText) {
		t.Errorf("the page does not show %q as text", hostile)
	}
	if strings.Contains(strings.ToLower(dom), "<img") {
		t.Errorf("an API string became an <img> element:\n%s", dom)
	}
	if !strings.Contains(dom, "<title>go-dsynth dashboard</title>") {
		t.Error("the page title changed: an injected handler ran")
	}
}
