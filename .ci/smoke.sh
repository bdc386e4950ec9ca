#!/usr/bin/env bash
# .ci/smoke.sh: build blip, start it with embedded defaults (SQLite blip.db in
# a temporary directory, in-memory caches) on a free loopback port, wait for
# /health/ to answer 200, send SIGTERM and require a clean exit (code 0)
# within SHUTDOWN_TIMEOUT. Prints the server's log on any failure.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

SHUTDOWN_TIMEOUT_SECONDS=10
tmp=$(mktemp -d)
pid=""
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "SMOKE FAIL: $*"
	echo "----- blip log -----"
	cat "$tmp/blip.log" 2>/dev/null || true
	echo "--------------------"
	exit 1
}

free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
		return
	fi
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

go build -o "$tmp/blip" ./cmd/blip
"$tmp/blip" version || fail "blip version exited non-zero"

port=$(free_port)
addr=127.0.0.1:$port
echo "starting blip on $addr in $tmp"
(
	cd "$tmp"
	# A clean environment: only what the embedded defaults need.
	exec env -i PATH="$PATH" HOME="$tmp" HTTP_ADDR="$addr" SHUTDOWN_TIMEOUT="${SHUTDOWN_TIMEOUT_SECONDS}s" \
		./blip serve >"$tmp/blip.log" 2>&1
) &
pid=$!

deadline=$((SECONDS + 30))
status=""
while ((SECONDS < deadline)); do
	kill -0 "$pid" 2>/dev/null || fail "blip exited before /health/ answered"
	status=$(curl -s -o "$tmp/health.json" -w '%{http_code}' "http://$addr/health/" || true)
	[[ $status == 200 ]] && break
	sleep 0.3
done
[[ $status == 200 ]] || fail "/health/ did not answer 200 within 30s (last status: ${status:-none})"
echo "/health/ -> 200: $(head -c 300 "$tmp/health.json")"

live=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/health/live" || true)
[[ $live == 200 ]] || fail "/health/live answered ${live:-nothing}, want 200"
echo "/health/live -> 200"

[[ -f $tmp/blip.db ]] || fail "embedded default did not create blip.db in the working directory"

kill -TERM "$pid"
deadline=$((SECONDS + SHUTDOWN_TIMEOUT_SECONDS + 5))
while kill -0 "$pid" 2>/dev/null; do
	((SECONDS < deadline)) || fail "blip still running $((SHUTDOWN_TIMEOUT_SECONDS + 5))s after SIGTERM"
	sleep 0.2
done
set +e
wait "$pid"
rc=$?
set -e
pid=""
[[ $rc == 0 ]] || fail "blip exited with code $rc after SIGTERM, want 0"
echo "SIGTERM -> clean exit (code 0)"
echo "smoke test passed"
