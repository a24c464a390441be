#!/usr/bin/env bash
# Runs the boto3 interop test: builds bedrock-twin, creates (or reuses) a venv with the pinned
# boto3, and runs test_twin.py against the binary. The last line of output is `N passed, N failed`.
#
# Usage: crates/bedrock-twin/interop/run.sh [VENV_DIR]
# Env:   CARGO_TARGET_DIR (default: <repo>/target), PYTHON (default: python3),
#        PINCER_VECTORS (vectors folder; default ../shared/vectors next to the repository)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${1:-$TARGET/interop-venv}"

(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build -q -p bedrock-twin --bin bedrock-twin)
if [[ ! -x "$VENV/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
exec "$VENV/bin/python" "$HERE/test_twin.py" --twin "$TARGET/debug/bedrock-twin"
