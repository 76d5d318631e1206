#!/usr/bin/env bash
# make demo: run go-dsynth on the project's own ports tree (testdata/ports)
# with a configuration made by `dsynth init` in a scratch directory.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
demo="${1:-$top/.demo}"
dsynth="$top/bin/dsynth"
etc="$demo/etc"
if [ ! -f "$etc/dsynth.ini" ]; then
	"$dsynth" -C "$etc" init
	sed -i "s|^Directory_portsdir=.*|Directory_portsdir= $top/testdata/ports|" "$etc/dsynth.ini"
	sed -i "s|^Number_of_builders=.*|Number_of_builders= 2|" "$etc/dsynth.ini"
fi
ports=$(cd "$top/testdata/ports" && ls -d */*/ | sed 's|/$||' | grep -v -e '^Mk/' -e '^distfiles-src/' -e '^src/')
echo "== the build closure of every port in testdata/ports, in build order"
"$dsynth" -C "$etc" graph $ports
if "$dsynth" -C "$etc" -y -S build $ports; then :; else
	status=$?
	echo "(dsynth build exited with status $status)"
fi
