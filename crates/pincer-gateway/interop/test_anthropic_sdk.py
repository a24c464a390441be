#!/usr/bin/env python3
"""Interop test: the official `anthropic` Python SDK against `pincer gateway`'s Messages door.

Usage: python test_anthropic_sdk.py --twin PATH_TO_BEDROCK_TWIN [--pincer PATH_TO_PINCER]

Starts the twin and a gateway (with a token) on free loopback ports, drives `POST /v1/messages`
and `POST /v1/messages/count_tokens` with the `anthropic` SDK (2.x: it sends `anthropic-version:
2026-10-21` and its `api_key` as `Authorization: Bearer`): create, the stream helper and the raw
event stream, stop sequences and max_tokens, tools with tool_choice and the tool_result turn
(plain and streamed), the request id in `request-id` and in error bodies, thinking whose signature is replayed across a tool turn, adaptive thinking,
images, count_tokens, both auth styles (x-api-key and Bearer), a managed key as `x-api-key` (its
model list and rate limit in the SDK's error classes), the error shape and classes, a
failure after streaming began, and request bodies shaped as Claude Code sends them
(`?beta=true`, an `anthropic-beta` list, cache_control, context_management, metadata). Stops both
with SIGTERM and prints `N passed, N failed` on the last line. Exits non-zero when anything failed.

The twin echoes the last user message, calls each tool the prompt names, answers a tool_result
turn with "Tool results received: …", and thinks when asked to.
"""

import argparse
import base64
import json
import sys
import traceback
import urllib.error
import urllib.request
from pathlib import Path

import anthropic

from test_openai_sdk import HAIKU, PNG, SONNET, TOKEN, Gateway, managed_key

