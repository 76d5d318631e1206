// Package repository publishes a package repository atomically
// (Repository_publish=atomic): generations of the repository live beside
// the live path (<Directory_packages>.generations/NNNNNN), the live path
// is a symlink to the current one, and a run builds into a staging copy
// made by hard links, which becomes the next generation with its SHA-256
// manifest and signify signature and is switched into place with one
// rename(2) of a new symlink over the live path.
//
// The pure parts — the manifest format and its comparison, generation
// names, which generations to keep, signify's key and signature formats —
// are separate from the file operations of Store.
package repository
