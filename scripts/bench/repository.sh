#!/usr/bin/env bash
# Measures atomic publishing (package repository): a generation of 1,000
# and of 30,000 packages published (staging by hard links, one new
# package, manifest, signature, rename, switch, pruning to 3) against
# `cp -a` of the same repository, the same number of runs, interleaved
# (alternating which goes first); medians. Prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${DSYNTH_REPO_BENCH_RUNS:-5}
SIZES=${DSYNTH_REPO_BENCH_SIZES:-"1000:65536 30000:2048"}

echo "repository: publishing vs cp -a, $RUNS interleaved runs per size…" >&2
lines=$(DSYNTH_REPO_BENCH_RUNS=$RUNS DSYNTH_REPO_BENCH_SIZES=$SIZES go test -count=1 -timeout 30m -run '^TestBenchPublishReport$' ./repository -v 2>&1 | grep '^BENCH|' || true)
echo "## Atomic publishing"
echo
if [ -z "$lines" ]; then
	echo "The benchmark did not run (go test -run TestBenchPublishReport ./repository failed)."
	exit 0
fi
echo "Package \`repository\` (\`Repository_publish= atomic\`) on $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}') in \`${TMPDIR:-/tmp}\`: publishing a"
echo "generation after a run that added one package — the staging copy made by hard links from the served generation,"
echo "the SHA-256 manifest (hashes of files still linked to the previous generation reused from its manifest), its"
echo "signify signature, the rename to the next number, the switch of the symlink, and pruning to 3 generations —"
echo "against \`cp -a\` of the same repository (the same bytes copied), $RUNS runs of each, interleaved, alternating"
echo "which goes first; medians. Synthetic packages of a fixed size; \"first publish\" is the one publish that hashes"
echo "every file (after the adoption, with no manifest to reuse), measured once."
echo
echo "| Packages | Package size | Publish (median) | \`cp -a\` (median) | Publish / cp | First publish (every file hashed) |"
echo "|---:|---:|---:|---:|---:|---:|"
while IFS='|' read -r _ n size runs pub cp first; do
	awk -v n="$n" -v size="$size" -v pub="$pub" -v cp="$cp" -v first="$first" '
	function commas(x,  s) { s = sprintf("%d", x); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }
	BEGIN {
		printf "| %s | %d KiB | %.1f ms | %.1f ms | %.2f | %.1f ms |\n", commas(n), size/1024, pub, cp, pub/cp, first
	}'
done <<<"$lines"
echo
echo "Publishing costs a few system calls per file (a link into the staging copy, two stats for the manifest, and the"
echo "unlink of the generation pruned) and reads only the new package, where \`cp -a\` reads and writes every byte and"
echo "copies each file's metadata: its time grows with the number of files, not with their size."
