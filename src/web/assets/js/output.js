// A run's output on the page: stdout and stderr lines (told apart by class), notices (truncated
// output, agent messages, errors) between them. Chunks are queued and rendered once per
// animation frame in one DocumentFragment, and the DOM keeps at most `maxLines` lines: with
// 100k lines only the last maxLines become elements at all, the rest are counted ("N earlier
// lines not shown") and stay available from the logs API or the output.log artifact.

import { h } from './dom.js';

export class OutputView {
  constructor({ maxLines = 5000, onTrim = () => {} } = {}) {
    this.maxLines = maxLines;
    this.onTrim = onTrim;          // (hiddenCount) when lines leave the DOM
    this.queue = [];               // [{kind:'text', stream, text} | {kind:'notice', cls, text}]
    this.open = {};                // stream -> the element of its unfinished last line
    this.lines = 0;                // elements in the DOM
    this.hidden = 0;               // lines dropped from the DOM (or never rendered)
    this.total = 0;                // every line seen
    this.frame = 0;
    this.el = h('div', { class: 'output', role: 'log', 'aria-label': 'run output' });
    this.el.addEventListener('scroll', () => {
      this.follow = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - 24;
    });
    this.follow = true;
  }

  append(stream, text) {
    if (text) this.enqueue({ kind: 'text', stream: stream === 'stderr' ? 'stderr' : 'stdout', text });
  }

  notice(cls, text) {
    this.enqueue({ kind: 'notice', cls, text });
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
    if (records.length === 0) return;
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
      const el = h('div', { class: `line ${r.cls}` }, r.text);
      frag.append(el);
      this.lines++;
      if (r.openStream) this.open[r.openStream] = el;
    }
    this.el.append(frag);
    this.trim();
    if (this.hidden !== hiddenBefore) this.onTrim(this.hidden);
    if (this.follow) this.el.scrollTop = this.el.scrollHeight;
  }

  // Queue -> line records; continuations of an unfinished line already in the DOM are written
  // into it directly. An unfinished line stays "open" for its stream's next chunk.
  toRecords(queue) {
    const out = [];
    const openRec = {};
    for (const item of queue) {
      if (item.kind === 'notice') {
        out.push({ cls: `notice ${item.cls}`, text: item.text });
        this.total++;
        continue;
      }
      const parts = item.text.split('\n');
      for (let i = 0; i < parts.length; i++) {
        const last = i === parts.length - 1;
        const part = parts[i];
        if (last && part === '') break;
        const continues = openRec[item.stream] || null;
        const openEl = this.open[item.stream];
        if (continues) {
          continues.text += part;
        } else if (openEl && openEl.parentNode === this.el) {  // not trimmed away
          openEl.textContent += part;
        } else {
          const rec = { cls: item.stream, text: part, openStream: null };
          out.push(rec);
          this.total++;
          openRec[item.stream] = rec;
        }
        if (last) {
          if (openRec[item.stream]) openRec[item.stream].openStream = item.stream;
        } else {
          openRec[item.stream] = null;
          if (!continues && openEl) delete this.open[item.stream];
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
}
