package report

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-dsynth/go-dsynth/dsynthfmt"
)

// Summary is the content of Report/summary.json. The json tags give the
// schema (used to read the file back); SummaryJSON writes it in dsynth's
// exact layout.
type Summary struct {
	Profile string `json:"profile"`
	// Kickoff is the run's start, as Kickoff formats it.
	Kickoff string `json:"kickoff"`
	// KFiles is the number of NN_history.json files (0 before the first
	// completion).
	KFiles int `json:"kfiles"`
	// Active is 1 while the run goes on and 0 in the final write.
	Active   int       `json:"active"`
	Stats    Stats     `json:"stats"`
	Builders []Builder `json:"builders"`
}

// Stats are the run's figures in summary.json.
type Stats struct {
	Queued  int `json:"queued"`
	Built   int `json:"built"`
	Failed  int `json:"failed"`
	Ignored int `json:"ignored"`
	Skipped int `json:"skipped"`
	Remains int `json:"remains"`
	Meta    int `json:"meta"`
	// Elapsed is ElapsedField of the run's duration.
	Elapsed string `json:"elapsed"`
	PkgHour int    `json:"pkghour"`
	Impulse int    `json:"impulse"`
	// SwapInfo is SwapField, Load is LoadField.
	SwapInfo string `json:"swapinfo"`
	Load     string `json:"load"`
}

// Builder is one slot's row in summary.json; every value is a string.
type Builder struct {
	ID      string `json:"ID"`
	Elapsed string `json:"elapsed"`
	Phase   string `json:"phase"`
	Origin  string `json:"origin"`
	Lines   string `json:"lines"`
}

// ShutdownBuilder is the row of a slot that has never reported: dsynth
// writes it with elapsed "Shutdown", in a slightly different layout.
func ShutdownBuilder(slot int) Builder {
	return Builder{ID: fmt.Sprintf("%02d", slot), Elapsed: "Shutdown"}
}

// IdleBuilder is the row of a slot with no port: phase is "Idle" (or
// "None" for a slot that never took one), elapsed " --:--:--".
func IdleBuilder(slot int, phase string) Builder {
	return Builder{ID: fmt.Sprintf("%02d", slot), Elapsed: " --:--:--", Phase: phase}
}

// Kickoff formats a run's start as summary.json's kickoff: UTC,
// " %d-%b-%Y %H:%M:%S %Z" (note the leading space).
func Kickoff(t time.Time) string {
	return t.UTC().Format(" 02-Jan-2006 15:04:05 MST")
}

// ElapsedField formats a duration for summary.json: " HH:MM:SS", or
// "%3d:MM:SS" once past 99 hours.
func ElapsedField(d time.Duration) string {
	s := dsynthfmt.HMS(d)
	if len(s) > len("00:00:00") {
		return s // dsynth's %3d hours
	}
	return " " + s
}

// SwapField formats swap use in percent (%5.1f); a negative value means
// there is no swap and prints as "-    ".
func SwapField(percent float64) string {
	if percent < 0 {
		return "-    "
	}
	return fmt.Sprintf("%5.1f", percent)
}

// LoadField formats the 1-minute load average: %5.1f, or %5.0f above 999.9.
func LoadField(load float64) string {
	if load > 999.9 {
		return fmt.Sprintf("%5.0f", load)
	}
	return fmt.Sprintf("%5.1f", load)
}

// jsonText makes s safe inside a JSON string the way dsynth does for
// reasons: quotes, backslashes and newlines become spaces. Other control
// characters (which dsynth would write raw, breaking the JSON) become
// spaces too.
func jsonText(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 {
			return ' '
		}
		return r
	}, s)
}

// MaxInfo is the longest history "info" value, in bytes.
const MaxInfo = 255

