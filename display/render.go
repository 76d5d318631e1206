package display

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-dsynth/go-dsynth/dsynthfmt"
)

// The screen's fixed text, as dsynth lays it out on an 80-column terminal.
const (
	headLine0 = " Total -       Built -      Ignored -      Load -      Pkg/hour -               "
	headLine1 = "  Left -      Failed -      Skipped -      Swap -       Impulse -      --:--:-- "
	titleLine = " ID  Duration  Build Phase      Origin                                    Lines"
)

// rule is the separator between the screen's parts (79 '=').
var rule = strings.Repeat("=", 79)

// Columns of the header values and of the slot rows.
const (
	colTotal, colBuilt, colIgnored, colLoad, colRate, colLim    = 7, 21, 36, 48, 64, 71
	colLeft, colFailed, colSkipped, colSwap, colImpulse, colTim = 7, 21, 36, 48, 64, 71

	colID, colDuration, colPhase, colOrigin, colLines = 1, 5, 15, 32, 72
)

// slotStartRow is the screen row of slot 0; the rows above are the two
// header lines, a rule, the column titles and another rule.
const slotStartRow = 5

// LogStartRow returns the first row of the log pane for s: below the slot
// rows and the rule that closes them.
func LogStartRow(s *State) int { return slotStartRow + len(s.Slots) + 1 }

// Render draws s for a terminal of width columns and height rows and
// returns at most height rows, each at most width characters, without
// trailing blanks. The layout is dsynth's: the two header lines, a rule,
// the column titles, a rule, one row per slot, a rule, and then as many of
// the newest results-log lines as fit, newest first. A narrow terminal cuts
// every row short; a short one loses log lines first, then the rows at the
// bottom.
func Render(s *State, width, height int) []string {
	if width <= 0 || height <= 0 {
		return nil
	}
	rows := make([]string, 0, height)
	rows = append(rows, header0(s), header1(s), rule, titleLine, rule)
	for _, sl := range s.Slots {
		rows = append(rows, slotRow(s, sl))
	}
	rows = append(rows, rule)
	for i := len(s.Log) - 1; i >= 0 && len(rows) < height; i-- {
		rows = append(rows, clean(s.Log[i]))
	}
	if len(rows) > height {
		rows = rows[:height]
	}
	for i, r := range rows {
		rows[i] = strings.TrimRight(cut(r, width), " ")
	}
	return rows
}

// header0 is the first header line: Total, Built, Ignored, Load, Pkg/hour
// and, while the dynamic limit is below the maximum, "Lim N".
func header0(s *State) string {
	b := []byte(headLine0)
	b = put(b, colTotal, fmt.Sprintf("%-6d", s.Total))
	b = put(b, colBuilt, fmt.Sprintf("%-6d", s.Built))
	b = put(b, colIgnored, fmt.Sprintf("%-6d", s.Ignored))
	if s.Load > 999.9 {
		b = put(b, colLoad, fmt.Sprintf("%5.0f", s.Load))
	} else {
		b = put(b, colLoad, fmt.Sprintf("%5.1f", s.Load))
	}
	b = put(b, colRate, fmt.Sprintf("%-6d", s.PkgHour))
	if s.Limit > 0 && s.Limit < s.MaxWorkers {
		b = put(b, colLim, fmt.Sprintf("Lim %-3d", s.Limit))
	}
	return string(b)
}

// header1 is the second header line: Left, Failed, Skipped, Swap, Impulse
// and the elapsed time.
func header1(s *State) string {
	b := []byte(headLine1)
	b = put(b, colLeft, fmt.Sprintf("%-6d", s.Left()))
	b = put(b, colFailed, fmt.Sprintf("%-6d", s.Failed))
	b = put(b, colSkipped, fmt.Sprintf("%-6d", s.Skipped))
	if s.Swap < 0 {
		b = put(b, colSwap, "-   ")
	} else {
		b = put(b, colSwap, fmt.Sprintf("%5.1f", s.Swap))
	}
	b = put(b, colImpulse, fmt.Sprintf("%-6d", s.Impulse))
	if !s.Start.IsZero() {
		el, col := dsynthfmt.HMS(s.Elapsed()), colTim
		if len(el) > len("00:00:00") {
			col-- // three-digit hours start a column earlier
		}
		b = put(b, col, el)
	}
	return string(b)
}

// slotRow is one slot's row: id, duration, phase, origin and line count, or
// the id, "--:--:--" and the status for a slot without a port.
func slotRow(s *State, sl Slot) string {
	b := []byte(nil)
	b = put(b, colID, fmt.Sprintf("%02d", sl.ID))
	if sl.idle() {
		status := sl.Status
		if status == "" {
			status = SlotIdle
		}
		b = put(b, colDuration, "--:--:--")
		b = put(b, colPhase, fmt.Sprintf("%-16.16s", status))
		return string(b)
	}
	d := time.Duration(0)
	if !sl.Started.IsZero() && s.Now.After(sl.Started) {
		d = s.Now.Sub(sl.Started)
	}
	phase := sl.Status
	if sl.Status == SlotRunning {
		phase = sl.Phase
	}
	b = put(b, colDuration, dsynthfmt.HMS(d))
	b = put(b, colPhase, fmt.Sprintf("%-16.16s", phase))
	b = put(b, colOrigin, fmt.Sprintf("%-38.38s", sl.Origin))
	if sl.Lines > 9999999 {
		b = put(b, colLines, fmt.Sprintf("*MANY*%d", sl.Lines%10))
	} else {
		b = put(b, colLines, fmt.Sprintf("%7d", sl.Lines))
	}
	return string(b)
}

// put writes text into b at column col, as curses' mvwprintw would,
// growing b with blanks when needed.
func put(b []byte, col int, text string) []byte {
	for len(b) < col+len(text) {
		b = append(b, ' ')
	}
	copy(b[col:], text)
	return b
}

// cut shortens s to at most width characters.
func cut(s string, width int) string {
	if len(s) <= width {
		return s
	}
	n := 0
	for i := range s {
		if n == width {
			return s[:i]
		}
		n++
	}
	return s
}

// clean makes a log line safe to print: tabs become blanks and other
// control characters (and invalid UTF-8) become '?'.
func clean(s string) string {
	ok := utf8.ValidString(s)
	for i := 0; ok && i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			ok = false
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			return '?'
		}
		return r
	}, s)
}
