#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a bounded time each (make
# fuzz, part of make test). `go test -fuzz` takes one package and one
# target at a time, so this loops over the package:target pairs below.
#
#   FUZZTIME   time per target (default 10s)
#   GO         the go command (default go)
#
# A crasher fails the run: go test saves it as
# PKG/testdata/fuzz/TARGET/HASH; fix the bug, keep the file (it is then a
# regression test that plain `go test` runs) and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
GO=${GO:-go}

targets=(
	./config:FuzzParseINI
	./ports:FuzzParseOrigin
	./ports:FuzzParseDepends
	./ports:FuzzParseScanOutput
	./builddb:FuzzParseLegacyHash
	./api:FuzzParseQuery
	./auth:FuzzParseKeys
	./auth:FuzzVerifyToken
)

# Every target of the module is listed: a new one must be added here.
missing=0
while IFS=: read -r file name; do
	pkg="./$(dirname "$file")"
	if ! printf '%s\n' "${targets[@]}" | grep -qx "$pkg:$name"; then
		echo "fuzz.sh: $file has $name, which the targets list of scripts/fuzz.sh lacks" >&2
		missing=1
	fi
done < <(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | sed 's|^\./||; s|:func |:|')
[ "$missing" = 0 ] || exit 1

for t in "${targets[@]}"; do
	pkg=${t%%:*} name=${t#*:}
	echo "fuzz: $pkg $name for $FUZZTIME"
	# -run '^$': the package's other tests run in make race; the
	# target's seed corpus still runs first.
	$GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5s "$pkg"
done
