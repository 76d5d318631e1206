#!/bin/sh
# checksum.sh DISTINFO DISTDIR DIST_SUBDIR FILE...
# Verifies each FILE against its SHA256 and SIZE lines in DISTINFO:
#   SHA256 (name) = <hex>
#   SIZE (name) = <bytes>
# where name is DIST_SUBDIR/FILE (or FILE when DIST_SUBDIR is empty).
set -u
distinfo=$1 distdir=$2 sub=$3; shift 3
[ $# -eq 0 ] && exit 0
if [ ! -f "$distinfo" ]; then
	echo "=> No checksum file ($distinfo)." >&2; exit 1
fi
status=0
for f in "$@"; do
	name=${sub:+$sub/}$f
	want=$(awk -v n="($name)" '$1 == "SHA256" && $2 == n { print $4 }' "$distinfo")
	size=$(awk -v n="($name)" '$1 == "SIZE" && $2 == n { print $4 }' "$distinfo")
	if [ -z "$want" ]; then
		echo "=> No SHA256 checksum recorded for $name." >&2; status=1; continue
	fi
	got=$(sha256sum < "$distdir/$name" | cut -d' ' -f1) || { status=1; continue; }
	if [ "$got" != "$want" ]; then
		echo "=> SHA256 Checksum mismatch for $name." >&2
		echo "   expected $want, got $got" >&2
		status=1; continue
	fi
	if [ -n "$size" ]; then
		got=$(wc -c < "$distdir/$name" | tr -d ' ')
		if [ "$got" != "$size" ]; then
			echo "=> Size mismatch for $name: expected $size, got $got." >&2
			status=1; continue
		fi
	fi
	echo "=> SHA256 Checksum OK for $name."
done
exit $status
