package builddb

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Inputs are what a port's package was last built from: the rebuild inputs
// stored per origin (the CRC/fingerprint index).
type Inputs struct {
	// Origin is the node's origin, "editors/vim" or "devel/py-x@py311".
	Origin string `json:"origin"`
	// Fingerprint is the content-based fingerprint of the port directory;
	// empty for entries imported from dsynth.
	Fingerprint string `json:"fingerprint,omitempty"`
	// CRC is dsynth's CRC of the port directory; HasCRC says it is known.
	CRC    uint32 `json:"crc"`
	HasCRC bool   `json:"has_crc"`
	// Options is the options hash.
	Options string `json:"options,omitempty"`
	// Version is the package version built.
	Version string `json:"version,omitempty"`
	// DepVersions maps each dependency origin to the version built against.
	DepVersions map[string]string `json:"dep_versions,omitempty"`
	// Build is the UUID of the build that stored the inputs (zero for
	// entries imported from dsynth or recorded without a build).
	Build uuid.UUID `json:"build"`
	// Updated is when the inputs were stored.
	Updated time.Time `json:"updated"`
	// Legacy marks an entry imported from dsynth's ports_crc.db.
	Legacy bool `json:"legacy,omitempty"`
}

// InputsFromRecord returns the rebuild inputs of a successful build.
func InputsFromRecord(r *BuildRecord) Inputs {
	return Inputs{
		Origin:      r.Origin(),
		Fingerprint: r.ID.Fingerprint,
		CRC:         r.ID.PortsCRC,
		HasCRC:      true,
		Options:     r.ID.Options,
		Version:     r.ID.Version,
		DepVersions: maps.Clone(r.DepVersions),
		Build:       r.ID.UUID,
		Updated:     r.EndTime,
	}
}

func encodeInputs(in *Inputs) []byte {
	e := encoder{b: make([]byte, 0, 128)}
	e.b = append(e.b, tagInputs, codecVersion)
	e.str(in.Origin)
	e.str(in.Fingerprint)
	e.u32(in.CRC)
	e.boolean(in.HasCRC)
	e.str(in.Options)
	e.str(in.Version)
	e.strmap(in.DepVersions)
	e.raw(in.Build[:])
	e.tm(in.Updated)
	e.boolean(in.Legacy)
	return seal(e.b)
}

// tagLastGood marks an inputs value that stands for the origin's last
// known good build: the inputs are InputsFromRecord of the build the
// packages index names. Put and PutBatch store it when a success becomes
// the latest, so that later successes of the origin need not write the
// inputs bucket at all; removing the last good build first turns the
// marker into a full value of that build's inputs, which thus outlive it
// as before.
const tagLastGood = 'J'

// lastGoodMarker returns the inputs value that stands for the last good
// build.
func lastGoodMarker() []byte { return seal([]byte{tagLastGood, codecVersion}) }

// isLastGood reports whether an inputs value is the last good marker.
func isLastGood(v []byte) bool {
	if len(v) != 6 || v[0] != tagLastGood {
		return false
	}
	_, err := unseal(v, tagLastGood)
	return err == nil
}

// loadInputs decodes the inputs value v of origin, resolving the last good
// marker through the packages index and the builds bucket.
func loadInputs(tx *bolt.Tx, origin, v []byte) (*Inputs, error) {
	if len(v) == 0 || v[0] != tagLastGood {
		return decodeInputs(v)
	}
	if !isLastGood(v) {
		return nil, errDecode
	}
	pv := tx.Bucket(bPackages).Get(origin)
	if pv == nil {
		return nil, fmt.Errorf("inputs of %s stand for a last good build it does not have: %w", origin, errDecode)
	}
	p, err := decodePkg(pv)
	if err != nil {
		return nil, fmt.Errorf("packages entry %s: %w", origin, err)
	}
	if p.n == 0 {
		return nil, fmt.Errorf("inputs of %s stand for a last good build it does not have: %w", origin, errDecode)
	}
	id := p.latest[8:]
	bv := tx.Bucket(bBuilds).Get(id)
	if bv == nil {
		return nil, fmt.Errorf("last good build %x of %s is missing: %w", id, origin, errDecode)
	}
	r, err := decodeRecord(bv)
	if err != nil {
		return nil, fmt.Errorf("record %x: %w", id, err)
	}
	if r.Status != StatusSuccess || r.Origin() != string(origin) {
		return nil, fmt.Errorf("last good build %x of %s is a %s build of %s: %w", id, origin, r.Status, r.Origin(), errDecode)
	}
	in := InputsFromRecord(r)
	return &in, nil
}

func decodeInputs(v []byte) (*Inputs, error) {
	body, err := unseal(v, tagInputs)
	if err != nil {
		return nil, err
	}
	d := decoder{b: body}
	in := &Inputs{}
	in.Origin = d.str()
	in.Fingerprint = d.str()
	in.CRC = d.u32()
	in.HasCRC = d.byte1() == 1
	in.Options = d.str()
	in.Version = d.str()
	in.DepVersions = d.strmap()
	in.Build = d.uuid()
	in.Updated = d.tm()
	in.Legacy = d.byte1() == 1
	if d.err || len(d.b) != 0 {
		return nil, errDecode
	}
	return in, nil
}

// Current is the present state of a port, as the scanner and the
// scheduler see it, to compare with its stored Inputs.
type Current struct {
	Origin      string
	Fingerprint string
	CRC         uint32
	HasCRC      bool
	Options     string
	// DepVersions maps each dependency origin to the version that will be
	// installed when building (nil when unknown: not compared).
	DepVersions map[string]string
	// PackageExists says the package file is in the repository.
	PackageExists bool
	// RebuiltDeps lists the dependencies that are being rebuilt, have
	// failed or cannot be built in this run (dsynth's "not ready" test).
	RebuiltDeps []string
}

