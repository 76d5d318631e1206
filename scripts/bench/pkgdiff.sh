#!/usr/bin/env bash
# dsynth compare on two large packages (issue 16): pkgdiff's Open of both
# side by side and Diff, against a SHA-256 of both files (sha256sum's
# work) and against only decompressing them, interleaved in the same run.
# Prints a Markdown section for BENCHMARKS.md on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT
runs=5

echo "pkgdiff: BenchmarkCompare, $runs interleaved runs (the first makes the two packages, about 200 MB each)…" >&2
go test -run '^$' -bench '^BenchmarkCompare$' -benchtime 1x -count "$runs" -timeout 60m ./pkgdiff/ >"$out" 2>&1 ||
	{ cat "$out" >&2; exit 1; }

# median of the ns/op of sub-benchmark $1
median() {
	awk -v name="BenchmarkCompare/$1" '$1 ~ "^"name"(-[0-9]+)?$" { print $3 }' "$out" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
calc() { awk "BEGIN { print $1 }"; }
size=$(stat -c %s "$(ls "${TMPDIR:-/tmp}"/pkgdiff-bench-v1-*-a.pkg | head -n 1)")

cmp=$(median compare)
sha=$(median sha256)
gz=$(median gunzip)
echo "## Comparing two packages (dsynth compare)"
echo
echo "Package \`pkgdiff\`, \`BenchmarkCompare\` on $(awk -F': ' '/^cpu:/ {print $2; exit}' "$out"), $(date -u +%Y-%m-%d): two generated"
printf 'gzip%s tar packages of %.0f MB each (4,000 files, 320 MiB of content, half of it incompressible), which differ in 8 files.\n' "'d" "$(calc "$size / 1000000")"
echo "\`compare\` is what \`dsynth compare\` and \`dsynth reproduce\` do with two packages: read both side by side (decompress, list"
echo "every member, SHA-256 of each file and of the whole file) and diff the listings. The baselines are measured in the same"
echo "runs, taking turns with it ($runs runs each; medians): the SHA-256 of both files as they are (what \`sha256sum\` does, also side by"
echo "side), and only decompressing both (klauspost/compress's gzip, the one compare uses)."
echo
echo "| Work on both packages | Median | Against SHA-256 of the files | Against decompressing |"
echo "|---|---:|---:|---:|"
printf "| SHA-256 of both files (baseline) | %.2f s | 1.00× | %.2f× |\n" "$(calc "$sha / 1e9")" "$(calc "$sha / $gz")"
printf "| decompress both (baseline) | %.2f s | %.2f× | 1.00× |\n" "$(calc "$gz / 1e9")" "$(calc "$gz / $sha")"
printf "| compare (read, hash every member, diff) | %.2f s | %.2f× | %.2f× |\n" "$(calc "$cmp / 1e9")" "$(calc "$cmp / $sha")" "$(calc "$cmp / $gz")"
echo
printf 'Decompression is the floor of any comparison of the packages'"'"' contents; compare costs %.2f× that floor here (the\n' "$(calc "$cmp / $gz")"
echo "SHA-256 of each member and of each whole file, and the listing, run beside it on the two cores). Two builds with the"
echo "same recorded package digest cost only the first row: finding the files by their SHA-256 proves them identical."
