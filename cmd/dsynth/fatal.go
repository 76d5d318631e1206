package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// fatalError is an error dsynth reports through its dfatal(): the name of
// the C function that called it (for the directives, "main"), ": ", the
// message, on stderr, exit status 1.
type fatalError struct{ msg string }

func (e *fatalError) Error() string { return e.msg }

// extensionDirectives are go-dsynth's own directives: their errors keep
// go-dsynth's wording (a lock error names the holder's pid).
var extensionDirectives = map[string]bool{
	"graph": true, "logs": true, "db": true, "exec": true, "shell": true, "serve": true, "api-key": true,
	"compare": true, "reproduce": true,
	"worker": true, "worker-key": true,
}

// dsynthFatal prints err the way dsynth's dfatal would when it is one
// dsynth reports so: a fatalError, or, for dsynth's own directives, the
// build base lock held by another process ("main: Another dsynth is using
// <BuildBase>, exiting", main's flock test). It says whether it did.
func dsynthFatal(stderr io.Writer, directive string, err error) bool {
	var fe *fatalError
	if errors.As(err, &fe) {
		fmt.Fprintf(stderr, "main: %s\n", fe.msg)
		return true
	}
	var le *builddb.LockError
	if !extensionDirectives[directive] && errors.As(err, &le) {
		fmt.Fprintf(stderr, "main: Another dsynth is using %s, exiting\n", le.BuildBase)
		return true
	}
	return false
}
