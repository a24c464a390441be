#!/usr/bin/env bash
# The soak run, one command: builds release binaries, then drives a Pincer gateway in front of
# the Bedrock twin on loopback with a steady mix of streamed and plain requests, one in 20 with
# an injected fault, for a bounded time (10 minutes by default), and prints requests served,
# errors outside the injected faults (must be 0), resident memory and open file descriptors at
# the start and the end. It exits non-zero when a check fails, and stops everything it started.
#   bash bench/soak.sh                        # 10 minutes at 50 req/s
#   bash bench/soak.sh --soak-minutes 2       # shorter
#   bash bench/soak.sh --soak-rate 200 --fault-every 10 --out soak.md
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p pincer-cli -p bedrock-twin -p pincer-bench
exec target/release/pincer-bench --bin-dir target/release soak "$@"
