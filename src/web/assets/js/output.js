// A run's output on the page, read like a CI log: stdout and stderr lines (told apart by class)
// with their ANSI colours rendered, notices (truncated output, agent messages, errors) between
// them, and each agent tool call as a collapsible group holding its input and, once it comes,
// its result. Every line has a number linking to it (#/runs/<id>#L120: scrolled to and
// highlighted on load) and the time of its event (shown with the timestamps toggle).
//
// Chunks are queued and rendered once per animation frame in one DocumentFragment, and the DOM
// keeps at most `maxLines` lines: with 100k lines only the last maxLines become elements at
// all, the rest are counted ("N earlier lines not shown") and stay available from the logs API
// or the output.log artifact. Line numbers count every line, shown or not.
//
// A line element: <div class="line stdout" id="L7" data-n="7"><a class="ln" data-n="7"></a>
// <span class="ts" data-ts="…"></span><span class="tx">text</span></div> — the number and the
// time are drawn by CSS from their data attributes, so a line's textContent is its text.

import { ansiSegments, AnsiState } from './ansi.js';
import { h } from './dom.js';

function fmtTs(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

// Segments into `el` as text nodes (coloured ones in spans).
function appendSegments(el, segments) {
  for (const s of segments) {
    if (!s.cls && !s.fg && !s.bg) { el.append(document.createTextNode(s.text)); continue; }
    const span = h('span', { class: s.cls || null }, s.text);
    if (s.fg) span.style.color = `rgb(${s.fg})`;
    if (s.bg) span.style.backgroundColor = `rgb(${s.bg})`;
    el.append(span);
  }
}

// The one-line form of a tool's input: its usual argument, else its JSON.
export function toolArgument(input) {
  if (input === null || input === undefined) return '';
  if (typeof input === 'string') return input;
  for (const k of ['command', 'cmd', 'file_path', 'path', 'pattern', 'query', 'url', 'description', 'prompt']) {
    if (typeof input[k] === 'string' && input[k]) return input[k];
  }
  const json = JSON.stringify(input);
  return json === '{}' ? '' : json;
}

export class OutputView {
  constructor({ maxLines = 5000, onTrim = () => {}, linkBase = '' } = {}) {
    this.maxLines = maxLines;
    this.onTrim = onTrim;          // (hiddenCount) when lines leave the DOM
    this.linkBase = linkBase;      // e.g. '#/runs/<id>': a line's link is linkBase + '#L<n>'
    this.queue = [];               // [{kind:'text', stream, text, ts} | {kind:'notice', cls, text, ts} | {kind:'tool', ev}]
    this.open = {};                // stream -> the element of its unfinished last line
    this.ansi = { stdout: new AnsiState(), stderr: new AnsiState() };
    this.carry = { stdout: '', stderr: '' };  // an escape sequence split between chunks
    this.tools = new Map();        // tool id -> its group element (or its record, before render)
    this.lines = 0;                // elements in the DOM
    this.hidden = 0;               // lines dropped from the DOM (or never rendered)
    this.total = 0;                // every line seen: the number of the last one
    this.frame = 0;
    this.target = 0;               // a line to scroll to once it is there (#L<n>)
    this.el = h('div', { class: 'output', role: 'log', 'aria-label': 'run output' });
    // A scroll of the user's (not one of ours, which the event reports a frame later):
    // following is on at the end and off anywhere else.
    this.autoTop = -1;
    this.el.addEventListener('scroll', () => {
      if (Math.abs(this.el.scrollTop - this.autoTop) < 2) return;
      this.autoTop = -1;
      this.setFollow(this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - 24);
    });
    this.el.addEventListener('click', (e) => {
      const a = e.target.closest?.('a.ln');
      if (!a) return;
      e.preventDefault();
      history.replaceState(null, '', a.getAttribute('href'));
      this.highlight(Number(a.dataset.n), false);
    });
    this.follow = true;
    this.onFollow = () => {};      // (following) when it changes
  }

  setFollow(on) {
    if (this.follow === on) return;
    this.follow = on;
    if (on) this.scrollToEnd();
    this.onFollow(on);
  }

  scrollToEnd() {
    this.el.scrollTop = this.el.scrollHeight;
    this.autoTop = this.el.scrollTop;
  }

  append(stream, text, ts) {
    if (text) this.enqueue({ kind: 'text', stream: stream === 'stderr' ? 'stderr' : 'stdout', text, ts });
  }

  notice(cls, text, ts) {
    this.enqueue({ kind: 'notice', cls, text, ts });
  }

  // A tool_call event opens a group; its tool_result (same id) fills it.
  toolCall(ev) {
    this.enqueue({ kind: 'tool', ev });
  }

  toolResult(ev) {
    this.enqueue({ kind: 'result', ev });
  }

  enqueue(item) {
    this.queue.push(item);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  // Renders everything queued now (also called directly by tests of the page and on `end`).
  flush() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    const records = this.toRecords(this.queue);
    this.queue = [];
    if (records.length === 0) { this.seekTarget(); return; }
    const hiddenBefore = this.hidden;
    const skip = Math.max(0, records.length - this.maxLines);
    if (skip > 0) {  // only the newest maxLines can be on screen: drop the DOM and the rest
      this.hidden += this.lines + skip;
      this.lines = 0;
      this.el.replaceChildren();
      this.open = {};
    }
    const frag = document.createDocumentFragment();
    for (let i = skip; i < records.length; i++) {
      const r = records[i];
      const el = r.tool ? this.toolElement(r) : this.lineElement(r);
      r.el = el;
      frag.append(el);
      this.lines++;
      if (r.openStream) this.open[r.openStream] = el;
    }
    this.el.append(frag);
    for (const r of records) if (r.tool && r.result) this.fillResult(r.el, r.result);
    this.trim();
    if (this.hidden !== hiddenBefore) this.onTrim(this.hidden);
    if (this.search) this.runSearch(false);
    if (!this.seekTarget() && this.follow) this.scrollToEnd();
  }

  gutter(n, ts) {
    return [h('a', { class: 'ln', href: `${this.linkBase}#L${n}`, 'data-n': String(n), 'aria-label': `line ${n}` }),
      h('span', { class: 'ts', 'data-ts': fmtTs(ts) })];
  }

  lineElement(r) {
    const tx = h('span', { class: 'tx' });
    if (r.segments) appendSegments(tx, r.segments); else tx.textContent = r.text;
    // An agent's JSON event line: a class of its own (the "JSON" toggle hides them).
    const json = r.cls === 'stdout' && r.text.startsWith('{') && r.text.endsWith('}');
    return h('div', { class: `line ${r.cls}${json ? ' json' : ''}`, id: `L${r.n}`, 'data-n': String(r.n) }, this.gutter(r.n, r.ts), tx);
  }

  toolElement(r) {
    const ev = r.tool;
    const arg = toolArgument(ev.input) || (ev.text || '').replace(ev.name || '', '').trim();
    const summary = h('summary', this.gutter(r.n, r.ts),
      h('span', { class: 'tx' }, h('span', { class: 'tool-name' }, ev.name || 'tool'), arg ? ` ${arg}` : ''),
      h('span', { class: 'tool-state', 'data-state': 'running' }, 'running…'));
    const input = ev.input && typeof ev.input === 'object' ? JSON.stringify(ev.input, null, 2) : String(ev.input ?? '');
    const body = h('div', { class: 'tool-body' },
      input && input !== '{}' ? h('pre', { class: 'tool-input' }, input) : null,
      h('pre', { class: 'tool-result', hidden: true }));
    const el = h('details', { class: 'line notice tool group', id: `L${r.n}`, 'data-n': String(r.n), 'data-tool-id': ev.id || '' }, summary, body);
    if (ev.id) this.tools.set(ev.id, el);
    return el;
  }

  fillResult(group, ev) {
    const state = group.querySelector('.tool-state');
    state.textContent = ev.isError ? 'failed' : 'done';
    state.dataset.state = ev.isError ? 'failed' : 'done';
    group.classList.toggle('error', !!ev.isError);
    const out = group.querySelector('.tool-result');
    const text = ev.output ?? ev.text ?? '';
    out.textContent = text === '' ? '(no output)' : text;
    out.hidden = false;
  }

  // Queue -> line records; continuations of an unfinished line already in the DOM are written
  // into it directly. An unfinished line stays "open" for its stream's next chunk.
  toRecords(queue) {
    const out = [];
    const openRec = {};
    for (const item of queue) {
      if (item.kind === 'tool') {
        const r = { tool: item.ev, n: ++this.total, ts: item.ev.ts };
        out.push(r);
        if (item.ev.id) this.tools.set(item.ev.id, r);
        continue;
      }
      if (item.kind === 'result') {
        const g = this.tools.get(item.ev.id);
        if (g instanceof Element) this.fillResult(g, item.ev);
        else if (g) g.result = item.ev;
        else {  // a result without its call (dropped, or an older server): a line of its own
          out.push({ cls: `notice ${item.ev.isError ? 'tool error' : 'tool'}`, text: `tool result: ${item.ev.output ?? item.ev.text ?? ''}`, n: ++this.total, ts: item.ev.ts });
        }
        if (item.ev.id) this.tools.delete(item.ev.id);
        continue;
      }
      if (item.kind === 'notice') {
        out.push({ cls: `notice ${item.cls}`, text: item.text, n: ++this.total, ts: item.ts });
        continue;
      }
      const stream = item.stream;
      const parts = (this.carry[stream] + item.text).split('\n');
      this.carry[stream] = '';
      for (let i = 0; i < parts.length; i++) {
        const last = i === parts.length - 1;
        let part = parts[i];
        if (last && part === '') break;
        let segments;
        const st = this.ansi[stream];
        if (part.includes('\x1b') || st.classes() || st.fg !== null || st.bg !== null) {
          const { segments: segs, rest } = ansiSegments(part, st);
          segments = segs;
          part = segs.map((x) => x.text).join('');
          if (last) this.carry[stream] = rest;
        } else {
          segments = part ? [{ text: part, cls: '' }] : [];
        }
        const continues = openRec[stream] || null;
        const openEl = this.open[stream];
        if (continues) {
          continues.text += part;
          continues.segments.push(...segments);
        } else if (openEl && openEl.parentNode === this.el) {  // not trimmed away
          appendSegments(openEl.querySelector('.tx'), segments);
        } else {
          const rec = { cls: stream, text: part, segments, openStream: null, n: ++this.total, ts: item.ts };
          out.push(rec);
          openRec[stream] = rec;
        }
        if (last) {
          if (openRec[stream]) openRec[stream].openStream = stream;
        } else {
          openRec[stream] = null;
          if (!continues && openEl) delete this.open[stream];
        }
      }
    }
    return out;
  }

  trim() {
    const excess = this.lines - this.maxLines;
    if (excess <= 0) return;
    for (let i = 0; i < excess && this.el.firstChild; i++) this.el.firstChild.remove();
    this.lines -= excess;
    this.hidden += excess;
  }

  // ---- line links ----------------------------------------------------------------------

  // Scrolls to line n and highlights it; when it is not there yet, once it comes.
  gotoLine(n) {
    this.target = n;
    this.setFollow(false);
    this.seekTarget();
  }

  seekTarget() {
    if (!this.target) return false;
    const el = this.el.querySelector(`#L${this.target}`);
    if (!el) return false;
    this.highlight(this.target, true);
    this.target = 0;
    return true;
  }

  highlight(n, scroll) {
    for (const old of this.el.querySelectorAll('.line.hl')) old.classList.remove('hl');
    const el = this.el.querySelector(`#L${n}`);
    if (!el) return;
    el.classList.add('hl');
    if (scroll) {
      el.scrollIntoView({ block: 'center' });
      this.autoTop = this.el.scrollTop;
    }
  }

  // ---- search ----------------------------------------------------------------------------

  // Finds `query` (case-insensitive) in the lines on the page; returns {count, current}.
  setSearch(query) {
    this.search = query || '';
    this.current = -1;
    return this.runSearch(true);
  }

  runSearch(jump) {
    for (const el of this.el.querySelectorAll('.line.match')) el.classList.remove('match', 'current');
    this.matches = [];
    const q = this.search.toLowerCase();
    if (q) {
      for (const el of this.el.querySelectorAll('.line')) {
        const text = (el.querySelector(':scope > .tx, :scope > summary > .tx')?.textContent || '') +
          (el.tagName === 'DETAILS' ? `\n${el.querySelector('.tool-body')?.textContent || ''}` : '');
        if (text.toLowerCase().includes(q)) { el.classList.add('match'); this.matches.push(el); }
      }
    }
    if (jump && this.matches.length) this.step(1);
    else if (this.current >= this.matches.length) this.current = this.matches.length - 1;
    if (this.current >= 0 && this.matches[this.current]) this.matches[this.current].classList.add('current');
    return { count: this.matches.length, current: this.current };
  }

  // The next (+1) or previous (-1) match, scrolled to.
  step(dir) {
    if (!this.matches?.length) return { count: 0, current: -1 };
    this.matches[this.current]?.classList.remove('current');
    this.current = (this.current + dir + this.matches.length) % this.matches.length;
    const el = this.matches[this.current];
    el.classList.add('current');
    if (el.tagName === 'DETAILS') el.open = true;
    this.setFollow(false);
    el.scrollIntoView({ block: 'center' });
    this.autoTop = this.el.scrollTop;
    return { count: this.matches.length, current: this.current };
  }
}
