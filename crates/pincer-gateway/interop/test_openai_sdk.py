#!/usr/bin/env python3
"""Interop test: the official `openai` Python SDK against `pincer gateway` in front of the twin.

Usage: python test_openai_sdk.py --twin PATH_TO_BEDROCK_TWIN [--pincer PATH_TO_PINCER]

Starts the twin and a gateway (with a token) on free loopback ports, drives the gateway with the
`openai` SDK (a managed key made with `pincer keys create`: its models, rate limit and budget as
the SDK's error classes; models, non-streaming and streaming completions, usage, tools with the follow-up
turn, reasoning replayed across a tool call, images, every error status, a mid-stream failure; the Responses API: create, the stream helper,
a tool turn that keeps reasoning, parse with a schema, images, refusals; embeddings as floats and
base64, batched, with dimensions; the SDK obeying `x-should-retry` after the gateway's own retries),
reads `/metrics` with the OpenMetrics and the classic Prometheus parsers, checks `/openapi.json` with `openapi-spec-validator`, stops both with SIGTERM, and prints
`N passed, N failed` on the last line. Exits non-zero when anything failed.
"""

import argparse
import base64
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import urllib.request
from pathlib import Path

import httpx
import openai
import prometheus_client.openmetrics.parser
import prometheus_client.parser
from openapi_spec_validator import validate as validate_openapi

SONNET = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0"
TOKEN = "interop-gateway-token"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "get_time", "description": "Time in a zone",
     "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}}},
]

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Process:
    """A child process whose stdout is read line by line in the background."""

    def __init__(self, args, env, ready_prefix):
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=lambda: [self.lines.put(l) for l in self.proc.stdout], daemon=True).start()
        threading.Thread(target=lambda: [self.stderr.append(l) for l in self.proc.stderr], daemon=True).start()
        while True:
            try:
                line = self.lines.get(timeout=60).strip()
            except queue.Empty:
                raise RuntimeError(f"{args[0]} printed no address within 60 s: {''.join(self.stderr)}")
            if line.startswith(ready_prefix):
                self.url = line[len(ready_prefix):].strip()
                break
        assert self.url.startswith("http://127.0.0.1:"), self.url

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def environment(twin_url, home):
    """An environment with the twin's credentials and endpoints, and nothing from the host."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PINCER_"))}
    env.update({
        "AWS_ACCESS_KEY_ID": "AKIDTWIN",
        "AWS_SECRET_ACCESS_KEY": "twin-secret",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_BEDROCK": twin_url,
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": twin_url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "PINCER_HOME": str(home),
        "PINCER_CONFIG": str(home / "config.json5"),
        "PINCER_GATEWAY_TOKEN": TOKEN,
    })
    return env


CONFIG = """// Written by the interop test.
{
  models: { bedrockDiscovery: { enabled: true } },
  agents: { defaults: { model: { primary: "%s" } } },
}
""" % SONNET


class Gateway:
    def __init__(self, twin_binary, pincer_binary):
        self.home = Path(tempfile.mkdtemp(prefix="pincer-openai-interop-"))
        (self.home / "config.json5").write_text(CONFIG)
        self.twin = Process([twin_binary, "--port", "0"], dict(os.environ), "bedrock-twin listening on ")
        env = environment(self.twin.url, self.home)
        self.env, self.pincer = env, pincer_binary
        self.gateway = Process([pincer_binary, "gateway", "--port", "0"], env, "pincer gateway listening on ")
        self.url = self.gateway.url
        self.client = openai.OpenAI(base_url=self.url + "/v1", api_key=TOKEN, max_retries=0, timeout=30)

    def get(self, path, token=TOKEN, accept="*/*"):
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {token}", "Accept": accept})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("content-type"), response.read().decode()

    def stop(self):
        codes = (self.gateway.stop(), self.twin.stop())
        return codes


def user(text):
    return {"role": "user", "content": text}


def managed_key(gw, *args):
    """A managed key made with `pincer keys create --json` in the gateway's database; its secret."""
    out = subprocess.run([gw.pincer, "keys", "create", "--json", *args], env=gw.env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)["secret"]


