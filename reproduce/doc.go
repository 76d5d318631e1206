// Package reproduce compares builds and finds the packages a rebuild
// needs: DiffInputs tells which recorded inputs of two build records
// differ (pure), Compare adds the difference of their packages
// (pkgdiff), and Locate finds a package file by its SHA-256 in a list of
// directories (the repository's All/, kept generations, extra
// directories). Rebuilding itself is run.Reproduce, which uses the
// builder's slot code with builder.Replay.
package reproduce
