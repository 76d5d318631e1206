#!/usr/bin/env bash
# Observers and the recorder (issue "One owner of the build base"): how long
# the build's publishers wait on the observers during a real force of the
# test tree (needs root), and the recorder's throughput under group commit.
# Both baselines run in the same run, interleaved with the subject.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${DSYNTH_BENCH_RUNS:-3}"
out=$(go test -run XXX -bench BenchmarkObserverWait -benchtime "${runs}x" -timeout 60m ./run 2>&1) || { echo "$out" >&2; exit 1; }
line=$(echo "$out" | grep '^BenchmarkObserverWait')
metric() { echo "$line" | awk -v m="$1" '{for (i=1;i<=NF;i++) if ($i==m) print $(i-1)}'; }
ap99=$(metric async-p99-ms); amax=$(metric async-max-ms); ip99=$(metric inline-p99-ms); imax=$(metric inline-max-ms); n=$(metric publishes)
ok=$(python3 -c "print('met' if $ap99 <= 1 else '**missed**')")
echo "## Observers: how long a slot waits on them"
echo
echo "A force of the test tree's 30 buildable ports (2 workers, Linux sandboxes) with every observer of a real run: the recorder (bbolt, fsync), dsynth's logs, the report, the API."
echo "Each Publish is timed (\`events.Bus.ObservePublish\`). Subject: the asynchronous bus (each subscriber its own queue and goroutine; the recorder group-commits)."
echo "Baseline, interleaved with the subject, $runs runs each: an \`Inline\` bus that delivers inside Publish as go-dsynth's first bus did, with the"
echo "per-record writes of the recorder before group commit (a transaction and an fsync per record and per inputs entry, SHA-256 of the package) done inside Publish."
echo
echo "| measure | asynchronous bus | baseline (inline, per-record writes) | target | verdict |"
echo "|---|---:|---:|---:|---|"
echo "| Publish wait, p99 ($n publishes per run) | $ap99 ms | $ip99 ms | ≤ 1 ms | $ok |"
echo "| Publish wait, max | $amax ms | $imax ms | | |"
echo "| p99 baseline ÷ subject | $(python3 -c "print(f'{$ip99/$ap99:.0f}×')") | | | |"
echo
out=$(go test -run XXX -bench 'BenchmarkRecorder' -benchtime 10x -count "$runs" -timeout 30m ./builder/recorder 2>&1) || { echo "$out" >&2; exit 1; }
echo "## Recorder: group commit"
echo
echo "100 built ports per run handed to the recorder, fsync on; subject: \`builder/recorder\` (one transaction for everything pending);"
echo "baseline in the same benchmark, same runs: the per-record recorder go-dsynth had before (a transaction per record, per inputs entry, per run update)."
echo "\"burst\": every event of a run at once (the best case); \"serial\": each port's events after the previous commit (the worst case: nothing to group)."
echo "\"transient\": the file opened per transaction, as the build used to; otherwise kept open, as the owner does. Medians of $runs."
echo
echo "| case | group commit, records/s | per-record, records/s | ratio | commits per run |"
echo "|---|---:|---:|---:|---:|"
echo "$out" | grep '^BenchmarkRecorder/' | python3 -c '
import sys, re, statistics
rows = {}
for line in sys.stdin:
    f = line.split()
    name = re.sub(r"-\d+$", "", f[0]).replace("BenchmarkRecorder/", "")
    m = {f[i+1]: float(f[i]) for i in range(2, len(f)-1) if not re.match(r"^[\d.e+-]+$", f[i+1])}
    rows.setdefault(name, []).append(m)
for name, ms in rows.items():
    g = statistics.median(m["group-records/s"] for m in ms)
    p = statistics.median(m["per-record-records/s"] for m in ms)
    c = statistics.median(m["group-commits/run"] for m in ms)
    print(f"| {name} | {g:.0f} | {p:.0f} | {g/p:.1f}× | {c:.0f} |")
'
