#!/bin/sh
# check-plist.sh STAGEDIR PREFIX PLIST
# Compares the files and symlinks staged under STAGEDIR with the packing
# list (entries relative to PREFIX, or absolute; "@comment" lines and
# "@dir" entries are not files).  Any difference is an error.
set -u
stage=$1 prefix=$2 plist=$3
tmp=${TMPDIR:-/tmp}/check-plist.$$
trap 'rm -f "$tmp".*' EXIT
awk -v p="$prefix" '
	/^@comment/ || /^@dir/ || /^[ \t]*$/ { next }
	/^@/ { print "bad keyword: " $0 > "/dev/stderr"; next }
	{ if (substr($0, 1, 1) == "/") print; else print p "/" $0 }' "$plist" |
	sort -u > "$tmp.plist"
(cd "$stage" && find . \( -type f -o -type l \) | sed 's,^\.,,') |
	sort -u > "$tmp.stage"
status=0
orphans=$(comm -13 "$tmp.plist" "$tmp.stage")
missing=$(comm -23 "$tmp.plist" "$tmp.stage")
if [ -n "$orphans" ]; then
	echo "Error: Orphaned: staged but not in the packing list:"
	echo "$orphans" | sed 's/^/Error: Orphaned: /'
	status=1
fi
if [ -n "$missing" ]; then
	echo "Error: Missing: in the packing list but not staged:"
	echo "$missing" | sed 's/^/Error: Missing: /'
	status=1
fi
[ $status -eq 0 ] && echo "===> No pkg-plist issues found (check-plist)"
exit $status
