package ports

import "strings"

// ScanVars are the 17 variables dsynth asks make for, in dsynth's order.
// PKGFILE is asked as "PKGFILE:T" (its basename).
var ScanVars = [...]string{
	"PKGVERSION", "PKGFILE:T", "ALLFILES", "DIST_SUBDIR", "MAKE_JOBS_NUMBER",
	"IGNORE", "FETCH_DEPENDS", "EXTRACT_DEPENDS", "PATCH_DEPENDS",
	"BUILD_DEPENDS", "LIB_DEPENDS", "RUN_DEPENDS", "SELECTED_OPTIONS",
	"DESELECTED_OPTIONS", "USE_LINUX", "FLAVORS", "USES",
}

// Status says what the scan learned about a port.
type Status uint8

// Scan outcomes.
const (
	StatusOK       Status = iota // scanned; buildable unless Ignore is set
	StatusNotFound               // no such port directory, or make printed nothing
	StatusCorrupt                // make failed or printed the wrong number of lines
)

// String returns the status as dsynth's messages name it.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusNotFound:
		return "NOTFOUND"
	case StatusCorrupt:
		return "CORRUPT"
	}
	return "unknown"
}

// Info is the raw answer of one scan: the 17 variables of one origin, as make
// printed them (trimmed). It is what the metadata cache stores.
type Info struct {
	Origin            Origin
	Status            Status
	PkgVersion        string
	PkgFile           string // basename
	AllFiles          string
	DistSubdir        string
	MakeJobsNumber    string
	Ignore            string
	Depends           [6]string // indexed by DepKind-1: FETCH … RUN
	SelectedOptions   string
	DeselectedOptions string
	UseLinux          string
	Flavors           string
	Uses              string
	// Stderr holds what make printed on stderr (kept for CORRUPT ports and
	// logged for all).
	Stderr string
	// Fingerprint is the hex content fingerprint of the port directory at
	// scan time (see Hasher.Dir); empty when it could not be computed.
	Fingerprint string
}

// FlavorList returns the port's FLAVORS, the default first.
func (in *Info) FlavorList() []string { return strings.Fields(in.Flavors) }

// IsMeta reports whether USES contains "metaport" (dsynth's substring rule).
func (in *Info) IsMeta() bool { return strings.Contains(in.Uses, "metaport") }

// IsDummy reports whether this is an unflavored scan of a flavored port:
// dsynth turns such a scan into a dummy node that stands for its flavors.
func (in *Info) IsDummy() bool { return in.Origin.Flavor == "" && in.Flavors != "" }

// DependsOf returns the raw value of one dependency kind.
func (in *Info) DependsOf(k DepKind) string {
	if k < DepFetch || k > DepRun {
		return ""
	}
	return in.Depends[k-1]
}
