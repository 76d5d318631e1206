#!/usr/bin/env bash
# make demo: a real bulk build of the project's own ports tree
# (testdata/ports) in Linux sandboxes, ending with its report.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
demo="${1:-$top/.demo}"
dsynth="$top/bin/dsynth"
etc="$demo/etc"
if [ ! -f "$etc/dsynth.ini" ]; then
	"$dsynth" -C "$etc" init
	sed -i -e "s|^Directory_portsdir=.*|Directory_portsdir= $top/testdata/ports|" \
		-e "s|^Number_of_builders=.*|Number_of_builders= 2|" \
		-e "s|^Max_jobs_per_builder=.*|Max_jobs_per_builder= 2|" "$etc/dsynth.ini"
	# The tree's misc/hang port never ends: scale dsynth's watchdogs down so
	# the demo shows the watchdog at work within a minute.
	printf 'Watchdog_scale= 0.003\n' >> "$etc/dsynth.ini"
fi
ports=$(cd "$top/testdata/ports" && ls -d */*/ | sed 's|/$||' | grep -v -e '^Mk/' -e '^distfiles-src/' -e '^src/')
echo "== dsynth status: what a build would do"
"$dsynth" -C "$etc" status $ports | tail -5
echo
echo "== dsynth build: every port of testdata/ports, 2 workers, Linux sandboxes"
set +e
"$dsynth" -C "$etc" -y -S build $ports
status=$?
set -e
logs=$(sed -n 's/^Directory_logs= *//p' "$etc/dsynth.ini")
echo
echo "== the report"
echo "logs:        $logs (00_last_results.log … 07_debug.log, one log per port)"
echo "web report:  $logs/Report/index.html"
python3 - "$logs/Report/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
print("summary:     queued %s, built %s, failed %s, ignored %s, skipped %s, meta %s, elapsed%s" % (
    s["queued"], s["built"], s["failed"], s["ignored"], s["skipped"], s["meta"], s["elapsed"]))
PY
echo
"$dsynth" -C "$etc" db stats || true
echo
echo "(the failures are on purpose: devel/broken does not compile, misc/hang hangs until its watchdog;"
echo " misc/obsolete is IGNOREd; their dependents are skipped. dsynth build exited $status.)"
