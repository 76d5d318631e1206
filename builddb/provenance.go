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
	return r.Inputs != nil || len(r.Reproductions) > 0 || r.hasPlacement()
}

// hasPlacement says a record carries the fields of extension format 2:
// its phases or its remote slot.
func (r *BuildRecord) hasPlacement() bool { return len(r.Phases) > 0 || r.Where != "" }

// Formats of the extension section. A record without phases and remote
// slot is written in format 1, byte for byte as before they existed;
// format 2 adds them after the reproductions (schema 8).
const (
	extVersion1 = 1
	extVersion2 = 2
)

// appendExtension writes the extension section: its format, the inputs
// (a presence byte, then the fields), the reproductions and, in format 2,
// the phases (their starts relative to the record's start) and the
// remote slot.
func (e *encoder) extension(r *BuildRecord) {
	version := uint64(extVersion1)
	if r.hasPlacement() {
		version = extVersion2
	}
	e.uvar(version)
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
	if version == extVersion2 {
		base := r.StartTime.UnixNano()
		e.uvar(uint64(len(r.Phases)))
		for _, p := range r.Phases {
			e.str(p.Phase)
			e.relTime(p.Start, base)
		}
		e.str(r.Where)
	}
}

// extension reads the section appendExtension wrote.
func (d *decoder) extension(r *BuildRecord) {
	version := d.uvar()
	if version != extVersion1 && version != extVersion2 {
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
	if version == extVersion2 {
		base := r.StartTime.UnixNano()
		n := d.uvar()
		if n > uint64(len(d.b)) {
			d.err = true
			return
		}
		for range n {
			r.Phases = append(r.Phases, PhaseMark{Phase: d.str(), Start: d.relTime(base)})
		}
		r.Where = d.str()
	}
}
