#!/usr/bin/env node
// A scripted fake model server for the agent tests: one HTTP server speaking the four wire
// protocols the real coding-agent CLIs (and the built-in grok) use, with node's stdlib only.
//
//   node server.js [--host 127.0.0.2] [--port 0] [--script FILE]
//   prints "listening on http://HOST:PORT" as its first line.
//
// Protocols:
//   Anthropic Messages      POST /v1/messages[?beta=true]   (SSE when "stream": true, else JSON)
//                           HEAD / and GET / answer 200 (claude probes the base URL)
//   OpenAI Responses        POST /v1/responses              (SSE when "stream": true, else JSON)
//   Gemini                  POST /v1beta/models/M:streamGenerateContent?alt=sse  (SSE)
//                           POST /v1beta/models/M:generateContent                (JSON)
//   OpenAI chat completions POST /v1/chat/completions       (JSON, or SSE with "stream": true)
//
// Control:
//   POST /__script   body: {"steps":[...]} or a bare [...]   replaces the script, 200 {"ok":true}
//   GET  /__script   the current script
//   GET  /__requests every model request so far: {method, path, headers (auth values
//                    redacted), body (parsed JSON when it is JSON)}
//   POST /__reset    clears the recorded requests and the script, drops hung connections
//
// Script steps are chosen by the CONVERSATION POSITION, not by arrival order: a request whose
// history already holds N assistant turns gets step N (clamped to the last step; no script: a
// plain text reply). That keeps the server stateless toward retries (a retried request gets the
// same step: a 500 stays a 500) and toward side requests. Steps:
//   {"type":"text", "text":"..."}
//   {"type":"write_file", "path":"rel/path", "content":"..."}   the agent's own file-writing
//       tool: claude tool_use Write{file_path,content}; codex function_call exec_command{cmd}
//       (or shell{command}); gemini functionCall write_file{file_path,content}; chat completions
//       tool_call write_file{path,content}
//   {"type":"tool_use", "name":"mcp__outpost__dispatch", "input":{...}}   Anthropic only: a call
//       of any tool the client offers (else a text reply); "${runId}" in an input string is the
//       last "runId":"<ULID>" seen in the conversation's tool results
//   {"type":"error", "status":401|500|..., "message":"..."}     the provider's error JSON
//   {"type":"hang"}                                             accept, never answer
// Every step may carry "usage": {"input_tokens":N, "output_tokens":M} (defaults 120 / 30).
'use strict';

const http = require('node:http');
const fs = require('node:fs');

function parseArgs(argv) {
  const out = { host: '127.0.0.2', port: 0, script: null };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--host') { out.host = v; i++; }
    else if (a === '--port') { out.port = Number(v); i++; }
    else if (a === '--script') { out.script = v; i++; }
    else { console.error(`unknown argument ${a}`); process.exit(2); }
  }
  return out;
}

const args = parseArgs(process.argv);
let steps = [];
let requests = [];
const hung = new Set();

function normalizeScript(json) {
  const s = Array.isArray(json) ? json : (json && json.steps);
  if (!Array.isArray(s)) throw new Error('script must be a list of steps or {"steps":[...]}');
  return s;
}
if (args.script) steps = normalizeScript(JSON.parse(fs.readFileSync(args.script, 'utf8')));

const kRedacted = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'proxy-authorization',
                           'api-key', 'cookie']);
function redactHeaders(h) {
  const out = {};
  for (const [k, v] of Object.entries(h)) out[k] = kRedacted.has(k) ? '<redacted>' : v;
  return out;
}

function usageOf(step) {
  const u = (step && step.usage) || {};
  return { input: u.input_tokens ?? 120, output: u.output_tokens ?? 30 };
}

