// Server-Sent Events over fetch + ReadableStream (EventSource cannot send an Authorization
// header). SseParser implements the event-stream format of the HTML standard (§9.2.6): fields
// id/event/data/retry, comments, CR/LF/CRLF line ends, split anywhere across chunks.
// followEvents reads a run's stream and, after a drop, reconnects with Last-Event-ID (the seq of
// the last event received), so nothing is lost or repeated; it stops after the `end` event.

import { authHeaders, handleUnauthorized, ApiError } from './api.js';
import { getKey } from './auth.js';

export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;  // ({id, event, data}) for each dispatched event
    this.buf = '';
    this.data = [];
    this.event = '';
    this.lastId = '';
    this.retry = null;
    this.sawCR = false;
  }

  push(text) {
    let start = 0;
    let i = 0;
    if (this.sawCR && text.startsWith('\n')) { start = i = 1; }  // the LF of a CRLF split across chunks
    this.sawCR = false;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buf + text.slice(start, i));
      this.buf = '';
      if (c === 13) {
        if (i + 1 < text.length) { if (text.charCodeAt(i + 1) === 10) i++; } else this.sawCR = true;
      }
      start = i + 1;
    }
    this.buf += text.slice(start);
  }

  line(l) {
    if (l === '') { this.dispatch(); return; }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id') { if (!value.includes('\0')) this.lastId = value; }
    else if (field === 'retry') { if (/^\d+$/.test(value)) this.retry = Number(value); }
  }

  dispatch() {
    const event = this.event || 'message';
    this.event = '';
    if (this.data.length === 0) return;
    const data = this.data.join('\n');
    this.data = [];
    this.onEvent({ id: this.lastId, event, data });
  }
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

// Follows `url` until the `end` event or `signal` aborts.
//   onEvent({id, event, data, json})  each event, data parsed as JSON when it is
//   onState(state, detail)            'connecting' | 'live' | 'reconnecting' | 'ended' | 'error'
//   lastEventId                       resume after this id (e.g. a seq already shown)
// Resolves when the stream ended or was aborted; a 4xx other than 401 ends it with 'error'.
export async function followEvents(url, { onEvent, onState = () => {}, signal, lastEventId = '' }) {
  let lastId = lastEventId;
  let retryMs = 1000;
  let failures = 0;
  let ended = false;
  while (!ended && !signal?.aborted) {
    onState(failures ? 'reconnecting' : 'connecting', { lastId });
    try {
      const key = getKey();
      const headers = authHeaders({ Accept: 'text/event-stream' }, key);
      if (lastId) headers.set('Last-Event-ID', lastId);
      const res = await fetch(url, { headers, signal, cache: 'no-store' });
      if (res.status === 401) {
        const body = await res.json().catch(() => null);
        const err = new ApiError(401, body?.error?.code || 'AUTHENTICATION_ERROR', body?.error?.message || 'unauthorized');
        if (!(await handleUnauthorized(err, key))) { onState('error', { message: err.message }); return; }
        continue;
      }
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        const message = body?.error?.message || `${res.status} ${res.statusText}`;
        if (res.status >= 400 && res.status < 500) { onState('error', { message, status: res.status }); return; }
        throw new Error(message);
      }
      const parser = new SseParser((ev) => {
        lastId = ev.id || lastId;
        let json = null;
        try { json = JSON.parse(ev.data); } catch { /* not JSON: data only */ }
        if (ev.event === 'end') ended = true;
        onEvent({ ...ev, json });
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      onState('live', { lastId });
      failures = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
        if (parser.retry !== null) retryMs = Math.min(Math.max(parser.retry, 250), 30000);
      }
    } catch (e) {
      if (signal?.aborted) return;
      onState('reconnecting', { lastId, message: e.message });
    }
    if (ended || signal?.aborted) break;
    failures++;
    await sleep(Math.min(retryMs * Math.min(failures, 5), 10000), signal);
  }
  if (ended) onState('ended', { lastId });
}
