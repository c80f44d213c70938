// The API client. Every call sends the stored key; a 401 AUTHENTICATION_ERROR asks for a key
// and retries; an error envelope becomes an ApiError carrying the server's code, message and
// details (details.errors[] {path, message} for validation errors).

import { getKey, promptForKey, signOut } from './auth.js';

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
  get fieldErrors() {
    return Array.isArray(this.details.errors) ? this.details.errors : [];
  }
}

const MAX_KEY_PROMPTS = 3;

// `extra` plus the key (the stored one unless given) as a bearer token.
export function authHeaders(extra = {}, key = getKey()) {
  const headers = new Headers(extra);
  if (key) headers.set('Authorization', `Bearer ${key}`);
  return headers;
}

async function readJson(res) {
  const text = await res.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return null; }
}

function errorFrom(res, body) {
  if (body && body.success === false && body.error) {
    const e = body.error;
    return new ApiError(res.status, e.code || 'ERROR', e.message || res.statusText, e.details);
  }
  return new ApiError(res.status, `HTTP_${res.status}`, `${res.status} ${res.statusText}`.trim());
}

// After a 401 to a request sent with `sentKey` ('' for none); true when the caller should
// retry. A key entered meanwhile (for another request) is simply tried. Otherwise a refused
// key is forgotten — not kept and sent again — and the prompt asks for one, quoting the
// server's message; true when one was entered.
export async function handleUnauthorized(err, sentKey) {
  const current = getKey();
  if (current && current !== sentKey) return true;
  if (current) signOut();
  const said = err.message ? ` (${err.message})` : '';
  const message = sentKey ? `The key was refused${said}.` : `This server needs an API key${said}.`;
  return (await promptForKey(message)) !== null;
}

// fetch() with the key and the 401 prompt; resolves with the Response of the last attempt.
export async function fetchWithAuth(path, init = {}) {
  for (let attempt = 0; ; attempt++) {
    const key = getKey();
    const res = await fetch(path, { ...init, headers: authHeaders(init.headers, key), cache: 'no-store' });
    if (res.status !== 401 || attempt >= MAX_KEY_PROMPTS) return res;
    const err = errorFrom(res, await readJson(res));
    if (!(await handleUnauthorized(err, key))) return new Response(JSON.stringify({ success: false, error: { code: err.code, message: err.message, details: err.details } }), { status: 401 });
  }
}

// A JSON API call. Resolves with {status, data, meta, body}: `data`/`meta` of the envelope,
// `body` the whole JSON (health routes are not enveloped). Rejects with an ApiError for an
// error envelope or any non-2xx answer, except `okStatuses` (e.g. 503 of /health/fleet, whose
// body is still the report).
export async function api(path, { method = 'GET', body, signal, okStatuses = [] } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetchWithAuth(path, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK_ERROR', `The server cannot be reached (${e.message})`);
  }
  const json = await readJson(res);
  if (json && json.success === false) throw errorFrom(res, json);
  if (!res.ok && !okStatuses.includes(res.status)) throw errorFrom(res, json);
  return { status: res.status, data: json && json.data, meta: json && json.meta, body: json };
}

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}
