#!/usr/bin/env bash
# Access control (issue 13): what each authentication method costs per
# request against the same request without credentials, and the API's
# latency during builds with every guard on (keys, Host check, rate
# limiter, connection caps, audit log) against the same owner's socket,
# where none runs. Prints a Markdown section for BENCHMARKS.md on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=$(mktemp)
api=$(mktemp)
trap 'rm -f "$out" "$api"' EXIT
runs=7

echo "auth: BenchmarkAuthenticate, $runs interleaved runs…" >&2
go test -run '^$' -bench '^BenchmarkAuthenticate$' -benchtime 3000x -count "$runs" ./api/ >"$out" 2>&1 ||
	{ cat "$out" >&2; exit 1; }
echo "auth: BenchmarkGuardedAPIUnderBuild (a few minutes)…" >&2
go test -run '^$' -bench '^BenchmarkGuardedAPIUnderBuild$' -benchtime 1x -count 1 -timeout 60m ./run/ >"$api" 2>&1 ||
	{ cat "$api" >&2; exit 1; }

# median of the ns/op of sub-benchmark $1
median() {
	awk -v name="BenchmarkAuthenticate/$1" '$1 ~ "^"name"(-[0-9]+)?$" { print $3 }' "$out" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
metric() {
	awk -v name="Benchmark$1" -v unit="$2" '
		$1 ~ "^"name"(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == unit) { print $i; exit } }' "$api"
}

# calc EXPR: a floating-point expression, by awk.
calc() { awk "BEGIN { print $1 }"; }

none=$(median none)
echo "## Access control"
echo
echo "Package \`api\`, \`BenchmarkAuthenticate\` on $(awk -F': ' '/^cpu:/ {print $2; exit}' "$out"), $(date -u +%Y-%m-%d): one request through"
echo "the API's handler to a route that answers \"ok\" without reading anything, so that what differs is the authentication."
echo "The methods take turns ($runs runs of 3,000 requests each, interleaved); medians, and each against the request without"
echo "credentials (anonymous reading) measured in the same runs."
echo
echo "| Method | Median per request | Against no credentials |"
echo "|---|---:|---:|"
printf "| none (anonymous reading, the baseline) | %.1f µs | 1.00× |\n" "$(calc "$none / 1000")"
for m in key hs256 rs256 eddsa oidc mtls; do
	v=$(median "$m" 2>/dev/null) || continue
	case $m in
	key) label="API key (SHA-256, constant-time compare)" ;;
	hs256) label="JWT, HS256" ;;
	rs256) label="JWT, RS256 (2048-bit key)" ;;
	eddsa) label="JWT, EdDSA (Ed25519)" ;;
	oidc) label="OIDC bearer token, JWKS cached" ;;
	mtls) label="mTLS client certificate mapping" ;;
	esac
	printf "| %s | %.1f µs | %.2f× |\n" "$label" "$(calc "$v / 1000")" "$(calc "$v / $none")"
done
echo
g99=$(metric GuardedAPIUnderBuild guarded-p99-ms)
g50=$(metric GuardedAPIUnderBuild guarded-p50-ms)
s99=$(metric GuardedAPIUnderBuild socket-p99-ms)
s50=$(metric GuardedAPIUnderBuild socket-p50-ms)
g503=$(metric GuardedAPIUnderBuild guarded-503)
aud=$(metric GuardedAPIUnderBuild audited)
nb=$(metric GuardedAPIUnderBuild builds)
for v in g99 g50 s99 s50 g503 aud nb; do
	[ -n "${!v}" ] || { echo "auth: benchmark result $v missing" >&2; cat "$api" >&2; exit 1; }
done
echo "Package \`run\`, \`BenchmarkGuardedAPIUnderBuild\`, as root: the owner of a build base with 1,000,000 records runs forces of"
echo "three ports one after the other while an open-loop generator sends 1,000 requests/s for 10 s (\`GET /api/v1/status\`,"
echo "\`GET /api/v1/records\`, and one request in twenty a \`POST /api/v1/builds\` that the audit log records), in five turns"
echo "interleaved with the same load on the owner's Unix socket (no key, no rate limit, no Host check, no audit)."
echo "The TCP listener checks an API key on every request, the Host, the per-principal rate limiter (set to 5,000/s, so it runs"
echo "and refuses nothing), the connection caps (256 in all, 192 per address: they count but do not bind), and writes the audit log ($aud entries, the socket's writes included)."
echo
echo "| Measure | Guarded TCP listener | Owner's socket (baseline) | Ratio |"
echo "|---|---:|---:|---:|"
printf "| p99 latency | %.1f ms | %.1f ms | %.2f× |\n" "$g99" "$s99" "$(calc "$g99 / $s99")"
printf "| p50 latency | %.1f ms | %.1f ms | %.2f× |\n" "$g50" "$s50" "$(calc "$g50 / $s50")"
printf "| 503 answers | %.0f | – | – |\n" "$g503"
printf "| builds finished during the measurement | %.0f | | |\n" "$nb"
