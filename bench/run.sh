#!/usr/bin/env bash
# Pincer's benchmark suite, one command: builds release binaries, runs the criterion hot-path
# micro-benchmarks, then pincer-bench (overhead, streaming fidelity, concurrency and memory, CLI)
# against the Bedrock twin on loopback, and prints one markdown report. Every process it starts
# is stopped when it ends. Arguments go to pincer-bench, e.g.:
#   bash bench/run.sh                                   # default run (about 8 minutes on 2 cores)
#   bash bench/run.sh --compare litellm --out report.md # LiteLLM's proxy side by side
#   bash bench/run.sh overhead --rates 1000 --seconds 5 # one scenario, shorter
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p pincer-cli -p bedrock-twin -p pincer-bench
# 5,000 streams need 5,000 client sockets plus the gateway's and the twin's.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$#" -eq 0 ] || [[ " $* " == *" all "* ]] || [[ " $* " == *" micro "* ]] || [[ "${1:-}" == -* ]]; then
    cargo bench --locked -q -p pincer-bench --bench hot_path -- --warm-up-time 1 --measurement-time 3 >/dev/null
fi
# The report names the command that produced it.
PINCER_BENCH_COMMAND="bash bench/run.sh${*:+ $*}" exec target/release/pincer-bench --bin-dir target/release "$@"
