#!/usr/bin/env python3
"""Interop test: schemathesis against the live gateway's own `/openapi.json`.

Usage: python test_schemathesis.py --twin PATH_TO_BEDROCK_TWIN [--pincer PATH_TO_PINCER]
                                   [--max-examples N] [--workers N]

Starts the twin and a gateway (with a token) on free loopback ports, loads the schema from the
gateway's `/openapi.json`, and runs schemathesis's engine (the one behind `st run`: examples,
coverage, fuzzing and stateful phases) over every operation, deterministically and bounded in
examples, with the checks not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance and response_headers_conformance. The `model` of generated chat
requests is, most of the time, swapped for a model the twin serves, so that generated requests
can also succeed. Prints the test cases run per operation and phase, every failure with a curl
command that reproduces it, stops both processes with SIGTERM, and prints `N passed, N failed`
on the last line. Exits non-zero when anything failed.

The gateway only ever calls the twin: its Bedrock endpoints are the twin's, and no other
provider is configured (a generated `other-provider/model` is a 404 without any call), nor are
remote images enabled.
"""

import argparse
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from pathlib import Path

import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import events
from schemathesis.engine.run import PhaseName
from schemathesis.engine.statistic import Statistic

# The harness (child processes, a clean environment) and the models are the openai SDK test's.
from test_openai_sdk import HAIKU, SONNET, TOKEN, Process, environment

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]
# Test cases per operation in the fuzzing phase (the coverage phase makes its own, about 600);
# a run of about a minute on a 2-core machine. The stateful phase gets fewer.
MAX_EXAMPLES = 500
STATEFUL_EXAMPLES = 50
SEED = 20250929
CHAT = "POST /v1/chat/completions"
# The models a generated chat request's `model` is swapped for (when it is a string): each the
# twin answers quickly; `default` is the configured primary; the bare id resolves to HAIKU.
SERVED_MODELS = [SONNET, HAIKU, "default", "anthropic.claude-3-haiku-20240307-v1:0"]

CONFIG = """// Written by the schemathesis interop test.
{
  models: { bedrockDiscovery: { enabled: true } },
  agents: { defaults: { model: { primary: "%s" } } },
  // A bound for any request the generated data might make slow; remote images stay off (the
  // default), so a generated `http://` image URL is refused without a fetch.
  gateway: { requestTimeout: 20, remoteImages: { enabled: false } },
}
""" % SONNET


@schemathesis.hook("flatmap_body")
def served_model(context, body):
    """Most generated chat bodies name a served model, so that they can reach the twin and
    succeed; the rest keep the generated `model` (unknown models, bad references)."""
    if context.operation is None or context.operation.path != "/v1/chat/completions":
        return st.just(body)
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return st.just(body)
    # Hypothesis favours (and shrinks towards) the first choice: a served model.
    return st.sampled_from([*SERVED_MODELS, None]).map(
        lambda model: body if model is None else {**body, "model": model}
    )


