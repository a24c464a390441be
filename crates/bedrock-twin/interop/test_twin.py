#!/usr/bin/env python3
"""Interop test: boto3 (an independent Bedrock client) against the bedrock-twin binary.

Usage: python test_twin.py --twin PATH_TO_BEDROCK_TWIN [--vectors DIR]

Starts the twin on free loopback ports, drives it with boto3 (listing, paging, converse,
converse_stream, tools, reasoning, every fault, a wrong secret, bearer auth, IMDS and ECS
credentials, capture replay), stops it, and prints `N passed, N failed` on the last line.
Exits non-zero when anything failed.
"""

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path

# Never let boto3 reach a real AWS endpoint or metadata service.
for name in list(os.environ):
    if name.startswith("AWS_"):
        del os.environ[name]
_EMPTY = tempfile.mkdtemp(prefix="twin-interop-")
os.environ.update(
    {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(_EMPTY, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(_EMPTY, "credentials"),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
)

import boto3  # noqa: E402
import botocore  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, EventStreamError  # noqa: E402

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
PROFILE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
KEY = ("AKIDTWIN", "twin-secret")
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=20, connect_timeout=5)
TOOLS = {
    "tools": [
        {"toolSpec": {"name": "get_weather", "inputSchema": {"json": {
            "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}},
        {"toolSpec": {"name": "get_time", "inputSchema": {"json": {
            "type": "object", "properties": {"zone": {"type": "string"}}}}}},
    ]
}
EXCEPTIONS = [
    "throttlingException",
    "modelStreamErrorException",
    "internalServerException",
    "serviceUnavailableException",
    "validationException",
]

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Twin:
    """The twin process and its endpoints."""

    def __init__(self, binary, vectors):
        self.cert = os.path.join(_EMPTY, "twin-cert.pem")
        args = [binary, "--port", "0", "--tls-port", "0", "--tls-cert-out", self.cert,
                "--imds-port", "0", "--ecs-port", "0",
                "--key", "ASIAINTEROP:interop-secret:interop-token"]
        if vectors:
            args += ["--vectors", str(vectors)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in self.proc.stdout], daemon=True).start()
        self.url = self.tls = self.imds = self.ecs = None
        while None in (self.url, self.tls, self.imds, self.ecs):
            try:
                line = lines.get(timeout=30).strip()
            except queue.Empty:
                raise RuntimeError("the twin printed no endpoints within 30 s")
            if line.startswith("bedrock-twin listening on "):
                self.url = line.split(" on ", 1)[1]
            elif line.startswith("tls on "):
                self.tls = line.split(" on ", 1)[1]
            elif line.startswith("imds on "):
                self.imds = line.split(" on ", 1)[1]
            elif line.startswith("ecs on "):
                self.ecs = line.split(" on ", 1)[1]
        for url in (self.url, self.imds, self.ecs):
            assert url.startswith("http://127.0.0.1:"), url
        assert self.tls.startswith("https://127.0.0.1:"), self.tls

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def client(twin, service="bedrock-runtime", key=KEY, token=None, config=NO_RETRY):
    return boto3.session.Session().client(
        service, region_name="us-east-1", endpoint_url=twin.url,
        aws_access_key_id=key[0], aws_secret_access_key=key[1], aws_session_token=token,
        config=config)


def with_headers(c, headers):
    """Adds headers to every request of this client, before signing."""
    def add(request, **_):
        for k, v in headers.items():
            request.headers[k] = v
    c.meta.events.register("before-sign.*.*", add)
    return c


def user(text):
    return {"role": "user", "content": [{"text": text}]}


def events_of(response):
    """Iterates a converse_stream response: (event names, text, tool inputs, error code)."""
    names, text, tools, error = [], "", [], None
    try:
        for event in response["stream"]:
            (name, body), = event.items()
            names.append(name)
            if name == "contentBlockStart" and "toolUse" in body["start"]:
                tools.append([body["start"]["toolUse"]["name"], ""])
            if name == "contentBlockDelta":
                delta = body["delta"]
                if "text" in delta:
                    text += delta["text"]
                if "toolUse" in delta:
                    tools[-1][1] += delta["toolUse"]["input"]
    except EventStreamError as e:
        error = e.response["Error"]["Code"]
        names.append("exception:" + error)
    return names, text, tools, error


def code_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")
    raise AssertionError("expected an error")


@test
def list_foundation_models(twin):
    c = client(twin, "bedrock")
    models = c.list_foundation_models()["modelSummaries"]
    assert len(models) >= 20, len(models)
    providers = {m["providerName"] for m in models}
    assert {"Mistral AI", "Meta", "Amazon", "DeepSeek"} <= providers, providers
    mistral = c.list_foundation_models(byProvider="mistral")["modelSummaries"]
    assert mistral and all(m["providerName"] == "Mistral AI" for m in mistral)
    images = c.list_foundation_models(byOutputModality="IMAGE")["modelSummaries"]
    assert images and all("IMAGE" in m["outputModalities"] for m in images)
    on_demand = c.list_foundation_models(byInferenceType="ON_DEMAND")["modelSummaries"]
    assert 0 < len(on_demand) < len(models)
    tuned = c.list_foundation_models(byCustomizationType="FINE_TUNING")["modelSummaries"]
    assert tuned and all("FINE_TUNING" in m["customizationsSupported"] for m in tuned)


@test
def get_foundation_model(twin):
    c = client(twin, "bedrock")
    details = c.get_foundation_model(modelIdentifier=MODEL)["modelDetails"]
    assert details["modelId"] == MODEL
    code, _ = code_of(lambda: c.get_foundation_model(modelIdentifier="nobody.none-v1:0"))
    assert code == "ResourceNotFoundException", code


@test
def inference_profiles_paging(twin):
    c = client(twin, "bedrock")
    everything = c.list_inference_profiles()["inferenceProfileSummaries"]
    pages = list(c.get_paginator("list_inference_profiles").paginate(PaginationConfig={"PageSize": 5}))
    assert len(pages) == -(-len(everything) // 5), len(pages)
    ids = [p["inferenceProfileId"] for page in pages for p in page["inferenceProfileSummaries"]]
    assert ids == [p["inferenceProfileId"] for p in everything]
    for prefix in ("us.", "eu.", "apac.", "global."):
        assert any(i.startswith(prefix) for i in ids), prefix
    apps = c.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    assert len(apps) == 1 and apps[0]["type"] == "APPLICATION"
    one = c.get_inference_profile(inferenceProfileIdentifier=apps[0]["inferenceProfileArn"])
    assert one["inferenceProfileId"] == apps[0]["inferenceProfileId"]
    assert one["createdAt"].year == 2026


@test
def converse_echo(twin):
    out = client(twin).converse(modelId=MODEL, messages=[user("hello boto3"), {"role": "assistant", "content": [{"text": "hi"}]}, user("again, boto3")])
    assert out["output"]["message"]["content"][0]["text"] == "again, boto3"
    assert out["stopReason"] == "end_turn"
    assert out["usage"]["outputTokens"] > 0
    assert "latencyMs" in out["metrics"]


@test
def converse_stream_events(twin):
    out = client(twin).converse_stream(modelId=PROFILE, messages=[user("a streamed reply in several deltas")])
    names, text, _, error = events_of(out)
    assert error is None
    assert text == "a streamed reply in several deltas"
    assert names[0] == "messageStart" and names[-3:] == ["contentBlockStop", "messageStop", "metadata"], names
    assert names.count("contentBlockDelta") > 1


@test
def arn_model_ids(twin):
    c = client(twin)
    for model_id in (
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/tw1nappprof1",
        "arn:aws:bedrock:us-east-1::foundation-model/" + MODEL,
    ):
        out = c.converse(modelId=model_id, messages=[user("by arn")])
        assert out["output"]["message"]["content"][0]["text"] == "by arn", model_id
    code, message = code_of(lambda: c.converse(modelId="eu.anthropic.claude-sonnet-4-20250514-v1:0", messages=[user("x")]))
    assert message == "The provided model identifier is invalid.", (code, message)


@test
def tools_stream_and_round_trip(twin):
    c = client(twin)
    names, _, tools, _ = events_of(c.converse_stream(modelId=MODEL, messages=[user("use get_weather and get_time")], toolConfig=TOOLS))
    assert [t[0] for t in tools] == ["get_weather", "get_time"], tools
    assert json.loads(tools[0][1]) == {"city": "twin-city"}
    assert names.count("contentBlockStart") == 2
    first = c.converse(modelId=MODEL, messages=[user("twin:tools")], toolConfig=TOOLS)
    assert first["stopReason"] == "tool_use"
    calls = [b["toolUse"] for b in first["output"]["message"]["content"] if "toolUse" in b]
    assert len(calls) == 2
    results = {"role": "user", "content": [
        {"toolResult": {"toolUseId": t["toolUseId"], "content": [{"text": "sunny-" + t["name"]}]}} for t in calls]}
    second = c.converse(modelId=MODEL, toolConfig=TOOLS, messages=[
        user("twin:tools"), first["output"]["message"], results])
    answer = second["output"]["message"]["content"][0]["text"]
    assert "sunny-get_time" in answer, answer
    code, message = code_of(lambda: c.converse(modelId=MODEL, messages=[user("twin:tools"), first["output"]["message"], user("no results")]))
    assert code == "ValidationException" and "toolConfig field must be defined" in message, message


@test
def reasoning(twin):
    c = client(twin)
    fields = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    out = c.converse_stream(modelId=PROFILE, messages=[user("think")], additionalModelRequestFields=fields)
    kinds = []
    for event in out["stream"]:
        delta = event.get("contentBlockDelta", {}).get("delta", {})
        kinds.extend(delta.get("reasoningContent", {}).keys())
    assert "text" in kinds and "signature" in kinds, kinds
    whole = c.converse(modelId=PROFILE, messages=[user("twin:redacted")], additionalModelRequestFields=fields)
    blocks = whole["output"]["message"]["content"]
    assert "reasoningText" in blocks[0]["reasoningContent"]
    assert isinstance(blocks[1]["reasoningContent"]["redactedContent"], bytes)
    code, message = code_of(lambda: c.converse(modelId=PROFILE, messages=[user("x")], inferenceConfig={"maxTokens": 1024}, additionalModelRequestFields=fields))
    assert code == "ValidationException" and "budget_tokens" in message, message


@test
def validation(twin):
    c = client(twin)
    code, message = code_of(lambda: c.converse_stream(modelId="us.does-not-exist-model-v1:0", messages=[user("x")]))
    assert (code, message) == ("ValidationException", "The provided model identifier is invalid."), message
    _, message = code_of(lambda: c.converse(modelId=MODEL, messages=[user("a"), user("b")]))
    assert "alternate" in message, message
    code, message = code_of(lambda: c.converse(modelId="anthropic.claude-sonnet-4-20250514-v1:0", messages=[user("x")]))
    assert "on-demand throughput isn't supported" in message, message
    code, _ = code_of(lambda: c.converse(modelId="meta.llama3-70b-instruct-v1:0", messages=[user("x")]))
    assert code == "AccessDeniedException", code
    _, message = code_of(lambda: c.converse(modelId=MODEL, messages=[user("x")], inferenceConfig={"maxTokens": 500000}))
    assert "exceeds the model limit" in message, message


@test
def faults_before_the_stream(twin):
    for fault, want in [("throttle", "ThrottlingException"), ("5xx", "InternalServerException"), ("5xx:503", "ServiceUnavailableException")]:
        c = with_headers(client(twin), {"x-twin-fault": fault})
        code, _ = code_of(lambda: c.converse_stream(modelId=MODEL, messages=[user("x")]))
        assert code == want, (fault, code)
        code, _ = code_of(lambda: c.converse(modelId=MODEL, messages=[user("x")]))
        assert code == want, (fault, code)


@test
def midstream_exceptions(twin):
    for name in EXCEPTIONS:
        c = with_headers(client(twin), {"x-twin-fault": f"midstream-{name}:2"})
        names, _, _, error = events_of(c.converse_stream(modelId=MODEL, messages=[user("enough text for several deltas")]))
        assert error == name, (name, names)
        assert names == ["messageStart", "contentBlockDelta", "contentBlockDelta", "exception:" + name], names


@test
def reset_stall_slow(twin):
    c = with_headers(client(twin), {"x-twin-fault": "reset:1"})
    out = c.converse_stream(modelId=MODEL, messages=[user("enough text for several deltas")])
    try:
        names, _, _, _ = events_of(out)
        raise AssertionError(f"stream finished despite reset: {names}")
    except AssertionError:
        raise
    except Exception:  # the connection drop surfaces as a botocore/urllib3 error
        pass
    for fault in ("stall:1", "slow:5"):
        c = with_headers(client(twin), {"x-twin-fault": fault})
        names, text, _, error = events_of(c.converse_stream(modelId=MODEL, messages=[user("after the pause")]))
        assert error is None and text == "after the pause" and names[-1] == "metadata", (fault, names)


@test
def fail_first_then_retry(twin):
    retrying = Config(retries={"max_attempts": 3, "mode": "standard"})
    c = with_headers(client(twin, config=retrying), {"x-twin-fault": "fail-first:2", "x-twin-fault-key": "boto3"})
    out = c.converse(modelId=MODEL, messages=[user("third time lucky")])
    assert out["output"]["message"]["content"][0]["text"] == "third time lucky"
    assert out["ResponseMetadata"]["RetryAttempts"] == 2, out["ResponseMetadata"]


@test
def model_id_fault_suffix(twin):
    names, _, _, error = events_of(client(twin).converse_stream(modelId=MODEL + "~midstream-throttlingException:1", messages=[user("some words here")]))
    assert error == "throttlingException", names


@test
def wrong_secret_and_unknown_key(twin):
    code, _ = code_of(lambda: client(twin, key=("AKIDTWIN", "wrong")).converse(modelId=MODEL, messages=[user("x")]))
    assert code == "InvalidSignatureException", code
    code, _ = code_of(lambda: client(twin, "bedrock", key=("AKIDTWIN", "wrong")).list_foundation_models())
    assert code == "InvalidSignatureException", code
    code, message = code_of(lambda: client(twin, key=("AKIDUNKNOWN", "x")).converse(modelId=MODEL, messages=[user("x")]))
    assert code == "UnrecognizedClientException", code
    assert message == "The security token included in the request is invalid."


@test
def session_token(twin):
    good = client(twin, key=("ASIAINTEROP", "interop-secret"), token="interop-token")
    assert good.converse(modelId=MODEL, messages=[user("x")])["stopReason"] == "end_turn"
    code, _ = code_of(lambda: client(twin, key=("ASIAINTEROP", "interop-secret"), token="other").converse(modelId=MODEL, messages=[user("x")]))
    assert code == "UnrecognizedClientException", code


class bearer_env:
    """Sets AWS_BEARER_TOKEN_BEDROCK for the duration of a block (botocore reads it lazily)."""

    def __init__(self, token):
        self.token = token

    def __enter__(self):
        os.environ["AWS_BEARER_TOKEN_BEDROCK"] = self.token

    def __exit__(self, *_):
        del os.environ["AWS_BEARER_TOKEN_BEDROCK"]


def bearer_client(twin, url):
    return boto3.session.Session().client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=url, config=NO_RETRY, verify=twin.cert)


@test
def bearer_token(twin):
    # botocore sends AWS_BEARER_TOKEN_BEDROCK only over HTTPS, so this uses the twin's TLS
    # listener (self-signed certificate, trusted through the PEM file the twin wrote).
    with bearer_env("twin-bearer"):
        c = bearer_client(twin, twin.tls)
        sent = {}
        c.meta.events.register("before-send.*.*", lambda request, **_: sent.update(auth=request.headers.get("Authorization")))
        _, text, _, error = events_of(c.converse_stream(modelId=MODEL, messages=[user("bearer from boto3")]))
        assert error is None and text == "bearer from boto3", text
        assert sent["auth"] in ("Bearer twin-bearer", b"Bearer twin-bearer"), sent
        try:
            bearer_client(twin, twin.url).converse(modelId=MODEL, messages=[user("x")])
            raise AssertionError("botocore sent a bearer token over plain HTTP")
        except botocore.exceptions.InvalidEndpointConfigurationError:
            pass
    with bearer_env("not-a-token"):
        code, _ = code_of(lambda: bearer_client(twin, twin.tls).converse(modelId=MODEL, messages=[user("x")]))
        assert code == "UnrecognizedClientException", code
    listed = boto3.session.Session().client("bedrock", region_name="us-east-1", endpoint_url=twin.tls, verify=twin.cert,
                                            aws_access_key_id=KEY[0], aws_secret_access_key=KEY[1], config=NO_RETRY)
    assert listed.list_foundation_models()["modelSummaries"], "sigv4 over TLS"


def chain_client(twin):
    session = boto3.session.Session()
    creds = session.get_credentials()
    assert creds is not None, "no credentials found"
    frozen = creds.get_frozen_credentials()
    c = session.client("bedrock-runtime", region_name="us-east-1", endpoint_url=twin.url, config=NO_RETRY)
    return c, frozen


@test
def imds_credentials(twin):
    os.environ["AWS_EC2_METADATA_DISABLED"] = "false"
    os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = twin.imds
    try:
        c, frozen = chain_client(twin)
        assert frozen.access_key.startswith("ASIATWIN"), frozen.access_key
        assert frozen.token
        out = c.converse(modelId=MODEL, messages=[user("from IMDS")])
        assert out["output"]["message"]["content"][0]["text"] == "from IMDS"
    finally:
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
        del os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]


@test
def ecs_credentials(twin):
    os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = twin.ecs
    try:
        c, frozen = chain_client(twin)
        assert frozen.access_key.startswith("ASIATWIN"), frozen.access_key
        out = c.converse(modelId=MODEL, messages=[user("from ECS")])
        assert out["output"]["message"]["content"][0]["text"] == "from ECS"
    finally:
        del os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]


def replay_test(vectors):
    def replay(twin):
        rel = "pydantic-ai/test_bedrock_model_iter_stream@685fc374.0.response.bin"
        want = [line.split("\t", 1)[0] for line in (vectors / rel.replace(".bin", ".events.txt")).read_text().splitlines() if line.strip()]
        c = with_headers(client(twin), {"x-twin-replay": rel})
        names, text, tools, error = events_of(c.converse_stream(modelId=MODEL, messages=[user("x")]))
        assert names == want, (names, want)
        assert tools and tools[0][0] == "get_temperature", tools
    return replay


def find_vectors(given):
    if given:
        return Path(given)
    env = os.environ.get("PINCER_VECTORS")
    candidate = Path(env) if env else Path(__file__).resolve().parents[4] / "shared" / "vectors"
    return candidate if (candidate / "INDEX.md").is_file() else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twin", required=True, help="path to the bedrock-twin binary")
    parser.add_argument("--vectors", help="vectors folder (default: $PINCER_VECTORS or ../shared/vectors)")
    args = parser.parse_args()
    vectors = find_vectors(args.vectors)
    tests = list(TESTS)
    if vectors:
        tests.append(replay_test(vectors))
    elif os.environ.get("CI") == "true":
        print("FAIL vectors folder missing and CI=true")
        print("0 passed, 1 failed")
        return 1
    else:
        print("SKIP replay: vectors folder not found (set PINCER_VECTORS)")
    passed = failed = 0
    twin = None
    try:
        twin = Twin(args.twin, vectors)
        print(f"boto3 {boto3.__version__} / botocore {botocore.__version__} against {twin.url}")
        for fn in tests:
            name = getattr(fn, "__name__", "replay")
            try:
                fn(twin)
                passed += 1
                print(f"PASS {name}")
            except Exception as e:  # noqa: BLE001 - report every failure and go on
                failed += 1
                print(f"FAIL {name}: {e!r}")
                traceback.print_exc(file=sys.stdout)
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"FAIL startup: {e!r}")
    finally:
        if twin is not None:
            code = twin.stop()
            if code != 0:
                failed += 1
                print(f"FAIL shutdown: the twin exited with {code}")
            else:
                passed += 1
                print("PASS clean shutdown on SIGTERM")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
