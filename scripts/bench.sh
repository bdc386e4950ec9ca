#!/usr/bin/env bash
# `make bench`: installs what the load benchmark needs (wrk, redis-server,
# psql from Debian's packages) when missing, then runs tools/loadbench,
# which builds Blip, seeds the data, starts the servers and prints the
# table. docs/benchmarks.md describes it. Settings (environment or make
# variables, all optional):
#   BENCH_CONFIGS      postgres,sqlite        PostgreSQL + Redis, SQLite + in-process
#   BENCH_USERS        20000                  seeded users
#   BENCH_BLIPS        1000000                seeded blips
#   BENCH_FOLLOWS      50                     accounts each user follows
#   BENCH_DEPTH        5000                   blips before the deep pages
#   BENCH_CONNECTIONS  8                      concurrent connections
#   BENCH_DURATION     10s                    measured time per scenario
#   BENCH_WARMUP       2s                     unmeasured warm-up per scenario
#   BENCH_SOAK         2m                     mixed run checking RSS and goroutines (0 skips)
#   BENCH_DATABASE_URL postgres://postgres@127.0.0.1:5432/blip_bench?sslmode=disable
#   BENCH_OUT          bin/bench              binaries, data, profiles, results
#   PROFILE=1          CPU and allocation profiles per scenario
#   BENCH_SMOKE=1      seconds-long run on tiny data (checks the harness)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v redis-server >/dev/null || need+=(redis-server)
command -v psql >/dev/null || need+=(postgresql-client)
if ((${#need[@]})); then
	echo "installing ${need[*]} from Debian's packages"
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	# Another apt on the machine holds the lock for a while: wait for it.
	"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}" >/dev/null ||
		{ "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update >/dev/null &&
			"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}" >/dev/null; }
fi

flags=(-repo "$ROOT")
add() { [[ -z ${2:-} ]] || flags+=("$1" "$2"); }
add -configs "${BENCH_CONFIGS:-}"
add -users "${BENCH_USERS:-}"
add -blips "${BENCH_BLIPS:-}"
add -follows "${BENCH_FOLLOWS:-}"
add -depth "${BENCH_DEPTH:-}"
add -connections "${BENCH_CONNECTIONS:-}"
add -duration "${BENCH_DURATION:-}"
add -warmup "${BENCH_WARMUP:-}"
add -soak "${BENCH_SOAK:-}"
add -database-url "${BENCH_DATABASE_URL:-}"
[[ -z ${BENCH_OUT:-} ]] || flags+=(-out "$(realpath -m "$BENCH_OUT")")
[[ ${PROFILE:-0} == 0 ]] || flags+=(-profile)
[[ ${BENCH_SMOKE:-0} == 0 ]] || flags+=(-smoke)
exec go -C "$ROOT/tools" run ./loadbench "${flags[@]}"
