#!/usr/bin/env bash
# The build service (packages service and run, testing.B, as root): the
# latency of its endpoints during builds, beside a trivial handler, and how
# close POST /builds' estimated_duration comes to the run that follows.
# Prints a Markdown section for BENCHMARKS.md on stdout; progress goes to
# stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "service: running BenchmarkServiceAPIUnderBuild and BenchmarkEstimate (a few minutes)…" >&2
{
	go test -run '^$' -bench '^BenchmarkServiceAPIUnderBuild$' -benchtime 1x -count 1 -timeout 60m ./run/ &&
	go test -run '^$' -bench '^BenchmarkEstimate$' -benchtime 1x -count 3 -timeout 30m ./service/
} >"$out" 2>&1 || { cat "$out" >&2; exit 1; }

metric() {
	awk -v name="Benchmark$1" -v unit="$2" '
		$1 ~ "^"name"(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == unit) { print $i; exit } }' "$out"
}
# median BENCH UNIT: the median of UNIT over BENCH's result lines.
median() {
	awk -v name="Benchmark$1" -v unit="$2" '
		$1 ~ "^"name"(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == unit) print $i }' "$out" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }'
}

ap50=$(metric ServiceAPIUnderBuild api-p50-ms)
ap99=$(metric ServiceAPIUnderBuild api-p99-ms)
a503=$(metric ServiceAPIUnderBuild api-503)
tp50=$(metric ServiceAPIUnderBuild trivial-p50-ms)
tp99=$(metric ServiceAPIUnderBuild trivial-p99-ms)
builds=$(metric ServiceAPIUnderBuild builds)
r1=$(median Estimate estimate/actual-round1)
r2=$(median Estimate estimate/actual-round2)
r3=$(median Estimate estimate/actual-round3)
a2=$(median Estimate actual-s-round2)
e2=$(median Estimate estimate-s-round2)
ports=$(median Estimate ports)
for v in ap50 ap99 a503 tp50 tp99 builds r1 r2 r3 a2 e2 ports; do
	[ -n "${!v}" ] || { echo "service: benchmark result $v missing" >&2; cat "$out" >&2; exit 1; }
done

awk -v ap50="$ap50" -v ap99="$ap99" -v a503="$a503" -v tp50="$tp50" -v tp99="$tp99" -v builds="$builds" \
	-v r1="$r1" -v r2="$r2" -v r3="$r3" -v a2="$a2" -v e2="$e2" -v ports="$ports" \
	-v cpu="$(awk -F': ' '/^cpu:/ {print $2; exit}' "$out")" -v date="$(date -u +%Y-%m-%d)" '
function verdict(ok) { return ok ? "met" : "**missed**" }
BEGIN {
	print "## The build service"
	print ""
	printf "Packages `run` and `service`, measured with `testing.B` on %s, %s, as root, Linux sandboxes, 2 builders.\n", cpu, date
	print ""
	print "- **Its endpoints under builds** (`BenchmarkServiceAPIUnderBuild`): as the owner'"'"'s benchmark above — 1,000,000 records,"
	print "  forces of three ports one after the other, 1,000 requests/s open loop for 10 s over the owner'"'"'s socket, latency from"
	print "  the scheduled send time — over the new endpoints in turn: `GET /builds`, `/builds/{id}`, `/queue`, `/workers`,"
	print "  `/packages?limit=100`, `/packages/misc/hello/status` (with the planner'"'"'s reason) and `/stats/today`; the trivial"
	print "  handler measured in turns with it under the same builds."
	printf "- **estimated_duration** (`BenchmarkEstimate`, 3 runs, medians): %d ports (7 targets and their dependencies) built from an\n", ports
	print "  empty repository three times through the service; the estimate is what `POST /builds` answered, the actual the"
	print "  span of the run that followed. Round 1 has no recorded durations: the scheduler guesses from the scan, tuned for"
	print "  real ports (about a minute each), while the test tree'"'"'s ports build in a fraction of a second; rounds 2 and 3"
	print "  run the scheduler over the durations recorded before."
	print ""
	print "| Measure | Result | Target | Verdict |"
	print "|---|---:|---:|---|"
	printf "| New endpoints: API latency p99 during builds, 1,000 requests/s | %.1f ms | ≤ 10 ms, no 503 | %s |\n", ap99, verdict(ap99 <= 10 && a503 == 0)
	printf "| New endpoints: API latency p50 | %.1f ms | – | – |\n", ap50
	printf "| New endpoints: API p99 / trivial handler p99 (same run) | %.2f× | – | – |\n", ap99 / tp99
	printf "| estimated / actual, with recorded durations (round 2) | %.2f | – | – |\n", r2
	printf "| estimated / actual, with recorded durations (round 3) | %.2f | – | – |\n", r3
	printf "| estimated / actual, no history (round 1: scan guesses) | %.1f | – | – |\n", r1
	print ""
	print "| Baseline | Value |"
	print "|---|---:|"
	printf "| Trivial handler (\"ok\"), same generator, same builds: p50 / p99 | %.2f ms / %.1f ms |\n", tp50, tp99
	printf "| Builds finished during the latency measurement | %d |\n", builds
	printf "| Round 2: estimated / took (median) | %.2f s / %.2f s |\n", e2, a2
	print ""
}'
