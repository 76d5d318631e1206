#!/bin/sh
# mkdistfiles.sh -- regenerates distfiles-src/ from src/ and then every
# port's distinfo.  Deterministic: the same sources give byte-identical
# tarballs (fixed mtime, owner, order; gzip -n).
#
#   src/<distname>/   ->  distfiles-src/<distname>.tar.gz
#   src/riddle-1.0/   ->  distfiles-src/riddle-1.0.tar.gz.xor (XOR 90,
#                         undone by archivers/unxor at extract time)
#
# Needs GNU tar, gzip, cc and bmake.  Run it after changing anything in
# src/, then commit src/, distfiles-src/ and the distinfo files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
EPOCH=1700000000
out=distfiles-src
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$out"
rm -f "$out"/*.tar.gz "$out"/*.xor
for d in src/*/; do
	name=$(basename "$d")
	tar -C src --sort=name --mtime=@$EPOCH --owner=0 --group=0 \
		--numeric-owner --mode='u+rwX,go+rX,go-w' --format=ustar \
		-cf "$tmp/$name.tar" "$name"
	gzip -n -9 -c "$tmp/$name.tar" > "$out/$name.tar.gz"
done

# riddle's distfile is XOR-encoded, so that extracting it needs unxor.
cc -O2 -o "$tmp/unxor" src/unxor-1.0/unxor.c
"$tmp/unxor" < "$out/riddle-1.0.tar.gz" > "$out/riddle-1.0.tar.gz.xor"
rm "$out/riddle-1.0.tar.gz"

# distinfo of every port that has distfiles
export PORTSDIR="$here" MAKESYSPATH="$here/Mk/sys" __MAKE_CONF=/dev/null
export SOURCE_DATE_EPOCH=$EPOCH
for mk in */*/Makefile; do
	dir=${mk%/Makefile}
	case $dir in Mk/*|src/*) continue ;; esac
	files=$(bmake -C "$dir" -V ALLFILES)
	[ -n "$files" ] || continue
	bmake -C "$dir" makesum
done
ls -l "$out"