TOOLS = [
    {"name": "get_weather", "description": "Weather in a city",
     "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
    {"name": "get_time", "description": "Time in a zone",
     "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}}},
]
# What Claude Code 2.1.332 sends on every request (with a Sonnet 4.5 model name).
CLAUDE_CODE_BETAS = ("claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,"
                     "thinking-token-count-2026-05-13,advanced-tool-use-2025-11-20")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def user(text):
    return {"role": "user", "content": text}


def client(gw, **kwargs):
    kwargs.setdefault("api_key", TOKEN)
    return anthropic.Anthropic(base_url=gw.url, max_retries=0, timeout=30, **kwargs)


def texts(message):
    return "".join(b.text for b in message.content if b.type == "text")


def post(gw, path, body, headers, stream=False):
    """A raw request; (status, content-type, body text)."""
    request = urllib.request.Request(gw.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("content-type"), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type"), e.read().decode()


def sse(text):
    """(event, data) pairs of an SSE body."""
    out = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        event, data = None, []
        for line in frame.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if event or data:
            out.append((event, json.loads("\n".join(data)) if data else None))
    return out


@test
def managed_keys_as_x_api_key(gw):
    secret = managed_key(gw, "--name", "claude-team", "--models", "*claude-3-haiku*", "--rpm", "2")
    keyed = anthropic.Anthropic(base_url=gw.url, max_retries=0, timeout=30, api_key=None,
                                default_headers={"x-api-key": secret})
    out = keyed.messages.create(model=HAIKU, max_tokens=50, messages=[user("keyed hello")])
    assert "keyed hello" in texts(out)
    try:
        keyed.messages.create(model=SONNET, max_tokens=50, messages=[user("not mine")])
        raise AssertionError("a model outside the key's list was served")
    except anthropic.PermissionDeniedError as e:
        assert e.body["error"]["type"] == "permission_error" and SONNET in e.message, e.body
    keyed.messages.create(model=HAIKU, max_tokens=50, messages=[user("second")])
    try:
        keyed.messages.create(model=HAIKU, max_tokens=50, messages=[user("third")])
        raise AssertionError("the third request of a 2 rpm key was served")
    except anthropic.RateLimitError as e:
        assert e.body["error"]["type"] == "rate_limit_error" and "2 requests per minute" in e.message, e.body
        assert int(e.response.headers["retry-after"]) >= 1


@test
def messages_create(gw):
    out = gw.anthropic.messages.create(model=SONNET, max_tokens=200, system="Be brief.",
                                       messages=[user("hello from the anthropic sdk")])
    assert out.type == "message" and out.role == "assistant", out
    assert out.id.startswith("msg_"), out.id
    assert out.model == SONNET, out.model
    assert [b.type for b in out.content] == ["text"], out.content
    assert "hello from the anthropic sdk" in out.content[0].text, out.content
    assert out.stop_reason == "end_turn" and out.stop_sequence is None, out
    assert out.usage.input_tokens > 0 and out.usage.output_tokens > 0, out.usage
    assert out._request_id and out._request_id.startswith("req_"), out._request_id


@test
def stream_helper_accumulates_the_events(gw):
    deltas = []
    with gw.anthropic.messages.stream(model=SONNET, max_tokens=200,
                                      messages=[user("a streamed answer in several pieces")]) as stream:
        for text in stream.text_stream:
            deltas.append(text)
        final = stream.get_final_message()
    assert len(deltas) > 1, deltas
    assert "".join(deltas) == texts(final) == "a streamed answer in several pieces", (deltas, final)
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0, final


@test
def raw_stream_has_anthropic_event_order(gw):
    events = list(gw.anthropic.messages.create(model=SONNET, max_tokens=200, stream=True,
                                               messages=[user("raw events")]))
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop", kinds
    assert kinds[-2] == "message_delta", kinds
    assert kinds[1] == "content_block_start" and "content_block_stop" in kinds, kinds
    start = events[0].message
    assert start.role == "assistant" and start.content == [] and start.stop_reason is None, start
    # Bedrock counts the input at the end: message_start carries zeros, message_delta the counts.
    assert start.usage.input_tokens == 0, start.usage
    delta = events[-2]
    assert delta.delta.stop_reason == "end_turn" and delta.usage.output_tokens > 0, delta
    assert delta.usage.input_tokens + (delta.usage.cache_creation_input_tokens or 0) > 0, delta
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta")
    assert text == "raw events", text


@test
def sse_frames_name_their_event(gw):
    # The Python SDK skips SSE frames without an `event:` line; each must match its data's type.
    status, kind, body = post(gw, "/v1/messages", {"model": SONNET, "max_tokens": 100, "stream": True,
                                                   "messages": [user("framed")]},
                              {"x-api-key": TOKEN, "anthropic-version": "2023-06-01"})
    assert status == 200 and kind.startswith("text/event-stream"), (status, kind, body[:300])
    frames = sse(body)
    assert frames and all(event == data["type"] for event, data in frames), frames[:5]


@test
def stop_sequences_and_max_tokens(gw):
    stopped = gw.anthropic.messages.create(model=SONNET, max_tokens=200, stop_sequences=["STOP"],
                                           messages=[user("alpha beta STOP gamma")])
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == "STOP", stopped
    assert "gamma" not in texts(stopped), stopped
    cut = gw.anthropic.messages.create(model=SONNET, max_tokens=2, messages=[user("one two three four five six seven")])
    assert cut.stop_reason == "max_tokens", cut


def tool_turn(gw, stream):
    question = user("Use get_weather and get_time please")
    if stream:
        with gw.anthropic.messages.stream(model=SONNET, max_tokens=500, tools=TOOLS, messages=[question]) as s:
            kinds = [e.type for e in s]
            first = s.get_final_message()
        assert "input_json" in kinds, kinds
    else:
        first = gw.anthropic.messages.create(model=SONNET, max_tokens=500, tools=TOOLS,
                                             tool_choice={"type": "auto"}, messages=[question])
    assert first.stop_reason == "tool_use", first
    calls = [b for b in first.content if b.type == "tool_use"]
    assert [c.name for c in calls] == ["get_weather", "get_time"], first.content
    assert all(c.id and isinstance(c.input, dict) for c in calls), calls
    assert "city" in calls[0].input, calls[0].input
    follow = [question, first.to_param(), {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": c.id, "content": f"result of {c.name}"} for c in calls]}]
    answer = gw.anthropic.messages.create(model=SONNET, max_tokens=500, tools=TOOLS, messages=follow)
    text = texts(answer)
    assert "result of get_weather" in text and "result of get_time" in text, text
    assert answer.stop_reason == "end_turn", answer


@test
def tool_use_and_tool_result_turn(gw):
    tool_turn(gw, stream=False)


@test
def streamed_tool_use_and_tool_result_turn(gw):
    tool_turn(gw, stream=True)


@test
def tool_choice_tool_and_any(gw):
    named = gw.anthropic.messages.create(model=SONNET, max_tokens=300, tools=TOOLS,
                                         tool_choice={"type": "tool", "name": "get_time"},
                                         messages=[user("What time is it?")])
    assert [b.type for b in named.content] == ["tool_use"], named.content
    assert named.content[0].name == "get_time" and named.stop_reason == "tool_use", named
    forced = gw.anthropic.messages.create(model=SONNET, max_tokens=300, tools=TOOLS, tool_choice={"type": "any"},
                                          messages=[user("Anything")])
    assert forced.stop_reason == "tool_use" and any(b.type == "tool_use" for b in forced.content), forced


@test
def thinking_signature_replayed_across_a_tool_turn(gw):
    question = user("Think, then use get_weather for Paris")
    thinking = {"type": "enabled", "budget_tokens": 1024}
    first = gw.anthropic.messages.create(model=SONNET, max_tokens=2048, thinking=thinking, tools=TOOLS,
                                         messages=[question])
    kinds = [b.type for b in first.content]
    assert kinds[0] == "thinking" and "tool_use" in kinds, kinds
    block = first.content[0]
    assert block.thinking and block.signature, block
    call = next(b for b in first.content if b.type == "tool_use")
    follow = [question, first.to_param(), {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 21 C"}]}]
    second = gw.anthropic.messages.create(model=SONNET, max_tokens=2048, thinking=thinking, tools=TOOLS,
                                          messages=follow)
    assert "sunny" in texts(second) and second.stop_reason == "end_turn", second


@test
def streamed_thinking_has_thinking_and_signature_deltas(gw):
    with gw.anthropic.messages.stream(model=SONNET, max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024},
                                      messages=[user("think about this")]) as stream:
        deltas = [e.delta.type for e in stream if e.type == "content_block_delta"]
        final = stream.get_final_message()
    assert "thinking_delta" in deltas and "signature_delta" in deltas and "text_delta" in deltas, deltas
    assert final.content[0].type == "thinking" and final.content[0].signature, final.content
    assert texts(final) == "think about this", final.content


@test
def adaptive_thinking_is_accepted(gw):
    # Claude Code sends {"type": "adaptive"} (with output_config.effort) for model names it does not
    # know; Bedrock's Claude 4.5 models take only budgeted thinking.
    out = gw.anthropic.messages.create(model=SONNET, max_tokens=4096, thinking={"type": "adaptive"},
                                       output_config={"effort": "low"}, messages=[user("adaptive please")])
    assert out.stop_reason == "end_turn" and "adaptive please" in texts(out), out


@test
def image_block(gw):
    out = gw.anthropic.messages.create(model=SONNET, max_tokens=200, messages=[{"role": "user", "content": [
        {"type": "text", "text": "twin:images describe"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(PNG).decode()}}]}])
    assert texts(out).startswith(f"Images: png {len(PNG)} bytes"), out.content


@test
def count_tokens(gw):
    small = gw.anthropic.messages.count_tokens(model=SONNET, messages=[user("count me")])
    big = gw.anthropic.messages.count_tokens(model=SONNET, system="You are a careful assistant. " * 20, tools=TOOLS,
                                             messages=[user("count me " * 50)])
    assert small.input_tokens > 0, small
    assert big.input_tokens > small.input_tokens, (small, big)
    # Claude Code's own probe: the beta path, a string content and an empty tool list.
    status, _, body = post(gw, "/v1/messages/count_tokens?beta=true",
                           {"model": SONNET, "messages": [user("foo")], "tools": []},
                           {"authorization": f"Bearer {TOKEN}", "anthropic-version": "2023-06-01",
                            "anthropic-beta": "claude-code-20250219,token-counting-2024-11-01"})
    assert status == 200 and json.loads(body)["input_tokens"] > 0, (status, body)


@test
def both_auth_styles(gw):
    bearer = client(gw, api_key=None, auth_token=TOKEN)  # Authorization: Bearer
    assert "bearer" in texts(bearer.messages.create(model=SONNET, max_tokens=50, messages=[user("bearer")]))
    header = client(gw, api_key=None, default_headers={"x-api-key": TOKEN})  # x-api-key, as curl and Claude Code send it
    assert "header" in texts(header.messages.create(model=SONNET, max_tokens=50, messages=[user("header")]))
    for wrong in (client(gw, api_key="not-the-token"), client(gw, api_key=None, default_headers={"x-api-key": "nope"})):
        try:
            wrong.messages.create(model=SONNET, max_tokens=10, messages=[user("x")])
            raise AssertionError("expected 401")
        except anthropic.AuthenticationError as e:
            assert e.status_code == 401 and e.body["error"]["type"] == "authentication_error", e.body


def error_of(call):
    try:
        call()
    except anthropic.APIStatusError as e:
        return e
    raise AssertionError("expected an error status")


@test
def error_shape_and_classes(gw):
    create = gw.anthropic.messages.create
    cases = [
        (lambda: create(model="amazon-bedrock/us.nope-v1:0", max_tokens=10, messages=[user("x")]),
         404, anthropic.NotFoundError, "not_found_error"),
        (lambda: create(model=SONNET, max_tokens=10, messages=[]), 400, anthropic.BadRequestError, "invalid_request_error"),
        (lambda: create(model=SONNET, max_tokens=10, messages=[user("x")], extra_body={"colour": "red"}),
         400, anthropic.BadRequestError, "invalid_request_error"),
        (lambda: create(model=HAIKU + "~throttle", max_tokens=10, messages=[user("x")]), 429, anthropic.RateLimitError, "rate_limit_error"),
        (lambda: create(model=HAIKU + "~5xx:503", max_tokens=10, messages=[user("x")]), 503, anthropic.InternalServerError, None),
    ]
    for call, status, kind, error_type in cases:
        e = error_of(call)
        assert isinstance(e, kind) and e.status_code == status, (type(e), e.status_code, status, e.body)
        body = e.body
        assert isinstance(body, dict) and body.get("type") == "error", body
        assert body["error"].get("message"), body
        if error_type:
            assert body["error"]["type"] == error_type, body
        # The id the SDK reads from Anthropic's `request-id` header is the body's.
        assert e.request_id and e.request_id == body.get("request_id"), (e.request_id, body)
        if status == 429:
            headers = e.response.headers
            assert headers.get("retry-after") and headers.get("x-should-retry") == "false", headers


@test
def failure_after_streaming_began(gw):
    text = ""
    try:
        with gw.anthropic.messages.stream(model=HAIKU + "~midstream-modelStreamErrorException:2", max_tokens=500,
                                          messages=[user("an answer long enough to be cut in the middle")]) as stream:
            for piece in stream.text_stream:
                text += piece
        raise AssertionError("expected an error event")
    except anthropic.APIStatusError as e:
        # An `event: error` frame; the SDK raises it with the stream's 200 status.
        assert isinstance(e.body, dict) and e.body.get("type") == "error" and e.body["error"]["type"], e.body
    assert text, "the partial answer arrived before the error"


def claude_code_body(prompt, **extra):
    """The shape of Claude Code 2.1.332's first request, cut down."""
    return {
        "model": SONNET,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>\nToday's date is 2026-12-01.\n</system-reminder>\n"},
            {"type": "text", "text": prompt, "cache_control": {"type": "ephemeral"}}]}],
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332.334; cc_entrypoint=sdk-cli;"},
            {"type": "text", "text": "You are a Claude agent, built on Anthropic's Claude Agent SDK.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "You are an agent working with the user toward their goals. " * 40,
             "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "tools": [
            {"name": "Shell", "description": "Executes a command",
             "input_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                              "properties": {"command": {"description": "The command to execute", "type": "string"},
                                             "timeout": {"type": "number"}},
                              "required": ["command"], "additionalProperties": False}},
            {"name": "DeferredToolPlaceholder", "description": "Reserved placeholder; never call this tool.",
             "input_schema": {"type": "object", "properties": {}}, "defer_loading": True}],
        "metadata": {"user_id": json.dumps({"device_id": "0" * 64, "account_uuid": "", "session_id": "00000000-0000-4000-8000-000000000000"})},
        "max_tokens": 32000,
        "thinking": {"budget_tokens": 31999, "type": "enabled", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        **extra,
    }


@test
def claude_code_shaped_requests(gw):
    headers = {"authorization": f"Bearer {TOKEN}", "anthropic-version": "2023-06-01", "anthropic-beta": CLAUDE_CODE_BETAS,
               "x-app": "cli", "anthropic-dangerous-direct-browser-access": "true"}
    for stream in (True, False):
        status, kind, body = post(gw, "/v1/messages?beta=true", claude_code_body(f"claude code shaped {stream}", stream=stream), headers)
        assert status == 200, (status, body[:500])
        if stream:
            frames = sse(body)
            kinds = [e for e, _ in frames]
            assert kinds[0] == "message_start" and "message_delta" in kinds, kinds
            text = "".join(d["delta"].get("text", "") for e, d in frames if e == "content_block_delta")
            assert f"claude code shaped {stream}" in text, text
        else:
            message = json.loads(body)
            assert message["type"] == "message" and message["stop_reason"] == "end_turn", message
    # Newer model names: adaptive thinking, an effort, and a system message inside `messages`.
    body = claude_code_body("claude code adaptive", stream=False, thinking={"type": "adaptive", "display": "omitted"},
                            output_config={"effort": "medium"}, tools=[])
    body["messages"].append({"role": "system", "content": [{"type": "text", "text": "# Environment\n - Platform: linux"}]})
    status, _, text = post(gw, "/v1/messages?beta=true", body,
                           {**headers, "anthropic-beta": CLAUDE_CODE_BETAS + ",per-turn-control-2026-07-01,effort-2025-11-24"})
    assert status == 200 and "claude code adaptive" in text, (status, text[:500])


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
        gw.anthropic = client(gw)
        print(f"anthropic {anthropic.__version__} against {gw.url}")
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
            if gateway_code == 0 and TOKEN not in logs:
                passed += 1
                print("PASS gateway stops cleanly, its token never in its logs")
            else:
                failed += 1
                print(f"FAIL gateway exit {gateway_code} or token in logs:\n{logs[-2000:]}")
            if twin_code != 0:
                failed += 1
                print(f"FAIL the twin exited with {twin_code}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
