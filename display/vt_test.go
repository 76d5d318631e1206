package display

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// vt is a small terminal emulator for the tests: it understands what the
// Screen sends (cursor positioning, erasing, SGR colours, the alternate
// screen) and keeps, for every cell, its character and colour. It reads a
// pty master, so the bytes it sees went through a real kernel terminal.
type vt struct {
	mu     sync.Mutex
	w, h   int
	cells  [][]cell
	main   [][]cell // the main screen while the alternate one is shown
	alt    bool
	row    int
	col    int
	wrap   bool // a character was written in the last column
	fg     int  // current SGR foreground (0 = default)
	raw    strings.Builder
	pend   []byte
	closed bool
}

type cell struct {
	r  rune
	fg int
}

func newVT(w, h int) *vt {
	v := &vt{}
	v.resize(w, h)
	return v
}

func blankGrid(w, h int) [][]cell {
	g := make([][]cell, h)
	for i := range g {
		g[i] = make([]cell, w)
		for j := range g[i] {
			g[i][j] = cell{r: ' '}
		}
	}
	return g
}

// resize changes the emulated size (call it together with pty.Setsize).
func (v *vt) resize(w, h int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	g := blankGrid(w, h)
	for i := 0; i < h && i < len(v.cells); i++ {
		copy(g[i], v.cells[i])
	}
	v.w, v.h, v.cells = w, h, g
	if v.row >= h {
		v.row = h - 1
	}
	if v.col >= w {
		v.col = w - 1
	}
}

// pump copies the pty master into the emulator until it fails.
func (v *vt) pump(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			v.feed(buf[:n])
		}
		if err != nil {
			v.mu.Lock()
			v.closed = true
			v.mu.Unlock()
			return
		}
	}
}

func (v *vt) feed(p []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.raw.Write(p)
	data := append(v.pend, p...)
	v.pend = nil
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == 0x1b:
			n, ok := v.escape(data[i:])
			if !ok {
				v.pend = append([]byte(nil), data[i:]...)
				return
			}
			i += n
			continue
		case c == '\r':
			v.col, v.wrap = 0, false
		case c == '\n':
			v.lineFeed()
		case c < 0x20:
		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && !utf8.FullRune(data[i:]) {
				v.pend = append([]byte(nil), data[i:]...)
				return
			}
			v.put(r)
			i += n
			continue
		}
		i++
	}
}

func (v *vt) lineFeed() {
	v.wrap = false
	if v.row == v.h-1 {
		v.cells = append(v.cells[1:], blankGrid(v.w, 1)[0])
		return
	}
	v.row++
}

func (v *vt) put(r rune) {
	if v.wrap {
		v.col = 0
		v.lineFeed()
	}
	v.cells[v.row][v.col] = cell{r: r, fg: v.fg}
	if v.col == v.w-1 {
		v.wrap = true
	} else {
		v.col++
	}
}

// escape interprets one escape sequence at the start of p and returns its
// length, or false when p holds only part of it.
func (v *vt) escape(p []byte) (int, bool) {
	if len(p) < 2 {
		return 0, false
	}
	if p[1] != '[' {
		return 2, true
	}
	i := 2
	for i < len(p) && (p[i] >= 0x30 && p[i] <= 0x3f) {
		i++
	}
	if i >= len(p) {
		return 0, false
	}
	params, final := string(p[2:i]), p[i]
	private := strings.HasPrefix(params, "?")
	params = strings.TrimPrefix(params, "?")
	var nums []int
	for _, f := range strings.Split(params, ";") {
		n, _ := strconv.Atoi(f)
		nums = append(nums, n)
	}
	arg := func(k, def int) int {
		if k < len(nums) && nums[k] != 0 {
			return nums[k]
		}
		return def
	}
	switch {
	case private && (final == 'h' || final == 'l'):
		if nums[0] == 1049 {
			on := final == 'h'
			if on && !v.alt {
				v.main, v.cells = v.cells, blankGrid(v.w, v.h)
			} else if !on && v.alt {
				v.cells = v.main
				if len(v.cells) != v.h {
					v.cells = blankGrid(v.w, v.h)
				}
			}
			v.alt = on
		}
	case final == 'H':
		v.row, v.col, v.wrap = arg(0, 1)-1, arg(1, 1)-1, false
	case final == 'J':
		switch arg(0, 0) {
		case 2:
			v.cells = blankGrid(v.w, v.h)
		default:
			v.eraseLine()
			for r := v.row + 1; r < v.h; r++ {
				v.cells[r] = blankGrid(v.w, 1)[0]
			}
		}
	case final == 'K':
		v.eraseLine()
	case final == 'm':
		for _, n := range nums {
			switch {
			case n == 0 || n == 39:
				v.fg = 0
			case n >= 30 && n <= 37:
				v.fg = n
			}
		}
	}
	return i + 1, true
}

func (v *vt) eraseLine() {
	for c := v.col; c < v.w; c++ {
		v.cells[v.row][c] = cell{r: ' '}
	}
}

// lines returns the screen's rows without trailing blanks.
func (v *vt) lines() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, len(v.cells))
	for i, row := range v.cells {
		var b strings.Builder
		for _, c := range row {
			b.WriteRune(c.r)
		}
		out[i] = strings.TrimRight(b.String(), " ")
	}
	return out
}

// rowColour returns the colour of the first character of the row holding
// text, or -1 when no row holds it.
func (v *vt) rowColour(text string) int {
	for i, l := range v.lines() {
		if k := strings.Index(l, text); k >= 0 {
			v.mu.Lock()
			defer v.mu.Unlock()
			return v.cells[i][len([]rune(l[:k]))].fg
		}
	}
	return -1
}

func (v *vt) transcript() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.raw.String()
}

// waitFor polls the screen until ok accepts it.
func (v *vt) waitFor(t *testing.T, what string, ok func(lines []string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := v.lines()
		if ok(lines) {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; screen:\n%s", what, strings.Join(lines, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRaw polls the raw output until it contains s.
func (v *vt) waitRaw(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(v.transcript(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q in the output:\n%q", s, v.transcript())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasLine(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func lineWith(lines []string, sub string) string {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