@test
def managed_keys_models_limits_and_budgets(gw):
    secret = managed_key(gw, "--name", "sdk-team", "--models", "*claude-3-haiku*", "--rpm", "3")
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=secret, max_retries=0, timeout=30)
    assert [m.id for m in client.models.list().data] == [HAIKU]
    out = client.chat.completions.create(model=HAIKU, messages=[user("keyed hello")])
    assert "keyed hello" in out.choices[0].message.content
    try:
        client.chat.completions.create(model=SONNET, messages=[user("not mine")])
        raise AssertionError("a model outside the key's list was served")
    except openai.PermissionDeniedError as e:
        assert e.code == "model_not_allowed" and SONNET in e.message, e
    # A refused model is not counted against the rate: two more fit in the minute.
    client.chat.completions.create(model=HAIKU, messages=[user("second")])
    client.chat.completions.create(model=HAIKU, messages=[user("third")])
    try:
        client.chat.completions.create(model=HAIKU, messages=[user("fourth")])
        raise AssertionError("the fourth request of a 3 rpm key was served")
    except openai.RateLimitError as e:
        assert e.code == "rate_limit_exceeded" and int(e.response.headers["retry-after"]) >= 1, e
    # A budget of a millionth of a dollar: one answer spends it, the SDK sees OpenAI's quota error.
    thrifty = openai.OpenAI(base_url=gw.url + "/v1", api_key=managed_key(gw, "--name", "sdk-thrifty", "--budget",
                            "0.000001", "--period", "month"), max_retries=0, timeout=30)
    thrifty.chat.completions.create(model=HAIKU, messages=[user("spend it")])
    for _ in range(100):
        try:
            thrifty.chat.completions.create(model=HAIKU, messages=[user("again")])
        except openai.RateLimitError as e:
            assert e.code == "insufficient_quota" and "budget of $0.000001 per month" in e.message, e
            assert e.response.headers["x-should-retry"] == "false"
            break
    else:
        raise AssertionError("the budget was never spent")
    try:
        openai.OpenAI(base_url=gw.url + "/v1", api_key="pincer-sk-" + "0" * 48, max_retries=0).models.list()
        raise AssertionError("an unknown managed key was accepted")
    except openai.AuthenticationError as e:
        assert "not known" in e.message, e


@test
def models_list_and_retrieve(gw):
    models = gw.client.models.list()
    ids = [m.id for m in models.data]
    assert SONNET in ids and HAIKU in ids, ids[:5]
    assert all(m.object == "model" for m in models.data)
    one = gw.client.models.retrieve(SONNET)
    assert one.id == SONNET and one.owned_by == "amazon-bedrock"
    try:
        gw.client.models.retrieve("amazon-bedrock/nobody.none-v1:0")
        raise AssertionError("expected 404")
    except openai.NotFoundError as e:
        assert e.status_code == 404


@test
def non_streaming_completion(gw):
    out = gw.client.chat.completions.create(
        model=SONNET, messages=[{"role": "system", "content": "Be brief."}, user("hello from the openai sdk")],
        max_tokens=200, temperature=0.2)
    assert out.object == "chat.completion"
    assert out.model == SONNET
    choice = out.choices[0]
    assert choice.message.role == "assistant"
    assert "hello from the openai sdk" in choice.message.content, choice.message.content
    assert choice.finish_reason == "stop"
    u = out.usage
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens and u.completion_tokens > 0


@test
def bare_id_and_default_model(gw):
    bare = gw.client.chat.completions.create(model="anthropic.claude-3-haiku-20240307-v1:0", messages=[user("bare id")])
    assert bare.model == HAIKU, bare.model
    default = gw.client.chat.completions.create(model="default", messages=[user("default model")])
    assert default.model == SONNET, default.model


