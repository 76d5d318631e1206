#!/usr/bin/env bash
# Dashboard (issue 15): time to first render of the dependency graph view
# in headless Chromium for www/firefox's and x11/gnome's closures from the
# real FreeBSD tree, against ports-mgmt/pkg's one-port graph drawn by the
# same view in the same browser and run (the view's fixed cost). Runs
# TestGraphFirefox (package dashboard) several times, each run drawing
# the three in turn; prints a Markdown section for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=5
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "dashboard: TestGraphFirefox, $runs runs…" >&2
for _ in $(seq "$runs"); do
	go test -count=1 -run '^TestGraphFirefox$' -v ./dashboard/ >>"$out" 2>&1 || { cat "$out" >&2; exit 1; }
done
grep -q 'www/firefox: time to first render' "$out" ||
	{ echo "dashboard: no measurement (chromium and ../shared/testdata needed)" >&2; cat "$out" >&2; exit 1; }

# median of field $2 ("paint", "fetch", "draw") of port $1's lines
median() {
	awk -v port="$1" -v what="$2" '
	index($0, port ": time to first render") {
		line = $0
		sub(/.*time to first render /, "", line)
		split(line, a, / ms/)
		paint = a[1]
		f = $0; sub(/.*fetch and server layout /, "", f); split(f, b, / ms/)
		d = $0; sub(/.*drawing /, "", d); split(d, c, / ms/)
		if (what == "paint") print paint; else if (what == "fetch") print b[1]; else print c[1]
	}' "$out" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
nodes() { awk -v port="$1" 'index($0, port ": closure of") { sub(/.* drawn /, ""); print; exit }' "$out"; }
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
chromium=$(chromium --version 2>/dev/null | head -1)
base=$(median ports-mgmt/pkg paint)
echo "## Dashboard: drawing the dependency graph"
echo
echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on ${cpu} ($(nproc) cores), ${chromium}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "when it started. \`scripts/bench/dashboard.sh\`: $runs runs of \`TestGraphFirefox\` (package \`dashboard\`, without \`-race\`),"
echo "each drawing the three graphs below in turn in one headless Chromium; medians. The page times with"
echo "\`performance.now()\` the fetch (the API's answer, laid out in Go by \`graphlayout\`), the drawing (SVG built in a"
echo "document fragment, one path per edge) and the first animation frame after it (time to first render). The"
echo "baseline is ports-mgmt/pkg's graph (one port) in the same view, browser and run: the view's fixed cost."
echo
echo "| Port | Drawn | Fetch and server layout | Drawing | **Time to first render** | ÷ baseline | Issue's bound |"
echo "|---|---|---:|---:|---:|---:|---|"
for p in ports-mgmt/pkg www/firefox x11/gnome; do
	paint=$(median "$p" paint)
	verdict="under 1 s: met"
	awk "BEGIN { exit !($paint >= 1000) }" && verdict="**not met** (1 s)"
	[ "$p" = ports-mgmt/pkg ] && verdict="baseline"
	echo "| $p | $(nodes "$p") | $(median "$p" fetch) ms | $(median "$p" draw) ms | **${paint} ms** | $(calc "$paint / $base") | $verdict |"
done
echo
