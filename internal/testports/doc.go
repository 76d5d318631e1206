// Package testports locates the project's own small ports tree,
// testdata/ports, and gives the environment needed to run bmake on it.
//
// The tree is an honest, tiny ports collection that really builds on Linux:
// a bmake framework of its own (testdata/ports/Mk), a package tool written
// in sh (ports-mgmt/pkg, the first port built, as in dsynth), and about
// thirty ports whose C sources ship with the tree as distfiles.  It has the
// cases the builder must handle: library, build, run, fetch, extract and
// patch dependencies, a flavored port with dependents on a flavor and on the
// bare origin, a metaport, an IGNOREd port and its dependent, a port that
// fails to compile and its dependent, and a port whose build hangs.  See
// testdata/ports/README.md.
//
// Running bmake on the tree needs MAKESYSPATH pointing at the tree's
// Mk/sys directory (Debian's bmake would otherwise read NetBSD's
// /usr/share/mk) and PORTSDIR; Env returns them.
package testports