@test
def streaming_with_include_usage(gw):
    stream = gw.client.chat.completions.create(
        model=SONNET, messages=[user("a streamed answer in several pieces")], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "a streamed answer in several pieces", text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"], finishes
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None, last
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert last.usage.prompt_tokens_details.cached_tokens == 0
    assert all(c.id == chunks[0].id for c in chunks)


@test
def streaming_without_usage_has_no_usage_chunk(gw):
    chunks = list(gw.client.chat.completions.create(model=SONNET, messages=[user("no usage")], stream=True))
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


@test
def stop_and_max_tokens(gw):
    cut = gw.client.chat.completions.create(model=SONNET, messages=[user("one two three four five six seven")], max_tokens=2)
    assert cut.choices[0].finish_reason == "length", cut.choices[0]
    stopped = gw.client.chat.completions.create(model=SONNET, messages=[user("alpha beta STOP gamma")], stop=["STOP"])
    assert "gamma" not in stopped.choices[0].message.content
    assert stopped.choices[0].finish_reason == "stop"


def tool_turn(gw, stream):
    messages = [user("Use get_weather and get_time please")]
    if stream:
        calls = {}
        finish = None
        for chunk in gw.client.chat.completions.create(model=SONNET, messages=messages, tools=TOOLS, stream=True):
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            finish = choice.finish_reason or finish
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": None, "name": "", "arguments": ""})
                entry["id"] = call.id or entry["id"]
                if call.function.name:
                    entry["name"] += call.function.name
                entry["arguments"] += call.function.arguments or ""
        assert sorted(calls) == list(range(len(calls))), f"dense indexes: {sorted(calls)}"
        tool_calls = [{"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
                      for _, c in sorted(calls.items())]
    else:
        out = gw.client.chat.completions.create(model=SONNET, messages=messages, tools=TOOLS, tool_choice="auto")
        finish = out.choices[0].finish_reason
        tool_calls = [c.model_dump() for c in out.choices[0].message.tool_calls]
    assert finish == "tool_calls", finish
    assert [c["function"]["name"] for c in tool_calls] == ["get_weather", "get_time"], tool_calls
    for call in tool_calls:
        json.loads(call["function"]["arguments"])
        assert call["id"]
    follow = messages + [{"role": "assistant", "content": None, "tool_calls": tool_calls}] + [
        {"role": "tool", "tool_call_id": c["id"], "content": f"result of {c['function']['name']}"} for c in tool_calls]
    answer = gw.client.chat.completions.create(model=SONNET, messages=follow, tools=TOOLS)
    text = answer.choices[0].message.content
    assert "result of get_weather" in text and "result of get_time" in text, text
    assert answer.choices[0].finish_reason == "stop"


@test
def tool_calls_and_follow_up(gw):
    tool_turn(gw, stream=False)


@test
def streamed_tool_calls_and_follow_up(gw):
    tool_turn(gw, stream=True)


@test
def named_and_required_tool_choice(gw):
    named = gw.client.chat.completions.create(
        model=SONNET, messages=[user("Use get_time")], tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_time"}})
    assert named.choices[0].message.tool_calls[0].function.name == "get_time"
    required = gw.client.chat.completions.create(
        model=SONNET, messages=[user("Use get_weather")], tools=TOOLS, tool_choice="required", parallel_tool_calls=False)
    assert required.choices[0].finish_reason == "tool_calls"


@test
def reasoning_survives_a_tool_turn(gw):
    messages = [user("Think, then use get_weather")]
    out = gw.client.chat.completions.create(model=SONNET, messages=messages, tools=TOOLS, reasoning_effort="low")
    message = out.choices[0].message
    extra = message.model_extra or {}
    assert extra.get("reasoning_content"), extra
    assert extra.get("reasoning_signature"), extra
    assert message.tool_calls, message
    replay = message.model_dump(exclude_none=True)
    follow = messages + [replay] + [
        {"role": "tool", "tool_call_id": c.id, "content": "sunny"} for c in message.tool_calls]
    again = gw.client.chat.completions.create(model=SONNET, messages=follow, tools=TOOLS, reasoning_effort="low")
    assert "sunny" in again.choices[0].message.content


@test
def streamed_reasoning(gw):
    chunks = list(gw.client.chat.completions.create(
        model=SONNET, messages=[user("think about this")], reasoning_effort="medium", stream=True))
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning and text == "think about this", (reasoning, text)


@test
def image_as_data_url(gw):
    data = "data:image/png;base64," + base64.b64encode(PNG).decode()
    out = gw.client.chat.completions.create(model=SONNET, messages=[{"role": "user", "content": [
        {"type": "text", "text": "twin:images describe"},
        {"type": "image_url", "image_url": {"url": data, "detail": "low"}}]}])
    assert out.choices[0].message.content.startswith(f"Images: png {len(PNG)} bytes"), out.choices[0].message.content


HAIKU45 = "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_MICRO = "amazon-bedrock/us.amazon.nova-micro-v1:0"
NOVA_PRO = "amazon-bedrock/us.amazon.nova-pro-v1:0"


@test
def structured_output_with_parse(gw):
    from pydantic import BaseModel

    class Trip(BaseModel):
        city: str
        days: int

    # Bedrock's structured output on Claude Haiku 4.5; a forced tool on Nova Micro.
    for model in (HAIKU45, NOVA_MICRO):
        out = gw.client.chat.completions.parse(model=model, messages=[user("Plan a trip")], response_format=Trip)
        parsed = out.choices[0].message.parsed
        assert isinstance(parsed, Trip), (model, out.choices[0].message)
        assert out.choices[0].finish_reason == "stop", out.choices[0]


@test
def json_mode(gw):
    out = gw.client.chat.completions.create(model=NOVA_MICRO, messages=[user("Answer in JSON")],
                                            response_format={"type": "json_object"})
    assert isinstance(json.loads(out.choices[0].message.content), dict), out.choices[0].message.content


@test
def pdf_file_part_and_service_tier(gw):
    pdf = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()
    out = gw.client.chat.completions.create(model=NOVA_PRO, service_tier="flex", messages=[{"role": "user", "content": [
        {"type": "text", "text": "Summarize"},
        {"type": "file", "file": {"filename": "report.pdf", "file_data": f"data:application/pdf;base64,{pdf}"}}]}])
    assert out.service_tier == "flex", out
    assert out.choices[0].message.content, out


@test
def unsupported_parameters_are_named(gw):
    create = gw.client.chat.completions.create
    for kwargs, param in [({"n": 2}, "n"), ({"logprobs": True}, "logprobs"), ({"presence_penalty": 1.0}, "presence_penalty"),
                          ({"extra_body": {"colour": "red"}}, "colour")]:
        try:
            create(model=SONNET, messages=[user("x")], **kwargs)
            raise AssertionError(f"expected a 400 for {param}")
        except openai.BadRequestError as e:
            assert e.body.get("param") == param, e.body
    # `seed` and `user` are taken: the first is a hint, the second reaches requestMetadata.
    out = create(model=SONNET, messages=[user("hi")], seed=3, user="interop-user")
    assert out.choices[0].finish_reason == "stop"


def status_of(call):
    try:
        call()
    except openai.APIStatusError as e:
        return e.status_code, e.body if isinstance(e.body, dict) else {}
    raise AssertionError("expected an error status")


@test
def error_statuses(gw):
    create = gw.client.chat.completions.create
    cases = [
        (lambda: create(model=SONNET, messages=[]), 400, openai.BadRequestError),
        (lambda: create(model="amazon-bedrock/us.nope-v1:0", messages=[user("x")]), 404, openai.NotFoundError),
        (lambda: create(model="amazon-bedrock/meta.llama3-70b-instruct-v1:0", messages=[user("x")]), 403, openai.PermissionDeniedError),
        (lambda: create(model=HAIKU + "~throttle", messages=[user("x")]), 429, openai.RateLimitError),
        (lambda: create(model=HAIKU + "~5xx:503", messages=[user("x")]), 503, openai.InternalServerError),
        (lambda: create(model=HAIKU + "~reset:0", messages=[user("x")]), 502, openai.InternalServerError),
    ]
    for call, status, kind in cases:
        try:
            call()
            raise AssertionError(f"expected {status}")
        except kind as e:
            assert e.status_code == status, (e.status_code, status)
            assert e.body and e.body.get("message"), e.body
            if status == 429:
                assert e.response.headers.get("retry-after"), e.response.headers
    wrong = openai.OpenAI(base_url=gw.url + "/v1", api_key="not-the-token", max_retries=0)
    try:
        wrong.models.list()
        raise AssertionError("expected 401")
    except openai.AuthenticationError as e:
        assert e.status_code == 401


@test
def failure_after_streaming_began(gw):
    stream = gw.client.chat.completions.create(
        model=HAIKU + "~midstream-modelStreamErrorException:2",
        messages=[user("an answer long enough to be cut in the middle")], stream=True)
    text = ""
    try:
        for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
        raise AssertionError("expected an error event")
    except openai.APIError as e:
        assert "stream" in str(e).lower(), e
    assert text, "the partial answer arrived before the error"


RESPONSE_TOOLS = [
    {"type": "function", "name": "get_weather", "description": "Weather in a city", "strict": False,
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
]


@test
def responses_create(gw):
    out = gw.client.responses.create(model=SONNET, input="hello from the responses client",
                                     instructions="Be brief.", max_output_tokens=200, store=False)
    assert out.object == "response" and out.status == "completed", out
    assert out.model == SONNET
    assert "hello from the responses client" in out.output_text, out.output_text
    assert out.usage.output_tokens > 0
    assert out.usage.total_tokens == out.usage.input_tokens + out.usage.output_tokens


@test
def responses_stream_helper_accumulates_the_events(gw):
    deltas = []
    kinds = []
    with gw.client.responses.stream(model=SONNET, input=[{"role": "user", "content": "a streamed response in pieces"}]) as stream:
        for event in stream:
            kinds.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed", kinds
    assert "".join(deltas) == final.output_text == "a streamed response in pieces", (deltas, final.output_text)


@test
def responses_tool_turn_keeps_reasoning(gw):
    question = {"role": "user", "content": "Use get_weather for Paris"}
    first = gw.client.responses.create(model=SONNET, input=[question], tools=RESPONSE_TOOLS,
                                       reasoning={"effort": "low"}, include=["reasoning.encrypted_content"], store=False)
    kinds = [item.type for item in first.output]
    assert "reasoning" in kinds and "function_call" in kinds, kinds
    reasoning = next(item for item in first.output if item.type == "reasoning")
    assert reasoning.encrypted_content and reasoning.encrypted_content.startswith("pincer.v1."), reasoning
    call = next(item for item in first.output if item.type == "function_call")
    assert call.name == "get_weather" and "city" in json.loads(call.arguments), call
    follow_up = [question] + [item.model_dump(exclude_none=True) for item in first.output] + [
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}]
    second = gw.client.responses.create(model=SONNET, input=follow_up, tools=RESPONSE_TOOLS,
                                        reasoning={"effort": "low"}, store=False)
    assert second.status == "completed" and second.output_text, second


@test
def responses_parse_gives_the_schema_back(gw):
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int

    out = gw.client.responses.parse(model="amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0",
                                    input="Name a city", text_format=City)
    assert isinstance(out.output_parsed, City), out.output_parsed


@test
def responses_image_input(gw):
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    out = gw.client.responses.create(model=SONNET, input=[{"role": "user", "content": [
        {"type": "input_text", "text": "describe"}, {"type": "input_image", "image_url": url, "detail": "auto"}]}])
    assert out.status == "completed" and out.output_text, out


@test
def responses_refusals_name_the_field(gw):
    for kwargs, param in [({"store": True}, "store"), ({"previous_response_id": "resp_123"}, "previous_response_id")]:
        try:
            gw.client.responses.create(model=SONNET, input="x", **kwargs)
            raise AssertionError(f"expected a 400 for {param}")
        except openai.BadRequestError as e:
            assert e.status_code == 400 and e.body["param"] == param, e.body


@test
def embeddings_float_and_base64(gw):
    titan = "amazon-bedrock/amazon.titan-embed-text-v2:0"
    # The SDK asks for base64 by default and decodes it.
    out = gw.client.embeddings.create(model=titan, input=["first text", "second text"], dimensions=256)
    assert out.object == "list" and out.model == titan, out
    assert [d.index for d in out.data] == [0, 1]
    assert all(len(d.embedding) == 256 for d in out.data), [len(d.embedding) for d in out.data]
    assert out.usage.prompt_tokens > 0 and out.usage.total_tokens == out.usage.prompt_tokens
    floats = gw.client.embeddings.create(model=titan, input="first text", dimensions=256, encoding_format="float")
    assert all(abs(a - b) < 1e-6 for a, b in zip(floats.data[0].embedding, out.data[0].embedding))
    cohere = gw.client.embeddings.create(model="amazon-bedrock/cohere.embed-english-v3", input=[f"t{i}" for i in range(100)])
    assert len(cohere.data) == 100 and len(cohere.data[0].embedding) == 1024
    try:
        gw.client.embeddings.create(model=titan, input="x", dimensions=300)
        raise AssertionError("expected a 400")
    except openai.BadRequestError as e:
        assert "256" in str(e), e


@test
def openapi_document_is_valid(gw):
    status, kind, body = gw.get("/openapi.json")
    assert status == 200 and kind.startswith("application/json"), (status, kind)
    doc = json.loads(body)
    assert doc["openapi"].startswith("3.1")
    validate_openapi(doc)


@test
def sdk_obeys_should_retry_after_the_gateways_retries(gw):
    sent = []
    http = httpx.Client(event_hooks={"request": [lambda request: sent.append(request.url.path)]})
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=TOKEN, max_retries=3, timeout=30, http_client=http)
    try:
        client.chat.completions.create(model=HAIKU + "~throttle", messages=[user("x")])
        raise AssertionError("expected 429")
    except openai.RateLimitError as e:
        headers = e.response.headers
        assert headers["x-should-retry"] == "false", headers
        assert int(headers["retry-after-ms"]) == 2000, headers  # 250 ms doubled after 4 attempts
        assert e.request_id and e.request_id == headers["x-request-id"], (e.request_id, headers)
        assert e.body["request_id"] == e.request_id, e.body
        assert "after 4 attempts" in e.body["message"], e.body
    assert sent == ["/v1/chat/completions"], f"the SDK retried on top of the gateway: {sent}"


def metric_families(text, parser):
    return {f.name: f for f in parser.text_string_to_metric_families(text)}


@test
def metrics_and_health(gw):
    status, _, body = gw.get("/healthz")
    assert status == 200
    status, _, body = gw.get("/readyz")
    assert status == 200 and body.startswith("ready"), body
    # A stream that fails after it began: the client got 200, the request failed.
    failure_after_streaming_began(gw)
    want = {"model": "unlisted", "status": "200", "outcome": "error"}
    # Prometheus's own Accept gets OpenMetrics, read by the OpenMetrics parser.
    status, kind, body = gw.get("/metrics", accept="application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
    assert status == 200 and kind.startswith("application/openmetrics-text"), kind
    families = metric_families(body, prometheus_client.openmetrics.parser)
    requests = families["pincer_requests"]
    assert requests.type == "counter", requests
    ok = [s.value for s in requests.samples if s.labels == {"model": SONNET, "status": "200", "outcome": "ok"}]
    assert ok and ok[0] >= 5, requests.samples
    assert any(s.labels == want for s in requests.samples), requests.samples
    assert TOKEN not in body
    # The classic text format for a scraper that asks for it, read by the classic parser: every
    # counter sample lands in its typed family, none in an untyped one.
    status, kind, body = gw.get("/metrics", accept="text/plain; version=0.0.4")
    assert status == 200 and kind == "text/plain; version=0.0.4; charset=utf-8", kind
    families = metric_families(body, prometheus_client.parser)
    untyped = [name for name, f in families.items() if f.type in ("unknown", "untyped")]
    assert not untyped, untyped
    requests = families["pincer_requests"]
    assert requests.type == "counter", requests
    assert {s.name for s in requests.samples} == {"pincer_requests_total"}, requests.samples
    assert any(s.labels == want for s in requests.samples), requests.samples
    assert families["pincer_request_duration_seconds"].type == "histogram"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--twin", required=True, help="path to the bedrock-twin binary")
    parser.add_argument("--pincer", help="path to the pincer binary (default: next to the twin)")
    args = parser.parse_args()
    pincer = args.pincer or str(Path(args.twin).with_name("pincer"))
    passed = failed = 0
    gw = None
    try:
        gw = Gateway(args.twin, pincer)
        print(f"openai {openai.__version__} against {gw.url}")
        for fn in TESTS:
            try:
                fn(gw)
                passed += 1
                print(f"PASS {fn.__name__}")
            except Exception as e:  # noqa: BLE001 - report every failure and go on
                failed += 1
                print(f"FAIL {fn.__name__}: {e!r}")
                traceback.print_exc(file=sys.stdout)
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"FAIL startup: {e!r}")
    finally:
        if gw is not None:
            gateway_code, twin_code = gw.stop()
            logs = "".join(gw.gateway.stderr)
            if gateway_code == 0 and "stopped" in logs:
                passed += 1
                print("PASS gateway stops cleanly on SIGTERM")
            else:
                failed += 1
                print(f"FAIL gateway shutdown: exit {gateway_code}; stderr:\n{logs}")
            if TOKEN in logs:
                failed += 1
                print("FAIL the gateway token appears in the gateway's logs")
            else:
                passed += 1
                print("PASS the gateway token never appears in the logs")
            if twin_code != 0:
                failed += 1
                print(f"FAIL the twin exited with {twin_code}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