function pickStep(turns) {
  if (steps.length === 0) return { type: 'text', text: 'Done.' };
  return steps[Math.min(turns, steps.length - 1)];
}

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function startSse(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache',
                       connection: 'keep-alive' });
}
const sseNamed = (res, event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
const sseData = (res, data) => res.write(`data: ${JSON.stringify(data)}\n\n`);

// Splits a string into a few chunks so the clients exercise their delta accumulation.
function chunks(s, n = 3) {
  if (s.length < n) return [s];
  const size = Math.ceil(s.length / n);
  const out = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

const shQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

let idSeq = 0;
const newId = (prefix) => `${prefix}_${Date.now().toString(36)}${(idSeq++).toString(36)}`;

// ---------------------------------------------------------------- errors, per provider
function errorBody(provider, status, message) {
  if (provider === 'anthropic') {
    const type = status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error'
               : status === 529 ? 'overloaded_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
    return { type: 'error', error: { type, message: message || (status === 401 ? 'invalid x-api-key' : 'Internal server error') } };
  }
  if (provider === 'gemini') {
    const st = status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED'
             : status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
    return { error: { code: status, message: message || (status === 401 ? 'API key not valid. Please pass a valid API key.' : 'Internal error encountered.'), status: st } };
  }
  return { error: { message: message || (status === 401 ? 'Incorrect API key provided.' : 'The server had an error while processing your request.'),
                    type: status === 401 ? 'invalid_request_error' : 'server_error', param: null,
                    code: status === 401 ? 'invalid_api_key' : null } };
}

// Handles the steps every provider shares; returns true when the request is answered (or hung).
function commonStep(provider, step, req, res) {
  if (step.type === 'hang') { hung.add(res); res.on('close', () => hung.delete(res)); return true; }
  if (step.type === 'error') {
    const status = step.status || 500;
    sendJson(res, status, errorBody(provider, status, step.message));
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- Anthropic Messages
// The last "runId":"<ULID>" in the tool results of a conversation ("" when none).
function lastRunId(msgs) {
  let id = '';
  for (const m of msgs) {
    for (const part of Array.isArray(m.content) ? m.content : []) {
      if (part.type !== 'tool_result') continue;
      const text = typeof part.content === 'string' ? part.content : JSON.stringify(part.content);
      for (const match of text.matchAll(/\\?"runId\\?":\s*\\?"([0-9A-HJKMNP-TV-Z]{26})/g)) id = match[1];
    }
  }
  return id;
}

function anthropic(body, req, res) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const turns = msgs.filter((m) => m.role === 'assistant').length;
  let step = pickStep(turns);
  if (commonStep('anthropic', step, req, res)) return;
  const offers = (name) => Array.isArray(body.tools) && body.tools.some((t) => t.name === name);
  if (step.type === 'write_file' && !offers('Write')) step = { type: 'text', text: 'ok', usage: step.usage };
  if (step.type === 'tool_use' && !offers(step.name)) step = { type: 'text', text: 'ok', usage: step.usage };
  const u = usageOf(step);
  const id = newId('msg');
  const model = body.model || 'fake-model';
  const usageStart = { input_tokens: u.input, output_tokens: 1, cache_creation_input_tokens: 0,
                       cache_read_input_tokens: 0 };
  let block, stopReason;
  if (step.type === 'write_file') {
    block = { type: 'tool_use', id: newId('toolu'), name: 'Write',
              input: { file_path: step.path, content: step.content } };
    stopReason = 'tool_use';
  } else if (step.type === 'tool_use') {
    const runId = lastRunId(msgs);
    block = { type: 'tool_use', id: newId('toolu'), name: step.name,
              input: JSON.parse(JSON.stringify(step.input || {}).split('${runId}').join(runId)) };
    stopReason = 'tool_use';
  } else {
    block = { type: 'text', text: step.text ?? '' };
    stopReason = 'end_turn';
  }
  if (!body.stream) {
    return sendJson(res, 200, { id, type: 'message', role: 'assistant', model, content: [block],
                                stop_reason: stopReason, stop_sequence: null,
                                usage: { ...usageStart, output_tokens: u.output } });
  }
  startSse(res);
  sseNamed(res, 'message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant',
    model, content: [], stop_reason: null, stop_sequence: null, usage: usageStart } });
  if (block.type === 'tool_use') {
    sseNamed(res, 'content_block_start', { type: 'content_block_start', index: 0,
      content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
    for (const c of chunks(JSON.stringify(block.input))) {
      sseNamed(res, 'content_block_delta', { type: 'content_block_delta', index: 0,
        delta: { type: 'input_json_delta', partial_json: c } });
    }
  } else {
    sseNamed(res, 'content_block_start', { type: 'content_block_start', index: 0,
      content_block: { type: 'text', text: '' } });
    for (const c of chunks(block.text)) {
      sseNamed(res, 'content_block_delta', { type: 'content_block_delta', index: 0,
        delta: { type: 'text_delta', text: c } });
    }
  }
  sseNamed(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
  sseNamed(res, 'message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: u.output } });
  sseNamed(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

// ---------------------------------------------------------------- OpenAI Responses
function responses(body, req, res) {
  const input = Array.isArray(body.input) ? body.input : [];
  const turns = input.filter((it) => it.type === 'function_call' ||
    (it.role === 'assistant' && (it.type === undefined || it.type === 'message'))).length;
  const step = pickStep(turns);
  if (commonStep('openai', step, req, res)) return;
  const u = usageOf(step);
  const toolNames = (Array.isArray(body.tools) ? body.tools : []).map((t) => t.name);
  let item;
  if (step.type === 'write_file') {
    const cmd = `printf '%s' ${shQuote(step.content)} > ${shQuote(step.path)}`;
    const callId = newId('call');
    if (toolNames.includes('exec_command') || !toolNames.includes('shell')) {
      item = { type: 'function_call', id: newId('fc'), call_id: callId, name: 'exec_command',
               arguments: JSON.stringify({ cmd }), status: 'completed' };
    } else {
      item = { type: 'function_call', id: newId('fc'), call_id: callId, name: 'shell',
               arguments: JSON.stringify({ command: ['bash', '-lc', cmd] }), status: 'completed' };
    }
  } else {
    item = { type: 'message', id: newId('msg'), role: 'assistant', status: 'completed',
             content: [{ type: 'output_text', text: step.text ?? '', annotations: [] }] };
  }
  const usage = { input_tokens: u.input, input_tokens_details: { cached_tokens: 0 },
                  output_tokens: u.output, output_tokens_details: { reasoning_tokens: 0 },
                  total_tokens: u.input + u.output };
  const id = newId('resp');
  const base = { id, object: 'response', created_at: Math.floor(Date.now() / 1000),
                 model: body.model || 'fake-model' };
  if (!body.stream) return sendJson(res, 200, { ...base, status: 'completed', output: [item], usage });
  startSse(res);
  let seq = 0;
  const ev = (type, data) => sseNamed(res, type, { type, sequence_number: seq++, ...data });
  ev('response.created', { response: { ...base, status: 'in_progress', output: [] } });
  if (item.type === 'message') {
    ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    for (const c of chunks(item.content[0].text)) {
      ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: c });
    }
  } else {
    ev('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
  }
  ev('response.output_item.done', { output_index: 0, item });
  ev('response.completed', { response: { ...base, status: 'completed', output: [item], usage } });
  res.end();
}

// ---------------------------------------------------------------- Gemini
function gemini(body, req, res, stream) {
  const contents = Array.isArray(body.contents) ? body.contents : [];
  const turns = contents.filter((c) => c.role === 'model').length;
  let step = pickStep(turns);
  if (commonStep('gemini', step, req, res)) return;
  const decls = (Array.isArray(body.tools) ? body.tools : []).flatMap((t) => t.functionDeclarations || []);
  if (step.type === 'write_file' && !decls.some((d) => d.name === 'write_file')) {
    step = { type: 'text', text: 'ok', usage: step.usage };
  }
  const u = usageOf(step);
  const usageMetadata = { promptTokenCount: u.input, candidatesTokenCount: u.output,
                          totalTokenCount: u.input + u.output };
  const parts = step.type === 'write_file'
    ? [{ functionCall: { name: 'write_file', args: { file_path: step.path, content: step.content } } }]
    : null;
  const modelVersion = 'fake-model';
  if (!stream) {
    // A non-streaming call without tools is gemini's model router / a side query: a text reply.
    return sendJson(res, 200, { candidates: [{ content: { role: 'model', parts: parts || [{ text: step.text ?? '' }] },
      finishReason: 'STOP', index: 0 }], usageMetadata, modelVersion });
  }
  startSse(res);
  if (parts) {
    sseData(res, { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
                   usageMetadata, modelVersion });
  } else {
    const cs = chunks(step.text ?? '');
    cs.forEach((c, i) => {
      const last = i === cs.length - 1;
      sseData(res, { candidates: [{ content: { role: 'model', parts: [{ text: c }] }, index: 0,
                                    ...(last ? { finishReason: 'STOP' } : {}) }],
                     ...(last ? { usageMetadata } : {}), modelVersion });
    });
  }
  res.end();
}

// ---------------------------------------------------------------- OpenAI chat completions
function chat(body, req, res) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const turns = msgs.filter((m) => m.role === 'assistant').length;
  const step = pickStep(turns);
  if (commonStep('openai', step, req, res)) return;
  const u = usageOf(step);
  const usage = { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output };
  const id = newId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const model = body.model || 'fake-model';
  let message, finish;
  if (step.type === 'write_file') {
    message = { role: 'assistant', content: null, tool_calls: [{ id: newId('call'), type: 'function',
      function: { name: 'write_file', arguments: JSON.stringify({ path: step.path, content: step.content }) } }] };
    finish = 'tool_calls';
  } else {
    message = { role: 'assistant', content: step.text ?? '' };
    finish = 'stop';
  }
  if (!body.stream) {
    return sendJson(res, 200, { id, object: 'chat.completion', created, model,
      choices: [{ index: 0, message, finish_reason: finish }], usage });
  }
  startSse(res);
  const chunk = (delta, finishReason, extra = {}) => sseData(res, { id, object: 'chat.completion.chunk',
    created, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra });
  chunk({ role: 'assistant', content: '' }, null);
  if (message.tool_calls) {
    const tc = message.tool_calls[0];
    chunk({ tool_calls: [{ index: 0, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } }] }, null);
    for (const c of chunks(tc.function.arguments)) chunk({ tool_calls: [{ index: 0, function: { arguments: c } }] }, null);
  } else {
    for (const c of chunks(message.content)) chunk({ content: c }, null);
  }
  chunk({}, finish, { usage });
  res.write('data: [DONE]\n\n');
  res.end();
}

// ---------------------------------------------------------------- routing
function route(req, res, raw) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (p === '/__script') {
    if (req.method === 'GET') return sendJson(res, 200, { steps });
    try { steps = normalizeScript(JSON.parse(raw || '[]')); } catch (e) { return sendJson(res, 400, { error: String(e.message) }); }
    return sendJson(res, 200, { ok: true, steps: steps.length });
  }
  if (p === '/__requests') return sendJson(res, 200, requests);
  if (p === '/__reset') {
    requests = []; steps = [];
    for (const r of hung) r.destroy();
    hung.clear();
    return sendJson(res, 200, { ok: true });
  }

  let body = raw;
  try { body = raw ? JSON.parse(raw) : null; } catch { /* keep the raw text */ }
  requests.push({ method: req.method, path: req.url, headers: redactHeaders(req.headers), body });
  const b = body && typeof body === 'object' ? body : {};

  if (req.method === 'HEAD' || (req.method === 'GET' && p === '/')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end(req.method === 'HEAD' ? undefined : 'fake model server\n');
  }
  if (req.method === 'POST' && /\/v1\/messages$/.test(p)) return anthropic(b, req, res);
  if (req.method === 'POST' && /\/v1\/messages\/count_tokens$/.test(p)) return sendJson(res, 200, { input_tokens: 120 });
  if (req.method === 'POST' && /\/v1\/responses$/.test(p)) return responses(b, req, res);
  if (req.method === 'POST' && /\/v1\/chat\/completions$/.test(p)) return chat(b, req, res);
  const g = /\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/.exec(p);
  if (req.method === 'POST' && g) {
    if (g[2] === 'countTokens') return sendJson(res, 200, { totalTokens: 120 });
    return gemini(b, req, res, g[2] === 'streamGenerateContent');
  }
  if (req.method === 'GET' && /\/models$/.test(p)) {
    return sendJson(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model' }], models: [] });
  }
  sendJson(res, 404, { error: { message: `fake model server: no route for ${req.method} ${req.url}` } });
}

const server = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    try { route(req, res, Buffer.concat(parts).toString('utf8')); } catch (e) {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `fake model server bug: ${e.stack}` } });
    }
  });
});
server.keepAliveTimeout = 60000;
server.listen(args.port, args.host, () => {
  const a = server.address();
  process.stdout.write(`listening on http://${a.address}:${a.port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
