//go:build !unix

package environment

import "io/fs"

// copyOwner does nothing where files have no Unix owner.
func copyOwner(fs.FileInfo, string) {}
