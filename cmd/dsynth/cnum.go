package main

import (
	"regexp"
	"strconv"
	"strings"
)

// dsynth reads the values of -s, -m and -M with C's strtol, strtoul and
// strtod and never refuses one: the longest number at the start of the
// text counts and the rest is ignored ("8x" is 8, "x" is 0). These do the
// same, so that a command line dsynth takes is taken here too.

// cStrtol is strtol(s, NULL, 0): optional spaces and sign, then a
// hexadecimal (0x…), octal (0…) or decimal integer; 0 when there is none.
func cStrtol(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isDigit(s[2], 16):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base = 8
	}
	var n int64
	for i := 0; i < len(s) && isDigit(s[i], base); i++ {
		d, _ := strconv.ParseInt(s[i:i+1], base, 64)
		if n > (1<<62)/int64(base) {
			break // saturate rather than wrap
		}
		n = n*int64(base) + d
	}
	if neg {
		return -n
	}
	return n
}

func isDigit(c byte, base int) bool {
	switch {
	case c >= '0' && c <= '9':
		return int(c-'0') < base
	case c >= 'a' && c <= 'f':
		return base == 16
	case c >= 'A' && c <= 'F':
		return base == 16
	}
	return false
}

// floatPrefix is the decimal number strtod reads at the start of a text.
var floatPrefix = regexp.MustCompile(`^[ \t\n\v\f\r]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?`)

// cStrtod is strtod(s, NULL) for decimal numbers: the number at the
// start of s, 0 when there is none.
func cStrtod(s string) float64 {
	m := floatPrefix.FindString(s)
	if m == "" {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimLeft(m, " \t\n\v\f\r"), 64)
	if err != nil {
		return 0
	}
	return f
}
