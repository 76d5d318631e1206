#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a bounded amount of work
# (make fuzz, part of make test). `go test -fuzz` takes one package and
# one target at a time, so this loops over the package:target:budget
# triples below.
#
# The budgets are execution counts (-fuzztime Nx), sized for about ten
# seconds each on two busy cores: a count does not race the wall clock,
# and Go 1.26's duration limit can fail a target with a bare "context
# deadline exceeded" when its workers are starved at the deadline
# (go.dev/issue/75804, fixed in Go 1.27).
#
#   FUZZTIME   one -fuzztime for every target instead (3m, 500000x)
#   GO         the go command (default go)
#
# A crasher fails the run: go test saves it as
# PKG/testdata/fuzz/TARGET/HASH; fix the bug, keep the file (it is then a
# regression test that plain `go test` runs) and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-}
GO=${GO:-go}

targets=(
	./config:FuzzParseINI:200000x
	./ports:FuzzParseOrigin:150000x
	./ports:FuzzParseDepends:150000x
	./ports:FuzzParseScanOutput:150000x
	./builddb:FuzzParseLegacyHash:60000x
	./api:FuzzParseQuery:30000x
	./auth:FuzzParseKeys:60000x
	./auth:FuzzVerifyToken:30000x
)

# Every target of the module is listed: a new one must be added here.
missing=0
while IFS=: read -r file name; do
	pkg="./$(dirname "$file")"
	if ! printf '%s\n' "${targets[@]}" | grep -q "^$pkg:$name:"; then
		echo "fuzz.sh: $file has $name, which the targets list of scripts/fuzz.sh lacks" >&2
		missing=1
	fi
done < <(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | sed 's|^\./||; s|:func |:|')
[ "$missing" = 0 ] || exit 1

for t in "${targets[@]}"; do
	IFS=: read -r pkg name budget <<<"$t"
	budget=${FUZZTIME:-$budget}
	echo "fuzz: $pkg $name for $budget"
	# -run '^$': the package's other tests run in make race; the
	# target's seed corpus still runs first.
	$GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$budget" -fuzzminimizetime 5s "$pkg"
done