// Policy is dsynth's -x / -xx.
type Policy struct {
	// KeepOnDependencies is -x: keep a package that would be deleted only
	// because of its dependencies.
	KeepOnDependencies bool
	// KeepOnPortChange is -xx: also keep it when the port itself changed.
	// It implies KeepOnDependencies, as in dsynth.
	KeepOnPortChange bool
}

// PolicyFromX returns the policy for a -x count (0, 1 or 2 and more).
func PolicyFromX(count int) Policy {
	return Policy{KeepOnDependencies: count >= 1, KeepOnPortChange: count >= 2}
}

// ReasonKind classifies why a package must be rebuilt.
type ReasonKind string

// Reasons for a rebuild.
const (
	// NoPackage: the package file is missing.
	NoPackage ReasonKind = "no-package"
	// PortChanged: the port directory's fingerprint or CRC differs.
	PortChanged ReasonKind = "port-changed"
	// OptionsChanged: the options hash differs.
	OptionsChanged ReasonKind = "options-changed"
	// DependencyRebuilt: a dependency is rebuilt, failed or unbuildable in
	// this run.
	DependencyRebuilt ReasonKind = "dependency-rebuilt"
	// DependencyChanged: a dependency's version differs from the one the
	// package was built against, or the dependency set changed.
	DependencyChanged ReasonKind = "dependency-changed"
)

// Reason is one cause for a rebuild with a human-readable detail.
type Reason struct {
	Kind   ReasonKind `json:"kind"`
	Detail string     `json:"detail"`
}

// String returns "kind: detail".
func (r Reason) String() string { return string(r.Kind) + ": " + r.Detail }

// Decision is the answer of Decide.
type Decision struct {
	// Rebuild says the package must be deleted and built again.
	Rebuild bool
	// Reasons are the causes that force the rebuild.
	Reasons []Reason
	// Overridden are causes that -x / -xx told Decide to ignore (dsynth
	// logs these as "OVERRIDE, NOT DELETED").
	Overridden []Reason
	// Record says the current inputs should be stored without building:
	// there was no entry (dsynth stores the current
	// CRC and keeps the package). A package kept under -x / -xx does not
	// update the inputs, so a later run without the flag still rebuilds it.
	Record bool
}

// Decide answers whether the port must be rebuilt and why. stored is nil
// when the database has no inputs for the origin. It is a pure function.
//
// The rules are dsynth's, extended with go-dsynth's inputs:
//   - no package: rebuild (nothing overrides this);
//   - no stored inputs: keep the package and record the current inputs;
//   - port changed (fingerprint when both sides have one, else dsynth's
//     CRC) or options changed: rebuild, unless -xx;
//   - a dependency is rebuilt in this run, or its version differs from the
//     one built against: rebuild, unless -x or -xx.
func Decide(stored *Inputs, cur Current, p Policy) Decision {
	if p.KeepOnPortChange {
		p.KeepOnDependencies = true
	}
	var d Decision
	if !cur.PackageExists {
		d.Rebuild = true
		d.Reasons = append(d.Reasons, Reason{NoPackage, "package file missing"})
	}
	add := func(r Reason, keep bool) {
		if keep {
			d.Overridden = append(d.Overridden, r)
		} else {
			d.Rebuild = true
			d.Reasons = append(d.Reasons, r)
		}
	}
	if stored == nil {
		if !d.Rebuild {
			d.Record = true
		}
		for _, dep := range cur.RebuiltDeps {
			add(Reason{DependencyRebuilt, dep}, p.KeepOnDependencies)
		}
		return d
	}
	switch {
	case stored.Fingerprint != "" && cur.Fingerprint != "":
		if stored.Fingerprint != cur.Fingerprint {
			add(Reason{PortChanged, fmt.Sprintf("fingerprint %s -> %s", short(stored.Fingerprint), short(cur.Fingerprint))}, p.KeepOnPortChange)
		}
	case stored.HasCRC && cur.HasCRC:
		if stored.CRC != cur.CRC {
			// dsynth's words (check_packaged): stored CRC / current CRC.
			add(Reason{PortChanged, fmt.Sprintf("port content changed CRC %08x/%08x", stored.CRC, cur.CRC)}, p.KeepOnPortChange)
		}
	}
	if stored.Options != "" && cur.Options != "" && stored.Options != cur.Options {
		add(Reason{OptionsChanged, fmt.Sprintf("options %s -> %s", short(stored.Options), short(cur.Options))}, p.KeepOnPortChange)
	}
	for _, dep := range cur.RebuiltDeps {
		add(Reason{DependencyRebuilt, dep}, p.KeepOnDependencies)
	}
	if stored.DepVersions != nil && cur.DepVersions != nil {
		for _, dep := range slices.Sorted(maps.Keys(cur.DepVersions)) {
			nv := cur.DepVersions[dep]
			ov, ok := stored.DepVersions[dep]
			switch {
			case !ok:
				add(Reason{DependencyChanged, dep + " added (" + nv + ")"}, p.KeepOnDependencies)
			case ov != nv:
				add(Reason{DependencyChanged, dep + " " + ov + " -> " + nv}, p.KeepOnDependencies)
			}
		}
		for _, dep := range slices.Sorted(maps.Keys(stored.DepVersions)) {
			if _, ok := cur.DepVersions[dep]; !ok {
				add(Reason{DependencyChanged, dep + " removed"}, p.KeepOnDependencies)
			}
		}
	}
	return d
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
