#!/bin/sh
# bsd-selftest.sh — validate a FreeBSD or DragonFly host for go-dsynth's
# build slots, as root, from a go-dsynth source checkout (needs Go).
#
# It sets up one slot under a fresh temporary build base (never the
# profile's), checks what is mounted where and read-only, that /dev has
# the jail ruleset (FreeBSD), that commands run with their output, exit
# status and niceness, that the outside network is reachable from fetch
# phases only (FreeBSD; DragonFly's chroot has the host's network in every
# phase, as dsynth's), cancels a command that left a daemon behind, tears
# the slot down, and verifies that nothing is left mounted or running.
#
# Usage: scripts/bsd-selftest.sh [-k]
#   -k  keep the temporary build base for inspection
#
# Exit status: 0 when every check passed, 1 when one failed, 2 when the
# host cannot run the selftest (not BSD, not root, no Go).

set -u

keep=0
case "${1:-}" in
-k) keep=1 ;;
"") ;;
*)
	echo "usage: $0 [-k]" >&2
	exit 2
	;;
esac

case "$(uname -s)" in
FreeBSD | DragonFly) ;;
*)
	echo "bsd-selftest: this host runs $(uname -s); run it on FreeBSD or DragonFly" >&2
	exit 2
	;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "bsd-selftest: slots need mounts and jails: run as root" >&2
	exit 2
fi
if ! command -v go >/dev/null 2>&1; then
	echo "bsd-selftest: needs Go (pkg install go) to build the selftest" >&2
	exit 2
fi

top=$(cd "$(dirname "$0")/.." && pwd)
base=$(mktemp -d /tmp/dsynth-selftest.XXXXXX) || exit 2
status=0

# mounted_under DIR prints the mount points at or below DIR.
mounted_under() {
	/sbin/mount | awk -v d="$1" '{
		p = $0; sub(/^.* on /, "", p); sub(/ \([^(]*\)$/, "", p)
		if (p == d || index(p, d "/") == 1) print p
	}'
}

echo "bsd-selftest: $(uname -sr), build base $base"
(
	cd "$top" &&
		DSYNTH_BSD_SELFTEST=1 DSYNTH_SELFTEST_BASE="$base" \
			go test -count=1 -v -run '^TestHostSelftest$' ./environment/native/
) || status=1

# Whatever the test said, nothing may be left mounted under the base.
left=$(mounted_under "$base")
if [ -n "$left" ]; then
	echo "FAIL: left mounted under $base:" >&2
	echo "$left" >&2
	echo "      (remove with: umount <each, deepest first>)" >&2
	status=1
else
	echo "ok: nothing mounted under $base"
fi

if [ "$keep" -eq 1 ] || [ -n "$left" ]; then
	echo "bsd-selftest: kept $base"
else
	rm -rf "$base"
fi

if [ "$status" -eq 0 ]; then
	echo "bsd-selftest: PASS — this host can run go-dsynth's slots"
else
	echo "bsd-selftest: FAIL — see above; please report it with this output" >&2
fi
exit "$status"