// capInfo cuts s to MaxInfo bytes without splitting a character.
func capInfo(s string) string {
	if len(s) <= MaxInfo {
		return s
	}
	n := MaxInfo
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// SummaryJSON renders s in dsynth's layout (one field per line, leading
// commas). A builder whose Elapsed is "Shutdown" gets dsynth's layout for
// never-started slots.
func SummaryJSON(s Summary) []byte {
	var b strings.Builder
	st := s.Stats
	fmt.Fprintf(&b, "{\n"+
		"  \"profile\":\"%s\"\n"+
		"  ,\"kickoff\":\"%s\"\n"+
		"  ,\"kfiles\":%d\n"+
		"  ,\"active\":%d\n"+
		"  ,\"stats\":{\n"+
		"    \"queued\":%d\n"+
		"    ,\"built\":%d\n"+
		"    ,\"failed\":%d\n"+
		"    ,\"ignored\":%d\n"+
		"    ,\"skipped\":%d\n"+
		"    ,\"remains\":%d\n"+
		"    ,\"meta\":%d\n"+
		"    ,\"elapsed\":\"%s\"\n"+
		"    ,\"pkghour\":%d\n"+
		"    ,\"impulse\":%d\n"+
		"    ,\"swapinfo\":\"%s\"\n"+
		"    ,\"load\":\"%s\"\n"+
		"  }\n",
		jsonText(s.Profile), jsonText(s.Kickoff), s.KFiles, s.Active,
		st.Queued, st.Built, st.Failed, st.Ignored, st.Skipped, st.Remains, st.Meta,
		jsonText(st.Elapsed), st.PkgHour, st.Impulse, jsonText(st.SwapInfo), jsonText(st.Load))
	b.WriteString("  ,\"builders\":[\n")
	for i, w := range s.Builders {
		comma := ""
		if i > 0 {
			comma = ","
		}
		if w.Elapsed == "Shutdown" {
			fmt.Fprintf(&b, "   %s{\n"+
				"     \"ID\":\"%s\"\n"+
				"     ,\"elapsed\":\"Shutdown\"\n"+
				"     ,\"phase\":\"\"\n"+
				"     ,\"origin\":\"\"\n"+
				"     ,\"lines\":\"\"\n"+
				"    }\n", comma, jsonText(w.ID))
			continue
		}
		fmt.Fprintf(&b, "%s  {\n"+
			"     \"ID\":\"%s\"\n"+
			"     ,\"elapsed\":\"%s\"\n"+
			"     ,\"phase\":\"%s\"\n"+
			"     ,\"origin\":\"%s\"\n"+
			"     ,\"lines\":\"%s\"\n"+
			"  }\n", comma, jsonText(w.ID), jsonText(w.Elapsed), jsonText(w.Phase), jsonText(w.Origin), jsonText(w.Lines))
	}
	b.WriteString("  ]\n}\n")
	return []byte(b.String())
}

// History results, as dsynth names them.
const (
	ResultBuilt   = "built"
	ResultMeta    = "meta"
	ResultFailed  = "failed"
	ResultIgnored = "ignored"
	ResultSkipped = "skipped"
)

// HistoryItem is one completion in an NN_history.json file. The json tags
// give the schema; HistoryEntry writes it in dsynth's layout.
type HistoryItem struct {
	Entry int `json:"entry"`
	// Elapsed is the time since the run started, HH:MM:SS.
	Elapsed string `json:"elapsed"`
	// ID is the slot (%02d), "-1" for completions without one.
	ID     string `json:"ID"`
	Result string `json:"result"`
	Origin string `json:"origin"`
	Info   string `json:"info"`
	// Duration is the port's build time, HH:MM:SS, or "" without a slot.
	Duration string `json:"duration"`
}

// HistoryInfo builds a history entry's "info": for failed,
// "<phase>:<skip suffix as in the log>"; for ignored,
// "<reason>:|:<skip count or 0>"; for skipped, the reason; nothing for
// built and meta.
func HistoryInfo(result, phase, reason string, skipped int) string {
	switch result {
	case ResultFailed:
		if phase == "" {
			phase = "unknown"
		}
		return phase + ":" + dsynthfmt.SkipSuffix(skipped)
	case ResultIgnored:
		return fmt.Sprintf("%s:|:%d", reason, max(skipped, 0))
	case ResultSkipped:
		return reason
	}
	return ""
}

// HistoryEntry renders one history entry in dsynth's layout, including the
// array's closing "]\n": the first entry of a file is written after "[\n",
// later ones over the previous "]\n", with a leading comma. The info is
// sanitized (quotes, backslashes, newlines → spaces) and capped at MaxInfo.
func HistoryEntry(h HistoryItem, first bool) string {
	comma := ","
	if first {
		comma = ""
	}
	return fmt.Sprintf("  %s{\n"+
		"   \"entry\":%d\n"+
		"   ,\"elapsed\":\"%s\"\n"+
		"   ,\"ID\":\"%s\"\n"+
		"   ,\"result\":\"%s\"\n"+
		"   ,\"origin\":\"%s\"\n"+
		"   ,\"info\":\"%s\"\n"+
		"   ,\"duration\":\"%s\"\n"+
		"  }\n"+
		"]\n",
		comma, h.Entry, jsonText(h.Elapsed), jsonText(h.ID), jsonText(h.Result),
		jsonText(h.Origin), capInfo(jsonText(h.Info)), jsonText(h.Duration))
}

// Rates computes dsynth's Pkg/hour and Impulse from completions (built plus
// failed ports). The zero value is not usable; see NewRates.
type Rates struct {
	start time.Time
	// secs holds the run second of each completion in the last ten
	// minutes; total counts them all.
	secs  []int64
	total int
}

// impulseWindow is dsynth's ten-minute rate history, in seconds.
const impulseWindow = 600

// NewRates starts measuring a run that started at start.
func NewRates(start time.Time) *Rates {
	return &Rates{start: start}
}

// Complete records a completion at t.
func (r *Rates) Complete(t time.Time) {
	r.total++
	r.secs = append(r.secs, int64(t.Sub(r.start)/time.Second))
}

// At returns Pkg/hour and Impulse at now. Pkg/hour is completions × 3600 ÷
// elapsed seconds, 0 for the first 20 s. Impulse is the completions of the
// last ten minutes × 6, or before ten minutes all completions scaled to an
// hour by the elapsed time (0 for the first 20 s).
func (r *Rates) At(now time.Time) (pkgHour, impulse int) {
	t := int64(now.Sub(r.start) / time.Second)
	if t < 20 {
		return 0, 0
	}
	pkgHour = int(int64(r.total) * 3600 / t)
	if t < impulseWindow {
		return pkgHour, pkgHour
	}
	// dsynth compares with the count it recorded 599 s ago.
	keep := r.secs[:0]
	for _, s := range r.secs {
		if s > t-impulseWindow+1 {
			keep = append(keep, s)
		}
	}
	r.secs = keep
	recent := 0
	for _, s := range r.secs {
		if s <= t {
			recent++
		}
	}
	return pkgHour, recent * 3600 / impulseWindow
}
