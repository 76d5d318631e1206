#!/bin/sh
# makesum.sh DISTINFO SRCDIR DIST_SUBDIR FILE... -- (re)writes DISTINFO from
# the files in SRCDIR (the tree's distfiles-src), naming each
# DIST_SUBDIR/FILE.  TIMESTAMP is $SOURCE_DATE_EPOCH, else now.
set -eu
distinfo=$1 srcdir=$2 sub=$3; shift 3
tmp=$distinfo.tmp
echo "TIMESTAMP = ${SOURCE_DATE_EPOCH:-$(date +%s)}" > "$tmp"
for f in "$@"; do
	name=${sub:+$sub/}$f
	echo "SHA256 ($name) = $(sha256sum < "$srcdir/$f" | cut -d' ' -f1)" >> "$tmp"
	echo "SIZE ($name) = $(wc -c < "$srcdir/$f" | tr -d ' ')" >> "$tmp"
done
mv "$tmp" "$distinfo"
