#!/usr/bin/env bash
# Scheduler benchmarks for BENCHMARKS.md: quality of the scheduling
# policies in a discrete-event simulation over the real FreeBSD 2023Q3
# dependency graph, and the scheduler's decision time for the whole graph.
# Prints a Markdown section on stdout; takes about a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

data="${DSYNTH_SHARED_TESTDATA:-../shared/testdata}"
graph="$data/freebsd-depgraph-2023q3.jsonl.xz"

echo "## Scheduler"
echo
if [[ ! -f "$graph" ]]; then
	echo "_Skipped: $graph not found (set DSYNTH_SHARED_TESTDATA)._"
	echo
	exit 0
fi
data="$(cd "$data" && pwd)" # go test runs in the package directory
graph="$data/freebsd-depgraph-2023q3.jsonl.xz"

go run ./builder/sched/sim/schedsim -graph "$graph" -seeds "${SCHED_SEEDS:-5}"

echo "### Scheduler decision time (whole graph)"
echo
echo "\`go test -bench BenchmarkDecisions ./builder/sched/sim\`: every scheduling decision of one full simulated run"
echo "over all ports at 128 workers (graph preparation, bottom levels, every Next and Done), ±50 % duration error."
echo "Target: ≤ 1 s. ns/op also counts the event simulation around the scheduler."
echo
echo "| Policy | Ports | Scheduler time per run | Whole simulated run |"
echo "|---|---:|---:|---:|"
DSYNTH_SHARED_TESTDATA="$data" go test -run '^$' -bench BenchmarkDecisions -benchtime "${SCHED_BENCHTIME:-5x}" ./builder/sched/sim/ |
	awk '/^BenchmarkDecisions\// {
		name = $1; sub(/^BenchmarkDecisions\//, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 2; i < NF; i++) {
			if ($(i+1) == "ns/op") ns = $i
			if ($(i+1) == "ports") ports = $i
			if ($(i+1) == "sched-s/run") sched = $i
		}
		printf "| %s | %d | %.1f ms | %.1f ms |\n", name, ports, sched * 1000, ns / 1e6
		rows++
	}
	END { if (rows == 0) { print "benchmark produced no results" > "/dev/stderr"; exit 1 } }'
echo
