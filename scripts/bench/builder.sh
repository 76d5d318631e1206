#!/usr/bin/env bash
# Builder overhead (issue 6): 1,000 no-op ports built with 2 workers in
# Linux sandboxes (needs root). The make phases' own time is the baseline
# measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${DSYNTH_NOOP_PORTS:-1000}"
out=$(DSYNTH_NOOP_PORTS=$n go test -run XXX -bench BenchmarkBuilderOverhead -benchtime 1x -timeout 60m ./builder 2>&1) || { echo "$out" >&2; exit 1; }
line=$(echo "$out" | grep '^BenchmarkBuilderOverhead')
metric() { echo "$line" | awk -v m="$1" '{for (i=1;i<=NF;i++) if ($i==m) print $(i-1)}'; }
p50=$(metric overhead-p50-ms); p99=$(metric overhead-p99-ms); ph=$(metric phases-p50-ms); ppm=$(metric pkgs/min)
ok=$(python3 -c "print('yes' if $p50 <= 50 else '**no**')")
echo "## Builder overhead per port"
echo
echo "$n no-op ports (metaports of the project tree's framework: every phase runs, none does work), 2 workers, each in a fresh Linux sandbox."
echo "Overhead is everything except the make phases: slot set-up and teardown, make.conf, package copy into the repository."
echo
echo "| measurement | value | target | met |"
echo "|---|---|---|---|"
echo "| builder overhead per port, p50 | $p50 ms | ≤ 50 ms | $ok |"
echo "| builder overhead per port, p99 | $p99 ms | | |"
echo "| baseline: the port's 17 make phases, p50 | $ph ms | | |"
echo "| overhead ÷ make phases (p50) | $(python3 -c "print(f'{$p50/$ph:.2f}')") | | |"
echo "| packages per minute, 2 workers | $ppm | | |"
