package run

import (
	"reflect"
	"testing"

	"github.com/go-dsynth/go-dsynth/ports"
)

// pkgInfoOAOutput is what `pkg info -a -o -A` prints for four packages:
// per package its name line, the Origin line and the annotations, one of
// which may be the port's flavor.
const pkgInfoOAOutput = `pkg-1.21.3:
	Origin         : ports-mgmt/pkg
	Annotations    :
		FreeBSD_version: 1400097
		repo_type      : binary
		repository     : FreeBSD
py311-setuptools-63.1.0_1:
	Origin         : devel/py-setuptools
	Annotations    :
		FreeBSD_version: 1400097
		flavor         : py311
		repo_type      : binary
gmake-4.4.1:
	Origin         : devel/gmake
	Annotations    :
		FreeBSD_version: 1400097
ted-1.0:
	Origin         : editors/ted
	Annotations    :
		flavor         : nox11
weird-1.0:
	Origin         : nocategory
gmake-4.4.1:
	Origin         : devel/gmake
last-1.0:
	Origin         : misc/last`

// TestParseInstalled follows dsynth's GetLocalPackageList: an Origin line
// starts a package, a "flavor" annotation after it names its flavor,
// ports-mgmt/pkg is left out (ParsePackageList adds it to every list), an
// origin without a category is reported, and only whole lines count (the
// last one here has no newline, so misc/last is not read).
func TestParseInstalled(t *testing.T) {
	list, bad := ParseInstalled(pkgInfoOAOutput)
	want := []ports.Origin{
		ports.MustOrigin("devel/py-setuptools@py311"),
		ports.MustOrigin("devel/gmake"),
		ports.MustOrigin("editors/ted@nox11"),
	}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("list %v, want %v", list, want)
	}
	if !reflect.DeepEqual(bad, []string{"nocategory"}) {
		t.Errorf("bad %v", bad)
	}
	list, _ = ParseInstalled(pkgInfoOAOutput + "\n")
	if n := len(list); n != 4 || list[3].String() != "misc/last" {
		t.Errorf("with the last newline: %v", list)
	}
}