def run_schemathesis(url, max_examples, workers):
    """Runs the engine; returns (passed, failed) and prints what it ran and found."""
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {TOKEN}"},
        "workers": workers,
        "request-timeout": 30,
        "generation": {"max-examples": max_examples, "deterministic": True, "database": "none"},
        # The only link is `GET /v1/models` -> `GET /v1/models/{id}`: a few scenarios cover it.
        "phases": {"stateful": {"generation": {"max-examples": STATEFUL_EXAMPLES, "deterministic": True,
                                               "database": "none"}}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        # The reproductions keep the (test-only) token, so that they run as printed against a
        # gateway started with it.
        "output": {"sanitization": {"enabled": False}},
    })
    # Loaded from a URL, schemathesis leaves out the operation that served the document unless a
    # filter names it: this one selects every path, `/openapi.json` included.
    schema = schemathesis.openapi.from_url(url + "/openapi.json", config=config, timeout=10).include(path_regex="^/")
    operations = sorted(op.ok().label for op in schema.get_all_operations())
    print(f"schemathesis {schemathesis.__version__}: {len(operations)} operations from {url}/openapi.json, "
          f"max {max_examples} examples, seed {SEED}, deterministic, {workers} worker(s)")
    print(f"checks: {', '.join(CHECKS)}")

    statistic = Statistic()
    cases = defaultdict(lambda: defaultdict(int))  # operation -> phase -> test cases
    statuses = defaultdict(lambda: defaultdict(int))  # operation -> status code -> responses
    answered = defaultdict(int)  # content type of a chat completion's 200 -> responses
    errors = []
    finished = None
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            statistic.on_scenario_finished(event.recorder)
            for case_id, node in event.recorder.cases.items():
                label = node.value.operation.label
                cases[label][event.phase.value] += 1
                interaction = event.recorder.interactions.get(case_id)
                if interaction is not None and interaction.response is not None:
                    response = interaction.response
                    statuses[label][response.status_code] += 1
                    if label == CHAT and response.status_code == 200:
                        kind = (response.headers.get("content-type") or ["none"])[0].split(";")[0]
                        answered[kind] += 1
        elif isinstance(event, events.NonFatalError):
            errors.append(event)
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            finished = event
            if event.failures:
                statistic.record_run_check_failures(event.failures, label="run")

    phases = [p.value for p in (PhaseName.EXAMPLES, PhaseName.COVERAGE, PhaseName.FUZZING,
                                PhaseName.STATEFUL_TESTING)]
    width = max(map(len, operations))
    print(f"\n{'test cases':<{width}}  " + "  ".join(f"{p:>8}" for p in phases) + "     total  responses")
    for label in operations:
        row = cases.get(label, {})
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.get(label, {}).items()))
        print(f"{label:<{width}}  " + "  ".join(f"{row.get(p, 0):>8}" for p in phases)
              + f"  {sum(row.values()):>8}  {codes}")
    total = sum(sum(row.values()) for row in cases.values())
    print(f"{'total':<{width}}  " + "  ".join(f"{sum(r.get(p, 0) for r in cases.values()):>8}" for p in phases)
          + f"  {total:>8}")
    if finished is not None:
        print(f"engine: {finished.stop_reason.value} in {finished.running_time:.1f} s")

    passed = failed = 0
    untested = [label for label in operations if not cases.get(label)]
    if untested:
        failed += 1
        print(f"FAIL operations without a single test case: {untested}")
    else:
        passed += 1
        print(f"PASS every operation ran test cases ({total} in total)")
    # The run means something only if generated chat requests were also answered, both ways.
    if answered.get("application/json") and answered.get("text/event-stream"):
        passed += 1
        print(f"PASS generated chat requests were answered: {dict(answered)}")
    else:
        failed += 1
        print(f"FAIL too few generated chat requests were answered (JSON and streamed): {dict(answered)}")
    if finished is None or finished.stop_reason.value != "completed":
        failed += 1
        print(f"FAIL the engine did not complete: {finished and finished.stop_reason}")
    for error in errors:
        failed += 1
        print(f"FAIL {error.label} ({error.phase}): {error.info.format()}")
    if statistic.failures:
        print(f"\nThe curl commands reproduce against a gateway started as this test does: the twin, "
              f"PINCER_GATEWAY_TOKEN={TOKEN} and this config:\n{CONFIG}")
    index = 0
    for label, groups in sorted(statistic.failures.items()):
        for group in groups.values():
            index += 1
            failed += 1
            print(f"\nFAIL {label}")
            print(group.format(index=index, curl=group.code_sample, config=schema.config.output))
    if not statistic.failures:
        passed += 1
        print(f"PASS no check failed: {', '.join(CHECKS)}")
    return passed, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--twin", required=True, help="path to the bedrock-twin binary")
    parser.add_argument("--pincer", help="path to the pincer binary (default: next to the twin)")
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES,
                        help=f"test cases per operation and generating phase (default {MAX_EXAMPLES})")
    parser.add_argument("--workers", type=int, default=1, help="concurrent schemathesis workers (default 1)")
    args = parser.parse_args()
    pincer = args.pincer or str(Path(args.twin).with_name("pincer"))
    started = time.monotonic()
    passed = failed = 0
    twin = gateway = None
    try:
        home = Path(tempfile.mkdtemp(prefix="pincer-schemathesis-interop-"))
        (home / "config.json5").write_text(CONFIG)
        twin = Process([args.twin, "--port", "0"], None, "bedrock-twin listening on ")
        gateway = Process([pincer, "gateway", "--port", "0"], environment(twin.url, home),
                          "pincer gateway listening on ")
        p, f = run_schemathesis(gateway.url, args.max_examples, args.workers)
        passed += p
        failed += f
    except Exception as e:  # noqa: BLE001 - report and go on to stop the processes
        failed += 1
        print(f"FAIL {e!r}")
        traceback.print_exc(file=sys.stdout)
    finally:
        if gateway is not None:
            code = gateway.stop()
            logs = "".join(gateway.stderr)
            if code == 0:
                passed += 1
                print("PASS gateway stops cleanly on SIGTERM")
            else:
                failed += 1
                print(f"FAIL gateway shutdown: exit {code}; stderr:\n{logs[-5000:]}")
            if "panicked" in logs:
                failed += 1
                print("FAIL the gateway panicked:\n" + "".join(l for l in gateway.stderr if "panicked" in l))
        if twin is not None and twin.stop() != 0:
            failed += 1
            print(f"FAIL the twin exited with {twin.proc.returncode}")
    print(f"wall time {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
