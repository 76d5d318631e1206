#!/bin/sh
# fetch.sh -o OUTPUT URL -- the default FETCH_CMD.  Only file:// URLs (and
# plain paths) are supported: the test tree works without a network.
set -u
[ "$1" = -o ] || { echo "usage: fetch.sh -o output url" >&2; exit 2; }
out=$2 url=$3
case $url in
file://*) src=${url#file://} ;;
/*) src=$url ;;
*) echo "fetch.sh: $url: only file:// URLs are supported" >&2; exit 1 ;;
esac
[ -f "$src" ] || { echo "fetch.sh: $src: no such file" >&2; exit 1; }
cp "$src" "$out"
