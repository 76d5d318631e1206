#!/bin/sh
# do-fetch.sh DISTDIR "SITES" "FETCH_CMD" FILE...
# Fetches each FILE missing from DISTDIR from the first site that has it.
# FETCH_CMD is called as: FETCH_CMD -o OUTPUT URL.  The file is written
# under a name unique to this process, then renamed, so that workers
# sharing DISTDIR do not clash.
set -u
distdir=$1 sites=$2 fetch=$3; shift 3
[ $# -eq 0 ] && exit 0
mkdir -p "$distdir" || exit 1
for f in "$@"; do
	[ -f "$distdir/$f" ] && continue
	ok=
	for s in $sites; do
		echo "=> Fetching $s$f"
		if $fetch -o "$distdir/$f.part.$$" "$s$f"; then
			mv "$distdir/$f.part.$$" "$distdir/$f"; ok=1; break
		fi
		rm -f "$distdir/$f.part.$$"
	done
	if [ -z "$ok" ]; then
		echo "=> Couldn't fetch $f from any site" >&2; exit 1
	fi
done
exit 0
