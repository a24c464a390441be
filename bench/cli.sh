#!/usr/bin/env bash
# Times the CLI against the Bedrock twin on loopback with hyperfine: `pincer --version`, a warm
# `pincer models list` (discovery cache fresh: no network), a cold one (cache removed before each
# run: ListFoundationModels + ListInferenceProfiles against the twin), and a one-shot
# `pincer chat -m hi`. Prints hyperfine's table (median and spread) and cleans up after itself.
# Usage: bash bench/cli.sh [RUNS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"

if ! command -v hyperfine >/dev/null 2>&1; then
    echo "installing hyperfine (apt-get)" >&2
    apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null
fi
cargo build --release --locked -q -p pincer-cli -p bedrock-twin
bin="$PWD/target/release"
work="$(mktemp -d)"
twin_pid=""
cleanup() {
    [ -n "$twin_pid" ] && kill "$twin_pid" 2>/dev/null && wait "$twin_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$bin/bedrock-twin" --port 0 --zero-delay >"$work/twin.out" 2>&1 &
twin_pid=$!
for _ in $(seq 50); do grep -q "listening on" "$work/twin.out" && break; sleep 0.1; done
url="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/twin.out" | head -n 1)"
export PINCER_HOME="$work/pincer" AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKIDTWIN AWS_SECRET_ACCESS_KEY=twin-secret
export AWS_ENDPOINT_URL_BEDROCK="$url" AWS_ENDPOINT_URL_BEDROCK_RUNTIME="$url"
"$bin/pincer" -q config set models.bedrockDiscovery.enabled true
"$bin/pincer" -q config set agents.defaults.model.primary amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0
"$bin/pincer" models list >/dev/null

echo "machine: $(nproc) cores; $runs runs each"
# One --prepare per command, in order: only the cold listing loses its cache before each run.
hyperfine -N --warmup 3 --runs "$runs" --style basic --export-json "$work/times.json" \
    --prepare true --prepare true --prepare "rm -rf $PINCER_HOME/cache" --prepare true \
    --command-name "pincer --version" "$bin/pincer --version" \
    --command-name "models list (warm)" "$bin/pincer models list" \
    --command-name "models list (cold)" "$bin/pincer models list" \
    --command-name "chat -m hi" "$bin/pincer chat -m hi"
python3 - "$work/times.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
print("| command | median ms | min ms | max ms |")
print("|---|---:|---:|---:|")
for r in results:
    print(f"| {r['command']} | {r['median'] * 1000:.1f} | {r['min'] * 1000:.1f} | {r['max'] * 1000:.1f} |")
PY
