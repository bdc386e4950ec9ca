#!/usr/bin/env bash
# .ci/fuzz.sh: runs every fuzz target of the module for a short while each
# (FUZZTIME, default 3s), one `go test -fuzz` per target as Go requires.
# Targets are found, not listed, so a new Fuzz function is fuzzed in CI
# without anyone remembering to add it. Seed corpora live in each package's
# testdata/fuzz/<Target>/ (committed) and run as ordinary tests in `make
# test` too; an input that makes a target fail is written there by Go:
# commit it with the fix. Usage: bash .ci/fuzz.sh [go test flags…]
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-3s}
mapfile -t targets < <(
	grep -rH --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' cmd internal |
		sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#./\1 \2#' | sort -u
)
if ((${#targets[@]} == 0)); then
	echo "fuzz: no targets found" >&2
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${FUZZTIME} each"
failed=0
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	start=$SECONDS
	if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$@" "$pkg" >/tmp/blip-fuzz.$$ 2>&1; then
		printf 'ok    %-40s %-24s %3ss\n' "$pkg" "$name" $((SECONDS - start))
	else
		printf 'FAIL  %-40s %-24s %3ss\n' "$pkg" "$name" $((SECONDS - start))
		cat /tmp/blip-fuzz.$$
		failed=1
	fi
done
rm -f /tmp/blip-fuzz.$$
exit $failed
