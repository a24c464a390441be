#!/usr/bin/env bash
# Measures bedrock-twin's zero-delay ConverseStream throughput with wrk over loopback.
#
# Usage: crates/bedrock-twin/bench/throughput.sh [DURATION_SECS] [CONNECTIONS] [THREADS]
# Env:   CARGO_TARGET_DIR (default: target), DELTAS (text deltas per reply, default 8)
#
# Builds the release binary, starts it on a free port in zero-delay mode, drives
# POST /model/{id}/converse-stream with bearer auth for a bounded time, prints requests/s and
# latency, and stops the twin.
set -euo pipefail

DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
THREADS="${3:-1}"
DELTAS="${DELTAS:-8}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found; installing it with apt-get" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release -q -p bedrock-twin --bin bedrock-twin)

WORK="$(mktemp -d)"
TWIN_PID=""
cleanup() {
  if [[ -n "$TWIN_PID" ]] && kill -0 "$TWIN_PID" 2>/dev/null; then
    kill -TERM "$TWIN_PID"
    wait "$TWIN_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$TARGET/release/bedrock-twin" --port 0 --zero-delay --deltas "$DELTAS" >"$WORK/out" 2>"$WORK/err" &
TWIN_PID=$!
URL=""
for _ in $(seq 1 100); do
  URL="$(sed -n 's/^bedrock-twin listening on //p' "$WORK/out")"
  [[ -n "$URL" ]] && break
  sleep 0.1
done
[[ -n "$URL" ]] || { echo "the twin did not start:"; cat "$WORK/err"; exit 1; }

cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer twin-bearer"
wrk.body = '{"messages":[{"role":"user","content":[{"text":"benchmark prompt for the twin"}]}],"inferenceConfig":{"maxTokens":512}}'
function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
    wrk.thread:stop()
  end
end
LUA

echo "twin at $URL (zero-delay, $DELTAS deltas/reply); wrk ${DURATION}s, $CONNECTIONS connections, $THREADS thread(s)"
wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --latency -s "$WORK/post.lua" \
  "$URL/model/anthropic.claude-3-5-haiku-20241022-v1:0/converse-stream" | tee "$WORK/wrk.txt"
RPS="$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.txt")"
echo "converse-stream throughput: ${RPS} req/s"
