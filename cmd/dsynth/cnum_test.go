package main

import "testing"

// TestDsynthNumericFlags: -s, -m and -M take what dsynth's strtol,
// strtoul and strtod take (dsynth.c's getopt loop), never an error: the
// number at the start counts, -M is clipped to 0.01–99, a negative -s is
// the default slow start.
func TestDsynthNumericFlags(t *testing.T) {
	for _, c := range []struct {
		args  []string
		slow  int
		mem   float64
		scale float64
	}{
		{[]string{"-s", "4", "build"}, 4, 0, 1},
		{[]string{"-s", "0x10", "build"}, 16, 0, 1},
		{[]string{"-s", "010", "build"}, 8, 0, 1},
		{[]string{"-s", "3workers", "build"}, 3, 0, 1},
		{[]string{"-s", "x", "build"}, 0, 0, 1},
		{[]string{"-s", "-2", "build"}, -1, 0, 1},
		{[]string{"-m", "8", "build"}, -1, 8, 1},
		{[]string{"-m", "1.5", "build"}, -1, 1, 1},
		{[]string{"-m", "lots", "build"}, -1, 0, 1},
		{[]string{"-M", "2.5", "build"}, -1, 0, 2.5},
		{[]string{"-M", "0", "build"}, -1, 0, 0.01},
		{[]string{"-M", "500", "build"}, -1, 0, 99},
		{[]string{"-M", "1e300", "build"}, -1, 0, 99},
		{[]string{"-M", "half", "build"}, -1, 0, 0.01},
		{[]string{"-M1.257", "build"}, -1, 0, 1.25},
	} {
		o, rest, err := parseFlags(c.args)
		if err != nil || len(rest) != 1 {
			t.Errorf("%v: %v, rest %v", c.args, err, rest)
			continue
		}
		if o.slowStart != c.slow || o.memTargetGB != c.mem || o.scale != c.scale {
			t.Errorf("%v: -s %d -m %v -M %v; want %d, %v, %v", c.args, o.slowStart, o.memTargetGB, o.scale, c.slow, c.mem, c.scale)
		}
	}
	if n := cStrtol("  +12abc"); n != 12 {
		t.Errorf("strtol(\"  +12abc\") = %d", n)
	}
	if f := cStrtod(" -.5e1x"); f != -5 {
		t.Errorf("strtod(\" -.5e1x\") = %v", f)
	}
}
