package main

import (
	"fmt"
	"strings"
)

// options are dsynth's flags (getopt "dhm:p:vxys:DPM:NS") plus go-dsynth's
// -C (configuration directory) and -R (remote build service).
type options struct {
	debug       int     // -d, counted
	help        bool    // -h
	memTargetGB float64 // -m GB (0 = default)
	profile     string  // -p
	version     bool    // -v
	slowStart   int     // -s N (-1 = default)
	keepPkgs    int     // -x, counted: 1 keeps "due to dependencies", 2 also CRC changes
	yes         bool    // -y
	developer   bool    // -D
	checkPlist  bool    // -P
	scale       float64 // -M f (1 = default)
	noNice      bool    // -N
	noCurses    int     // -S, counted
	configDir   string  // -C dir
	remote      string  // -R URL: a remote build service (go-dsynth's own)
}

// parseFlags parses dsynth's flags in getopt style (clustered short flags,
// values attached or separate) up to the directive; everything after the
// first non-flag argument belongs to the directive.
func parseFlags(args []string) (options, []string, error) {
	o := options{slowStart: -1, scale: 1}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			needsValue := strings.IndexByte("mpsMCR", c) >= 0
			var val string
			if needsValue {
				if j+1 < len(a) {
					val = a[j+1:]
				} else if i+1 < len(args) {
					i++
					val = args[i]
				} else {
					return o, nil, &flagError{msg: "option requires an argument", c: c}
				}
			}
			switch c {
			case 'd':
				o.debug++
			case 'h':
				o.help = true
			case 'v':
				o.version = true
			case 'x':
				o.keepPkgs++
			case 'y':
				o.yes = true
			case 'D':
				o.developer = true
			case 'P':
				o.checkPlist = true
			case 'N':
				o.noNice = true
			case 'S':
				o.noCurses++
			case 'p':
				o.profile = val
			case 'C':
				o.configDir = val
			case 'R':
				o.remote = val
			case 'm':
				// dsynth: strtoul gigabytes; 0 (or no number) is the
				// default target.
				o.memTargetGB = float64(max(0, cStrtol(val)))
			case 's':
				// dsynth: strtol; a negative count is the default slow
				// start, a count over the builders is clipped later.
				if n := cStrtol(val); n >= 0 {
					o.slowStart = int(min(n, 1<<20))
				} else {
					o.slowStart = -1
				}
			case 'M':
				// dsynth: strtod ×100, clipped to 1–9900 (0.01–99).
				x := min(max(cStrtod(val)*100, 1), 9900)
				o.scale = float64(int64(x)) / 100
			default:
				return o, nil, &flagError{msg: "illegal option", c: c}
			}
			if needsValue {
				break
			}
		}
	}
	return o, args[i:], nil
}

// flagError is a flag getopt refuses, in the BSD getopt's words (dsynth's
// systems): "illegal option -- c", "option requires an argument -- c".
type flagError struct {
	msg string
	c   byte
}

func (e *flagError) Error() string { return fmt.Sprintf("%s -- %c", e.msg, e.c) }
