#!/usr/bin/env bash
# .ci/go-toolchain.sh: prints the GOTOOLCHAIN value CI builds with, so that
# CI compiles, vets, tests and scans Blip with at least the patched Go
# release named by go.mod's `toolchain` line, even on a machine whose own Go
# is older (or whose go.env says GOTOOLCHAIN=local, which ignores that line).
#
#   export GOTOOLCHAIN=$(bash .ci/go-toolchain.sh)        # .ci/run
#   echo "GOTOOLCHAIN=$(bash .ci/go-toolchain.sh)" >>"$GITHUB_ENV"   # Actions
#
# It prints "auto" (the installed Go, or a newer one if a go.mod demands it)
# when the installed Go is already at least as new as the toolchain line
# (GitHub's setup-go installs the newest patch release), and otherwise the
# toolchain line's release ("go1.26.11+auto"), which the go command fetches
# from the module proxy once per machine (checked here, so the download
# happens now and its failure is reported once). When that release cannot
# be had it prints "local" (as "auto" would try the same fetch) and a
# warning on stderr: the build goes on with the installed Go, and the
# govulncheck step then fails on any standard-library advisory the older
# release still has.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(sed -n 's/^toolchain[[:space:]]\{1,\}\(go[0-9][^[:space:]]*\)[[:space:]]*$/\1/p' go.mod)
have=$(GOTOOLCHAIN=local go env GOVERSION)
if [[ -z $want ]]; then
	echo "go.mod has no toolchain line: building with the installed $have" >&2
	echo auto
	exit 0
fi
# sort -V orders go1.26.8 before go1.26.11.
if [[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | tail -1) == "$have" ]]; then
	echo "installed $have is at least go.mod's toolchain $want" >&2
	echo auto
	exit 0
fi
if GOTOOLCHAIN=$want go version >/dev/null 2>&1; then
	echo "installed Go is $have; building with go.mod's toolchain $want" >&2
	echo "$want+auto"
	exit 0
fi
echo "WARNING: go.mod asks for $want but it could not be fetched from the module proxy;" \
	"building with the installed $have, which may lack its security fixes" >&2
echo local
