#!/usr/bin/env bash
# Measures the Linux build environment: slot set-up + teardown (p50/p99 over
# $DSYNTH_ENV_BENCH_RUNS runs, default 200) and a trivial command inside a
# slot versus the same command run directly, in the same run; then the same
# comparison end to end through `dsynth exec`. Prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${DSYNTH_ENV_BENCH_RUNS:-200}
E2E=${DSYNTH_ENV_BENCH_E2E:-50}

echo "## Build environments"
echo
if [ "$(uname -s)" != Linux ] || [ "$(id -u)" != 0 ]; then
	echo "Skipped: needs Linux and root (ran on $(uname -s) as uid $(id -u))."
	exit 0
fi

declare -A B
while IFS='|' read -r _ k v; do
	B[$k]=$v
done < <(DSYNTH_ENV_BENCH_RUNS=$RUNS go test -count=1 -run '^TestBenchReport$' ./environment/linux -v 2>&1 | grep '^BENCH|')
if [ -z "${B[cycle_p50]:-}" ]; then
	echo "The benchmark did not run (go test -run TestBenchReport ./environment/linux failed)."
	exit 0
fi

# End to end: the dsynth binary, a throw-away profile, `dsynth exec /bin/true`
# (config load, template check, set-up, command, teardown) vs /bin/true.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dsynth" ./cmd/dsynth
mkdir -p "$tmp"/{conf,ports,options,packages,distfiles,build,logs,repo}
cat > "$tmp/conf/dsynth.ini" <<INI
[Global Configuration]
profile_selected=Bench

[Bench]
Directory_buildbase=$tmp/build
Directory_portsdir=$tmp/ports
Directory_options=$tmp/options
Directory_packages=$tmp/packages
Directory_distfiles=$tmp/distfiles
Directory_logs=$tmp/logs
Directory_repository=$tmp/repo
Directory_system=/
INI
"$tmp/dsynth" -C "$tmp/conf" exec /bin/true # builds the template once
stats() { # prints p50 and p99 in ms of the nanosecond values on stdin
	sort -n | awk '{a[NR]=$1} END {i50=int(NR*0.5+0.5); i99=int(NR*0.99+0.5); if (i50<1) i50=1; if (i99<1) i99=1; printf "%.2f %.2f", a[i50]/1e6, a[i99]/1e6}'
}
e2e_in=$(for _ in $(seq "$E2E"); do s=$(date +%s%N); "$tmp/dsynth" -C "$tmp/conf" exec /bin/true; echo $(($(date +%s%N) - s)); done | stats)
e2e_out=$(for _ in $(seq "$E2E"); do s=$(date +%s%N); /bin/true; echo $(($(date +%s%N) - s)); done | stats)

verdict="meets"
awk -v p="${B[cycle_p50]}" 'BEGIN {exit !(p > 20)}' && verdict="misses"

cat <<MD
Linux backend (\`environment/linux\`), $(nproc) CPUs, kernel $(uname -r), as root; template $( [ "${B[overlay]}" = true ] && echo "overlaid (overlayfs)" || echo "copied (no overlayfs)").

| Measure | p50 | p99 |
|---|---|---|
| Slot set-up + teardown (${B[runs]} runs; namespaces, tmpfs root, template, binds, /dev, /proc, pivot_root) | ${B[cycle_p50]} ms | ${B[cycle_p99]} ms |
| \`/bin/true\` inside a ready slot (Execute round trip, ${B[runs]} runs) | ${B[inside_p50]} ms | ${B[inside_p99]} ms |
| \`/bin/true\` run directly (same run, baseline) | ${B[outside_p50]} ms | ${B[outside_p99]} ms |
| \`dsynth exec /bin/true\` end to end ($E2E runs: config, set-up, command, teardown) | ${e2e_in% *} ms | ${e2e_in#* } ms |
| \`/bin/true\` from the shell (same run, baseline) | ${e2e_out% *} ms | ${e2e_out#* } ms |

Set-up + teardown p50 ${B[cycle_p50]} ms $verdict the 20 ms target. Per command, a slot adds
about $(awk -v a="${B[inside_p50]}" -v b="${B[outside_p50]}" 'BEGIN {printf "%.2f", a-b}') ms at p50 over running it directly.
MD
