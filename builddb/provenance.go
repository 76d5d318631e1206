package builddb

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// BuildInputs are the inputs of one build beyond its identity (BuildID
// already holds the ports tree's commit, the port directory's content
// fingerprint, the options hash and the system), as the builder saw them
// when it set up the slot. Together with BuildRecord.EnvVars and MakeArgs
// they are what `dsynth reproduce` replays and `dsynth compare` compares.
type BuildInputs struct {
	// MkFingerprint is the content fingerprint (hex SHA-256) of the ports
	// tree's Mk/ directory.
	MkFingerprint string `json:"mk_fingerprint,omitempty"`
	// MakeConf is the generated /etc/make.conf of the slot.
	MakeConf string `json:"make_conf,omitempty"`
	// Options are the port's options as make reported them, each
	// "NAME=on" or "NAME=off", sorted.
	Options []string `json:"options,omitempty"`
	// TemplateFingerprint is the content fingerprint (hex SHA-256) of the
	// slot template; OSVersion the target's OSVERSION.
	TemplateFingerprint string `json:"template_fingerprint,omitempty"`
	OSVersion           string `json:"osversion,omitempty"`
	// Deps are the dependency packages installed into the slot, in
	// installation order.
	Deps []DepPackage `json:"deps,omitempty"`
	// Toolchain maps a tool ("cc", "make", "pkg") to the version line it
	// printed inside the slot.
	Toolchain map[string]string `json:"toolchain,omitempty"`
}

// DepPackage is one dependency package installed into a slot.
type DepPackage struct {
	Origin string `json:"origin"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Verdicts of a reproduction.
const (
	// VerdictReproducible: the rebuilt package is bit-identical.
	VerdictReproducible = "reproducible"
	// VerdictDiffers: the rebuilt package differs (Files names what).
	VerdictDiffers = "differs"
	// VerdictFailed: the rebuild did not produce a package.
	VerdictFailed = "failed"
)

// Reproduction is the outcome of one `dsynth reproduce` of a build.
type Reproduction struct {
	// Time is when the reproduction ended.
	Time time.Time `json:"time"`
	// Verdict is VerdictReproducible, VerdictDiffers or VerdictFailed.
	Verdict string `json:"verdict"`
	// PkgChecksum is the SHA-256 of the rebuilt package (empty when it
	// failed).
	PkgChecksum string `json:"pkg_sha256,omitempty"`
	// Files are the package members that differ ("+MANIFEST" included),
	// sorted; Detail is a one-line explanation (the failure's reason, or
	// a summary of the differences).
	Files  []string `json:"files,omitempty"`
	Detail string   `json:"detail,omitempty"`
}

// AddReproduction appends a reproduction verdict to the record of build
// id, in one transaction.
func (db *DB) AddReproduction(id uuid.UUID, rep Reproduction) error {
	switch rep.Verdict {
	case VerdictReproducible, VerdictDiffers, VerdictFailed:
	default:
		return fmt.Errorf("%w: unknown reproduction verdict %q", ErrInvalidRecord, rep.Verdict)
	}
	if rep.Time.IsZero() {
		return fmt.Errorf("%w: reproduction without time", ErrInvalidRecord)
	}
	return db.updateAgg(func(tx *bolt.Tx, a *aggregate) error {
		r, err := getRecord(tx, id[:])
		if err != nil {
			return err
		}
		rep.Time = rep.Time.UTC()
		r.Reproductions = append(r.Reproductions, rep)
		return putRecord(tx, a, r)
	})
}

// hasExtension says a record carries the fields stored in the extension
// section (flagExt).
func (r *BuildRecord) hasExtension() bool {
	return r.Inputs != nil || len(r.Reproductions) > 0
}

// extVersion is the format of the extension section.
const extVersion = 1

// appendExtension writes the extension section: its format, the inputs
// (a presence byte, then the fields) and the reproductions.
func (e *encoder) extension(r *BuildRecord) {
	e.uvar(extVersion)
	in := r.Inputs
	e.boolean(in != nil)
	if in != nil {
		e.hstr(in.MkFingerprint)
		e.str(in.MakeConf)
		e.strs(in.Options)
		e.hstr(in.TemplateFingerprint)
		e.str(in.OSVersion)
		e.uvar(uint64(len(in.Deps)))
		for _, d := range in.Deps {
			e.str(d.Origin)
			e.str(d.File)
			e.hstr(d.SHA256)
		}
		e.strmap(in.Toolchain)
	}
	e.uvar(uint64(len(r.Reproductions)))
	for _, p := range r.Reproductions {
		e.tm(p.Time)
		e.str(p.Verdict)
		e.hstr(p.PkgChecksum)
		e.strs(p.Files)
		e.str(p.Detail)
	}
}

// extension reads the section appendExtension wrote.
func (d *decoder) extension(r *BuildRecord) {
	if d.uvar() != extVersion {
		d.err = true
		return
	}
	if d.byte1() == 1 {
		in := &BuildInputs{}
		in.MkFingerprint = d.hstr(nil)
		in.MakeConf = d.str()
		in.Options = d.strs()
		in.TemplateFingerprint = d.hstr(nil)
		in.OSVersion = d.str()
		n := d.uvar()
		if n > uint64(len(d.b)) {
			d.err = true
			return
		}
		for range n {
			in.Deps = append(in.Deps, DepPackage{Origin: d.str(), File: d.str(), SHA256: d.hstr(nil)})
		}
		in.Toolchain = d.strmap()
		r.Inputs = in
	}
	n := d.uvar()
	if n > uint64(len(d.b)) {
		d.err = true
		return
	}
	for range n {
		r.Reproductions = append(r.Reproductions, Reproduction{Time: d.tm(), Verdict: d.str(), PkgChecksum: d.hstr(nil), Files: d.strs(), Detail: d.str()})
	}
}
