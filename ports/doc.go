// Package ports turns a BSD ports tree into data: it names ports (origins
// and flavors), parses the dependency strings the ports framework prints,
// runs the scanner that asks BSD make for the 17 variables dsynth reads, caches
// the answers by a fingerprint of everything that fed them, and builds the
// dependency graph with its closures, cycles and build orders.
//
// The package knows nothing about building, storage engines or sandboxes.
package ports
