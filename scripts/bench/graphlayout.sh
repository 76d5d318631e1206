#!/usr/bin/env bash
# Dependency graph layout (issue 15): laying out www/firefox's closure
# from the real FreeBSD tree against taking that closure out of the whole
# tree's graph (the step before it in GET /packages/{c}/{p}/graph). Prints
# a Markdown section for BENCHMARKS.md on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT
runs=7

echo "graphlayout: BenchmarkFirefox, $runs interleaved runs…" >&2
for _ in $(seq "$runs"); do
	go test -run '^$' -bench '^BenchmarkFirefox$' -count 1 ./graphlayout/ >>"$out" 2>&1 ||
		{ cat "$out" >&2; exit 1; }
done
grep -q 'BenchmarkFirefox/layout' "$out" || { echo "graphlayout: no result (is ../shared/testdata there?)" >&2; cat "$out" >&2; exit 1; }

# median of the ns/op of sub-benchmark $1
median() {
	awk -v name="BenchmarkFirefox/$1" '$1 ~ "^"name"(-[0-9]+)?$" { print $3 }' "$out" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
calc() { awk "BEGIN { print $1 }"; }

closure=$(median closure)
layout=$(median layout)
echo "## Dependency graph layout"
echo
echo "Package \`graphlayout\`, \`BenchmarkFirefox\` on $(awk -F': ' '/^cpu:/ {print $2; exit}' "$out"), $(date -u +%Y-%m-%d):"
echo "www/firefox's closure in the real FreeBSD tree (352 nodes, 32 layers) laid out (longest-path layers, four rounds of"
echo "barycenter sweeps, coordinates), against the baseline of taking that closure out of the whole tree's graph (34,503 scans)"
echo "as the dense graph the layout reads. $runs runs, the two taking turns; medians."
echo
echo "| Step | Median | Against the closure |"
echo "|---|---:|---:|"
printf "| closure out of the whole tree (the baseline) | %.2f ms | 1.00× |\n" "$(calc "$closure / 1e6")"
printf "| layout of the closure | %.2f ms | %.2f× |\n" "$(calc "$layout / 1e6")" "$(calc "$layout / $closure")"
