package run

import "sort"

// Origins says where a directive takes its ports from.
type Origins int

// Where directives take their ports from.
const (
	// FromArgs: the ports named on the command line (or a file of them).
	FromArgs Origins = iota
	// WholeTree: every port of the tree; the directive takes no ports.
	WholeTree
	// ArgsOrWholeTree: the named ports, or the whole tree when the only
	// argument is "everything" (fetch-only).
	ArgsOrWholeTree
	// Installed: the host's installed packages (Pkg_command).
	Installed
	// ArgsOrInstalled: the named ports, or the installed packages when
	// none is named (status, as dsynth's GetLocalPackageList).
	ArgsOrInstalled
)

// RepositoryStep says what happens to the package repository after a
// build.
type RepositoryStep int

// Repository steps.
const (
	// NoRepository leaves the repository alone.
	NoRepository RepositoryStep = iota
	// AskRepository asks "Rebuild the repository?" unless -y.
	AskRepository
	// AlwaysRepository always rebuilds it.
	AlwaysRepository
)

// Directive is what one of dsynth's directives does, as data: the run
// library and the command line read these fields instead of comparing
// names.
type Directive struct {
	// Name is the directive as typed ("just-build").
	Name string
	// Origins is where its ports come from.
	Origins Origins
	// DryRun prints the plan instead of building (status).
	DryRun bool
	// DeleteRoots deletes the named ports' packages first (force, test,
	// debug), recursing through meta and dummy nodes.
	DeleteRoots bool
	// DeleteObsolete deletes repository packages no scanned port produces
	// (everything, prepare-system).
	DeleteObsolete bool
	// Lenient turns probe failures of named ports into warnings: those
	// ports are not built (everything).
	Lenient bool
	// FetchOnly fetches and checksums distfiles only; existing packages do
	// not count.
	FetchOnly bool
	// Test builds with DEVELOPER (its dump phases included), the
	// check-plist phase and the install/deinstall phases (test).
	Test bool
	// DeveloperChecksPlist makes -D imply -P (everything, as dsynth's
	// "-D everything infers -P").
	DeveloperChecksPlist bool
	// Freeze keeps each named port's slot after its build (debug).
	Freeze bool
	// Repository is the step after the build.
	Repository RepositoryStep
	// UpgradeNote ends the directive as dsynth does: UpgradeNoteLine on
	// stderr and exit status 1.
	UpgradeNote bool
}

// directiveTable lists the directives that scan and plan ports. It is
// never modified; Lookup and Directives hand out copies.
var directiveTable = [...]Directive{
	{Name: "status", Origins: ArgsOrInstalled, DryRun: true},
	{Name: "status-everything", Origins: WholeTree, DryRun: true},
	{Name: "build", Repository: AskRepository},
	{Name: "just-build"},
	{Name: "install", Repository: AlwaysRepository},
	{Name: "force", DeleteRoots: true, Repository: AskRepository},
	{Name: "test", DeleteRoots: true, Test: true},
	{Name: "debug", DeleteRoots: true, Freeze: true},
	{Name: "everything", Origins: WholeTree, DeleteObsolete: true, Lenient: true, Repository: AskRepository, DeveloperChecksPlist: true},
	{Name: "fetch-only", Origins: ArgsOrWholeTree, FetchOnly: true},
	{Name: "upgrade-system", Origins: Installed, Repository: AlwaysRepository, UpgradeNote: true},
	{Name: "prepare-system", Origins: Installed, DeleteObsolete: true, Repository: AlwaysRepository},
}

// Lookup returns the directive called name.
func Lookup(name string) (Directive, bool) {
	for _, d := range directiveTable {
		if d.Name == name {
			return d, true
		}
	}
	return Directive{}, false
}

// Directives returns every directive the run library runs, by name.
func Directives() []Directive {
	out := append([]Directive(nil), directiveTable[:]...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
